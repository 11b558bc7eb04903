//! The session request: what the dApp shows as a QR code or deep link (`docs/PROTOCOL.md` §2).

use serde::{Deserialize, Serialize};

use super::Error;
use super::channel::{self, HANDSHAKE_PREFIX};
use super::scope::Scopes;
use crate::base64url;
use crate::crypto::PublicKey;

/// Protocol version spoken by this build.
pub const PROTOCOL_VERSION: u64 = 3;
/// URI scheme and path before the query (`v`, `m`, `k`, `r`).
pub const URI_PREFIX: &str = "walletwire:connect?";
/// Longest URI accepted.
pub const MAX_URI_LEN: usize = 2048;
/// Longest request JSON accepted (the sealed request body, and the request in records).
pub const MAX_REQUEST_JSON_LEN: usize = 32 * 1024;

/// How the wallet proves itself to the dApp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The user types a six-digit code shown by the wallet (default).
    #[default]
    Untrusted,
    /// No code: the first wallet to answer is accepted; for same-device and trusted setups.
    Trusted,
}

impl Mode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Untrusted => "untrusted",
            Self::Trusted => "trusted",
        }
    }
}

/// Name, URL and icon one side shows of itself to the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Metadata {
    /// Display name, 1 to 64 characters.
    pub name: String,
    /// Home page, up to 256 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Icon URL, up to 512 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
}

impl Metadata {
    /// Checks what the other side will show: a name of 1 to 64 characters with no control or
    /// invisible formatting characters (bidi overrides, zero-width characters) and not blank,
    /// and `url`/`icon` (at most 256/512 bytes) as `https://` URLs, or `http://` on a
    /// loopback host (`localhost`, `127.0.0.1`, `[::1]`) for development. The values remain
    /// claims of the other side: a wallet shows them as such.
    pub fn validate(&self) -> Result<(), &'static str> {
        let name_len = self.name.chars().count();
        if name_len == 0
            || name_len > 64
            || self.name.trim().is_empty()
            || self
                .name
                .chars()
                .any(|c| c.is_control() || is_format_char(c))
        {
            return Err(
                "metadata name must be 1-64 visible characters, without control or formatting characters",
            );
        }
        if let Some(url) = &self.url {
            if url.len() > 256 {
                return Err("metadata url longer than 256 bytes");
            }
            if !is_web_url(url) {
                return Err("metadata url must be https:// (http:// only on localhost)");
            }
        }
        if let Some(icon) = &self.icon {
            if icon.len() > 512 {
                return Err("metadata icon longer than 512 bytes");
            }
            if !is_web_url(icon) {
                return Err("metadata icon must be https:// (http:// only on localhost)");
            }
        }
        Ok(())
    }
}

/// Unicode's format characters (general category Cf): invisible, they can reorder or hide
/// parts of a name on screen (U+202E turns "ppa.evil" around).
pub fn is_format_char(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

/// An absolute `https://host…` URL, or `http://` on a loopback host; no whitespace, control
/// characters or credentials (`user@`), a non-empty host.
fn is_web_url(url: &str) -> bool {
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || is_format_char(c))
    {
        return false;
    }
    let lower = url.to_ascii_lowercase();
    let (secure, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (false, rest)
    } else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') || authority.contains('\\') {
        return false;
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        match v6.split_once(']') {
            Some((host, port)) if port.is_empty() || port.starts_with(':') => host,
            _ => return false,
        }
    } else {
        authority.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return false;
    }
    secure || matches!(host, "localhost" | "127.0.0.1" | "::1")
}

#[cfg(test)]
mod metadata_tests {
    use super::*;

    fn meta(name: &str, url: Option<&str>, icon: Option<&str>) -> Metadata {
        Metadata {
            name: name.into(),
            url: url.map(Into::into),
            icon: icon.map(Into::into),
        }
    }

