//! The wallet's accounts: ed25519 key pairs, created on first run and kept in
//! `<data dir>/keys.json` (owner-only permissions). An account's address is the hex of its
//! public key, so anyone can verify its signatures with standard ed25519.

use std::fs;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

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
}

impl core::fmt::Debug for Account {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never the secret key.
        f.debug_struct("Account")
            .field("name", &self.name)
            .field("address", &self.address())
            .finish()
    }
}

impl Account {
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
                        Account {
                            name: format!("Account {n}"),
                            signing: SigningKey::from_bytes(&seed),
                        }
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
                Some(Account {
                    name: a.name,
                    signing: SigningKey::from_bytes(&seed),
                })
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
        fs::write(dir.join("keys.json"), "{}").unwrap();
        assert!(matches!(Keyring::open(&dir), Err(KeysError::Corrupt(_))));
        let _ = fs::remove_dir_all(&dir);
    }
}
