//! Recursive Length Prefix encoding (the Ethereum Yellow Paper, appendix B), the
//! serialization of transactions: only encoding, since the wallet never parses RLP.

/// The RLP of a byte string.
pub fn bytes(data: &[u8]) -> Vec<u8> {
    if let [single] = data
        && *single < 0x80
    {
        return vec![*single];
    }
    let mut out = prefix(0x80, data.len());
    out.extend_from_slice(data);
    out
}

/// The RLP of an unsigned integer: its big-endian bytes without leading zeros.
pub fn uint(value: u64) -> Vec<u8> {
    let be = value.to_be_bytes();
    let start = be.iter().position(|&b| b != 0).unwrap_or(8);
    bytes(&be[start..])
}

/// The RLP of a list whose items are already encoded.
pub fn list(items: &[Vec<u8>]) -> Vec<u8> {
    let length = items.iter().map(Vec::len).sum();
    let mut out = prefix(0xc0, length);
    for item in items {
        out.extend_from_slice(item);
    }
    out
}

/// The length header: `offset + length` up to 55 bytes, else `offset + 55 + n` and the
/// length's `n` big-endian bytes.
fn prefix(offset: u8, length: usize) -> Vec<u8> {
    if length <= 55 {
        return vec![offset + length as u8];
    }
    let be = (length as u64).to_be_bytes();
    let start = be.iter().position(|&b| b != 0).unwrap_or(7);
    let mut out = vec![offset + 55 + (8 - start) as u8];
    out.extend_from_slice(&be[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex;

    #[test]
    fn the_examples_of_the_ethereum_wiki() {
        assert_eq!(hex::encode(&bytes(b"dog")), "83646f67");
        assert_eq!(
            hex::encode(&list(&[bytes(b"cat"), bytes(b"dog")])),
            "c88363617483646f67"
        );
        assert_eq!(hex::encode(&bytes(b"")), "80");
        assert_eq!(hex::encode(&list(&[])), "c0");
        assert_eq!(hex::encode(&uint(0)), "80");
        assert_eq!(hex::encode(&bytes(&[0])), "00");
        assert_eq!(hex::encode(&uint(15)), "0f");
        assert_eq!(hex::encode(&uint(1024)), "820400");
        // [ [], [[]], [ [], [[]] ] ]
        let empty = list(&[]);
        let nested = list(std::slice::from_ref(&empty));
        let set = list(&[empty.clone(), nested.clone(), list(&[empty, nested])]);
        assert_eq!(hex::encode(&set), "c7c0c1c0c3c0c1c0");
        let lorem = b"Lorem ipsum dolor sit amet, consectetur adipisicing elit";
        let encoded = bytes(lorem);
        assert_eq!(&encoded[..2], &[0xb8, 0x38]);
        assert_eq!(&encoded[2..], lorem);
        let long = vec![0u8; 1024];
        assert_eq!(&bytes(&long)[..3], &[0xb9, 0x04, 0x00]);
    }
}
