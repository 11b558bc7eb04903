//! The six-digit one-time code of untrusted mode.

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::RandomSource;

/// Number of digits.
pub const OTP_DIGITS: usize = 6;
/// Wrong codes allowed before the handshake ends.
pub const OTP_ATTEMPTS: u8 = 3;
/// Largest multiple of 10^6 that fits in a u32: samples at or above it are redrawn, so every
/// code is exactly equally likely.
const REJECT_AT: u32 = 4_294_000_000;

/// A six-digit code. `Debug` hides the digits.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Otp([u8; OTP_DIGITS]);

impl core::fmt::Debug for Otp {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Otp(******)")
    }
}

impl Otp {
    /// A uniformly random code (rejection sampling, no modulo bias).
    pub fn generate(rng: &mut dyn RandomSource) -> Self {
        loop {
            let mut bytes = [0u8; 4];
            rng.fill(&mut bytes);
            let sample = u32::from_be_bytes(bytes);
            if sample < REJECT_AT {
                return Self::from_number(sample % 1_000_000);
            }
        }
    }

    /// The code of `n` (below 10^6), zero-padded.
    pub(crate) fn from_number(mut n: u32) -> Self {
        let mut digits = [b'0'; OTP_DIGITS];
        for d in digits.iter_mut().rev() {
            // n % 10 < 10, so the sum is an ASCII digit.
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        Self(digits)
    }

    /// Parses what a user typed: six ASCII digits, spaces and dashes between them ignored.
    pub fn parse(typed: &str) -> Option<Self> {
        let mut digits = [0u8; OTP_DIGITS];
        let mut count = 0;
        for c in typed.bytes() {
            match c {
                b'0'..=b'9' if count < OTP_DIGITS => {
                    digits[count] = c;
                    count += 1;
                }
                b' ' | b'-' => {}
                _ => return None,
            }
        }
        (count == OTP_DIGITS).then_some(Self(digits))
    }

    /// The digits as text, for display on the wallet.
    pub fn as_str(&self) -> &str {
        // Built only from ASCII digits.
        core::str::from_utf8(&self.0).expect("OTP digits are ASCII")
    }

    /// Constant-time comparison.
    pub fn matches(&self, other: &Otp) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Vec<u32>);
    impl RandomSource for Fixed {
        fn fill(&mut self, buf: &mut [u8]) {
            buf.copy_from_slice(&self.0.remove(0).to_be_bytes());
        }
    }

    #[test]
    fn rejection_sampling_redraws_the_biased_tail() {
        let otp = Otp::generate(&mut Fixed(vec![u32::MAX, REJECT_AT, REJECT_AT - 1]));
        assert_eq!(otp.as_str(), "999999");
        assert_eq!(Otp::generate(&mut Fixed(vec![42])).as_str(), "000042");
    }

    #[test]
    fn parse_accepts_grouping_and_refuses_junk() {
        assert_eq!(Otp::parse("123 456").unwrap().as_str(), "123456");
        assert_eq!(Otp::parse("123-456").unwrap().as_str(), "123456");
        assert!(Otp::parse("12345").is_none());
        assert!(Otp::parse("1234567").is_none());
        assert!(Otp::parse("12345a").is_none());
        assert!(Otp::parse("١٢٣٤٥٦").is_none());
        assert!(Otp::parse("").is_none());
    }

    #[test]
    fn matches_and_debug() {
        let a = Otp::parse("123456").unwrap();
        assert!(a.matches(&Otp::parse("123456").unwrap()));
        assert!(!a.matches(&Otp::parse("123457").unwrap()));
        assert_eq!(format!("{a:?}"), "Otp(******)");
    }
}
