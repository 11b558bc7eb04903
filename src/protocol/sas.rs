//! Untrusted mode's pairing code: a committed short authentication string
//! (`docs/PROTOCOL.md` §5), as in Bluetooth LE Secure Connections' numeric comparison.
//!
//! The wallet's offer commits to a nonce `Nw`; the dApp answers with its nonce `Nd`; the
//! wallet then reveals `Nw`. The six digits both sides compute hash both public keys, the
//! request id and both nonces. Whoever sits in the middle runs two legs with two key pairs,
//! so the codes of the two legs differ; it must commit (towards the dApp) before it learns
//! the dApp's nonce and send a nonce (towards the wallet) before the wallet reveals its own,
//! so it cannot steer either code: the two match with probability 10^-6.

use sha2::{Digest, Sha256};

use super::otp::Otp;
use crate::crypto::PublicKey;

/// Bytes of each nonce and of the commitment.
pub const NONCE_LEN: usize = 32;

fn hash(label: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(label);
    h.update([0]);
    for part in parts {
        h.update(part);
    }
    h.finalize().into()
}

/// What both codes are about: `SHA-256("walletwire v2 transcript" || 0 || id || D || W)`.
pub fn transcript(request_id: &str, dapp: &PublicKey, wallet: &PublicKey) -> [u8; 32] {
    hash(
        b"walletwire v2 transcript",
        &[request_id.as_bytes(), &dapp.0, &wallet.0],
    )
}

/// The wallet's commitment: `SHA-256("walletwire v2 commit" || 0 || transcript || Nw)`.
pub fn commit(transcript: &[u8; 32], wallet_nonce: &[u8; NONCE_LEN]) -> [u8; 32] {
    hash(b"walletwire v2 commit", &[transcript, wallet_nonce])
}

/// The dApp's nonce for one offer: `SHA-256("walletwire v2 dapp nonce" || 0 || seed || W)`,
/// with `seed` 32 random bytes kept in the pending record, so a reloaded page sends the same
/// nonce again (the wallet drops the copy as a replay) and nobody else can predict it.
pub fn dapp_nonce(seed: &[u8; 32], wallet: &PublicKey) -> [u8; NONCE_LEN] {
    hash(b"walletwire v2 dapp nonce", &[seed, &wallet.0])
}

/// The six digits: the first 8 bytes of `SHA-256("walletwire v2 code" || 0 || transcript ||
/// Nd || Nw)` as a big-endian integer, mod 10^6 (the bias of 2^64 mod 10^6 is below 10^-13).
pub fn code(
    transcript: &[u8; 32],
    dapp_nonce: &[u8; NONCE_LEN],
    wallet_nonce: &[u8; NONCE_LEN],
) -> Otp {
    let digest = hash(
        b"walletwire v2 code",
        &[transcript, dapp_nonce, wallet_nonce],
    );
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // Below 10^6, so it fits a u32.
    Otp::from_number((u64::from_be_bytes(first) % 1_000_000) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_input_changes_the_code_and_the_commitment() {
        let d = PublicKey([1; 32]);
        let w = PublicKey([2; 32]);
        let id = "8b0a2b9e-3c1f-4a57-9d3e-5f6a7b8c9d0e";
        let th = transcript(id, &d, &w);
        let base = code(&th, &[3; 32], &[4; 32]);
        let other_id = transcript("8b0a2b9e-3c1f-4a57-9d3e-5f6a7b8c9d0f", &d, &w);
        assert_ne!(th, other_id);
        assert_ne!(
            th,
            transcript(id, &w, &d),
            "the roles are not interchangeable"
        );
        assert_ne!(th, transcript(id, &d, &PublicKey([5; 32])));
        assert_ne!(commit(&th, &[4; 32]), commit(&th, &[5; 32]));
        assert_ne!(commit(&th, &[4; 32]), commit(&other_id, &[4; 32]));
        assert_ne!(dapp_nonce(&[7; 32], &w), dapp_nonce(&[7; 32], &d));
        assert_ne!(dapp_nonce(&[7; 32], &w), dapp_nonce(&[8; 32], &w));
        // Six digits can collide by chance (10^-6); these inputs do not.
        assert!(!base.matches(&code(&th, &[3; 32], &[5; 32])));
        assert!(!base.matches(&code(&th, &[6; 32], &[4; 32])));
        assert!(!base.matches(&code(&other_id, &[3; 32], &[4; 32])));
        assert_eq!(base.as_str().len(), 6);
    }
}
