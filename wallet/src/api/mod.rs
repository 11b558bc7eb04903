//! The wallet API answered over a session: JSON-RPC-style methods with JSON-RPC error codes.
//!
//! | method | params | result |
//! |---|---|---|
//! | `wallet.info` | — | `{name, version, protocol, methods}` |
//! | `accounts.list` | — | `{accounts: [{address, publicKey, name, keyType}]}` |
//! | `balances.get` | `{account}` | `{account, balance}` |
//! | `message.sign` | `{account, message, encoding?: "utf8" \| "hex"}` | `{account, publicKey, signature, algorithm}` |
//! | `transaction.submit` | `{from, to, amount}` | `{txId, from, to, amount, nonce, timestamp, signature, balance}` |
//! | `eth_accounts`, `eth_requestAccounts` | — | `["0x<EIP-55 address>", ...]` |
//! | `eth_chainId` | — | `"0x1"`: the session's active chain |
//! | `wallet_switchEthereumChain` | `[{chainId}]` | `null`; then a `chainChanged` notification `{chainId}` |
//! | `personal_sign` | `[messageHex, address]` | `"0x<r><s><v>"` (EIP-191) |
//! | `eth_signTypedData_v4` | `[address, typedDataJson]` | `"0x<r><s><v>"` (EIP-712) |
//! | `eth_sendTransaction` | `[{from, to?, value?, data?, gas?, maxFeePerGas?, maxPriorityFeePerGas?, nonce?, chainId?}]` | `"0x<tx hash>"` |
//!
//! Addresses and public keys of the demo methods are the 64-hex-digit ed25519 public key;
//! signatures are 128 hex digits, a standard ed25519 signature over the message bytes exactly
//! (`message.sign`) or over [`crate::ledger::signed_message`] (transactions).
//!
//! The EVM methods ([`eth`]) use each account's secp256k1 key ([`crate::evm`]): addresses are
//! EIP-55, signatures 65 bytes with `v` 27 or 28. Sessions start on chain `0x1`; `0xaa36a7`
//! (Sepolia) is the other chain they can switch to. `eth_sendTransaction` signs an EIP-1559
//! transaction on the active chain (fees default to 1 gwei tip and 2 gwei cap, gas to 21 000
//! for a transfer, the nonce to the next one the ledger has for the sender), records it in
//! the ledger and returns the Keccak-256 of the signed bytes; nothing is broadcast.
//!
//! Errors: -32601 unknown method, -32602 bad params (malformed typed data, a chainId other
//! than the active chain's), 4001 the user refused, 4100 an account this wallet does not hold,
//! 4902 a chain the wallet does not know, -32000 insufficient balance, -32603 the wallet's own
//! files failed.

pub mod eth;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use walletwire::protocol::RpcError;

pub use eth::{EVM_METHODS, EvmSession, UNRECOGNIZED_CHAIN};

use crate::hex;
use crate::keys::{Account, Keyring};
use crate::ledger::{Ledger, LedgerError, TX_DOMAIN};

/// Method not found.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Invalid params.
pub const INVALID_PARAMS: i64 = -32602;
/// Internal error.
pub const INTERNAL_ERROR: i64 = -32603;
/// The user rejected the request.
pub const USER_REJECTED: i64 = 4001;
/// The account is not one this wallet holds.
pub const UNAUTHORIZED: i64 = 4100;
/// Not enough funds.
pub const INSUFFICIENT_BALANCE: i64 = -32000;

/// The demo methods, as `wallet.info` lists them (then [`EVM_METHODS`]).
pub const METHODS: &[&str] = &[
    "wallet.info",
    "accounts.list",
    "balances.get",
    "message.sign",
    "transaction.submit",
];

/// A notification the wallet sends on the session once it has answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Its method (`chainChanged`).
    pub method: String,
    /// Its params.
    pub params: Value,
}

/// The answer to one request, and what to notify after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The response.
    pub outcome: Result<Value, RpcError>,
    /// Sent after the response, in order.
    pub notifications: Vec<Notification>,
}

/// Largest message `message.sign` accepts, in bytes.
const MAX_SIGNED_MESSAGE: usize = 16 * 1024;

fn error(code: i64, message: impl Into<String>) -> RpcError {
    RpcError {
        code,
        message: message.into(),
    }
}

