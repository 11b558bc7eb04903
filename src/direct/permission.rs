//! Permissions, in the Tari wallet daemon's JSON form: a unit permission is a string
//! (`"Admin"`, `"AccountInfo"`), a permission with an argument is a single-key object
//! (`{"AccountBalance": "All"}`, `{"TransactionSend": null}`).
//!
//! The argument is kept as the JSON it arrived as, so a list round-trips byte for byte
//! through the signaling server, the link and the daemon. A permission *allows* a request
//! when the names match and its argument is absent, `null`, `"All"`, or equal to the request's
//! target (an account address, compared case-insensitively). `Admin` allows everything.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::Error;

/// Most permissions in one list.
pub const MAX_PERMISSIONS: usize = 64;
/// Longest permission name.
pub const MAX_NAME_LEN: usize = 64;
/// Largest argument, as JSON text.
pub const MAX_ARGUMENT_LEN: usize = 1024;

/// Everything, including starting WebRTC sessions.
pub const ADMIN: &str = "Admin";
/// May call the daemon's `webrtc.start`.
pub const START_WEBRTC: &str = "StartWebrtc";
/// Wallet name and version.
pub const ACCOUNT_INFO: &str = "AccountInfo";
/// The list of accounts.
pub const ACCOUNT_LIST: &str = "AccountList";
/// Balances (argument: `"All"` or one account).
pub const ACCOUNT_BALANCE: &str = "AccountBalance";
/// Sending transactions (argument: `null` for any account, or one account).
pub const TRANSACTION_SEND: &str = "TransactionSend";
/// Signing messages (argument: `null` for any account, or one account); a walletwire
/// addition for the reference wallet's `message.sign`.
pub const MESSAGE_SIGN: &str = "MessageSign";

/// Permissions a dApp session is never granted, whatever the user ticks: with either, a page
/// could start sessions of its own and grant itself everything. The wallet UI and its own
/// operator tokens hold them; a WebRTC session does not.
pub const NEVER_FOR_SESSIONS: [&str; 2] = [ADMIN, START_WEBRTC];

/// One permission: a name and an optional argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    name: String,
    argument: Option<Value>,
}

impl Permission {
    /// A unit permission (`"Admin"`); the name must be 1 to 64 ASCII letters, digits or `_`.
    pub fn unit(name: &str) -> Result<Self, Error> {
        check_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            argument: None,
        })
    }

    /// A permission with an argument (`{"AccountBalance": "All"}`).
    pub fn with_argument(name: &str, argument: Value) -> Result<Self, Error> {
        check_name(name)?;
        if argument.to_string().len() > MAX_ARGUMENT_LEN {
            return Err(Error::InvalidPermissions("permission argument too large"));
        }
        Ok(Self {
            name: name.to_owned(),
            argument: Some(argument),
        })
    }

    /// The name (`"AccountBalance"`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The argument, if the permission has one.
    pub fn argument(&self) -> Option<&Value> {
        self.argument.as_ref()
    }

    /// True if this permission allows `name` on `target` (an account, or `None` for requests
    /// without one).
    pub fn allows(&self, name: &str, target: Option<&str>) -> bool {
        if self.name == ADMIN {
            return true;
        }
        if self.name != name {
            return false;
        }
        match (&self.argument, target) {
            (None | Some(Value::Null), _) => true,
            (Some(Value::String(s)), _) if s == "All" => true,
            (Some(Value::String(s)), Some(target)) => s.eq_ignore_ascii_case(target),
            _ => false,
        }
    }

    /// The JSON form.
    pub fn to_json(&self) -> Value {
        match &self.argument {
            None => Value::String(self.name.clone()),
            Some(argument) => {
                let mut object = Map::new();
                object.insert(self.name.clone(), argument.clone());
                Value::Object(object)
            }
        }
    }

    /// Reads the JSON form.
    pub fn from_json(value: &Value) -> Result<Self, Error> {
        match value {
            Value::String(name) => Self::unit(name),
            Value::Object(object) if object.len() == 1 => {
                // The length check above makes `next` return the single entry.
                let (name, argument) = object.iter().next().expect("one entry");
                Self::with_argument(name, argument.clone())
            }
            _ => Err(Error::InvalidPermissions(
                "a permission is a name or an object with one key",
            )),
        }
    }
}

fn check_name(name: &str) -> Result<(), Error> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidPermissions(
            "a permission name is 1 to 64 letters, digits or '_'",
        ))
    }
}

impl Serialize for Permission {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::from_json(&value).map_err(D::Error::custom)
    }
}

/// A list of permissions (at most [`MAX_PERMISSIONS`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Permissions(Vec<Permission>);

impl Permissions {
    /// A list; refuses more than [`MAX_PERMISSIONS`].
    pub fn new(list: Vec<Permission>) -> Result<Self, Error> {
        if list.len() > MAX_PERMISSIONS {
            return Err(Error::InvalidPermissions("more than 64 permissions"));
        }
        Ok(Self(list))
    }

