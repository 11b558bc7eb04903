//! HS256 JSON Web Tokens (RFC 7519), the credentials of the direct flow: the signaling server
//! issues one per `auth.login`, the daemon one per granted session (`get.token`).
//!
//! Only `{"alg":"HS256","typ":"JWT"}` headers are accepted (no `none`, no algorithm
//! confusion); the signature is checked in constant time before the claims are read; `exp`
//! is in Unix seconds.

use hkdf::hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{Error, Permissions};
use crate::base64url;

/// Longest token accepted.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// The claims of both token kinds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Signaling: the login's id (increasing per login). Daemon: the session's id.
    pub id: u64,
    /// Who the token was issued to (a dApp name, possibly empty).
    pub name: String,
    /// What the bearer may do.
    pub permissions: Permissions,
    /// Expiry, Unix seconds.
    pub exp: u64,
}

/// A secret HMAC key. `Debug` prints nothing of it.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// A key from bytes (at least 16).
    pub fn new(bytes: Vec<u8>) -> Option<Self> {
        (bytes.len() >= 16).then_some(Self(bytes))
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length.
        Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length")
    }
}

impl core::fmt::Debug for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Signs `claims`.
pub fn encode(claims: &Claims, secret: &Secret) -> String {
    // Claims hold only strings, numbers and JSON values: serialization cannot fail.
    let payload = serde_json::to_vec(claims).expect("claims serialize");
    let signing_input = format!(
        "{}.{}",
        base64url::encode(HEADER.as_bytes()),
        base64url::encode(&payload)
    );
    let mut mac = secret.mac();
    mac.update(signing_input.as_bytes());
    let signature = mac.finalize().into_bytes();
    format!("{signing_input}.{}", base64url::encode(&signature))
}

/// Checks the header and signature, then the expiry against `now_secs`, and returns the
/// claims.
pub fn verify(token: &str, secret: &Secret, now_secs: u64) -> Result<Claims, Error> {
    let (signing_input, signature) = token.rsplit_once('.').ok_or(Error::InvalidToken)?;
    if token.len() > MAX_TOKEN_LEN {
        return Err(Error::InvalidToken);
    }
    let (header, _) = signing_input.split_once('.').ok_or(Error::InvalidToken)?;
    let header = base64url::decode(header).ok_or(Error::InvalidToken)?;
    let header: serde_json::Value =
        serde_json::from_slice(&header).map_err(|_| Error::InvalidToken)?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
        return Err(Error::InvalidToken);
    }
    let signature = base64url::decode(signature).ok_or(Error::InvalidToken)?;
    let mut mac = secret.mac();
    mac.update(signing_input.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| Error::InvalidToken)?;
    let claims = unverified_claims(token)?;
    if claims.exp <= now_secs {
        return Err(Error::TokenExpired);
    }
    Ok(claims)
}

/// Reads the claims without checking the signature: for showing a user what a token asks
/// for (the wallet UI), never for deciding what it may do.
pub fn unverified_claims(token: &str) -> Result<Claims, Error> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(Error::InvalidToken);
    }
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::InvalidToken);
    };
    let payload = base64url::decode(payload).ok_or(Error::InvalidToken)?;
    serde_json::from_slice(&payload).map_err(|_| Error::InvalidToken)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: u64) -> Claims {
        Claims {
            id: 7,
            name: "dapp".into(),
            permissions: Permissions::parse(r#"["Admin"]"#).unwrap(),
            exp,
        }
    }

    fn secret(byte: u8) -> Secret {
        Secret::new(vec![byte; 32]).unwrap()
    }

    #[test]
    fn signs_and_verifies() {
        let token = encode(&claims(100), &secret(1));
        assert_eq!(verify(&token, &secret(1), 99).unwrap(), claims(100));
        assert_eq!(unverified_claims(&token).unwrap().id, 7);
    }

    #[test]
    fn rfc7515_hs256_vector_shape() {
        // The header is the one every HS256 library emits.
        let token = encode(&claims(1), &secret(1));
        assert!(token.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."));
    }

    #[test]
    fn forged_expired_and_malformed_are_refused() {
        let token = encode(&claims(100), &secret(1));
        assert_eq!(verify(&token, &secret(2), 0), Err(Error::InvalidToken));
        assert_eq!(verify(&token, &secret(1), 100), Err(Error::TokenExpired));
        // Claims swapped under the same signature.
        let other = encode(&claims(1_000), &secret(3));
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[1] = other.split('.').nth(1).unwrap();
        assert_eq!(
            verify(&parts.join("."), &secret(1), 0),
            Err(Error::InvalidToken)
        );
        // alg none.
        let none = format!(
            "{}.{}.",
            base64url::encode(br#"{"alg":"none"}"#),
            token.split('.').nth(1).unwrap()
        );
        assert_eq!(verify(&none, &secret(1), 0), Err(Error::InvalidToken));
        for junk in ["", "a", "a.b", "a.b.c", "...", &"x".repeat(10_000)] {
            assert_eq!(verify(junk, &secret(1), 0), Err(Error::InvalidToken));
        }
        assert!(Secret::new(vec![0; 8]).is_none());
    }
}
