//! An account's secp256k1 key. It is derived from the account's stored ed25519 seed, so key
//! files written before the wallet spoke EVM load unchanged and gain an EVM address:
//! `secret = SHA-256("walletwire evm key v1\0" || counter || seed)` with the first counter
//! (from 0) that gives a valid scalar (all but a 2^-128 fraction of seeds take 0). The domain
//! string keeps this key unrelated to every other use of the seed.

use k256::ecdsa::{SigningKey, VerifyingKey};
use k256::elliptic_curve::sec1::ToEncodedPoint;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{Address, keccak256};

/// Prefix of the derivation hash.
const DERIVATION_DOMAIN: &[u8] = b"walletwire evm key v1\0";

/// A secp256k1 signing key and its address.
#[derive(Clone)]
pub struct EvmKey {
    signing: SigningKey,
    address: Address,
}

impl core::fmt::Debug for EvmKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never the secret scalar.
        f.debug_struct("EvmKey")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// A recoverable ECDSA signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoverableSignature {
    /// `r`, big-endian.
    pub r: [u8; 32],
    /// `s`, big-endian, in the lower half of the curve order.
    pub s: [u8; 32],
    /// The parity of the nonce point's y (0 or 1).
    pub y_parity: u8,
}

impl RecoverableSignature {
    /// `r || s || v` with `v = 27 + y_parity`.
    pub fn to_rsv(&self) -> [u8; 65] {
        let mut bytes = [0u8; 65];
        bytes[..32].copy_from_slice(&self.r);
        bytes[32..64].copy_from_slice(&self.s);
        bytes[64] = 27 + self.y_parity;
        bytes
    }
}

impl EvmKey {
    /// The key derived from an account's ed25519 seed (see the module docs).
    pub fn derive(seed: &[u8; 32]) -> Self {
        for counter in 0u8..=u8::MAX {
            let mut hasher = Sha256::new();
            hasher.update(DERIVATION_DOMAIN);
            hasher.update([counter]);
            hasher.update(seed);
            let secret = Zeroizing::new(<[u8; 32]>::from(hasher.finalize()));
            if let Ok(signing) = SigningKey::from_slice(secret.as_ref()) {
                return Self::from_signing_key(signing);
            }
        }
        // 256 hashes all outside [1, n) has probability about 2^-32768.
        unreachable!("no valid secp256k1 scalar in 256 derivations")
    }

    /// A key from its 32-byte secret scalar; None outside `[1, n)`.
    pub fn from_secret(secret: &[u8; 32]) -> Option<Self> {
        SigningKey::from_slice(secret)
            .ok()
            .map(Self::from_signing_key)
    }

    fn from_signing_key(signing: SigningKey) -> Self {
        let address = address_of(signing.verifying_key());
        Self { signing, address }
    }

    /// The account's EVM address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Signs a 32-byte hash (RFC 6979 nonce, low-S).
    pub fn sign_hash(&self, hash: &[u8; 32]) -> RecoverableSignature {
        let (signature, recovery) = self
            .signing
            .sign_prehash_recoverable(hash)
            // Signing a 32-byte prehash with a valid key only fails with probability ~2^-128
            // per RFC 6979 candidate, and the loop inside retries those.
            .expect("secp256k1 signing of a 32-byte hash");
        let bytes = signature.to_bytes();
        let mut r = [0u8; 32];
        let mut s = [0u8; 32];
        r.copy_from_slice(&bytes[..32]);
        s.copy_from_slice(&bytes[32..]);
        RecoverableSignature {
            r,
            s,
            y_parity: u8::from(recovery.is_y_odd()),
        }
    }
}

/// The address of a public key: the last 20 bytes of the Keccak-256 of its `x || y`.
pub fn address_of(key: &VerifyingKey) -> Address {
    let point = key.as_affine().to_encoded_point(false);
    // An uncompressed SEC1 point is 0x04 || x || y.
    let hash = keccak256(&point.as_bytes()[1..]);
    let mut address = [0u8; 20];
    address.copy_from_slice(&hash[12..]);
    Address(address)
}

#[cfg(test)]
mod tests {
    use k256::ecdsa::{RecoveryId, Signature};

    use super::*;

    #[test]
    fn derivation_is_deterministic_and_signatures_recover_to_the_address() {
        let key = EvmKey::derive(&[7; 32]);
        assert_eq!(key.address(), EvmKey::derive(&[7; 32]).address());
        assert_ne!(key.address(), EvmKey::derive(&[8; 32]).address());
        let hash = keccak256(b"message");
        let signature = key.sign_hash(&hash);
        let rsv = signature.to_rsv();
        let recovered = VerifyingKey::recover_from_prehash(
            &hash,
            &Signature::from_slice(&rsv[..64]).unwrap(),
            RecoveryId::from_byte(rsv[64] - 27).unwrap(),
        )
        .unwrap();
        assert_eq!(
            address_of(&recovered),
            key.address(),
            "recovers to the signer"
        );
        assert!(!format!("{key:?}").contains(&crate::hex::encode(&key.signing.to_bytes())));
    }

    #[test]
    fn the_key_of_keccak_cow_has_the_eip712_specification_address() {
        let key = EvmKey::from_secret(&keccak256(b"cow")).unwrap();
        assert_eq!(
            key.address().checksummed(),
            "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"
        );
        assert!(EvmKey::from_secret(&[0; 32]).is_none());
    }
}
