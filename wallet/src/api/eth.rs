//! The EVM methods (EIP-1193 / EIP-1474 names, positional params), answered with each
//! account's secp256k1 key. A session remembers its active chain ([`EvmSession`]); switching
//! it makes the wallet send the dApp a `chainChanged` notification.

use serde::Deserialize;
use serde_json::{Value, json};
use walletwire::protocol::RpcError;

use super::{
    INTERNAL_ERROR, INVALID_PARAMS, MAX_SIGNED_MESSAGE, Notification, Reply, UNAUTHORIZED,
    WalletApi, error,
};
use crate::evm::transaction::Eip1559Transaction;
use crate::evm::typed_data::TypedData;
use crate::evm::word::{Integer, Word};
use crate::evm::{
    Address, CHAINS, DEFAULT_CHAIN, chain_hex, from_hex, personal_message_hash, to_hex,
};
use crate::keys::Account;
use crate::ledger::EvmTransaction;

/// EIP-3326: the wallet does not know the chain asked for.
pub const UNRECOGNIZED_CHAIN: i64 = 4902;

/// Tip per gas when the dApp names none: 1 gwei.
const DEFAULT_PRIORITY_FEE: u64 = 1_000_000_000;
/// Highest fee per gas when the dApp names none: 2 gwei (or the tip, if higher).
const DEFAULT_MAX_FEE: u64 = 2_000_000_000;
/// Gas of a plain transfer.
const TRANSFER_GAS: u64 = 21_000;
/// Extra gas allowed for a call when the dApp names no limit (this wallet has no node to
/// estimate with), on top of 16 per byte of call data.
const CALL_GAS: u64 = 100_000;

/// The EVM methods, as `wallet.info` lists them.
pub const EVM_METHODS: &[&str] = &[
    "eth_accounts",
    "eth_requestAccounts",
    "eth_chainId",
    "wallet_switchEthereumChain",
    "personal_sign",
    "eth_signTypedData_v4",
    "eth_sendTransaction",
];

/// What one session of the EVM methods remembers: the chain it is on, and the chains granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvmSession {
    chain_id: u64,
    /// A scoped session (CAIP-25): the `eip155` chains granted; others cannot be switched to.
    granted: Option<Vec<u64>>,
}

impl Default for EvmSession {
    fn default() -> Self {
        Self {
            chain_id: DEFAULT_CHAIN,
            granted: None,
        }
    }
}

impl EvmSession {
    /// The EVM state of a session with these granted scopes (`None`: unscoped, every chain
    /// this wallet knows): it starts on the default chain if granted, else the first granted.
    pub fn for_scopes(scopes: Option<&walletwire::protocol::Scopes>) -> Self {
        let Some(scopes) = scopes else {
            return Self::default();
        };
        let granted: Vec<u64> = scopes
            .get("eip155")
            .map(|s| s.chains.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|c| c.strip_prefix("eip155:")?.parse().ok())
            .collect();
        let chain_id = if granted.contains(&DEFAULT_CHAIN) {
            DEFAULT_CHAIN
        } else {
            granted.first().copied().unwrap_or(DEFAULT_CHAIN)
        };
        Self {
            chain_id,
            granted: Some(granted),
        }
    }

    /// The active chain.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }
}

/// Whether `method` is one of [`EVM_METHODS`].
pub fn is_evm_method(method: &str) -> bool {
    EVM_METHODS.contains(&method)
}

/// The positional params of a method: `[]` when absent.
fn positional(raw: &Value) -> Result<&[Value], RpcError> {
    match raw {
        Value::Null => Ok(&[]),
        Value::Array(items) => Ok(items),
        _ => Err(error(INVALID_PARAMS, "params must be an array")),
    }
}

fn param<'a>(params: &'a [Value], index: usize, what: &str) -> Result<&'a Value, RpcError> {
    params
        .get(index)
        .ok_or_else(|| error(INVALID_PARAMS, format!("missing param {index}: {what}")))
}

fn address_param(value: &Value) -> Result<Address, RpcError> {
    value
        .as_str()
        .and_then(Address::parse)
        .ok_or_else(|| error(INVALID_PARAMS, "expected a 0x-prefixed 20-byte address"))
}

