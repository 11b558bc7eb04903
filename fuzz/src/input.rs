//! The input format of the structured targets, and its encoder for the seed corpus.
//!
//! Inputs are read with `arbitrary` from the front of the data only: integers little-endian,
//! `bool` as the low bit of a byte, `Option` as a `bool` then the value, enum variants as a
//! `u32` scaled to the variant count (`derive(Arbitrary)`), and the types below with their
//! own length prefixes (instead of `arbitrary`'s lengths taken from the end of the data).
//! That makes the format easy to write: [`Encode`] produces the bytes of a given value, and
//! the seed generator checks that they read back as that value.

use arbitrary::{Arbitrary, Result, Unstructured};
use serde_json::Value;

/// Text: a `u16` length, then that many bytes, read as UTF-8 (invalid sequences replaced).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(pub String);

impl<'a> Arbitrary<'a> for Text {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let bytes = Blob::arbitrary(u)?.0;
        Ok(Self(String::from_utf8_lossy(&bytes).into_owned()))
    }
}

/// Bytes: a `u16` length, then that many bytes (fewer if the data ends).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Blob(pub Vec<u8>);

impl<'a> Arbitrary<'a> for Blob {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let len = usize::from(u16::arbitrary(u)?).min(u.len());
        Ok(Self(u.bytes(len)?.to_vec()))
    }
}

/// A JSON value: [`Text`] parsed as JSON, or the text as a JSON string when it is not JSON.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Json(pub Value);

impl<'a> Arbitrary<'a> for Json {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let text = Text::arbitrary(u)?.0;
        Ok(Self(
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }
}

/// A short list: a count byte (modulo 8), then the items.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct List<T>(pub Vec<T>);

impl<'a, T: Arbitrary<'a>> Arbitrary<'a> for List<T> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let n = u8::arbitrary(u)? % 8;
        let mut items = Vec::new();
        for _ in 0..n {
            if u.is_empty() {
                break;
            }
            items.push(T::arbitrary(u)?);
        }
        Ok(Self(items))
    }
}

/// Reads items until the data ends (or `max` items).
pub fn read_all<'a, T: Arbitrary<'a>>(u: &mut Unstructured<'a>, max: usize) -> Vec<T> {
    let mut items = Vec::new();
    while !u.is_empty() && items.len() < max {
        match T::arbitrary(u) {
            Ok(item) => items.push(item),
            Err(_) => break,
        }
    }
    items
}

/// Writes a value in the format above.
pub trait Encode {
    /// Appends the bytes that read back as `self`.
    fn encode(&self, out: &mut Vec<u8>);
}

/// The `u32` that `derive(Arbitrary)` reads as variant `index` of `count`.
pub fn variant(index: u32, count: u32, out: &mut Vec<u8>) {
    // (v * count) >> 32 == index for the smallest v with v * count >= index << 32.
    let v = ((u64::from(index) << 32).div_ceil(u64::from(count))) as u32;
    out.extend_from_slice(&v.to_le_bytes());
}

macro_rules! encode_int {
    ($($t:ty),*) => {$(
        impl Encode for $t {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
encode_int!(u8, u16, u32, u64, i64);

impl Encode for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(value) => {
                out.push(1);
                value.encode(out);
            }
        }
    }
}

impl<const N: usize> Encode for [u8; N] {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl<A: Encode, B: Encode> Encode for (A, B) {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
        self.1.encode(out);
    }
}

impl Encode for Blob {
    fn encode(&self, out: &mut Vec<u8>) {
        let len = u16::try_from(self.0.len()).expect("a blob fits 64 KiB");
        len.encode(out);
        out.extend_from_slice(&self.0);
    }
}

impl Encode for Text {
    fn encode(&self, out: &mut Vec<u8>) {
        Blob(self.0.as_bytes().to_vec()).encode(out);
    }
}

impl Encode for Json {
    fn encode(&self, out: &mut Vec<u8>) {
        Text(self.0.to_string()).encode(out);
    }
}

impl<T: Encode> Encode for List<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        let n = u8::try_from(self.0.len()).expect("a short list");
        assert!(n < 8, "a list holds at most 7 items");
        n.encode(out);
        for item in &self.0 {
            item.encode(out);
        }
    }
}

/// Shorthand for a [`Text`].
pub fn text(s: &str) -> Text {
    Text(s.to_owned())
}

/// Shorthand for a [`Json`].
pub fn json(v: Value) -> Json {
    Json(v)
}
