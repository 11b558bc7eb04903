//! The local ledger: balances and a signed transaction log in `<data dir>/ledger.json`.
//!
//! A demo chain of one: on first run every account of the wallet gets [`OPENING_BALANCE`].
//! A transaction moves an integer amount from one of the wallet's accounts to any address
//! (64 hex digits); it is signed by the sender's key over [`TX_DOMAIN`] followed by its
//! canonical JSON, its id is the SHA-256 of that signed message and the signature, and it is
//! appended to the file with an atomic write. Every operation re-reads the file, so the file
//! on disk is always the truth (tests and other processes read it directly). A file that
//! cannot be read is an error, never silently replaced: it holds balances.
//!
//! Signed EVM transactions (`eth_sendTransaction`) are recorded in the same file under
//! `evmTransactions`, with their raw bytes and hash; they move no demo balance (there is no
//! EVM chain behind this wallet). The key is absent until the first one, so files stay
//! readable by older wallets (which ignore it) and older files load unchanged.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::hex;
use crate::keys::{Account, Keyring};
use crate::store::write_atomic;

/// Balance of each account on first run.
pub const OPENING_BALANCE: u64 = 1_000_000;
/// Prefix of every signed transaction message (so no other signature can pass for one).
pub const TX_DOMAIN: &[u8] = b"walletwire ledger tx v1\0";
/// Version of the ledger file.
const FILE_VERSION: u64 = 1;

/// Errors of ledger operations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The file system refused.
    #[error("ledger {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The ledger file cannot be read; it is left untouched.
    #[error("ledger {0} is corrupt or of another version")]
    Corrupt(PathBuf),
    /// The sender does not hold enough.
    #[error("insufficient balance: {balance} available, {amount} requested")]
    InsufficientBalance {
        /// What the sender holds.
        balance: u64,
        /// What was asked.
        amount: u64,
    },
    /// The recipient would overflow the ledger's integer balance.
    #[error("amount overflows the recipient's balance")]
    Overflow,
}

/// One recorded transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    /// Hex SHA-256 of the signed message and the signature.
    pub id: String,
    /// Sender address.
    pub from: String,
    /// Recipient address.
    pub to: String,
    /// Amount moved.
    pub amount: u64,
    /// Position in the log (replay protection: signed).
    pub nonce: u64,
    /// Unix ms.
    pub timestamp: u64,
    /// Hex ed25519 signature by `from` over [`TX_DOMAIN`] and the canonical body.
    pub signature: String,
}

/// What the sender signs.
#[derive(Serialize)]
struct TxBody<'a> {
    from: &'a str,
    to: &'a str,
    amount: u64,
    nonce: u64,
    timestamp: u64,
}

/// The message a transaction's signature covers.
pub fn signed_message(from: &str, to: &str, amount: u64, nonce: u64, timestamp: u64) -> Vec<u8> {
    let body = TxBody {
        from,
        to,
        amount,
        nonce,
        timestamp,
    };
    let mut message = TX_DOMAIN.to_vec();
    // Strings and integers always serialize.
    message.extend(serde_json::to_vec(&body).expect("transaction body serializes"));
    message
}

/// One signed EVM transaction, as `eth_sendTransaction` made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvmTransaction {
    /// `0x` hex Keccak-256 of `raw`: what `eth_sendTransaction` returned.
    pub hash: String,
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Sender (EIP-55).
    pub from: String,
    /// Recipient (EIP-55); None for a contract creation.
    pub to: Option<String>,
    /// The sender's nonce on `chain_id`.
    pub nonce: u64,
    /// Wei, a `0x` hex quantity.
    pub value: String,
    /// The signed EIP-2718 bytes, `0x` hex.
    pub raw: String,
    /// Unix ms.
    pub timestamp: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LedgerFile {
    v: u64,
    balances: BTreeMap<String, u64>,
    transactions: Vec<Transaction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    evm_transactions: Vec<EvmTransaction>,
}

/// The ledger file.
#[derive(Debug, Clone)]
pub struct Ledger {
    path: PathBuf,
}

impl Ledger {
    /// Opens `<dir>/ledger.json`, creating it with opening balances for `keys` on first run.
    pub fn open(dir: &Path, keys: &Keyring) -> Result<Self, LedgerError> {
        let ledger = Self {
            path: dir.join("ledger.json"),
        };
        if !ledger.path.exists() {
            let file = LedgerFile {
                v: FILE_VERSION,
                balances: keys
                    .accounts()
                    .iter()
                    .map(|a| (a.address(), OPENING_BALANCE))
                    .collect(),
                transactions: Vec::new(),
                evm_transactions: Vec::new(),
            };
            ledger.write(&file)?;
        }
        ledger.read()?;
        Ok(ledger)
    }

