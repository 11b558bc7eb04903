//! Cryptography of the relay flow: X25519 key agreement, HKDF-SHA256 key schedule and
//! XChaCha20-Poly1305 boxes. Byte layouts and test vectors: `docs/PROTOCOL.md` §3.
//!
//! Nothing here reads a clock or the OS random generator: callers pass a [`RandomSource`].

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;
use x25519_dalek::{PublicKey as DalekPublic, StaticSecret};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Length of an X25519 public or secret key.
pub const KEY_LEN: usize = 32;
/// Length of an XChaCha20-Poly1305 nonce.
pub const NONCE_LEN: usize = 24;
/// Length of the Poly1305 tag.
pub const TAG_LEN: usize = 16;

/// HKDF `info` labels; each is followed by the dApp and the wallet public keys.
const LABEL_HANDSHAKE: &[u8] = b"walletwire v1 handshake";
const LABEL_DAPP_TO_WALLET: &[u8] = b"walletwire v1 dapp->wallet";
const LABEL_WALLET_TO_DAPP: &[u8] = b"walletwire v1 wallet->dapp";

/// Where randomness comes from. The browser driver uses `crypto.getRandomValues`, the
/// native driver the OS, tests a seeded generator.
pub trait RandomSource {
    /// Fills `buf` with uniformly random bytes.
    fn fill(&mut self, buf: &mut [u8]);
}

/// Errors of the cryptographic layer. Deliberately detail-free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// A box did not authenticate under the expected key and associated data.
    Decrypt,
    /// The peer's public key is a low-order point: the shared secret would be all zeros.
    WeakPublicKey,
}

impl core::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Decrypt => "could not decrypt",
            Self::WeakPublicKey => "peer public key is not acceptable",
        })
    }
}

impl std::error::Error for CryptoError {}

/// An X25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(pub [u8; KEY_LEN]);

impl core::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PublicKey({})", crate::base64url::encode(&self.0))
    }
}

/// An X25519 key pair. The secret is zeroized on drop and never printed.
pub struct KeyPair {
    secret: StaticSecret,
    public: PublicKey,
}

impl core::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyPair")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    /// A fresh key pair from the given randomness.
    pub fn generate(rng: &mut dyn RandomSource) -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        rng.fill(bytes.as_mut());
        Self::from_secret(*bytes)
    }

    /// The key pair for a known secret (persisted records, test vectors).
    pub fn from_secret(secret: [u8; KEY_LEN]) -> Self {
        let secret = StaticSecret::from(secret);
        let public = memo::remembered(&secret, &x25519_dalek::X25519_BASEPOINT_BYTES, || {
            Some(DalekPublic::from(&secret).to_bytes())
        })
        // The computation above always returns a key, and so does its remembered result.
        .expect("a public key always exists");
        Self {
            secret,
            public: PublicKey(public),
        }
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        self.public
    }

    /// The secret bytes, for persistence only.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        Zeroizing::new(self.secret.to_bytes())
    }

    /// X25519 with the peer's public key. An all-zero result (low-order peer key) is refused
    /// because it would let the peer force a known secret.
    pub fn agree(&self, peer: &PublicKey) -> Result<SharedSecret, CryptoError> {
        memo::remembered(&self.secret, &peer.0, || {
            let shared = self.secret.diffie_hellman(&DalekPublic::from(peer.0));
            shared.was_contributory().then(|| shared.to_bytes())
        })
        .map(SharedSecret)
        .ok_or(CryptoError::WeakPublicKey)
    }
}

/// X25519 results remembered in fuzz builds. The fuzz targets (`fuzz/`, built by cargo-fuzz
/// with `--cfg fuzzing`) derive the same deterministic keys for every input, and curve
/// arithmetic under coverage instrumentation cost most of their time; a remembered result
/// is the one `compute` returns for the same secret and point. Every other build computes.
#[cfg(not(fuzzing))]
mod memo {
    use super::{KEY_LEN, StaticSecret};

    /// `compute()`.
    pub(super) fn remembered(
        _secret: &StaticSecret,
        _point: &[u8; KEY_LEN],
        compute: impl FnOnce() -> Option<[u8; KEY_LEN]>,
    ) -> Option<[u8; KEY_LEN]> {
        compute()
    }
}

#[cfg(fuzzing)]
mod memo {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::{KEY_LEN, StaticSecret};

    type Inputs = ([u8; KEY_LEN], [u8; KEY_LEN]);

    /// Bounds the memory a long run spends: fuzzed peer keys are endless.
    const CAPACITY: usize = 4096;

    thread_local! {
        static RESULTS: RefCell<HashMap<Inputs, Option<[u8; KEY_LEN]>>> =
            RefCell::new(HashMap::new());
    }

    /// What `compute` returned for this secret and point, computing it the first time.
    pub(super) fn remembered(
        secret: &StaticSecret,
        point: &[u8; KEY_LEN],
        compute: impl FnOnce() -> Option<[u8; KEY_LEN]>,
    ) -> Option<[u8; KEY_LEN]> {
        let inputs = (secret.to_bytes(), *point);
        if let Some(result) = RESULTS.with_borrow(|results| results.get(&inputs).copied()) {
            return result;
        }
        let result = compute();
        RESULTS.with_borrow_mut(|results| {
            if results.len() >= CAPACITY {
                results.clear();
            }
            results.insert(inputs, result);
        });
        result
    }
}

/// The raw X25519 output; only ever fed to HKDF.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SharedSecret([u8; KEY_LEN]);

impl core::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SharedSecret(..)")
    }
}

