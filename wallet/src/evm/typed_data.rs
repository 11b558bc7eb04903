//! EIP-712 typed structured data: `encodeType`, `encodeData` and `hashStruct` over the JSON
//! `eth_signTypedData_v4` carries (`{types, primaryType, domain, message}`), and the hash a
//! signature covers: `keccak256(0x19 0x01 || hashStruct(EIP712Domain, domain) ||
//! hashStruct(primaryType, message))`.
//!
//! Members may be `bool`, `address`, `string`, `bytes`, `bytes1`..`bytes32`,
//! `uint8`..`uint256` and `int8`..`int256` (multiples of 8), structs declared in `types`,
//! and arrays of any of these (`T[]`, `T[k]`, nested). When `types` has no `EIP712Domain` it
//! is made from the fields the domain holds, in the order EIP-712 lists them. Anything else
//! (an unknown type, a missing member, a value out of its type's range) is refused.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::word::{Integer, Word};
use super::{Address, from_hex, keccak256};

/// Deepest nesting of structs and arrays hashed (the JSON is bounded by the message size;
/// this bounds the recursion).
const MAX_DEPTH: usize = 32;
/// The domain's type.
const DOMAIN: &str = "EIP712Domain";

/// Why typed data was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid typed data: {0}")]
pub struct TypedDataError(String);

fn invalid(what: impl Into<String>) -> TypedDataError {
    TypedDataError(what.into())
}

/// One member of a struct type.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    name: String,
    kind: String,
}

/// Typed data, parsed and checked for shape (values are checked while hashing).
#[derive(Debug, Clone)]
pub struct TypedData {
    types: BTreeMap<String, Vec<Member>>,
    primary_type: String,
    domain: Value,
    message: Value,
}

/// What a member's type is.
enum Kind<'a> {
    Array {
        element: &'a str,
        length: Option<usize>,
    },
    Struct(&'a str),
    String,
    Bytes,
    Atomic(Atomic),
}

