//! The link a dApp shows (as text and QR code) for the user to take to the wallet:
//! `tari://<name>/<jwt>/<required permissions JSON>/<optional permissions JSON>`, every part
//! percent-encoded like JavaScript's `encodeURIComponent`.

use super::{Error, Permissions};

/// The scheme and separator.
pub const PREFIX: &str = "tari://";
/// Longest link accepted.
pub const MAX_LINK_LEN: usize = 16 * 1024;
/// Longest dApp name.
pub const MAX_NAME_LEN: usize = 128;

/// A parsed link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The dApp's name, shown to the user.
    pub name: String,
    /// The signaling server JWT (the `signaling_server_token` of `webrtc.start`).
    pub token: String,
    /// What the dApp needs.
    pub permissions: Permissions,
    /// What it would like.
    pub optional_permissions: Permissions,
}

impl Link {
    /// The link text.
    pub fn to_uri(&self) -> String {
        format!(
            "{PREFIX}{}/{}/{}/{}",
            encode_component(&self.name),
            encode_component(&self.token),
            encode_component(&self.permissions.to_json().to_string()),
            encode_component(&self.optional_permissions.to_json().to_string()),
        )
    }

    /// Parses a link (surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        if text.len() > MAX_LINK_LEN {
            return Err(Error::InvalidLink("link too long"));
        }
        let rest = text
            .strip_prefix(PREFIX)
            .ok_or(Error::InvalidLink("a link starts with tari://"))?;
        let parts: Vec<&str> = rest.split('/').collect();
        let [name, token, permissions, optional] = parts.as_slice() else {
            return Err(Error::InvalidLink(
                "a link has four parts: name, token, permissions, optional permissions",
            ));
        };
        let name = decode_component(name)?;
        if name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control) {
            return Err(Error::InvalidLink("bad dApp name"));
        }
        let token = decode_component(token)?;
        super::jwt::unverified_claims(&token).map_err(|_| Error::InvalidLink("bad token"))?;
        Ok(Self {
            name,
            token,
            permissions: Permissions::parse(&decode_component(permissions)?)?,
            optional_permissions: if optional.is_empty() {
                Permissions::default()
            } else {
                Permissions::parse(&decode_component(optional)?)?
            },
        })
    }
}

/// Percent-encodes everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )`, as `encodeURIComponent`.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; refuses broken escapes and invalid UTF-8.
pub fn decode_component(text: &str) -> Result<String, Error> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(Error::InvalidLink("broken percent escape"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Error::InvalidLink("not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::direct::jwt::{self, Claims, Secret};

    fn token() -> String {
        let claims = Claims {
            id: 0,
            jti: jwt::token_id([1; 16]),
            aud: jwt::AUD_SIGNALING.into(),
            name: String::new(),
            permissions: Permissions::parse(r#"["AccountInfo"]"#).unwrap(),
            exp: 10,
        };
        jwt::encode(&claims, &Secret::new(vec![1; 32]).unwrap())
    }

    #[test]
    fn round_trip_and_encoding() {
        let link = Link {
            name: "My dApp / ünïcode".into(),
            token: token(),
            permissions: Permissions::parse(r#"["AccountInfo",{"AccountBalance":"All"}]"#).unwrap(),
            optional_permissions: Permissions::parse(r#"["KeyList"]"#).unwrap(),
        };
        let uri = link.to_uri();
        assert!(uri.starts_with("tari://My%20dApp%20%2F%20%C3%BCn"));
        assert!(uri.contains("%5B%22AccountInfo%22%2C%7B%22AccountBalance%22%3A%22All%22%7D%5D"));
        assert_eq!(Link::parse(&format!("  {uri}\n")).unwrap(), link);
    }

    #[test]
    fn bad_links_are_typed() {
        let t = token();
        for bad in [
            "https://x".to_owned(),
            "tari://a/b".to_owned(),
            format!("tari://a/{t}/%5B/%5B%5D"),
            format!("tari://a/{t}/%ZZ/%5B%5D"),
            "tari://a/not-a-jwt/%5B%5D/%5B%5D".to_owned(),
            format!("tari://a/{t}/%5B%5D/%5B%5D/extra"),
            format!("tari://{}/{t}/%5B%5D/%5B%5D", "%FF"),
        ] {
            let e = Link::parse(&bad).unwrap_err();
            assert!(
                matches!(e.code(), "invalid_link" | "invalid_permissions"),
                "{bad}: {e}"
            );
        }
        assert!(Link::parse(&"x".repeat(MAX_LINK_LEN + 1)).is_err());
    }
}