fn quantity(value: &Value, what: &str) -> Result<Word, RpcError> {
    Integer::from_json(value)
        .and_then(|i| i.to_uint(256))
        .ok_or_else(|| error(INVALID_PARAMS, format!("{what} must be a hex quantity")))
}

fn small_quantity(value: &Value, what: &str) -> Result<u64, RpcError> {
    Integer::from_json(value)
        .and_then(Integer::to_u64)
        .ok_or_else(|| {
            error(
                INVALID_PARAMS,
                format!("{what} must be a hex quantity below 2^64"),
            )
        })
}

fn word_of(value: u64) -> Word {
    let mut word = [0u8; 32];
    word[24..].copy_from_slice(&value.to_be_bytes());
    word
}

/// `0x` hex quantity of a word (no leading zeros, `0x0` for zero).
fn quantity_hex(word: &Word) -> String {
    let hex = crate::hex::encode(word);
    let digits = hex.trim_start_matches('0');
    format!("0x{}", if digits.is_empty() { "0" } else { digits })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SwitchChain {
    chain_id: String,
}

/// `eth_sendTransaction`'s object. Other fields viem or ethers add (`type`, `accessList`
/// empty) are ignored; the wallet always builds an EIP-1559 transaction.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TransactionRequest {
    from: String,
    to: Option<String>,
    value: Option<Value>,
    data: Option<String>,
    input: Option<String>,
    gas: Option<Value>,
    gas_price: Option<Value>,
    max_fee_per_gas: Option<Value>,
    max_priority_fee_per_gas: Option<Value>,
    nonce: Option<Value>,
    chain_id: Option<Value>,
}

impl WalletApi {
    /// Answers one of [`EVM_METHODS`] in `session`.
    pub(super) fn evm(
        &self,
        session: &mut EvmSession,
        method: &str,
        raw: &Value,
        now: u64,
    ) -> Reply {
        let mut notifications = Vec::new();
        let outcome = positional(raw).and_then(|params| match method {
            "eth_accounts" | "eth_requestAccounts" => Ok(json!(
                self.keys
                    .accounts()
                    .iter()
                    .map(|a| a.evm().address().checksummed())
                    .collect::<Vec<_>>()
            )),
            "eth_chainId" => Ok(json!(chain_hex(session.chain_id))),
            "wallet_switchEthereumChain" => {
                let target: SwitchChain =
                    serde_json::from_value(param(params, 0, "{chainId}")?.clone())
                        .map_err(|e| error(INVALID_PARAMS, format!("invalid params: {e}")))?;
                let chain = Integer::parse(&target.chain_id)
                    .filter(|_| target.chain_id.starts_with("0x"))
                    .and_then(Integer::to_u64)
                    .ok_or_else(|| error(INVALID_PARAMS, "chainId must be a hex quantity"))?;
                if !CHAINS.contains(&chain) {
                    return Err(error(
                        UNRECOGNIZED_CHAIN,
                        format!("unrecognized chain {}", chain_hex(chain)),
                    ));
                }
                if session
                    .granted
                    .as_ref()
                    .is_some_and(|g| !g.contains(&chain))
                {
                    return Err(error(
                        UNRECOGNIZED_CHAIN,
                        format!("chain {} is not granted to this session", chain_hex(chain)),
                    ));
                }
                if session.chain_id != chain {
                    session.chain_id = chain;
                    notifications.push(Notification {
                        method: "chainChanged".into(),
                        params: json!({"chainId": chain_hex(chain)}),
                    });
                }
                Ok(Value::Null)
            }
            "personal_sign" => {
                let message = param(params, 0, "message")?
                    .as_str()
                    .ok_or_else(|| error(INVALID_PARAMS, "message must be a string"))?;
                let account = self.evm_account(param(params, 1, "address")?)?;
                // Hex is the message's bytes; other text is signed as its UTF-8 (as
                // MetaMask does for dApps that pass plain text).
                let bytes = from_hex(message).unwrap_or_else(|| message.as_bytes().to_vec());
                if bytes.len() > MAX_SIGNED_MESSAGE {
                    return Err(error(INVALID_PARAMS, "message longer than 16 KiB"));
                }
                let signature = account.evm().sign_hash(&personal_message_hash(&bytes));
                Ok(json!(to_hex(&signature.to_rsv())))
            }
            "eth_signTypedData_v4" => {
                let account = self.evm_account(param(params, 0, "address")?)?;
                let data = TypedData::from_json(param(params, 1, "typed data")?)
                    .map_err(|e| error(INVALID_PARAMS, e.to_string()))?;
                if let Some(chain) = data.domain_chain_id()
                    && chain != Some(session.chain_id)
                {
                    return Err(error(
                        INVALID_PARAMS,
                        format!(
                            "domain chainId is not the active chain {}",
                            chain_hex(session.chain_id)
                        ),
                    ));
                }
                let hash = data
                    .signing_hash()
                    .map_err(|e| error(INVALID_PARAMS, e.to_string()))?;
                Ok(json!(to_hex(&account.evm().sign_hash(&hash).to_rsv())))
            }
            "eth_sendTransaction" => {
                self.send_transaction(session, param(params, 0, "transaction")?, now)
            }
            other => unreachable!("{other} is not an EVM method (checked by is_evm_method)"),
        });
        Reply {
            outcome,
            notifications,
        }
    }