#[derive(Clone, Copy)]
enum Atomic {
    Bool,
    Address,
    FixedBytes(usize),
    Uint(u32),
    Int(u32),
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

fn bits(text: &str, step: u32, max: u32) -> Option<u32> {
    // No leading zeros or signs: `uint08` is not a type.
    if text.starts_with('0') {
        return None;
    }
    let n: u32 = text.parse().ok()?;
    (n >= step && n <= max && n.is_multiple_of(step)).then_some(n)
}

impl TypedData {
    /// Reads the `typedData` parameter: a JSON string (as `eth_signTypedData_v4` sends it) or
    /// the object itself.
    pub fn from_json(value: &Value) -> Result<Self, TypedDataError> {
        let parsed;
        let object = match value {
            Value::String(text) => {
                parsed = serde_json::from_str::<Value>(text)
                    .map_err(|e| invalid(format!("not JSON: {e}")))?;
                &parsed
            }
            other => other,
        };
        let object = object.as_object().ok_or_else(|| invalid("not an object"))?;
        let types_json = object
            .get("types")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid("types must be an object"))?;
        let mut types = BTreeMap::new();
        for (name, members) in types_json {
            if !is_identifier(name) {
                return Err(invalid(format!("bad type name {name:?}")));
            }
            let members = members
                .as_array()
                .ok_or_else(|| invalid(format!("type {name} must list its members")))?;
            let members = members
                .iter()
                .map(|m| {
                    let member = m.get("name").and_then(Value::as_str);
                    let kind = m.get("type").and_then(Value::as_str);
                    match (member, kind) {
                        (Some(member), Some(kind)) if is_identifier(member) => Ok(Member {
                            name: member.to_owned(),
                            kind: kind.to_owned(),
                        }),
                        _ => Err(invalid(format!("a member of {name} is malformed"))),
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            let unique: BTreeSet<_> = members.iter().map(|m| &m.name).collect();
            if unique.len() != members.len() {
                return Err(invalid(format!("type {name} repeats a member")));
            }
            types.insert(name.clone(), members);
        }
        let domain = object
            .get("domain")
            .filter(|d| d.is_object())
            .cloned()
            .ok_or_else(|| invalid("domain must be an object"))?;
        if !types.contains_key(DOMAIN) {
            types.insert(DOMAIN.to_owned(), domain_members(&domain));
        }
        let primary_type = object
            .get("primaryType")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("primaryType must be a string"))?
            .to_owned();
        if !types.contains_key(&primary_type) {
            return Err(invalid(format!(
                "primaryType {primary_type} is not in types"
            )));
        }
        let message = object.get("message").cloned().unwrap_or(Value::Null);
        let data = Self {
            types,
            primary_type,
            domain,
            message,
        };
        // Every member type must resolve, whether or not a value uses it.
        for members in data.types.values() {
            for member in members {
                data.kind(&member.kind)?;
            }
        }
        Ok(data)
    }

    fn kind<'a>(&self, text: &'a str) -> Result<Kind<'a>, TypedDataError> {
        if let Some(open) = text.strip_suffix(']').and_then(|t| t.rfind('[')) {
            let element = &text[..open];
            let length = &text[open + 1..text.len() - 1];
            let length = if length.is_empty() {
                None
            } else {
                Some(
                    length
                        .parse::<usize>()
                        .ok()
                        .filter(|_| !length.starts_with('+'))
                        .ok_or_else(|| invalid(format!("bad array length in {text}")))?,
                )
            };
            self.kind(element)?;
            return Ok(Kind::Array { element, length });
        }
        let atomic = match text {
            "string" => return Ok(Kind::String),
            "bytes" => return Ok(Kind::Bytes),
            "bool" => Some(Atomic::Bool),
            "address" => Some(Atomic::Address),
            _ => {
                if let Some(n) = text.strip_prefix("bytes") {
                    bits(n, 1, 32).map(|n| Atomic::FixedBytes(n as usize))
                } else if let Some(n) = text.strip_prefix("uint") {
                    bits(n, 8, 256).map(Atomic::Uint)
                } else if let Some(n) = text.strip_prefix("int") {
                    bits(n, 8, 256).map(Atomic::Int)
                } else {
                    None
                }
            }
        };
        match atomic {
            Some(atomic) => Ok(Kind::Atomic(atomic)),
            None if self.types.contains_key(text) => Ok(Kind::Struct(text)),
            None => Err(invalid(format!("unknown type {text:?}"))),
        }
    }

