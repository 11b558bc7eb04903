//! 20-byte EVM addresses: the last 20 bytes of the Keccak-256 of the uncompressed public key,
//! written with the EIP-55 mixed-case checksum.

use super::keccak256;

/// An EVM address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// Reads `0x` and 40 hex digits in any case. The checksum is not enforced: a lowercase
    /// address (as many tools send) is as valid as a checksummed one.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = super::from_hex(text)?;
        Some(Self(bytes.try_into().ok()?))
    }

    /// The EIP-55 text: a hex letter is upper case when the matching nibble of the
    /// Keccak-256 of the lowercase hex is 8 or more.
    pub fn checksummed(&self) -> String {
        let lower = crate::hex::encode(&self.0);
        let hash = keccak256(lower.as_bytes());
        let mut text = String::with_capacity(42);
        text.push_str("0x");
        for (i, c) in lower.chars().enumerate() {
            let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0xf;
            text.push(if nibble >= 8 {
                c.to_ascii_uppercase()
            } else {
                c
            });
        }
        text
    }
}

impl core::fmt::Display for Address {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.checksummed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eip55_examples_from_the_specification() {
        for text in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            let address = Address::parse(&text.to_lowercase()).unwrap();
            assert_eq!(address.checksummed(), text);
        }
        assert_eq!(Address::parse("0x1234"), None);
        assert_eq!(
            Address::parse("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
            None
        );
    }
}