    fn evm_account(&self, address: &Value) -> Result<&Account, RpcError> {
        let address = address_param(address)?;
        self.keys
            .find_evm(&address)
            .ok_or_else(|| error(UNAUTHORIZED, "this wallet does not hold that account"))
    }

    fn send_transaction(
        &self,
        session: &EvmSession,
        request: &Value,
        now: u64,
    ) -> Result<Value, RpcError> {
        let request: TransactionRequest = serde_json::from_value(request.clone())
            .map_err(|e| error(INVALID_PARAMS, format!("invalid params: {e}")))?;
        let account = self.evm_account(&Value::String(request.from.clone()))?;
        if let Some(chain) = &request.chain_id
            && small_quantity(chain, "chainId")? != session.chain_id
        {
            return Err(error(
                INVALID_PARAMS,
                format!(
                    "chainId is not the active chain {}",
                    chain_hex(session.chain_id)
                ),
            ));
        }
        let to = match &request.to {
            Some(to) => Some(address_param(&Value::String(to.clone()))?),
            None => None,
        };
        let data = match request.data.as_ref().or(request.input.as_ref()) {
            Some(hex) => from_hex(hex)
                .ok_or_else(|| error(INVALID_PARAMS, "data must be 0x-prefixed hex"))?,
            None => Vec::new(),
        };
        if to.is_none() && data.is_empty() {
            return Err(error(
                INVALID_PARAMS,
                "a transaction needs a recipient or code",
            ));
        }
        let value = match &request.value {
            Some(v) => quantity(v, "value")?,
            None => [0; 32],
        };
        let gas = match &request.gas {
            Some(g) => small_quantity(g, "gas")?,
            None if data.is_empty() => TRANSFER_GAS,
            None => TRANSFER_GAS + CALL_GAS + 16 * data.len() as u64,
        };
        let legacy_price = request
            .gas_price
            .as_ref()
            .map(|p| quantity(p, "gasPrice"))
            .transpose()?;
        let priority = match (&request.max_priority_fee_per_gas, legacy_price) {
            (Some(p), _) => quantity(p, "maxPriorityFeePerGas")?,
            (None, Some(price)) => price,
            (None, None) => word_of(DEFAULT_PRIORITY_FEE),
        };
        let max_fee = match (&request.max_fee_per_gas, legacy_price) {
            (Some(f), _) => quantity(f, "maxFeePerGas")?,
            (None, Some(price)) => price,
            (None, None) => priority.max(word_of(DEFAULT_MAX_FEE)),
        };
        // Big-endian words compare as numbers.
        if priority > max_fee {
            return Err(error(
                INVALID_PARAMS,
                "maxPriorityFeePerGas is above maxFeePerGas",
            ));
        }
        let from = account.evm().address().checksummed();
        let ledger_error = |e: crate::ledger::LedgerError| error(INTERNAL_ERROR, e.to_string());
        let nonce = match &request.nonce {
            Some(n) => small_quantity(n, "nonce")?,
            None => self
                .ledger
                .next_evm_nonce(&from, session.chain_id)
                .map_err(ledger_error)?,
        };
        let transaction = Eip1559Transaction {
            chain_id: session.chain_id,
            nonce,
            max_priority_fee_per_gas: priority,
            max_fee_per_gas: max_fee,
            gas,
            to,
            value,
            data,
        };
        let signed = transaction.sign(account.evm());
        let hash = to_hex(&signed.hash);
        self.ledger
            .record_evm(EvmTransaction {
                hash: hash.clone(),
                chain_id: session.chain_id,
                from,
                to: to.map(|a| a.checksummed()),
                nonce,
                value: quantity_hex(&value),
                raw: to_hex(&signed.raw),
                timestamp: now,
            })
            .map_err(ledger_error)?;
        Ok(json!(hash))
    }
}