    /// The struct types `name` refers to, directly or not (itself included).
    fn dependencies<'a>(&'a self, name: &'a str, found: &mut BTreeSet<&'a str>) {
        if !found.insert(name) {
            return;
        }
        for member in self.types.get(name).into_iter().flatten() {
            let base = member.kind.split('[').next().unwrap_or_default();
            if self.types.contains_key(base) {
                self.dependencies(base, found);
            }
        }
    }

    /// `encodeType`: `Name(type member,...)` followed by every referenced struct type,
    /// sorted by name.
    pub fn encode_type(&self, name: &str) -> Result<String, TypedDataError> {
        if !self.types.contains_key(name) {
            return Err(invalid(format!("unknown type {name}")));
        }
        let mut found = BTreeSet::new();
        self.dependencies(name, &mut found);
        found.remove(name);
        let mut text = String::new();
        for type_name in std::iter::once(name).chain(found) {
            let members: Vec<String> = self.types[type_name]
                .iter()
                .map(|m| format!("{} {}", m.kind, m.name))
                .collect();
            text.push_str(&format!("{type_name}({})", members.join(",")));
        }
        Ok(text)
    }

    /// `typeHash`: the Keccak-256 of [`TypedData::encode_type`].
    pub fn type_hash(&self, name: &str) -> Result<[u8; 32], TypedDataError> {
        Ok(keccak256(self.encode_type(name)?.as_bytes()))
    }

    /// `encodeData`: each member's 32-byte encoding, in declaration order.
    pub fn encode_data(&self, name: &str, value: &Value) -> Result<Vec<u8>, TypedDataError> {
        self.encode_struct(name, value, 0)
    }

    fn encode_struct(
        &self,
        name: &str,
        value: &Value,
        depth: usize,
    ) -> Result<Vec<u8>, TypedDataError> {
        let object: &Map<String, Value> = value
            .as_object()
            .ok_or_else(|| invalid(format!("a {name} must be an object")))?;
        let members = self
            .types
            .get(name)
            .ok_or_else(|| invalid(format!("unknown type {name}")))?;
        let mut out = Vec::with_capacity(32 * members.len());
        for member in members {
            let field = object
                .get(&member.name)
                .ok_or_else(|| invalid(format!("{name}.{} is missing", member.name)))?;
            let word = self
                .encode_value(&member.kind, field, depth)
                .map_err(|e| invalid(format!("{name}.{}: {}", member.name, e.0)))?;
            out.extend_from_slice(&word);
        }
        Ok(out)
    }

    /// `hashStruct`: `keccak256(typeHash || encodeData)`.
    pub fn hash_struct(&self, name: &str, value: &Value) -> Result<[u8; 32], TypedDataError> {
        self.hash_struct_at(name, value, 0)
    }

    fn hash_struct_at(
        &self,
        name: &str,
        value: &Value,
        depth: usize,
    ) -> Result<[u8; 32], TypedDataError> {
        let mut bytes = self.type_hash(name)?.to_vec();
        bytes.extend(self.encode_struct(name, value, depth)?);
        Ok(keccak256(&bytes))
    }

    fn encode_value(
        &self,
        kind: &str,
        value: &Value,
        depth: usize,
    ) -> Result<Word, TypedDataError> {
        if depth >= MAX_DEPTH {
            return Err(invalid("nested too deeply"));
        }
        match self.kind(kind)? {
            Kind::Array { element, length } => {
                let items = value
                    .as_array()
                    .ok_or_else(|| invalid("expected an array"))?;
                if length.is_some_and(|n| n != items.len()) {
                    return Err(invalid(format!(
                        "expected {kind}, got {} items",
                        items.len()
                    )));
                }
                let mut bytes = Vec::with_capacity(32 * items.len());
                for item in items {
                    bytes.extend_from_slice(&self.encode_value(element, item, depth + 1)?);
                }
                Ok(keccak256(&bytes))
            }
            Kind::Struct(name) => self.hash_struct_at(name, value, depth + 1),
            Kind::String => {
                let text = value.as_str().ok_or_else(|| invalid("expected a string"))?;
                Ok(keccak256(text.as_bytes()))
            }
            Kind::Bytes => Ok(keccak256(&hex_value(value)?)),
            Kind::Atomic(atomic) => encode_atomic(atomic, value),
        }
    }

    /// The domain's `chainId`: None when it has none, `Some(None)` when it is not a chain id.
    pub fn domain_chain_id(&self) -> Option<Option<u64>> {
        let chain = self.domain.get("chainId").filter(|c| !c.is_null())?;
        Some(Integer::from_json(chain).and_then(Integer::to_u64))
    }

    /// `hashStruct(EIP712Domain, domain)`.
    pub fn domain_separator(&self) -> Result<[u8; 32], TypedDataError> {
        self.hash_struct(DOMAIN, &self.domain)
    }

    /// The hash a signature covers (`0x19 0x01 || domainSeparator || hashStruct(message)`;
    /// without the message hash when the primary type is the domain itself).
    pub fn signing_hash(&self) -> Result<[u8; 32], TypedDataError> {
        let mut bytes = vec![0x19, 0x01];
        bytes.extend_from_slice(&self.domain_separator()?);
        if self.primary_type != DOMAIN {
            bytes.extend_from_slice(&self.hash_struct(&self.primary_type, &self.message)?);
        }
        Ok(keccak256(&bytes))
    }
}

/// The domain type made from the fields a domain holds, in EIP-712's order.
fn domain_members(domain: &Value) -> Vec<Member> {
    [
        ("name", "string"),
        ("version", "string"),
        ("chainId", "uint256"),
        ("verifyingContract", "address"),
        ("salt", "bytes32"),
    ]
    .into_iter()
    .filter(|(name, _)| domain.get(name).is_some_and(|v| !v.is_null()))
    .map(|(name, kind)| Member {
        name: name.to_owned(),
        kind: kind.to_owned(),
    })
    .collect()
}

