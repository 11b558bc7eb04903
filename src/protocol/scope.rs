//! CAIP-25-style scopes (`docs/PROTOCOL.md` §2.2): what a dApp asks for (chains, methods and
//! events per namespace, required and optional) and what the wallet grants, with the CAIP-10
//! accounts it exposes. A session whose request named scopes carries the granted ones in its
//! [`super::SessionInfo`], and a request for a method outside them is refused on both ends.

use crate::json::{self, Invalid, Object, Reader, once};

/// Most namespaces in one scope set.
pub const MAX_NAMESPACES: usize = 8;
/// Most chains per namespace.
pub const MAX_CHAINS: usize = 16;
/// Most methods per namespace.
pub const MAX_METHODS: usize = 64;
/// Most events per namespace.
pub const MAX_EVENTS: usize = 16;
/// Most accounts per namespace.
pub const MAX_ACCOUNTS: usize = 32;

/// One namespace's part of a scope set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope {
    /// CAIP-2 chain ids of this namespace (`eip155:1`).
    pub chains: Vec<String>,
    /// Method names.
    pub methods: Vec<String>,
    /// Event names.
    pub events: Vec<String>,
    /// Granted scopes only: CAIP-10 account ids (`eip155:1:0xab…`) on the scope's chains.
    pub accounts: Vec<String>,
}

/// Scopes by namespace (`eip155`), in namespace order, each namespace once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(Vec<(String, Scope)>);

impl Scopes {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces `namespace`.
    pub fn insert(&mut self, namespace: impl Into<String>, scope: Scope) {
        let namespace = namespace.into();
        match self.0.binary_search_by(|(n, _)| n.as_str().cmp(&namespace)) {
            Ok(i) => self.0[i].1 = scope,
            Err(i) => self.0.insert(i, (namespace, scope)),
        }
    }

    /// The scope of `namespace`.
    pub fn get(&self, namespace: &str) -> Option<&Scope> {
        self.0.iter().find(|(n, _)| n == namespace).map(|(_, s)| s)
    }

    /// `(namespace, scope)` pairs in namespace order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Scope)> {
        self.0.iter().map(|(n, s)| (n.as_str(), s))
    }

    /// True when no namespace is named.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when some namespace grants `method`.
    pub fn allows(&self, method: &str) -> bool {
        self.0
            .iter()
            .any(|(_, s)| s.methods.iter().any(|m| m == method))
    }

    /// Every chain, method and event of `self` and `other`, per namespace (accounts too).
    pub fn union(&self, other: &Scopes) -> Scopes {
        let mut out = self.clone();
        for (namespace, scope) in other.iter() {
            let mut merged = out.get(namespace).cloned().unwrap_or_default();
            for (into, from) in [
                (&mut merged.chains, &scope.chains),
                (&mut merged.methods, &scope.methods),
                (&mut merged.events, &scope.events),
                (&mut merged.accounts, &scope.accounts),
            ] {
                for item in from {
                    if !into.contains(item) {
                        into.push(item.clone());
                    }
                }
            }
            out.insert(namespace, merged);
        }
        out
    }

    /// Checks names and limits; `granted`: accounts allowed (each on one of its scope's
    /// chains), else none.
    pub fn validate(&self, granted: bool) -> Result<(), &'static str> {
        if self.0.len() > MAX_NAMESPACES {
            return Err("too many scope namespaces");
        }
        for (namespace, scope) in &self.0 {
            if !is_namespace(namespace) {
                return Err("a scope namespace is not 3-8 of [-a-z0-9]");
            }
            if scope.chains.len() > MAX_CHAINS
                || scope.methods.len() > MAX_METHODS
                || scope.events.len() > MAX_EVENTS
                || scope.accounts.len() > MAX_ACCOUNTS
            {
                return Err("too many chains, methods, events or accounts in a scope");
            }
            for chain in &scope.chains {
                let ok = chain
                    .split_once(':')
                    .is_some_and(|(ns, reference)| ns == namespace && is_reference(reference));
                if !ok {
                    return Err("a scope chain is not <namespace>:<reference> (CAIP-2)");
                }
            }
            if !scope
                .methods
                .iter()
                .chain(&scope.events)
                .all(|n| is_name(n))
            {
                return Err("a scope method or event is not 1-64 printable ASCII characters");
            }
            if !granted && !scope.accounts.is_empty() {
                return Err("requested scopes carry no accounts");
            }
            for account in &scope.accounts {
                let ok = account.rsplit_once(':').is_some_and(|(chain, address)| {
                    scope.chains.iter().any(|c| c == chain) && is_address(address)
                });
                if !ok {
                    return Err("an account is not <chain>:<address> (CAIP-10) on a scope chain");
                }
            }
        }
        Ok(())
    }
}

fn is_namespace(s: &str) -> bool {
    (3..=8).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_reference(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_name(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic())
}

fn is_address(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'%')
}