#[cfg(test)]
mod tests {
    use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};

    use super::*;
    use crate::api::METHOD_NOT_FOUND;
    use crate::evm::keccak256;
    use crate::evm::key::address_of;
    use crate::keys::Keyring;
    use crate::ledger::Ledger;

    fn wallet() -> (WalletApi, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "walletwire-eth-{}-{}-{:?}",
            std::process::id(),
            crate::system::now_ms(),
            std::thread::current().id()
        ));
        let keys = Keyring::open(&dir).unwrap();
        let ledger = Ledger::open(&dir, &keys).unwrap();
        (WalletApi::new("test", keys, ledger), dir)
    }

    fn recover(hash: &[u8; 32], rsv: &str) -> Address {
        let bytes = from_hex(rsv).unwrap();
        assert_eq!(bytes.len(), 65);
        assert!(bytes[64] == 27 || bytes[64] == 28);
        let key = VerifyingKey::recover_from_prehash(
            hash,
            &Signature::from_slice(&bytes[..64]).unwrap(),
            RecoveryId::from_byte(bytes[64] - 27).unwrap(),
        )
        .unwrap();
        address_of(&key)
    }

    fn ok(api: &WalletApi, session: &mut EvmSession, method: &str, params: Value) -> Value {
        api.answer(session, method, &params, 7).outcome.unwrap()
    }

    fn code(api: &WalletApi, session: &mut EvmSession, method: &str, params: Value) -> i64 {
        api.answer(session, method, &params, 7)
            .outcome
            .unwrap_err()
            .code
    }

    #[test]
    fn accounts_are_checksummed_and_signatures_recover_to_them() {
        let (api, dir) = wallet();
        let mut session = EvmSession::default();
        let accounts = ok(&api, &mut session, "eth_requestAccounts", json!([]));
        assert_eq!(
            accounts,
            ok(&api, &mut session, "eth_accounts", Value::Null)
        );
        let address = accounts[0].as_str().unwrap().to_owned();
        assert_eq!(Address::parse(&address).unwrap().checksummed(), address);

        let signed = ok(
            &api,
            &mut session,
            "personal_sign",
            json!(["0x68656c6c6f", address]),
        );
        let expected = Address::parse(&address).unwrap();
        let hash = personal_message_hash(b"hello");
        assert_eq!(recover(&hash, signed.as_str().unwrap()), expected);
        // Plain text is signed as its UTF-8; the address may be lowercase.
        let text = ok(
            &api,
            &mut session,
            "personal_sign",
            json!(["hello", address.to_lowercase()]),
        );
        assert_eq!(text, signed);

        let typed = json!({
            "types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
                      "Note": [{"name": "text", "type": "string"}]},
            "primaryType": "Note",
            "domain": {"name": "test", "chainId": 1},
            "message": {"text": "hi"}
        });
        let signature = ok(
            &api,
            &mut session,
            "eth_signTypedData_v4",
            json!([address, typed.to_string()]),
        );
        let hash = TypedData::from_json(&typed)
            .unwrap()
            .signing_hash()
            .unwrap();
        assert_eq!(recover(&hash, signature.as_str().unwrap()), expected);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_scoped_session_starts_on_a_granted_chain_and_switches_only_among_them() {
        let (api, dir) = wallet();
        let only_sepolia = walletwire::protocol::scopes_from_json(
            r#"{"eip155":{"chains":["eip155:11155111"],"methods":[],"events":[]}}"#,
        )
        .unwrap();
        let mut session = EvmSession::for_scopes(Some(&only_sepolia));
        assert_eq!(ok(&api, &mut session, "eth_chainId", json!([])), "0xaa36a7");
        assert_eq!(
            code(
                &api,
                &mut session,
                "wallet_switchEthereumChain",
                json!([{"chainId": "0x1"}])
            ),
            UNRECOGNIZED_CHAIN,
            "a chain this wallet knows but did not grant"
        );
        assert_eq!(ok(&api, &mut session, "eth_chainId", json!([])), "0xaa36a7");
        let mut unscoped = EvmSession::for_scopes(None);
        assert_eq!(ok(&api, &mut unscoped, "eth_chainId", json!([])), "0x1");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn switching_chains_notifies_and_unknown_chains_get_4902() {
        let (api, dir) = wallet();
        let mut session = EvmSession::default();
        assert_eq!(ok(&api, &mut session, "eth_chainId", json!([])), "0x1");
        let reply = api.answer(
            &mut session,
            "wallet_switchEthereumChain",
            &json!([{"chainId": "0xaa36a7"}]),
            0,
        );
        assert_eq!(reply.outcome, Ok(Value::Null));
        assert_eq!(
            reply.notifications,
            vec![Notification {
                method: "chainChanged".into(),
                params: json!({"chainId": "0xaa36a7"}),
            }]
        );
        assert_eq!(ok(&api, &mut session, "eth_chainId", json!([])), "0xaa36a7");
        // Switching to the active chain changes nothing and notifies nothing.
        let again = api.answer(
            &mut session,
            "wallet_switchEthereumChain",
            &json!([{"chainId": "0xaa36a7"}]),
            0,
        );
        assert!(again.notifications.is_empty());
        let switch = |chain: Value| json!([{"chainId": chain}]);
        assert_eq!(
            code(
                &api,
                &mut session,
                "wallet_switchEthereumChain",
                switch(json!("0x89"))
            ),
            UNRECOGNIZED_CHAIN
        );
        assert_eq!(
            code(
                &api,
                &mut session,
                "wallet_switchEthereumChain",
                switch(json!("1"))
            ),
            INVALID_PARAMS
        );
        assert_eq!(
            code(&api, &mut session, "wallet_switchEthereumChain", json!([])),
            INVALID_PARAMS
        );
        // Another session keeps its own chain.
        assert_eq!(
            ok(&api, &mut EvmSession::default(), "eth_chainId", json!([])),
            "0x1"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn sent_transactions_are_recorded_with_the_hash_of_their_raw_bytes() {
        let (api, dir) = wallet();
        let mut session = EvmSession::default();
        let from = ok(&api, &mut session, "eth_accounts", json!([]))[0]
            .as_str()
            .unwrap()
            .to_owned();
        let to = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
        let first = ok(
            &api,
            &mut session,
            "eth_sendTransaction",
            json!([{"from": from, "to": to, "value": "0x38d7ea4c68000"}]),
        );
        let second = ok(
            &api,
            &mut session,
            "eth_sendTransaction",
            json!([{"from": from, "to": to, "value": "0x1", "data": "0xabcd", "gas": "0x7530",
                    "maxFeePerGas": "0x77359400", "maxPriorityFeePerGas": "0x3b9aca00", "chainId": "0x1", "type": "0x2"}]),
        );
        let recorded = api.ledger.evm_transactions().unwrap();
        assert_eq!(recorded.len(), 2);
        for (tx, hash) in recorded.iter().zip([&first, &second]) {
            assert_eq!(tx.hash, *hash);
            assert_eq!(to_hex(&keccak256(&from_hex(&tx.raw).unwrap())), tx.hash);
            assert_eq!(tx.from, from);
            assert_eq!(tx.to.as_deref(), Some(to));
            assert!(tx.raw.starts_with("0x02"));
        }
        assert_eq!((recorded[0].nonce, recorded[1].nonce), (0, 1));
        assert_eq!(recorded[0].value, "0x38d7ea4c68000");

        let send = |tx: Value| json!([tx]);
        let mut s = session;
        assert_eq!(
            code(
                &api,
                &mut s,
                "eth_sendTransaction",
                send(json!({"from": from, "to": to, "chainId": "0xaa36a7"}))
            ),
            INVALID_PARAMS
        );
        assert_eq!(
            code(
                &api,
                &mut s,
                "eth_sendTransaction",
                send(json!({"from": to, "to": to}))
            ),
            UNAUTHORIZED
        );
        assert_eq!(
            code(
                &api,
                &mut s,
                "eth_sendTransaction",
                send(json!({"from": from}))
            ),
            INVALID_PARAMS
        );
        assert_eq!(
            code(
                &api,
                &mut s,
                "eth_sendTransaction",
                send(json!({"from": from, "to": to, "value": "-0x1"}))
            ),
            INVALID_PARAMS
        );
        assert_eq!(
            code(
                &api,
                &mut s,
                "eth_sendTransaction",
                send(
                    json!({"from": from, "to": to, "maxFeePerGas": "0x1", "maxPriorityFeePerGas": "0x2"})
                )
            ),
            INVALID_PARAMS
        );
        assert_eq!(
            api.ledger.evm_transactions().unwrap().len(),
            2,
            "refusals record nothing"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_input_gets_json_rpc_codes() {
        let (api, dir) = wallet();
        let mut s = EvmSession::default();
        let address = ok(&api, &mut s, "eth_accounts", json!([]))[0]
            .as_str()
            .unwrap()
            .to_owned();
        let stranger = "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB";
        assert_eq!(
            code(&api, &mut s, "personal_sign", json!(["0x00", stranger])),
            UNAUTHORIZED
        );
        assert_eq!(
            code(&api, &mut s, "personal_sign", json!(["0x00", "0x12"])),
            INVALID_PARAMS
        );
        assert_eq!(
            code(&api, &mut s, "personal_sign", json!(["0x00"])),
            INVALID_PARAMS
        );
        assert_eq!(
            code(&api, &mut s, "personal_sign", json!({"message": "0x00"})),
            INVALID_PARAMS
        );
        let long = format!("0x{}", "00".repeat(MAX_SIGNED_MESSAGE + 1));
        assert_eq!(
            code(&api, &mut s, "personal_sign", json!([long, address])),
            INVALID_PARAMS
        );
        assert_eq!(
            code(&api, &mut s, "eth_signTypedData_v4", json!([address, "{}"])),
            INVALID_PARAMS
        );
        assert_eq!(
            code(
                &api,
                &mut s,
                "eth_signTypedData_v4",
                json!([stranger, "{}"])
            ),
            UNAUTHORIZED
        );
        let other_chain = json!({
            "types": {"Note": [{"name": "text", "type": "string"}]},
            "primaryType": "Note", "domain": {"chainId": 5}, "message": {"text": "x"}
        });
        assert_eq!(
            code(
                &api,
                &mut s,
                "eth_signTypedData_v4",
                json!([address, other_chain])
            ),
            INVALID_PARAMS
        );
        assert_eq!(
            code(&api, &mut s, "eth_getBalance", json!([address, "latest"])),
            METHOD_NOT_FOUND
        );
        for method in [
            "personal_sign",
            "eth_signTypedData_v4",
            "eth_sendTransaction",
        ] {
            assert!(WalletApi::needs_approval(method), "{method}");
        }
        assert!(!WalletApi::needs_approval("wallet_switchEthereumChain"));
        let info = api.handle("wallet.info", &Value::Null, 0).unwrap();
        assert!(
            info["methods"]
                .as_array()
                .unwrap()
                .contains(&json!("eth_sendTransaction"))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