fn hex_value(value: &Value) -> Result<Vec<u8>, TypedDataError> {
    value
        .as_str()
        .and_then(from_hex)
        .ok_or_else(|| invalid("expected 0x-prefixed hex"))
}

fn encode_atomic(atomic: Atomic, value: &Value) -> Result<Word, TypedDataError> {
    let mut word = [0u8; 32];
    match atomic {
        Atomic::Bool => {
            let b = value
                .as_bool()
                .ok_or_else(|| invalid("expected true or false"))?;
            word[31] = u8::from(b);
        }
        Atomic::Address => {
            let address = value
                .as_str()
                .and_then(Address::parse)
                .ok_or_else(|| invalid("expected an address"))?;
            word[12..].copy_from_slice(&address.0);
        }
        Atomic::FixedBytes(n) => {
            let bytes = hex_value(value)?;
            if bytes.len() != n {
                return Err(invalid(format!("expected {n} bytes, got {}", bytes.len())));
            }
            word[..n].copy_from_slice(&bytes);
        }
        Atomic::Uint(bits) => {
            word = Integer::from_json(value)
                .and_then(|i| i.to_uint(bits))
                .ok_or_else(|| invalid(format!("expected a uint{bits}")))?;
        }
        Atomic::Int(bits) => {
            word = Integer::from_json(value)
                .and_then(|i| i.to_int(bits))
                .ok_or_else(|| invalid(format!("expected an int{bits}")))?;
        }
    }
    Ok(word)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::evm::{EvmKey, to_hex};

    /// The example of the EIP-712 specification (its `Example.js`).
    fn mail() -> Value {
        json!({
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"}
                ],
                "Person": [
                    {"name": "name", "type": "string"},
                    {"name": "wallet", "type": "address"}
                ],
                "Mail": [
                    {"name": "from", "type": "Person"},
                    {"name": "to", "type": "Person"},
                    {"name": "contents", "type": "string"}
                ]
            },
            "primaryType": "Mail",
            "domain": {
                "name": "Ether Mail",
                "version": "1",
                "chainId": 1,
                "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"
            },
            "message": {
                "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
                "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
                "contents": "Hello, Bob!"
            }
        })
    }

    #[test]
    fn the_mail_example_of_the_specification() {
        let data = TypedData::from_json(&mail()).unwrap();
        assert_eq!(
            data.encode_type("Mail").unwrap(),
            "Mail(Person from,Person to,string contents)Person(string name,address wallet)"
        );
        assert_eq!(
            to_hex(&data.type_hash("Mail").unwrap()),
            "0xa0cedeb2dc280ba39b857546d74f5549c3a1d7bdc2dd96bf881f76108e23dac2"
        );
        assert_eq!(
            to_hex(&data.hash_struct("Mail", &data.message).unwrap()),
            "0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e"
        );
        assert_eq!(
            to_hex(&data.domain_separator().unwrap()),
            "0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f"
        );
        let hash = data.signing_hash().unwrap();
        assert_eq!(
            to_hex(&hash),
            "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
        );
        // The specification's key is keccak256("cow"); its signature is v = 28 and this r, s.
        let key = EvmKey::from_secret(&keccak256(b"cow")).unwrap();
        let signature = key.sign_hash(&hash);
        assert_eq!(
            to_hex(&signature.r),
            "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d"
        );
        assert_eq!(
            to_hex(&signature.s),
            "0x07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562"
        );
        assert_eq!(signature.to_rsv()[64], 28);
        // The same data as a JSON string, as eth_signTypedData_v4 carries it.
        let text = Value::String(mail().to_string());
        assert_eq!(
            TypedData::from_json(&text).unwrap().signing_hash().unwrap(),
            hash
        );
    }

    #[test]
    fn without_an_eip712domain_type_the_domain_fields_make_it() {
        let mut data = mail();
        data["types"]
            .as_object_mut()
            .unwrap()
            .remove("EIP712Domain");
        let hash = TypedData::from_json(&data).unwrap().signing_hash().unwrap();
        assert_eq!(
            to_hex(&hash),
            "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
        );
    }

    #[test]
    fn dependencies_are_sorted_and_arrays_reach_them() {
        let data = TypedData::from_json(&json!({
            "types": {
                "Z": [{"name": "b", "type": "B[]"}, {"name": "a", "type": "A[2][]"}],
                "A": [{"name": "x", "type": "uint8"}],
                "B": [{"name": "a", "type": "A"}, {"name": "z", "type": "Z[]"}]
            },
            "primaryType": "Z",
            "domain": {"name": "d"},
            "message": {"b": [], "a": [[{"x": 1}, {"x": 2}]]}
        }))
        .unwrap();
        assert_eq!(
            data.encode_type("Z").unwrap(),
            "Z(B[] b,A[2][] a)A(uint8 x)B(A a,Z[] z)"
        );
        assert!(data.signing_hash().is_ok());
    }

    #[test]
    fn every_atomic_type_encodes_to_one_word() {
        let data = TypedData::from_json(&json!({
            "types": {"T": [
                {"name": "b", "type": "bool"},
                {"name": "i", "type": "int16"},
                {"name": "u", "type": "uint256"},
                {"name": "f", "type": "bytes2"},
                {"name": "d", "type": "bytes"},
                {"name": "s", "type": "string"},
                {"name": "a", "type": "address"}
            ]},
            "primaryType": "T",
            "domain": {},
            "message": {}
        }))
        .unwrap();
        let encoded = data
            .encode_data(
                "T",
                &json!({
                    "b": true, "i": -2, "u": "0x0100", "f": "0xabcd", "d": "0x01",
                    "s": "x", "a": "0x000000000000000000000000000000000000dEaD"
                }),
            )
            .unwrap();
        let words: Vec<String> = encoded.chunks(32).map(crate::hex::encode).collect();
        assert_eq!(words[0], format!("{:0>64}", "1"));
        assert_eq!(words[1], format!("{:f>64}", "e"));
        assert_eq!(words[2], format!("{:0>64}", "100"));
        assert_eq!(words[3], format!("{:0<64}", "abcd"));
        assert_eq!(words[4], crate::hex::encode(&keccak256(&[1])));
        assert_eq!(words[5], crate::hex::encode(&keccak256(b"x")));
        assert_eq!(words[6], format!("{:0>64}", "dead"));
    }

    #[test]
    fn malformed_data_is_refused() {
        let refused = |change: &dyn Fn(&mut Value)| {
            let mut data = mail();
            change(&mut data);
            TypedData::from_json(&data)
                .and_then(|d| d.signing_hash())
                .is_err()
        };
        assert!(refused(&|d| d["primaryType"] = json!("Nope")));
        assert!(refused(
            &|d| d["types"]["Person"][1]["type"] = json!("uint7")
        ));
        assert!(refused(
            &|d| d["types"]["Person"][1]["type"] = json!("bytes33")
        ));
        assert!(refused(
            &|d| d["types"]["Person"][1]["type"] = json!("Persona")
        ));
        assert!(refused(
            &|d| d["types"]["Person"][1]["type"] = json!("address[x]")
        ));
        assert!(refused(
            &|d| d["message"]["from"]["wallet"] = json!("0x1234")
        ));
        assert!(refused(&|d| d["message"]["to"] = json!("Bob")));
        assert!(refused(&|d| {
            d["message"].as_object_mut().unwrap().remove("contents");
        }));
        assert!(refused(&|d| d["domain"]["chainId"] = json!(-1)));
        assert!(refused(&|d| d["domain"] = json!([])));
        assert!(refused(&|d| d["types"] = json!({"Mail": "x"})));
        assert!(TypedData::from_json(&json!("{not json")).is_err());
        // A self-referencing type with deeply nested data stops at the depth limit.
        let mut deep = json!({"next": []});
        for _ in 0..40 {
            deep = json!({"next": [deep]});
        }
        let data = TypedData::from_json(&json!({
            "types": {"L": [{"name": "next", "type": "L[]"}]},
            "primaryType": "L", "domain": {}, "message": deep
        }))
        .unwrap();
        assert!(data.signing_hash().is_err());
    }
}