    #[test]
    fn names_without_invisible_characters() {
        assert!(meta("Uniswap", None, None).validate().is_ok());
        assert!(meta("Café 🦄 交易", None, None).validate().is_ok());
        for bad in [
            "",
            "   ",
            "evil\u{202E}ppa",
            "Uni\u{200B}swap",
            "\u{2066}x\u{2069}",
            "a\u{FEFF}",
            "soft\u{00AD}hyphen",
            "tag\u{E0041}",
            "line\nbreak",
            &"x".repeat(65),
        ] {
            assert!(meta(bad, None, None).validate().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn urls_are_https_or_loopback_http() {
        for good in [
            "https://dapp.example",
            "https://dapp.example:8443/path?q=1#f",
            "HTTPS://Dapp.Example/",
            "http://localhost:5173/",
            "http://127.0.0.1:8080",
            "http://[::1]:3000/x",
        ] {
            assert!(
                meta("d", Some(good), Some(good)).validate().is_ok(),
                "{good}"
            );
        }
        for bad in [
            "javascript:alert(1)",
            "data:text/html,hi",
            "http://dapp.example",
            "http://127.0.0.2",
            "https://",
            "https:///path",
            "https://user@dapp.example",
            "https://dapp.example/\u{202E}",
            "https://dapp .example",
            "//dapp.example",
            "ftp://dapp.example",
            "http://[::1",
            "http://localhost.evil.example",
        ] {
            assert!(meta("d", Some(bad), None).validate().is_err(), "url {bad}");
            assert!(meta("d", None, Some(bad)).validate().is_err(), "icon {bad}");
        }
    }
}

/// A parsed, validated session request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRequest {
    /// Protocol version, always [`PROTOCOL_VERSION`].
    pub v: u64,
    /// Lowercase UUID v4 naming this request; the HKDF salt.
    pub id: String,
    /// Connection mode.
    pub mode: Mode,
    /// `handshake:<uuid>`, where the wallet publishes its offer.
    pub channel: String,
    /// The dApp's X25519 public key, base64url.
    pub public_key: String,
    /// Unix milliseconds after which a wallet must not answer.
    pub expires_at: u64,
    /// Relay WebSocket URL both sides use.
    pub relay: String,
    /// What the wallet shows about the dApp.
    pub dapp: Metadata,
    /// Scopes the dApp needs (CAIP-25 `requiredScopes`); none: an unscoped session.
    #[serde(skip)]
    pub scopes: Option<Scopes>,
    /// Scopes the dApp would like (CAIP-25 `optionalScopes`).
    #[serde(skip)]
    pub optional_scopes: Option<Scopes>,
}

/// What the QR code or deep link carries (protocol v3): enough to find the dApp's sealed
/// request on the relay and to open it. Everything else (metadata, expiry, scopes) travels
/// sealed on the handshake channel (`docs/PROTOCOL.md` §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// Lowercase UUID naming the request; the handshake channel is `handshake:<id>`.
    pub id: String,
    /// Connection mode.
    pub mode: Mode,
    /// The dApp's X25519 public key, base64url.
    pub public_key: String,
    /// Relay WebSocket URL.
    pub relay: String,
}

fn relay_ok(relay: &str) -> bool {
    (relay.starts_with("ws://") || relay.starts_with("wss://"))
        && relay.len() <= 256
        && !relay.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Bytes a relay URL keeps unescaped in the `r` parameter.
fn keeps(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~:/@!$'()*,;=?".contains(&b)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn uuid_from_bytes(b: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(HEX[usize::from(x >> 4)]));
        out.push(char::from(HEX[usize::from(x & 15)]));
    }
    out
}

fn uuid_bytes(uuid: &str) -> Option<[u8; 16]> {
    let hex: Vec<u8> = uuid.bytes().filter(|&b| b != b'-').collect();
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        *out.get_mut(i)? = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    (hex.len() == 32).then_some(out)
}

impl Invitation {
    /// The handshake channel, `handshake:<id>`.
    pub fn channel(&self) -> String {
        format!("{HANDSHAKE_PREFIX}{}", self.id)
    }

    /// The dApp public key as bytes.
    pub fn dapp_public_key(&self) -> Result<PublicKey, Error> {
        base64url::decode_array(&self.public_key)
            .map(PublicKey)
            .ok_or(Error::InvalidRequest("k is not 48 bytes of base64url"))
    }