    /// Where the file lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<LedgerFile, LedgerError> {
        let text = fs::read_to_string(&self.path).map_err(|source| LedgerError::Io {
            path: self.path.clone(),
            source,
        })?;
        match serde_json::from_str::<LedgerFile>(&text) {
            Ok(file) if file.v == FILE_VERSION => Ok(file),
            _ => Err(LedgerError::Corrupt(self.path.clone())),
        }
    }

    fn write(&self, file: &LedgerFile) -> Result<(), LedgerError> {
        // Maps of strings and integers always serialize.
        let text = serde_json::to_string_pretty(file).expect("ledger serializes");
        write_atomic(&self.path, text.as_bytes()).map_err(|source| LedgerError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// The balance of `address` (0 for an address the ledger never saw).
    pub fn balance(&self, address: &str) -> Result<u64, LedgerError> {
        Ok(self.read()?.balances.get(address).copied().unwrap_or(0))
    }

    /// Every transaction, oldest first.
    pub fn transactions(&self) -> Result<Vec<Transaction>, LedgerError> {
        Ok(self.read()?.transactions)
    }

    /// Every recorded EVM transaction, oldest first.
    pub fn evm_transactions(&self) -> Result<Vec<EvmTransaction>, LedgerError> {
        Ok(self.read()?.evm_transactions)
    }

    /// The next nonce of `from` (EIP-55) on `chain_id`: one past its highest recorded one.
    pub fn next_evm_nonce(&self, from: &str, chain_id: u64) -> Result<u64, LedgerError> {
        Ok(self
            .read()?
            .evm_transactions
            .iter()
            .filter(|t| t.from == from && t.chain_id == chain_id)
            .map(|t| t.nonce + 1)
            .max()
            .unwrap_or(0))
    }

    /// Appends a signed EVM transaction.
    pub fn record_evm(&self, transaction: EvmTransaction) -> Result<(), LedgerError> {
        let mut file = self.read()?;
        file.evm_transactions.push(transaction);
        self.write(&file)
    }

    /// Signs and records a transfer of `amount` from `from` to the address `to`.
    pub fn submit(
        &self,
        from: &Account,
        to: &str,
        amount: u64,
        now: u64,
    ) -> Result<(Transaction, u64), LedgerError> {
        let mut file = self.read()?;
        let sender = from.address();
        let balance = file.balances.get(&sender).copied().unwrap_or(0);
        if balance < amount {
            return Err(LedgerError::InsufficientBalance { balance, amount });
        }
        let nonce = file.transactions.len() as u64;
        let message = signed_message(&sender, to, amount, nonce, now);
        let signature = from.sign(&message).to_bytes();
        let mut hasher = Sha256::new();
        hasher.update(&message);
        hasher.update(signature);
        let transaction = Transaction {
            id: hex::encode(&hasher.finalize()),
            from: sender.clone(),
            to: to.to_owned(),
            amount,
            nonce,
            timestamp: now,
            signature: hex::encode(&signature),
        };
        // A transfer to oneself changes nothing but the log.
        if to != sender {
            let received = file.balances.get(to).copied().unwrap_or(0);
            let total = received.checked_add(amount).ok_or(LedgerError::Overflow)?;
            file.balances.insert(sender.clone(), balance - amount);
            file.balances.insert(to.to_owned(), total);
        }
        file.transactions.push(transaction.clone());
        self.write(&file)?;
        let left = file.balances.get(&sender).copied().unwrap_or(0);
        Ok((transaction, left))
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signature, Verifier};

    use super::*;

    #[test]
    fn transfers_move_balances_and_are_signed() {
        let dir = std::env::temp_dir().join(format!(
            "walletwire-ledger-{}-{}",
            std::process::id(),
            crate::system::now_ms()
        ));
        let keys = Keyring::open(&dir).unwrap();
        let ledger = Ledger::open(&dir, &keys).unwrap();
        let (a, b) = (&keys.accounts()[0], &keys.accounts()[1]);
        let (tx, left) = ledger.submit(a, &b.address(), 250, 1).unwrap();
        assert_eq!(left, OPENING_BALANCE - 250);
        assert_eq!(ledger.balance(&b.address()).unwrap(), OPENING_BALANCE + 250);
        let message = signed_message(&tx.from, &tx.to, tx.amount, tx.nonce, tx.timestamp);
        let signature = Signature::from_bytes(&hex::decode_array(&tx.signature).unwrap());
        assert!(a.verifying_key().verify(&message, &signature).is_ok());
        assert!(matches!(
            ledger.submit(a, &b.address(), OPENING_BALANCE, 2),
            Err(LedgerError::InsufficientBalance { .. })
        ));
        // To oneself: nothing changes but the log.
        let (_, left) = ledger.submit(b, &b.address(), 10, 3).unwrap();
        assert_eq!(left, OPENING_BALANCE + 250);
        assert_eq!(ledger.transactions().unwrap().len(), 2);
        assert!(
            !fs::read_to_string(ledger.path())
                .unwrap()
                .contains("evmTransactions"),
            "no EVM key until the first EVM transaction"
        );
        let evm = EvmTransaction {
            hash: "0x01".into(),
            chain_id: 1,
            from: "0xA".into(),
            to: None,
            nonce: 4,
            value: "0x0".into(),
            raw: "0x02".into(),
            timestamp: 5,
        };
        assert_eq!(ledger.next_evm_nonce("0xA", 1).unwrap(), 0);
        ledger.record_evm(evm.clone()).unwrap();
        assert_eq!(ledger.next_evm_nonce("0xA", 1).unwrap(), 5);
        assert_eq!(ledger.next_evm_nonce("0xA", 2).unwrap(), 0);
        assert_eq!(ledger.evm_transactions().unwrap(), vec![evm]);
        assert_eq!(ledger.transactions().unwrap().len(), 2);
        fs::write(ledger.path(), "[]").unwrap();
        assert!(matches!(ledger.balance("x"), Err(LedgerError::Corrupt(_))));
        let _ = fs::remove_dir_all(&dir);
    }
}
