//! Base64url without padding (RFC 4648 §5), the text encoding of every key and box on the wire.
//!
//! Written out here rather than taken from the `base64` crate, whose engines (generic over
//! alphabet, padding and chunk sizes) cost the wasm download about 6 KB for two functions; the
//! tests hold this code to that crate's `URL_SAFE_NO_PAD` verdicts and bytes.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Encodes bytes as unpadded base64url.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let group = byte(0) << 16 | byte(1) << 8 | byte(2);
        // n bytes make n + 1 characters, six bits each from the top.
        for i in 0..=chunk.len() {
            let sextet = (group >> (18 - 6 * i)) & 63;
            out.push(char::from(ALPHABET[sextet as usize]));
        }
    }
    out
}

/// The six bits a base64url character stands for.
fn sextet(c: u8) -> Option<u32> {
    let value = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    };
    Some(u32::from(value))
}

/// Decodes unpadded base64url; padding, other alphabets and non-canonical trailing bits fail.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    // A lone last character holds six bits: no byte.
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    for chunk in text.chunks(4) {
        let mut group = 0;
        for (i, &c) in chunk.iter().enumerate() {
            group |= sextet(c)? << (18 - 6 * i);
        }
        let len = chunk.len() - 1;
        // The bits below the last whole byte must be zero (one text per byte string).
        if len < 3 && group & (0xff_ffff >> (8 * len)) != 0 {
            return None;
        }
        out.extend_from_slice(&group.to_be_bytes()[1..=len]);
    }
    Some(out)
}

/// Decodes exactly `N` bytes.
pub fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    decode(text)?.try_into().ok()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn rfc_4648_vectors_and_refusals() {
        // RFC 4648 §10, without padding (the base64url alphabet only differs in 62 and 63).
        for (bytes, text) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(bytes.as_bytes()), text);
            assert_eq!(decode(text).as_deref(), Some(bytes.as_bytes()));
        }
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        for bad in [
            "Zg==", "Zm9", "Z", "Zh", "Zm9w", "Zm+v", "Zm/v", "Zm9v\n", " Zg",
        ] {
            assert_eq!(decode(bad), URL_SAFE_NO_PAD.decode(bad).ok(), "{bad:?}");
        }
        assert_eq!(decode("Zh"), None, "non-zero trailing bits");
        assert_eq!(decode_array::<2>("Zm8"), Some(*b"fo"));
        assert_eq!(decode_array::<3>("Zm8"), None);
    }

    proptest! {
        #[test]
        fn encodes_as_the_base64_crate(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let text = encode(&bytes);
            prop_assert_eq!(&text, &URL_SAFE_NO_PAD.encode(&bytes));
            prop_assert_eq!(decode(&text), Some(bytes));
        }

        #[test]
        fn decodes_as_the_base64_crate(text in "[A-Za-z0-9_=+/-]{0,24}") {
            prop_assert_eq!(decode(&text), URL_SAFE_NO_PAD.decode(&text).ok());
        }
    }
}