    /// `walletwire:connect?v=3&m=u&k=<b64u(public key || id)>&r=<relay>`.
    pub fn to_uri(&self) -> String {
        let mut k = base64url::decode(&self.public_key).unwrap_or_default();
        k.extend_from_slice(&uuid_bytes(&self.id).unwrap_or_default());
        let mode = match self.mode {
            Mode::Untrusted => 'u',
            Mode::Trusted => 't',
        };
        // No `core::fmt` on the dApp's shipped path (issue 12): the URI is pushed together.
        let mut uri = String::from(URI_PREFIX);
        const _: () = assert!(PROTOCOL_VERSION == 3, "the URI below names the version");
        uri.push_str("v=3&m=");
        uri.push(mode);
        uri.push_str("&k=");
        uri.push_str(&base64url::encode(&k));
        uri.push_str("&r=");
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        for b in self.relay.bytes() {
            if keeps(b) {
                uri.push(char::from(b));
            } else {
                uri.push('%');
                uri.push(char::from(HEX[usize::from(b >> 4)]));
                uri.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
        uri
    }

    /// Parses a deep link or scanned QR code. A request of another version (also the JSON
    /// forms of versions 1 and 2) is [`Error::UnsupportedVersion`] naming it.
    pub fn from_uri(uri: &str) -> Result<Self, Error> {
        let uri = uri.trim();
        if uri.len() > MAX_URI_LEN {
            return Err(Error::RequestTooLarge);
        }
        if uri.starts_with('{') {
            return Err(legacy_version(uri));
        }
        let query = uri
            .strip_prefix(URI_PREFIX)
            .ok_or(Error::InvalidRequest("not a walletwire:connect URI"))?;
        let mut fields: [Option<&str>; 4] = [None; 4];
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match key {
                "v" => 0,
                "m" => 1,
                "k" => 2,
                "r" => 3,
                _ => continue,
            };
            if fields[slot].replace(value).is_some() {
                return Err(Error::InvalidRequest("a URI parameter is named twice"));
            }
        }
        let [v, m, k, r] = fields;
        let Some(v) = v else {
            // Versions 1 and 2: `?r=<b64u(JSON)>` with `v` inside the JSON.
            let json = r
                .and_then(base64url::decode)
                .and_then(|b| String::from_utf8(b).ok());
            return Err(json.map_or(Error::InvalidRequest("missing version"), |j| {
                legacy_version(&j)
            }));
        };
        match v.parse::<u64>() {
            Ok(PROTOCOL_VERSION) => {}
            Ok(other) => return Err(Error::UnsupportedVersion(other)),
            Err(_) => return Err(Error::InvalidRequest("v is not a number")),
        }
        let mode = match m {
            None | Some("u") => Mode::Untrusted,
            Some("t") => Mode::Trusted,
            Some(_) => return Err(Error::InvalidRequest("m is not u or t")),
        };
        let key = k
            .and_then(base64url::decode)
            .filter(|k| k.len() == 48)
            .ok_or(Error::InvalidRequest("k is not 48 bytes of base64url"))?;
        let id = uuid_from_bytes(&key[32..]);
        let relay = r
            .and_then(percent_decode)
            .filter(|r| relay_ok(r))
            .ok_or(Error::InvalidRequest("relay is not a ws:// or wss:// URL"))?;
        Ok(Invitation {
            id,
            mode,
            public_key: base64url::encode(&key[..32]),
            relay,
        })
    }
}

/// The error for a request in the JSON form of versions 1 and 2.
fn legacy_version(json: &str) -> Error {
    let mut r = crate::json::Reader::new(json);
    let mut v = None;
    let _ = r.object(&mut |r, key| {
        if key == "v" {
            v = r.u64().ok();
            Ok(())
        } else {
            r.skip()
        }
    });
    v.map_or(
        Error::InvalidRequest("not a walletwire:connect URI"),
        Error::UnsupportedVersion,
    )
}

impl SessionRequest {
    /// The dApp public key as bytes; valid after [`SessionRequest::validate`].
    pub fn dapp_public_key(&self) -> Result<PublicKey, Error> {
        base64url::decode_array(&self.public_key)
            .map(PublicKey)
            .ok_or(Error::InvalidRequest(
                "publicKey is not 32 bytes of base64url",
            ))
    }

    /// Checks every field; does not look at expiry.
    pub fn validate(&self) -> Result<(), Error> {
        if self.v != PROTOCOL_VERSION {
            return Err(Error::UnsupportedVersion(self.v));
        }
        if !channel::is_uuid(&self.id) {
            return Err(Error::InvalidRequest("id is not a lowercase UUID"));
        }
        if !channel::is_channel(&self.channel, HANDSHAKE_PREFIX)
            || self.channel[HANDSHAKE_PREFIX.len()..] != self.id
        {
            return Err(Error::InvalidRequest("channel is not handshake:<id>"));
        }
        self.dapp_public_key()?;
        if !relay_ok(&self.relay) {
            return Err(Error::InvalidRequest("relay is not a ws:// or wss:// URL"));
        }
        if let Some(s) = &self.scopes {
            s.validate(false).map_err(Error::InvalidRequest)?;
        }
        if let Some(s) = &self.optional_scopes {
            s.validate(false).map_err(Error::InvalidRequest)?;
        }
        self.dapp.validate().map_err(Error::InvalidRequest)
    }

    /// What the QR code carries of this request.
    pub fn invitation(&self) -> Invitation {
        Invitation {
            id: self.id.clone(),
            mode: self.mode,
            public_key: self.public_key.clone(),
            relay: self.relay.clone(),
        }
    }

    /// The deep link / QR code text ([`Invitation::to_uri`]).
    pub fn to_uri(&self) -> String {
        self.invitation().to_uri()
    }

    /// True when the dApp named scopes (the session is then limited to what is granted).
    pub fn is_scoped(&self) -> bool {
        self.scopes.is_some() || self.optional_scopes.is_some()
    }

    /// Everything asked for, required and optional: what a wallet grants by default.
    pub fn all_scopes(&self) -> Scopes {
        let none = Scopes::new();
        let required = self.scopes.as_ref().unwrap_or(&none);
        required.union(self.optional_scopes.as_ref().unwrap_or(&none))
    }

    /// Refuses a request whose expiry passed, allowing `skew_ms` for clocks that disagree.
    pub fn check_fresh(&self, now_ms: u64, skew_ms: u64) -> Result<(), Error> {
        if now_ms > self.expires_at.saturating_add(skew_ms) {
            return Err(Error::RequestExpired);
        }
        Ok(())
    }
}
