//! 256-bit integers as JSON carries them to a wallet: hex quantities (`"0x5208"`, EIP-1474),
//! decimal strings (how viem and ethers write a `bigint`), or plain JSON numbers. Words are
//! 32 bytes, big-endian; signed values are two's complement, as the ABI encodes them.

use serde_json::Value;

/// A 256-bit big-endian word.
pub type Word = [u8; 32];

/// An integer read from JSON: a sign and a magnitude below 2^256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Integer {
    negative: bool,
    magnitude: Word,
}

impl Integer {
    /// Reads a JSON number (an integer), a `0x` hex string or a decimal string (`-` allowed).
    pub fn from_json(value: &Value) -> Option<Self> {
        match value {
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    Some(Self::from_u64(u))
                } else {
                    let i = n.as_i64()?;
                    Some(Self {
                        negative: true,
                        magnitude: Self::from_u64(i.unsigned_abs()).magnitude,
                    })
                }
            }
            Value::String(text) => Self::parse(text),
            _ => None,
        }
    }

    /// Reads `0x` hex (at most 64 digits) or decimal, with an optional leading `-`.
    pub fn parse(text: &str) -> Option<Self> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let magnitude = match digits.strip_prefix("0x").or(digits.strip_prefix("0X")) {
            Some(hex) => parse_hex(hex)?,
            None => parse_decimal(digits)?,
        };
        Some(Self {
            // -0 is 0.
            negative: negative && magnitude != [0; 32],
            magnitude,
        })
    }

    fn from_u64(value: u64) -> Self {
        let mut magnitude = [0u8; 32];
        magnitude[24..].copy_from_slice(&value.to_be_bytes());
        Self {
            negative: false,
            magnitude,
        }
    }

    /// The word of a `uint<bits>`; None if negative or too large.
    pub fn to_uint(self, bits: u32) -> Option<Word> {
        (!self.negative && bit_length(&self.magnitude) <= bits).then_some(self.magnitude)
    }

    /// The two's complement word of an `int<bits>`; None outside `[-2^(bits-1), 2^(bits-1))`.
    pub fn to_int(self, bits: u32) -> Option<Word> {
        if !self.negative {
            return (bit_length(&self.magnitude) < bits).then_some(self.magnitude);
        }
        // |value| <= 2^(bits-1)  <=>  |value| - 1 < 2^(bits-1).
        if bit_length(&minus_one(self.magnitude)) >= bits {
            return None;
        }
        let mut word = self.magnitude.map(|b| !b);
        add_one(&mut word);
        Some(word)
    }

    /// The value as a `u64`, if it is a non-negative one.
    pub fn to_u64(self) -> Option<u64> {
        let word = self.to_uint(64)?;
        // The last 8 bytes of a 32-byte word.
        Some(u64::from_be_bytes(word[24..].try_into().expect("8 bytes")))
    }
}

fn parse_hex(hex: &str) -> Option<Word> {
    if hex.is_empty() || hex.len() > 64 {
        return None;
    }
    let padded = format!("{hex:0>64}");
    crate::hex::decode_array(&padded)
}

fn parse_decimal(digits: &str) -> Option<Word> {
    if digits.is_empty() || digits.len() > 78 {
        return None;
    }
    let mut word = [0u8; 32];
    for c in digits.chars() {
        let mut carry = c.to_digit(10)?;
        for byte in word.iter_mut().rev() {
            let v = u32::from(*byte) * 10 + carry;
            *byte = v as u8;
            carry = v >> 8;
        }
        if carry != 0 {
            return None;
        }
    }
    Some(word)
}

fn add_one(word: &mut Word) {
    for byte in word.iter_mut().rev() {
        let (v, overflow) = byte.overflowing_add(1);
        *byte = v;
        if !overflow {
            return;
        }
    }
}

fn minus_one(mut word: Word) -> Word {
    for byte in word.iter_mut().rev() {
        let (v, borrow) = byte.overflowing_sub(1);
        *byte = v;
        if !borrow {
            break;
        }
    }
    word
}

/// Bits needed to write `word` (0 for zero).
pub fn bit_length(word: &Word) -> u32 {
    match word.iter().position(|&b| b != 0) {
        Some(i) => (32 - i as u32) * 8 - word[i].leading_zeros(),
        None => 0,
    }
}

/// The word without its leading zero bytes (the RLP form of an integer; zero is empty).
pub fn trimmed(word: &Word) -> &[u8] {
    let start = word.iter().position(|&b| b != 0).unwrap_or(32);
    &word[start..]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn word(hex: &str) -> Word {
        parse_hex(hex).unwrap()
    }

    #[test]
    fn reads_every_json_form() {
        let n = |v: Value| Integer::from_json(&v).and_then(|i| i.to_uint(256));
        assert_eq!(n(json!(21000)), Some(word("5208")));
        assert_eq!(n(json!("0x5208")), Some(word("5208")));
        assert_eq!(n(json!("21000")), Some(word("5208")));
        let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
        assert_eq!(n(json!(max)), Some([0xff; 32]));
        // 2^256 overflows.
        let over = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
        assert_eq!(n(json!(over)), None);
        for bad in [
            json!("0x"),
            json!(""),
            json!("12a"),
            json!(1.5),
            json!(true),
            json!(null),
        ] {
            assert_eq!(n(bad.clone()), None, "{bad}");
        }
        assert_eq!(n(json!(format!("0x{}", "f".repeat(65)))), None);
    }

    #[test]
    fn ranges_and_twos_complement() {
        let i = |t: &str| Integer::parse(t).unwrap();
        assert_eq!(i("255").to_uint(8), Some(word("ff")));
        assert_eq!(i("256").to_uint(8), None);
        assert_eq!(i("-1").to_uint(8), None);
        assert_eq!(i("127").to_int(8), Some(word("7f")));
        assert_eq!(i("128").to_int(8), None);
        assert_eq!(
            i("-128").to_int(8),
            Some({
                let mut w = [0xff; 32];
                w[31] = 0x80;
                w
            })
        );
        assert_eq!(i("-129").to_int(8), None);
        assert_eq!(i("-1").to_int(256), Some([0xff; 32]));
        assert_eq!(i("-0").to_uint(8), Some([0; 32]));
        assert_eq!(i("0x10").to_u64(), Some(16));
        assert_eq!(trimmed(&word("0100")), &[1, 0]);
        assert_eq!(trimmed(&[0; 32]), &[] as &[u8]);
        assert_eq!(bit_length(&word("0100")), 9);
    }
}
