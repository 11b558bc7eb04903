//! The wallet's EVM side: secp256k1 keys, EIP-55 addresses, EIP-191 and EIP-712 signing, and
//! signed EIP-1559 transactions, built from their specifications with RustCrypto's `k256` and
//! `sha3` (no Ethereum library). The methods that use them are in [`crate::api`].
//!
//! * [`key`]: an account's secp256k1 key, derived from its stored ed25519 seed;
//! * [`address`]: 20-byte addresses and their EIP-55 checksummed text;
//! * [`word`]: 256-bit integers as JSON carries them (hex quantities, decimal strings);
//! * [`rlp`]: the RLP encoding transactions are serialized with;
//! * [`typed_data`]: EIP-712 `encodeType` / `encodeData` / `hashStruct`;
//! * [`transaction`]: EIP-1559 (type 2) transactions.
//!
//! Signatures are 65 bytes `r || s || v` with `v` 27 or 28 (the form `personal_sign` and
//! `eth_signTypedData_v4` return), always low-S, with RFC 6979 deterministic nonces.

pub mod address;
pub mod key;
pub mod rlp;
pub mod transaction;
pub mod typed_data;
pub mod word;

use sha3::{Digest, Keccak256};

pub use address::Address;
pub use key::EvmKey;

/// Chains the wallet can switch to: Ethereum mainnet and Sepolia.
pub const CHAINS: &[u64] = &[1, 11_155_111];
/// The chain a session starts on.
pub const DEFAULT_CHAIN: u64 = 1;

/// Keccak-256 of `bytes` (Ethereum's hash, not NIST SHA3-256).
pub fn keccak256(bytes: &[u8]) -> [u8; 32] {
    Keccak256::digest(bytes).into()
}

/// The EIP-191 (version 0x45) hash `personal_sign` signs:
/// `keccak256("\x19Ethereum Signed Message:\n" || len(message) || message)`.
pub fn personal_message_hash(message: &[u8]) -> [u8; 32] {
    let mut hasher = Keccak256::new();
    hasher.update(b"\x19Ethereum Signed Message:\n");
    hasher.update(message.len().to_string().as_bytes());
    hasher.update(message);
    hasher.finalize().into()
}

/// `0x` followed by lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    format!("0x{}", crate::hex::encode(bytes))
}

/// Decodes `0x`-prefixed hex (either case; `0x` alone is no bytes).
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    crate::hex::decode(
        text.strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))?,
    )
}

/// A chain id as EIP-695 returns it: a hex quantity (`0x1`).
pub fn chain_hex(chain: u64) -> String {
    format!("{chain:#x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keccak_is_the_pre_standard_variant() {
        // keccak256("") differs from SHA3-256("") (a7ffc6f8...).
        assert_eq!(
            to_hex(&keccak256(b"")),
            "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
    }

    /// Hashes and signatures made by viem 2.x (`hashMessage`, `signMessage` with the key
    /// keccak256("cow")), not by this code: tests/e2e/fixtures/evm-vectors.mjs prints them.
    #[test]
    fn eip191_personal_messages_match_viem() {
        let key = EvmKey::from_secret(&keccak256(b"cow")).unwrap();
        let vectors: [(&[u8], &str, &str); 4] = [
            (
                b"hello",
                "0x50b2c43fd39106bafbba0da34fc430e1f91e3c96ea2acee2bc34119f92b37750",
                "0x2452a50a1b27db559e685e82ef59445ff08ca6843b5089aa1c32a70db206d47d693e5ae94daffccbbf590c5d2a72ad5706994748d2c8d3a8b39355589e16e8751c",
            ),
            (
                b"",
                "0x5f35dce98ba4fba25530a026ed80b2cecdaa31091ba4958b99b52ea1d068adad",
                "0x68c36703cfae77b264e66cf9587aa39dd76b66ff1317e563b4566d9ea5d8d60e5b9be8c58a324e1dbb424365aa778a2faec2d3f922bf0339cda43d76c492a5ab1c",
            ),
            (
                "héllo wörld".as_bytes(),
                "0xc0e106c473d00fbb6310fe337d41489c46889c4cc6ca39b76702ce7d90d62983",
                "0x41ea0e44c73453c473de251373f2d3c3f0c21c077a1a27d3f06e8c0178508192116b1b5095bb21de35a2bc45440f43c09ceb97c10c0c4c2e28b184d1b30d3e5c1c",
            ),
            (
                &[0xde, 0xad, 0xbe, 0xef],
                "0xd1c7f1a06a4f9a535077e50ad23244ce2c6ae443fcd412965226f3df5d28eaaa",
                "0x7a962b63cef41a9cc1d3a6805da9f982a2a562b2d7a1ee75c78e5cd4464db9bf6e2b425bae2ce2c74a47631a2ec67c7efcc3dade1201fd5306443b85ec6116071b",
            ),
        ];
        for (message, hash, signature) in vectors {
            let digest = personal_message_hash(message);
            assert_eq!(to_hex(&digest), hash);
            assert_eq!(to_hex(&key.sign_hash(&digest).to_rsv()), signature);
        }
    }

    #[test]
    fn hex_helpers() {
        assert_eq!(from_hex("0x"), Some(vec![]));
        assert_eq!(from_hex("0xAb01"), Some(vec![0xab, 0x01]));
        assert_eq!(from_hex("ab01"), None);
        assert_eq!(from_hex("0xabc"), None);
        assert_eq!(chain_hex(11_155_111), "0xaa36a7");
    }
}