fn params<T: DeserializeOwned>(params: &Value) -> Result<T, RpcError> {
    // A missing params object is read as `{}` so that required fields are named in the error.
    let params = if params.is_null() { &json!({}) } else { params };
    T::deserialize(params).map_err(|e| error(INVALID_PARAMS, format!("invalid params: {e}")))
}

fn is_address(text: &str) -> bool {
    text.len() == 64 && hex::decode(text).is_some()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BalanceParams {
    account: String,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Encoding {
    #[default]
    Utf8,
    Hex,
}

#[derive(Deserialize)]
struct SignParams {
    account: String,
    message: String,
    #[serde(default)]
    encoding: Encoding,
}

#[derive(Deserialize)]
struct SubmitParams {
    from: String,
    to: String,
    amount: u64,
}

/// The wallet: its name, keys and ledger.
#[derive(Debug)]
pub struct WalletApi {
    name: String,
    keys: Keyring,
    ledger: Ledger,
}

impl WalletApi {
    /// A wallet over loaded keys and ledger.
    pub fn new(name: impl Into<String>, keys: Keyring, ledger: Ledger) -> Self {
        Self {
            name: name.into(),
            keys,
            ledger,
        }
    }

    /// The keys.
    pub fn keys(&self) -> &Keyring {
        &self.keys
    }

    /// Methods that spend or sign, which a user must approve unless auto-approve is on.
    pub fn needs_approval(method: &str) -> bool {
        matches!(
            method,
            "message.sign"
                | "transaction.submit"
                | "personal_sign"
                | "eth_signTypedData_v4"
                | "eth_sendTransaction"
        )
    }

    /// Answers one request of a session, whose EVM state `session` holds.
    pub fn answer(&self, session: &mut EvmSession, method: &str, raw: &Value, now: u64) -> Reply {
        if eth::is_evm_method(method) {
            return self.evm(session, method, raw, now);
        }
        Reply {
            outcome: self.demo_method(method, raw, now),
            notifications: Vec::new(),
        }
    }

    /// Answers one request outside any session (the direct flow's daemon): EVM methods see
    /// a fresh session on the default chain, and notifications are dropped.
    pub fn handle(&self, method: &str, raw: &Value, now: u64) -> Result<Value, RpcError> {
        self.answer(&mut EvmSession::default(), method, raw, now)
            .outcome
    }

    fn demo_method(&self, method: &str, raw: &Value, now: u64) -> Result<Value, RpcError> {
        match method {
            "wallet.info" => Ok(json!({
                "name": self.name,
                "version": env!("CARGO_PKG_VERSION"),
                "protocol": walletwire::protocol::PROTOCOL_VERSION,
                "methods": METHODS.iter().chain(EVM_METHODS).collect::<Vec<_>>(),
            })),
            "accounts.list" => Ok(json!({
                "accounts": self.keys.accounts().iter().map(|a| json!({
                    "address": a.address(),
                    "publicKey": a.address(),
                    "name": a.name,
                    "keyType": "ed25519",
                })).collect::<Vec<_>>(),
            })),
            "balances.get" => {
                let p: BalanceParams = params(raw)?;
                if !is_address(&p.account) {
                    return Err(error(INVALID_PARAMS, "account must be 64 hex digits"));
                }
                let account = p.account.to_ascii_lowercase();
                let balance = self.ledger.balance(&account).map_err(internal)?;
                Ok(json!({"account": account, "balance": balance}))
            }
            "message.sign" => {
                let p: SignParams = params(raw)?;
                let account = self.account(&p.account)?;
                let message = match p.encoding {
                    Encoding::Utf8 => p.message.into_bytes(),
                    Encoding::Hex => hex::decode(&p.message)
                        .ok_or_else(|| error(INVALID_PARAMS, "message is not hex"))?,
                };
                if message.len() > MAX_SIGNED_MESSAGE {
                    return Err(error(INVALID_PARAMS, "message longer than 16 KiB"));
                }
                if message.starts_with(TX_DOMAIN) {
                    // Such a signature could pass for a ledger transaction.
                    return Err(error(
                        USER_REJECTED,
                        "refusing to sign a transaction message",
                    ));
                }
                let signature = account.sign(&message);
                Ok(json!({
                    "account": account.address(),
                    "publicKey": account.address(),
                    "signature": hex::encode(&signature.to_bytes()),
                    "algorithm": "ed25519",
                }))
            }
            "transaction.submit" => {
                let p: SubmitParams = params(raw)?;
                if !is_address(&p.to) {
                    return Err(error(INVALID_PARAMS, "to must be 64 hex digits"));
                }
                if p.amount == 0 {
                    return Err(error(INVALID_PARAMS, "amount must be positive"));
                }
                let account = self.account(&p.from)?;
                let to = p.to.to_ascii_lowercase();
                let (tx, balance) =
                    self.ledger
                        .submit(account, &to, p.amount, now)
                        .map_err(|e| match e {
                            LedgerError::InsufficientBalance { .. } => {
                                error(INSUFFICIENT_BALANCE, e.to_string())
                            }
                            other => internal(other),
                        })?;
                Ok(json!({
                    "txId": tx.id,
                    "from": tx.from,
                    "to": tx.to,
                    "amount": tx.amount,
                    "nonce": tx.nonce,
                    "timestamp": tx.timestamp,
                    "signature": tx.signature,
                    "balance": balance,
                }))
            }
            other => Err(error(
                METHOD_NOT_FOUND,
                format!(
                    "method not found: {}",
                    other.chars().take(64).collect::<String>()
                ),
            )),
        }
    }

    fn account(&self, address: &str) -> Result<&Account, RpcError> {
        if !is_address(address) {
            return Err(error(INVALID_PARAMS, "account must be 64 hex digits"));
        }
        self.keys
            .find(address)
            .ok_or_else(|| error(UNAUTHORIZED, "this wallet does not hold that account"))
    }
}

fn internal(e: LedgerError) -> RpcError {
    error(INTERNAL_ERROR, e.to_string())
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};

    use super::*;

    fn wallet() -> (WalletApi, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "walletwire-api-{}-{}",
            std::process::id(),
            crate::system::now_ms()
        ));
        let keys = Keyring::open(&dir).unwrap();
        let ledger = Ledger::open(&dir, &keys).unwrap();
        (WalletApi::new("test", keys, ledger), dir)
    }

    #[test]
    fn methods_answer_and_bad_input_gets_json_rpc_codes() {
        let (api, dir) = wallet();
        let info = api.handle("wallet.info", &Value::Null, 0).unwrap();
        assert_eq!(info["name"], "test");
        let accounts = api.handle("accounts.list", &json!({}), 0).unwrap();
        let address = accounts["accounts"][0]["address"]
            .as_str()
            .unwrap()
            .to_owned();
        let other = accounts["accounts"][1]["address"]
            .as_str()
            .unwrap()
            .to_owned();

        let signed = api
            .handle(
                "message.sign",
                &json!({"account": address, "message": "hi"}),
                0,
            )
            .unwrap();
        let key = VerifyingKey::from_bytes(&hex::decode_array(&address).unwrap()).unwrap();
        let sig = Signature::from_bytes(
            &hex::decode_array(signed["signature"].as_str().unwrap()).unwrap(),
        );
        assert!(key.verify(b"hi", &sig).is_ok());

        let tx = api
            .handle(
                "transaction.submit",
                &json!({"from": address, "to": other, "amount": 5}),
                0,
            )
            .unwrap();
        assert_eq!(tx["balance"], crate::ledger::OPENING_BALANCE - 5);
        let balance = api
            .handle("balances.get", &json!({"account": other}), 0)
            .unwrap();
        assert_eq!(balance["balance"], crate::ledger::OPENING_BALANCE + 5);

        let code = |m: &str, p: Value| api.handle(m, &p, 0).unwrap_err().code;
        assert_eq!(code("nope", json!({})), METHOD_NOT_FOUND);
        assert_eq!(code("balances.get", json!({})), INVALID_PARAMS);
        assert_eq!(code("balances.get", json!({"account": 7})), INVALID_PARAMS);
        assert_eq!(
            code("balances.get", json!({"account": "zz"})),
            INVALID_PARAMS
        );
        assert_eq!(code("balances.get", json!([1])), INVALID_PARAMS);
        assert_eq!(
            code(
                "message.sign",
                json!({"account": "ab".repeat(32), "message": "x"})
            ),
            UNAUTHORIZED
        );
        assert_eq!(
            code(
                "transaction.submit",
                json!({"from": address, "to": other, "amount": -1})
            ),
            INVALID_PARAMS
        );
        assert_eq!(
            code(
                "transaction.submit",
                json!({"from": address, "to": other, "amount": u64::MAX})
            ),
            INSUFFICIENT_BALANCE
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