impl SharedSecret {
    /// The raw bytes (test vectors only).
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

/// A 256-bit symmetric key, zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct Key([u8; KEY_LEN]);

impl core::fmt::Debug for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// Wraps raw key bytes (persisted records).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw bytes, for persistence only.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// Encrypts `plaintext` under a caller-chosen nonce; returns `nonce || ciphertext || tag`.
    pub fn seal_with_nonce(&self, nonce: [u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        // Encryption only fails when the plaintext exceeds the cipher's 256 GiB limit, far
        // above any frame the relay accepts.
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("plaintext below the XChaCha20-Poly1305 length limit");
        out.extend_from_slice(&sealed);
        out
    }

    /// Encrypts with a fresh random 24-byte nonce.
    pub fn seal(&self, rng: &mut dyn RandomSource, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce);
        self.seal_with_nonce(nonce, aad, plaintext)
    }

    /// Decrypts `nonce || ciphertext || tag`. Every failure is the same [`CryptoError::Decrypt`].
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        XChaCha20Poly1305::new((&self.0).into())
            .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
            .map_err(|_| CryptoError::Decrypt)
    }
}

/// The three keys both peers derive from one X25519 agreement.
#[derive(Debug, Clone)]
pub struct KeySchedule {
    /// Seals the handshake offer.
    pub handshake: Key,
    /// Seals frames sent by the dApp.
    pub dapp_to_wallet: Key,
    /// Seals frames sent by the wallet.
    pub wallet_to_dapp: Key,
}

impl KeySchedule {
    /// HKDF-SHA256 with the request id as salt and `label || dapp_public || wallet_public` as
    /// info, one expansion per key.
    pub fn derive(
        shared: &SharedSecret,
        request_id: &str,
        dapp_public: &PublicKey,
        wallet_public: &PublicKey,
    ) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(request_id.as_bytes()), &shared.0);
        let expand = |label: &[u8]| {
            let mut okm = [0u8; KEY_LEN];
            // 32 bytes is far below HKDF-SHA256's 255 * 32 byte output limit.
            hkdf.expand_multi_info(&[label, &dapp_public.0, &wallet_public.0], &mut okm)
                .expect("32-byte HKDF output is within limits");
            let key = Key(okm);
            okm.zeroize();
            key
        };
        Self {
            handshake: expand(LABEL_HANDSHAKE),
            dapp_to_wallet: expand(LABEL_DAPP_TO_WALLET),
            wallet_to_dapp: expand(LABEL_WALLET_TO_DAPP),
        }
    }
}

/// The key of the sealed session request (protocol v3): HKDF-SHA256 with the request id as
/// salt, the dApp's public key as input keying material and `walletwire v3 request` as info.
/// Whoever has the QR code (which carries the public key) can open it; the relay, which never
/// sees that key, cannot.
pub fn request_key(request_id: &str, dapp_public: &PublicKey) -> Key {
    let hkdf = Hkdf::<Sha256>::new(Some(request_id.as_bytes()), &dapp_public.0);
    let mut okm = [0u8; KEY_LEN];
    hkdf.expand(b"walletwire v3 request", &mut okm)
        .expect("32-byte HKDF output is within limits");
    let key = Key(okm);
    okm.zeroize();
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(u8);
    impl RandomSource for Counter {
        fn fill(&mut self, buf: &mut [u8]) {
            for b in buf {
                self.0 = self.0.wrapping_add(1);
                *b = self.0;
            }
        }
    }

    #[test]
    fn agreement_is_symmetric_and_keys_differ_per_direction() {
        let mut rng = Counter(0);
        let a = KeyPair::generate(&mut rng);
        let b = KeyPair::generate(&mut rng);
        let s1 = a.agree(&b.public()).unwrap();
        let s2 = b.agree(&a.public()).unwrap();
        assert_eq!(s1.as_bytes(), s2.as_bytes());
        let k = KeySchedule::derive(&s1, "id", &a.public(), &b.public());
        assert_ne!(k.handshake, k.dapp_to_wallet);
        assert_ne!(k.dapp_to_wallet, k.wallet_to_dapp);
    }

    #[test]
    fn low_order_public_key_is_refused() {
        let pair = KeyPair::from_secret([7; 32]);
        assert_eq!(
            pair.agree(&PublicKey([0; 32])).unwrap_err(),
            CryptoError::WeakPublicKey
        );
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(
            pair.agree(&PublicKey(one)).unwrap_err(),
            CryptoError::WeakPublicKey
        );
    }

    #[test]
    fn open_rejects_wrong_aad_short_input_and_wrong_key() {
        let key = Key([1; 32]);
        let sealed = key.seal_with_nonce([2; 24], b"ad", b"hello");
        assert_eq!(key.open(b"ad", &sealed).unwrap(), b"hello");
        assert_eq!(key.open(b"AD", &sealed), Err(CryptoError::Decrypt));
        assert_eq!(Key([3; 32]).open(b"ad", &sealed), Err(CryptoError::Decrypt));
        assert_eq!(key.open(b"ad", &sealed[..39]), Err(CryptoError::Decrypt));
        assert_eq!(key.open(b"ad", &[]), Err(CryptoError::Decrypt));
    }

    #[test]
    fn debug_prints_no_secret() {
        let pair = KeyPair::from_secret([0xAB; 32]);
        let text = format!("{pair:?} {:?}", Key([0xAB; 32]));
        assert!(
            !text.contains("171") && !text.to_lowercase().contains("abab"),
            "{text}"
        );
    }
}