    /// Reads a JSON array of permissions.
    pub fn from_json(value: &Value) -> Result<Self, Error> {
        let Value::Array(items) = value else {
            return Err(Error::InvalidPermissions("permissions are a JSON array"));
        };
        if items.len() > MAX_PERMISSIONS {
            return Err(Error::InvalidPermissions("more than 64 permissions"));
        }
        items
            .iter()
            .map(Permission::from_json)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Parses JSON text of an array of permissions.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.len() > MAX_PERMISSIONS * (MAX_ARGUMENT_LEN + MAX_NAME_LEN + 8) {
            return Err(Error::InvalidPermissions("permissions too large"));
        }
        let value: Value = serde_json::from_str(text)
            .map_err(|_| Error::InvalidPermissions("permissions are not JSON"))?;
        Self::from_json(&value)
    }

    /// The JSON array.
    pub fn to_json(&self) -> Value {
        Value::Array(self.0.iter().map(Permission::to_json).collect())
    }

    /// The permissions.
    pub fn as_slice(&self) -> &[Permission] {
        &self.0
    }

    /// True if the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True if any permission allows `name` on `target`.
    pub fn allows(&self, name: &str, target: Option<&str>) -> bool {
        self.0.iter().any(|p| p.allows(name, target))
    }

    /// True if the list holds `Admin` or a permission named `name` (whatever its argument).
    pub fn holds(&self, name: &str) -> bool {
        self.0.iter().any(|p| p.name == ADMIN || p.name == name)
    }

    /// The first permission of the list that a dApp session may never be granted
    /// ([`NEVER_FOR_SESSIONS`], with or without an argument), if any.
    pub fn never_for_sessions(&self) -> Option<&Permission> {
        self.0
            .iter()
            .find(|p| NEVER_FOR_SESSIONS.contains(&p.name.as_str()))
    }

    /// The permissions of `self` that `granted` also contains (the intersection, in the order
    /// of `self`): what a dApp gets when the user grants less than it asked.
    pub fn granted_by(&self, granted: &Permissions) -> Permissions {
        Self(
            self.0
                .iter()
                .filter(|p| granted.0.contains(p))
                .cloned()
                .collect(),
        )
    }
}

impl<'de> Deserialize<'de> for Permissions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::from_json(&value).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tari_forms_round_trip() {
        let text = r#"["AccountInfo",{"AccountBalance":"All"},{"TransactionSend":null}]"#;
        let list = Permissions::parse(text).unwrap();
        assert_eq!(list.as_slice().len(), 3);
        assert_eq!(serde_json::to_string(&list).unwrap(), text);
        let back: Permissions = serde_json::from_str(text).unwrap();
        assert_eq!(back, list);
    }

    #[test]
    fn allows_by_name_and_argument() {
        let list = Permissions::parse(
            r#"["AccountInfo",{"AccountBalance":"All"},{"TransactionSend":"AB12"}]"#,
        )
        .unwrap();
        assert!(list.allows(ACCOUNT_INFO, None));
        assert!(list.allows(ACCOUNT_BALANCE, Some("anything")));
        assert!(list.allows(TRANSACTION_SEND, Some("ab12")));
        assert!(!list.allows(TRANSACTION_SEND, Some("cd34")));
        assert!(!list.allows(TRANSACTION_SEND, None));
        assert!(!list.allows(ACCOUNT_LIST, None));
        assert!(!list.holds(START_WEBRTC));
        let admin = Permissions::parse(r#"["Admin"]"#).unwrap();
        assert!(admin.allows(MESSAGE_SIGN, Some("x")) && admin.holds(START_WEBRTC));
        assert_eq!(
            admin.never_for_sessions().map(Permission::name),
            Some(ADMIN)
        );
        assert!(list.never_for_sessions().is_none());
        let start = Permissions::parse(r#"["AccountInfo",{"StartWebrtc":null}]"#).unwrap();
        assert_eq!(
            start.never_for_sessions().map(Permission::name),
            Some(START_WEBRTC)
        );
    }

    #[test]
    fn bad_lists_are_typed_errors() {
        for bad in [
            "{}",
            "[1]",
            r#"[{"A":1,"B":2}]"#,
            r#"[""]"#,
            r#"["a b"]"#,
            "not json",
            r#"[{}]"#,
        ] {
            assert_eq!(
                Permissions::parse(bad).unwrap_err().code(),
                "invalid_permissions",
                "{bad}"
            );
        }
        let many = Value::Array(vec![json!("AccountInfo"); 65]);
        assert!(Permissions::from_json(&many).is_err());
        let big = json!([{ "X": "y".repeat(2000) }]);
        assert!(Permissions::from_json(&big).is_err());
    }

    #[test]
    fn granted_is_the_intersection() {
        let asked = Permissions::parse(r#"["AccountInfo","AccountList","KeyList"]"#).unwrap();
        let granted = Permissions::parse(r#"["KeyList","AccountInfo","Admin"]"#).unwrap();
        assert_eq!(
            asked.granted_by(&granted).to_json(),
            json!(["AccountInfo", "KeyList"])
        );
    }
}
