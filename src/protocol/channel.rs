//! Relay channel names: `handshake:<uuid>` and `session:<uuid>` with a lowercase UUID v4.

use crate::crypto::RandomSource;

/// A lowercase, hyphenated UUID v4 made from 16 random bytes.
pub fn random_uuid(rng: &mut dyn RandomSource) -> String {
    let mut b = [0u8; 16];
    rng.fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// True for a lowercase hyphenated UUID (8-4-4-4-12 hex digits).
pub fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        })
}

/// Handshake channel prefix.
pub const HANDSHAKE_PREFIX: &str = "handshake:";
/// Session channel prefix.
pub const SESSION_PREFIX: &str = "session:";

/// True when `channel` is `<prefix><uuid>`.
pub fn is_channel(channel: &str, prefix: &str) -> bool {
    channel.strip_prefix(prefix).is_some_and(is_uuid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shape() {
        struct Ones;
        impl RandomSource for Ones {
            fn fill(&mut self, buf: &mut [u8]) {
                buf.fill(0xff);
            }
        }
        let id = random_uuid(&mut Ones);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert!(is_uuid(&id));
        assert!(!is_uuid(&id.to_uppercase()));
        assert!(!is_uuid("ffffffff-ffff-4fff-bfff-fffffffffff"));
        assert!(is_channel(&format!("session:{id}"), SESSION_PREFIX));
        assert!(!is_channel(&format!("session:{id}"), HANDSHAKE_PREFIX));
        assert!(!is_channel("session:", SESSION_PREFIX));
    }
}
