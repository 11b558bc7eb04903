//! Which permission each wallet method needs, and on which account.
//!
//! | method | permission | target |
//! |---|---|---|
//! | `wallet.info` | `AccountInfo` | — |
//! | `accounts.list` | `AccountList` | — |
//! | `balances.get` | `AccountBalance` | `params.account` |
//! | `message.sign` | `MessageSign` | `params.account` |
//! | `transaction.submit` | `TransactionSend` | `params.from` |
//!
//! Any other method needs `Admin` (and then gets the wallet's own "method not found").

use serde_json::Value;
use walletwire::direct::Permissions;
use walletwire::direct::permission::{
    ACCOUNT_BALANCE, ACCOUNT_INFO, ACCOUNT_LIST, ADMIN, MESSAGE_SIGN, TRANSACTION_SEND,
};

/// The permission `method` needs and the account it acts on.
pub fn requirement<'a>(method: &str, params: &'a Value) -> (&'static str, Option<&'a str>) {
    let field = |name: &str| params.get(name).and_then(Value::as_str);
    match method {
        "wallet.info" => (ACCOUNT_INFO, None),
        "accounts.list" => (ACCOUNT_LIST, None),
        "balances.get" => (ACCOUNT_BALANCE, field("account")),
        "message.sign" => (MESSAGE_SIGN, field("account")),
        "transaction.submit" => (TRANSACTION_SEND, field("from")),
        _ => (ADMIN, None),
    }
}

/// `Ok` if `permissions` cover `method` with `params`; else the refusal text.
pub fn check(permissions: &Permissions, method: &str, params: &Value) -> Result<(), String> {
    let (needed, target) = requirement(method, params);
    if permissions.allows(needed, target) {
        Ok(())
    } else {
        Err(format!(
            "permission denied: {} needs {needed}{}",
            method.chars().take(64).collect::<String>(),
            target.map(|t| format!(" on {t}")).unwrap_or_default()
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn methods_need_their_permission() {
        let p = Permissions::parse(
            r#"["AccountInfo",{"AccountBalance":"All"},{"TransactionSend":"aa"}]"#,
        )
        .unwrap();
        assert!(check(&p, "wallet.info", &json!({})).is_ok());
        assert!(check(&p, "balances.get", &json!({"account": "bb"})).is_ok());
        assert!(check(&p, "transaction.submit", &json!({"from": "AA"})).is_ok());
        assert!(check(&p, "transaction.submit", &json!({"from": "bb"})).is_err());
        assert!(check(&p, "accounts.list", &json!({})).is_err());
        assert!(check(&p, "message.sign", &json!({"account": "aa"})).is_err());
        assert!(check(&p, "anything.else", &json!({})).is_err());
        let admin = Permissions::parse(r#"["Admin"]"#).unwrap();
        assert!(check(&admin, "anything.else", &json!({})).is_ok());
    }
}
