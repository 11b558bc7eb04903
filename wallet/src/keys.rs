//! The wallet's accounts: ed25519 key pairs, created on first run and kept in
//! `<data dir>/keys.json` (owner-only permissions). An account's address is the hex of its
//! public key, so anyone can verify its signatures with standard ed25519.
//!
//! Each account also has a secp256k1 key for the EVM methods, derived from the same stored
//! seed ([`crate::evm::key`]): the file format is unchanged, and files written before the
//! wallet spoke EVM give their accounts the same EVM address on every load.

use std::fs;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::evm::{Address, EvmKey};
use crate::hex;
use crate::store::write_atomic;

/// Accounts created on first run.
const FIRST_RUN_ACCOUNTS: usize = 2;
/// Version of the keys file.
const FILE_VERSION: u64 = 1;

/// Errors loading or creating the keys file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeysError {
    /// The file system refused.
    #[error("keys file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The file exists but cannot be read as keys; it is left untouched (it may hold funds).
    #[error("keys file {0} is corrupt or of another version; not overwriting it")]
    Corrupt(PathBuf),
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeysFile {
    v: u64,
    accounts: Vec<StoredAccount>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredAccount {
    name: String,
    /// Hex of the 32-byte ed25519 seed.
    secret_key: String,
}

/// One account.
pub struct Account {
    /// Display name.
    pub name: String,
    signing: SigningKey,
    evm: EvmKey,
}

impl core::fmt::Debug for Account {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never the secret key.
        f.debug_struct("Account")
            .field("name", &self.name)
            .field("address", &self.address())
            .field("evm", &self.evm.address())
            .finish()
    }
}

impl Account {
    fn from_seed(name: String, seed: &[u8; 32]) -> Self {
        Self {
            name,
            signing: SigningKey::from_bytes(seed),
            evm: EvmKey::derive(seed),
        }
    }

    /// The hex public key, which is also the address.
    pub fn address(&self) -> String {
        hex::encode(self.verifying_key().as_bytes())
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// A standard ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> Signature {
        self.signing.sign(message)
    }

    /// The secp256k1 key of the EVM methods.
    pub fn evm(&self) -> &EvmKey {
        &self.evm
    }
}

/// Every account of the wallet.
#[derive(Debug)]
pub struct Keyring {
    accounts: Vec<Account>,
}

impl Keyring {
    /// Loads `<dir>/keys.json`, creating it with fresh accounts on first run.
    pub fn open(dir: &Path) -> Result<Self, KeysError> {
        let path = dir.join("keys.json");
        let io = |source| KeysError::Io {
            path: path.clone(),
            source,
        };
        match fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text).ok_or_else(|| KeysError::Corrupt(path.clone())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let accounts: Vec<Account> = (1..=FIRST_RUN_ACCOUNTS)
                    .map(|n| {
                        let mut seed = [0u8; 32];
                        crate::system::fill_random(&mut seed);
                        Account::from_seed(format!("Account {n}"), &seed)
                    })
                    .collect();
                let file = KeysFile {
                    v: FILE_VERSION,
                    accounts: accounts
                        .iter()
                        .map(|a| StoredAccount {
                            name: a.name.clone(),
                            secret_key: hex::encode(a.signing.as_bytes()),
                        })
                        .collect(),
                };
                // Strings only: serialization cannot fail.
                let text = serde_json::to_string_pretty(&file).expect("keys file serializes");
                write_atomic(&path, text.as_bytes()).map_err(io)?;
                Ok(Self { accounts })
            }
            Err(e) => Err(io(e)),
        }
    }

    fn parse(text: &str) -> Option<Self> {
        let file: KeysFile = serde_json::from_str(text).ok()?;
        if file.v != FILE_VERSION || file.accounts.is_empty() {
            return None;
        }
        let accounts = file
            .accounts
            .into_iter()
            .map(|a| {
                let seed = hex::decode_array::<32>(&a.secret_key)?;
                Some(Account::from_seed(a.name, &seed))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self { accounts })
    }

    /// Every account, in creation order.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// The account with this address (hex public key, either case).
    pub fn find(&self, address: &str) -> Option<&Account> {
        let address = address.to_ascii_lowercase();
        self.accounts.iter().find(|a| a.address() == address)
    }

    /// The account with this EVM address.
    pub fn find_evm(&self, address: &Address) -> Option<&Account> {
        self.accounts.iter().find(|a| a.evm.address() == *address)
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::Verifier;

    use super::*;

    #[test]
    fn created_once_then_reloaded_and_signatures_verify() {
        let dir = std::env::temp_dir().join(format!(
            "walletwire-keys-{}-{}",
            std::process::id(),
            crate::system::now_ms()
        ));
        let first = Keyring::open(&dir).unwrap();
        let again = Keyring::open(&dir).unwrap();
        assert_eq!(first.accounts().len(), FIRST_RUN_ACCOUNTS);
        let address = first.accounts()[0].address();
        let account = again.find(&address.to_uppercase()).unwrap();
        let signature = account.sign(b"hello");
        assert!(account.verifying_key().verify(b"hello", &signature).is_ok());
        assert!(!format!("{account:?}").contains(&hex::encode(account.signing.as_bytes())));
        assert_eq!(
            again
                .find_evm(&first.accounts()[1].evm().address())
                .unwrap()
                .address(),
            first.accounts()[1].address()
        );
        fs::write(dir.join("keys.json"), "{}").unwrap();
        assert!(matches!(Keyring::open(&dir), Err(KeysError::Corrupt(_))));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_key_file_from_before_evm_loads_and_keeps_its_evm_address() {
        // Written by the wallet before it had EVM keys: the format is unchanged.
        let old = r#"{"v": 1, "accounts": [{"name": "Old", "secretKey": "0707070707070707070707070707070707070707070707070707070707070707"}]}"#;
        let keys = Keyring::parse(old).unwrap();
        let account = &keys.accounts()[0];
        assert_eq!(
            account.address(),
            "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c"
        );
        // SHA-256("walletwire evm key v1\0" || 0x00 || seed) as a secp256k1 key, its address
        // computed by viem (`privateKeyToAccount`), not by this code.
        assert_eq!(
            account.evm().address().checksummed(),
            "0x6fef60f7F41Da3EE61353e2E2E31d8c4f1AC97c3"
        );
        assert_eq!(
            account.evm().address(),
            Keyring::parse(old).unwrap().accounts()[0].evm().address()
        );
    }
}
