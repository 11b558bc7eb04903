//! HS256 JSON Web Tokens (RFC 7519), the credentials of the direct flow: the signaling server
//! issues one per `auth.login`, the daemon one per granted session (`get.token`).
//!
//! Only `{"alg":"HS256","typ":"JWT"}` headers are accepted (no `none`, no algorithm
//! confusion); the signature is checked in constant time before the claims are read; `exp`
//! is in Unix seconds. Every token names its issuer's audience (`aud`: the signaling server
//! and the daemon may share a secret, and a token of one is refused by the other) and carries
//! a random 128-bit token id (`jti`).

use hkdf::hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{Error, Permissions};
use crate::base64url;

/// Longest token accepted.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// `aud` of the signaling server's tokens (`auth.login`).
pub const AUD_SIGNALING: &str = "walletwire-signaling";
/// `aud` of the wallet daemon's tokens (the admin token, `get.token`).
pub const AUD_DAEMON: &str = "walletwire-daemon";

/// The claims of both token kinds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Signaling: 0 (the login is named by `jti`). Daemon: the session's id, 0 for the admin
    /// token.
    pub id: u64,
    /// Random 128-bit token id, base64url ([`token_id`]): the signaling server's key for the
    /// login's offer and answer; the daemon's handle to revoke its admin token.
    #[serde(default)]
    pub jti: String,
    /// Who may accept the token: [`AUD_SIGNALING`] or [`AUD_DAEMON`].
    #[serde(default)]
    pub aud: String,
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

/// A token id from 16 random bytes (the caller's CSPRNG): 22 base64url characters.
pub fn token_id(random: [u8; 16]) -> String {
    base64url::encode(&random)
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

/// Checks the header and signature, then the audience and the expiry against `now_secs`, and
/// returns the claims.
pub fn verify(
    token: &str,
    secret: &Secret,
    now_secs: u64,
    audience: &str,
) -> Result<Claims, Error> {
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
    if claims.aud != audience {
        return Err(Error::InvalidToken);
    }
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
            jti: token_id([7; 16]),
            aud: AUD_DAEMON.into(),
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
        assert_eq!(
            verify(&token, &secret(1), 99, AUD_DAEMON).unwrap(),
            claims(100)
        );
        assert_eq!(unverified_claims(&token).unwrap().id, 7);
        assert_eq!(token_id([7; 16]).len(), 22);
    }

    #[test]
    fn attack_a_token_for_one_audience_is_refused_by_the_other() {
        let token = encode(&claims(100), &secret(1));
        assert_eq!(
            verify(&token, &secret(1), 0, AUD_SIGNALING),
            Err(Error::InvalidToken)
        );
        let mut none = claims(100);
        none.aud = String::new();
        let token = encode(&none, &secret(1));
        assert_eq!(
            verify(&token, &secret(1), 0, AUD_DAEMON),
            Err(Error::InvalidToken),
            "a token without an audience (an older release's) is refused"
        );
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
        assert_eq!(
            verify(&token, &secret(2), 0, AUD_DAEMON),
            Err(Error::InvalidToken)
        );
        assert_eq!(
            verify(&token, &secret(1), 100, AUD_DAEMON),
            Err(Error::TokenExpired)
        );
        // Claims swapped under the same signature.
        let other = encode(&claims(1_000), &secret(3));
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[1] = other.split('.').nth(1).unwrap();
        assert_eq!(
            verify(&parts.join("."), &secret(1), 0, AUD_DAEMON),
            Err(Error::InvalidToken)
        );
        // alg none.
        let none = format!(
            "{}.{}.",
            base64url::encode(br#"{"alg":"none"}"#),
            token.split('.').nth(1).unwrap()
        );
        assert_eq!(
            verify(&none, &secret(1), 0, AUD_DAEMON),
            Err(Error::InvalidToken)
        );
        for junk in ["", "a", "a.b", "a.b.c", "...", &"x".repeat(10_000)] {
            assert_eq!(
                verify(junk, &secret(1), 0, AUD_DAEMON),
                Err(Error::InvalidToken)
            );
        }
        assert!(Secret::new(vec![0; 8]).is_none());
    }
}