/// Writes `name: {namespace: {chains, methods, events[, accounts]}}`.
pub(super) fn write_scopes(o: &mut Object<'_>, name: &str, scopes: &Scopes) {
    let mut by_ns = Object::new(o.key(name));
    for (namespace, scope) in scopes.iter() {
        let mut s = Object::new(by_ns.key(namespace));
        let lists = [
            ("chains", &scope.chains),
            ("methods", &scope.methods),
            ("events", &scope.events),
            ("accounts", &scope.accounts),
        ];
        for (key, list) in lists {
            if key == "accounts" && list.is_empty() {
                continue;
            }
            let out = s.key(key);
            out.push('[');
            for (i, item) in list.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json::write_string(out, item);
            }
            out.push(']');
        }
        s.end();
    }
    by_ns.end();
}

fn strings(r: &mut Reader<'_>) -> json::Result<Vec<String>> {
    let mut items = Vec::new();
    r.array(&mut |r| {
        items.push(r.string()?);
        Ok(())
    })?;
    Ok(items)
}

/// Reads a scope set (absent lists are empty; a namespace named twice is malformed).
pub(super) fn scopes(r: &mut Reader<'_>) -> json::Result<Scopes> {
    let mut out = Scopes::new();
    r.object(&mut |r, namespace| {
        if out.get(namespace).is_some() {
            return Err(Invalid);
        }
        let namespace = namespace.to_owned();
        let mut scope = Scope::default();
        let mut seen = 0;
        r.object(&mut |r, key| {
            let (bit, list) = match key {
                "chains" => (0, &mut scope.chains),
                "methods" => (1, &mut scope.methods),
                "events" => (2, &mut scope.events),
                "accounts" => (3, &mut scope.accounts),
                _ => return r.skip(),
            };
            once(&mut seen, bit)?;
            *list = r.optional(strings)?.unwrap_or_default();
            Ok(())
        })?;
        out.insert(namespace, scope);
        Ok(())
    })?;
    Ok(out)
}

/// Parses a scope set from its JSON text (as an application hands it over).
pub fn scopes_from_json(text: &str) -> Result<Scopes, &'static str> {
    let mut r = Reader::new(text);
    let parsed = scopes(&mut r).and_then(|s| r.finish().map(|()| s));
    parsed.map_err(|_| "scopes must be {namespace: {chains, methods, events}} of strings")
}

/// The JSON text of a scope set.
pub fn scopes_to_json(scopes: &Scopes) -> String {
    let mut out = String::new();
    let mut o = Object::new(&mut out);
    write_scopes(&mut o, "s", scopes);
    o.end();
    // `{"s":…}` → `…`
    out[5..out.len() - 1].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evm(methods: &[&str]) -> Scopes {
        let mut s = Scopes::new();
        s.insert(
            "eip155",
            Scope {
                chains: vec!["eip155:1".into(), "eip155:11155111".into()],
                methods: methods.iter().map(|m| (*m).to_owned()).collect(),
                events: vec!["accountsChanged".into()],
                accounts: Vec::new(),
            },
        );
        s
    }

    #[test]
    fn json_round_trip_and_method_check() {
        let s = evm(&["personal_sign", "eth_accounts"]);
        let text = scopes_to_json(&s);
        assert_eq!(
            text,
            r#"{"eip155":{"chains":["eip155:1","eip155:11155111"],"methods":["personal_sign","eth_accounts"],"events":["accountsChanged"]}}"#
        );
        assert_eq!(scopes_from_json(&text).unwrap(), s);
        assert!(s.allows("personal_sign") && !s.allows("eth_sendTransaction"));
        assert!(s.validate(false).is_ok());
    }

    #[test]
    fn bad_scopes_are_refused() {
        assert!(scopes_from_json(r#"{"eip155":{},"eip155":{}}"#).is_err());
        assert!(scopes_from_json(r#"{"eip155":{"chains":[1]}}"#).is_err());
        let mut s = evm(&["x"]);
        s.insert("EIP", Scope::default());
        assert!(s.validate(false).is_err());
        let mut s = evm(&["x"]);
        s.0[0].1.chains.push("cosmos:hub".into());
        assert!(s.validate(false).is_err());
        let mut s = evm(&["has space"]);
        assert!(s.validate(false).is_err());
        s = evm(&["x"]);
        s.0[0].1.accounts.push("eip155:1:0xab".into());
        assert!(
            s.validate(false).is_err(),
            "requested scopes have no accounts"
        );
        assert!(s.validate(true).is_ok());
        s.0[0].1.accounts.push("eip155:5:0xab".into());
        assert!(s.validate(true).is_err(), "account on a chain not granted");
    }

    #[test]
    fn union_merges_per_namespace() {
        let a = evm(&["a"]);
        let b = evm(&["a", "b"]);
        let u = a.union(&b);
        assert_eq!(u.get("eip155").unwrap().methods, vec!["a", "b"]);
    }
}
