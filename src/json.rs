//! A small JSON reader and writer for the SDK's own wire types.
//!
//! Written by hand for the wasm download (issue 12): serde's derives give every type its own
//! visitor, field matcher and `Option` reader, and serde_json instantiates its parser for each,
//! a few kilobytes per type. The reader here is one non-generic cursor; a type's decoder is a
//! loop over its fields (see `relay::wire`). What it accepts is what serde_json's derived
//! `Deserialize` accepts for the same type, object form (RFC 8259 JSON, serde_json's number and
//! string rules, unknown fields skipped, a duplicate field refused, `null` for an absent
//! `Option`), and `tests/json_codec.rs` checks both against each other. The writer produces
//! serde_json's exact bytes (escapes, no spaces).

use std::borrow::Cow;

use serde_json::{Map, Number, Value};

/// Deepest nesting of arrays and objects a [`Reader::value`] takes: serde_json's limit (its
/// 128th nested container is refused).
pub const MAX_DEPTH: u32 = 127;

/// The text is not JSON of the expected shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid;

/// What a reader returns.
pub type Result<T> = core::result::Result<T, Invalid>;

/// A cursor over one JSON text.
#[derive(Debug)]
pub struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Self { text, pos: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The next byte after whitespace (JSON's four: space, tab, newline, carriage return).
    fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes().get(self.pos) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    fn eat(&mut self, byte: u8) -> Result<()> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    fn literal(&mut self, word: &str) -> Result<()> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    /// Only whitespace is left.
    pub fn finish(mut self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(Invalid),
        }
    }

    /// Reads a `null` if one comes next (an absent `Option`).
    pub fn null(&mut self) -> Result<bool> {
        if self.peek() == Some(b'n') {
            self.literal("null")?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Reads `null` as `None` (an absent `Option`, as serde reads one), anything else with
    /// `read`.
    pub fn optional<T>(&mut self, read: impl FnOnce(&mut Self) -> Result<T>) -> Result<Option<T>> {
        if self.null()? {
            return Ok(None);
        }
        read(self).map(Some)
    }

    /// Reads an object, calling `field` with each key (unescaped) while the reader stands on
    /// its value; `field` must read or [`skip`](Self::skip) that value.
    pub fn object(&mut self, field: &mut dyn FnMut(&mut Self, &str) -> Result<()>) -> Result<()> {
        self.eat(b'{')?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(Invalid);
            }
            let key = self.string_cow()?;
            self.eat(b':')?;
            field(self, &key)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(Invalid),
            }
        }
    }

    /// Reads an array, calling `item` while the reader stands on each element.
    pub fn array(&mut self, item: &mut dyn FnMut(&mut Self) -> Result<()>) -> Result<()> {
        self.eat(b'[')?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(Invalid),
            }
        }
    }

    /// Reads a string.
    pub fn string(&mut self) -> Result<String> {
        self.string_cow().map(Cow::into_owned)
    }

    fn string_cow(&mut self) -> Result<Cow<'a, str>> {
        self.eat(b'"')?;
        let start = self.pos;
        let bytes = self.bytes();
        // Fast path: no escape before the closing quote.
        loop {
            match bytes.get(self.pos) {
                None => return Err(Invalid),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Borrowed(&self.text[start..self.pos - 1]));
                }
                Some(b'\\') => break,
                Some(&b) if b < 0x20 => return Err(Invalid),
                Some(_) => self.pos += 1,
            }
        }
        let mut out = String::from(&self.text[start..self.pos]);
        loop {
            match bytes.get(self.pos) {
                None => return Err(Invalid),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escaped = *bytes.get(self.pos).ok_or(Invalid)?;
                    self.pos += 1;
                    match escaped {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => out.push(self.unicode_escape()?),
                        _ => return Err(Invalid),
                    }
                }
                Some(&b) if b < 0x20 => return Err(Invalid),
                Some(_) => {
                    // Copy up to the next quote, escape or control byte in one go (the text
                    // is a `str`, and those bytes are ASCII, so the cut is a char boundary).
                    let run = bytes[self.pos..]
                        .iter()
                        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                        .unwrap_or(bytes.len() - self.pos);
                    out.push_str(&self.text[self.pos..self.pos + run]);
                    self.pos += run;
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let digits = self.bytes().get(self.pos..self.pos + 4).ok_or(Invalid)?;
        let mut value = 0;
        for &d in digits {
            let v = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(Invalid),
            };
            value = value * 16 + u32::from(v);
        }
        self.pos += 4;
        Ok(value)
    }

    /// The code point after `\u` (a surrogate pair takes both escapes; a lone one is refused,
    /// as serde_json refuses it for a Rust string).
    fn unicode_escape(&mut self) -> Result<char> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if self.bytes().get(self.pos..self.pos + 2) != Some(b"\\u") {
                    return Err(Invalid);
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(Invalid);
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(Invalid),
            _ => first,
        };
        char::from_u32(code).ok_or(Invalid)
    }

    /// Reads an integer as serde_json reads one for an integer type: its sign and magnitude.
    /// A fraction, an exponent, a magnitude past `u64`, and `-0` make a float to serde_json,
    /// which no integer type takes: all refused.
    fn integer(&mut self) -> Result<(bool, u64)> {
        self.peek();
        let bytes = self.bytes();
        let negative = bytes.get(self.pos) == Some(&b'-');
        if negative {
            self.pos += 1;
        }
        let start = self.pos;
        let mut value: u64 = 0;
        let mut overflow = false;
        while let Some(&d) = bytes.get(self.pos).filter(|d| d.is_ascii_digit()) {
            match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
            {
                Some(v) => value = v,
                None => overflow = true,
            }
            self.pos += 1;
        }
        let digits = self.pos - start;
        if digits == 0 || (digits > 1 && bytes[start] == b'0') {
            return Err(Invalid);
        }
        if matches!(bytes.get(self.pos), Some(b'.' | b'e' | b'E')) {
            return Err(Invalid);
        }
        if overflow || (negative && value == 0) {
            return Err(Invalid);
        }
        Ok((negative, value))
    }

    /// Reads a non-negative integer that fits in a `u64`.
    pub fn u64(&mut self) -> Result<u64> {
        match self.integer()? {
            (false, value) => Ok(value),
            (true, _) => Err(Invalid),
        }
    }

    /// Reads an integer that fits in an `i64`.
    pub fn i64(&mut self) -> Result<i64> {
        match self.integer()? {
            (false, value) => i64::try_from(value).map_err(|_| Invalid),
            (true, magnitude) if magnitude <= 1 << 63 => Ok((magnitude as i64).wrapping_neg()),
            (true, _) => Err(Invalid),
        }
    }

    /// Reads an integer that fits in a `u32`.
    pub fn u32(&mut self) -> Result<u32> {
        u32::try_from(self.u64()?).map_err(|_| Invalid)
    }

    /// Reads `true` or `false`.
    pub fn bool(&mut self) -> Result<bool> {
        match self.peek() {
            Some(b't') => self.literal("true").map(|()| true),
            Some(b'f') => self.literal("false").map(|()| false),
            _ => Err(Invalid),
        }
    }

    /// Reads any JSON value and returns its text as written (without the whitespace around
    /// it), accepting what serde_json accepts for a value it skips or keeps raw. Nesting is
    /// tracked in a list, not by recursion, so depth costs no stack.
    pub fn raw(&mut self) -> Result<&'a str> {
        self.raw_within(usize::MAX)
    }

    /// [`Reader::raw`] of a value with at most [`MAX_DEPTH`] nested containers (serde_json's
    /// limit for a value it reads): what [`Json`] holds.
    pub fn json(&mut self) -> Result<Json> {
        self.raw_within(MAX_DEPTH as usize)
            .map(|raw| Json(raw.to_owned()))
    }

    fn raw_within(&mut self, max_depth: usize) -> Result<&'a str> {
        self.peek();
        let start = self.pos;
        // The open containers, innermost last: true for an object.
        let mut open: Vec<bool> = Vec::new();
        loop {
            // A value.
            let next = self.peek().ok_or(Invalid)?;
            if matches!(next, b'{' | b'[') && open.len() >= max_depth {
                return Err(Invalid);
            }
            match next {
                b'{' => {
                    self.pos += 1;
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                    } else {
                        self.key()?;
                        open.push(true);
                        continue;
                    }
                }
                b'[' => {
                    self.pos += 1;
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                    } else {
                        open.push(false);
                        continue;
                    }
                }
                b'"' => self.skip_string()?,
                b't' => self.literal("true")?,
                b'f' => self.literal("false")?,
                b'n' => self.literal("null")?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return Err(Invalid),
            }
            // After a value: the next element, or close containers.
            loop {
                let Some(&object) = open.last() else {
                    return Ok(&self.text[start..self.pos]);
                };
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        if object {
                            self.key()?;
                        }
                        break;
                    }
                    Some(b'}') if object => {
                        self.pos += 1;
                        open.pop();
                    }
                    Some(b']') if !object => {
                        self.pos += 1;
                        open.pop();
                    }
                    _ => return Err(Invalid),
                }
            }
        }
    }

    /// An object key and its colon, inside a skipped value.
    fn key(&mut self) -> Result<()> {
        if self.peek() != Some(b'"') {
            return Err(Invalid);
        }
        self.skip_string()?;
        self.eat(b':')
    }

    /// Skips a string as serde_json skips one it does not keep: escapes must be well formed,
    /// but a `\u` escape may be half a surrogate pair.
    fn skip_string(&mut self) -> Result<()> {
        self.pos += 1;
        loop {
            match *self.bytes().get(self.pos).ok_or(Invalid)? {
                b'"' => {
                    self.pos += 1;
                    return Ok(());
                }
                b'\\' => {
                    self.pos += 1;
                    match *self.bytes().get(self.pos).ok_or(Invalid)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.pos += 1,
                        b'u' => {
                            self.pos += 1;
                            self.hex4()?;
                        }
                        _ => return Err(Invalid),
                    }
                }
                b if b < 0x20 => return Err(Invalid),
                _ => self.pos += 1,
            }
        }
    }

    /// Skips any number (RFC 8259 grammar).
    fn number(&mut self) -> Result<()> {
        let bytes = self.bytes();
        let digits = |pos: &mut usize| {
            let start = *pos;
            while bytes.get(*pos).is_some_and(u8::is_ascii_digit) {
                *pos += 1;
            }
            *pos - start
        };
        let mut pos = self.pos;
        if bytes.get(pos) == Some(&b'-') {
            pos += 1;
        }
        let start = pos;
        let n = digits(&mut pos);
        if n == 0 || (n > 1 && bytes[start] == b'0') {
            return Err(Invalid);
        }
        if bytes.get(pos) == Some(&b'.') {
            pos += 1;
            if digits(&mut pos) == 0 {
                return Err(Invalid);
            }
        }
        if matches!(bytes.get(pos), Some(b'e' | b'E')) {
            pos += 1;
            if matches!(bytes.get(pos), Some(b'+' | b'-')) {
                pos += 1;
            }
            if digits(&mut pos) == 0 {
                return Err(Invalid);
            }
        }
        self.pos = pos;
        Ok(())
    }

    /// Reads any JSON value as serde_json's `Value` reads one: integers as `u64` or `i64`
    /// when they fit, other numbers as the nearest `f64` (out of range refused), later
    /// duplicate keys replacing earlier ones, at most [`MAX_DEPTH`] nested containers.
    pub fn value(&mut self) -> Result<Value> {
        self.value_in(0)
    }

    fn value_in(&mut self, depth: u32) -> Result<Value> {
        match self.peek().ok_or(Invalid)? {
            b'n' => self.literal("null").map(|()| Value::Null),
            b't' => self.literal("true").map(|()| Value::Bool(true)),
            b'f' => self.literal("false").map(|()| Value::Bool(false)),
            b'"' => self.string().map(Value::String),
            b'[' if depth < MAX_DEPTH => {
                let mut list = Vec::new();
                self.array(&mut |r| {
                    list.push(r.value_in(depth + 1)?);
                    Ok(())
                })?;
                Ok(Value::Array(list))
            }
            b'{' if depth < MAX_DEPTH => {
                let mut map = Map::new();
                self.object(&mut |r, key| {
                    let value = r.value_in(depth + 1)?;
                    map.insert(key.to_owned(), value);
                    Ok(())
                })?;
                Ok(Value::Object(map))
            }
            b'-' | b'0'..=b'9' => self.number_value().map(Value::Number),
            _ => Err(Invalid),
        }
    }

    fn number_value(&mut self) -> Result<Number> {
        let start = self.pos;
        self.number()?;
        let text = &self.text[start..self.pos];
        if !text.contains(['.', 'e', 'E']) {
            let (negative, digits) = match text.strip_prefix('-') {
                Some(digits) => (true, digits),
                None => (false, text),
            };
            if let Ok(magnitude) = digits.parse::<u64>() {
                if !negative {
                    return Ok(Number::from(magnitude));
                }
                // `-0` is a float to serde_json (-0.0).
                if (1..=1 << 63).contains(&magnitude) {
                    return Ok(Number::from((magnitude as i64).wrapping_neg()));
                }
            }
        }
        // The nearest double (serde_json's `float_roundtrip` reading, as this build uses it);
        // JSON number syntax is a subset of what `f64::from_str` takes.
        let float: f64 = text.parse().map_err(|_| Invalid)?;
        Number::from_f64(float).ok_or(Invalid)
    }

    /// Skips any value.
    pub fn skip(&mut self) -> Result<()> {
        self.raw().map(drop)
    }
}

/// One JSON value kept as its text: what a request's `params`, a response's `result` and a
/// notification's `params` carry between the application and the peer.
///
/// The SDK never looks inside these values, so it does not parse them: the text is checked to
/// be one RFC 8259 value (at most [`MAX_DEPTH`] nested containers) and passed on as written,
/// numbers included (no rounding to `f64`, and the wasm carries no float parser or printer).
/// Equality is equality of the text. Native code converts with `From<serde_json::Value>` and
/// [`Json::value`].
#[derive(Clone, PartialEq, Eq)]
pub struct Json(String);

impl Json {
    /// `null`.
    pub fn null() -> Self {
        Self("null".to_owned())
    }

    /// Checks that `text` is one JSON value (whitespace around it allowed and dropped).
    pub fn parse(text: &str) -> Result<Self> {
        let mut reader = Reader::new(text);
        let json = reader.json()?;
        reader.finish()?;
        Ok(json)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the value is `null`.
    pub fn is_null(&self) -> bool {
        self.0 == "null"
    }

    /// The value as serde_json reads it (fails only where serde_json refuses what JSON allows:
    /// a number beyond `f64`).
    pub fn value(&self) -> serde_json::Result<Value> {
        serde_json::from_str(&self.0)
    }
}

impl Default for Json {
    fn default() -> Self {
        Self::null()
    }
}

impl core::fmt::Debug for Json {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::fmt::Display for Json {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Value> for Json {
    fn from(value: Value) -> Self {
        Self(value_text(&value))
    }
}

impl From<&Value> for Json {
    fn from(value: &Value) -> Self {
        Self(value_text(value))
    }
}

impl PartialEq<Value> for Json {
    fn eq(&self, other: &Value) -> bool {
        self.value().is_ok_and(|value| value == *other)
    }
}

impl serde::Serialize for Json {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> core::result::Result<S::Ok, S::Error> {
        use serde::ser::Error;
        let raw =
            serde_json::value::RawValue::from_string(self.0.clone()).map_err(S::Error::custom)?;
        raw.serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> core::result::Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        Ok(Self(raw.get().to_owned()))
    }
}

/// Marks field `bit` as read; a second read of one field is refused (as serde's derive
/// refuses a duplicate field).
pub fn once(seen: &mut u32, bit: u32) -> Result<()> {
    if *seen & (1 << bit) != 0 {
        return Err(Invalid);
    }
    *seen |= 1 << bit;
    Ok(())
}

/// Writes `value` as a JSON string, escaped as serde_json escapes it.
pub fn write_string(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut start = 0;
    for (i, b) in value.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&value[start..i]);
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        } else {
            out.push_str(short);
        }
        start = i + 1;
    }
    out.push_str(&value[start..]);
    out.push('"');
}

/// A `Value` as serde_json writes it (no spaces, keys in the map's order).
pub fn value_text(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

/// Appends `value` as serde_json writes it.
pub fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => push_u64(out, u),
            (None, Some(i)) => {
                out.push('-');
                push_u64(out, i.unsigned_abs());
            }
            // A float: serde_json's own shortest form.
            _ => out.push_str(&n.to_string()),
        },
        Value::String(s) => write_string(out, s),
        Value::Array(list) => {
            out.push('[');
            for (i, item) in list.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut o = Object::new(out);
            for (key, item) in map {
                write_value(o.key(key), item);
            }
            o.end();
        }
    }
}

/// Writes an object's fields in order, as serde_json does (no spaces).
#[derive(Debug)]
pub struct Object<'o> {
    out: &'o mut String,
    first: bool,
}

impl<'o> Object<'o> {
    /// Opens an object.
    pub fn new(out: &'o mut String) -> Self {
        out.push('{');
        Self { out, first: true }
    }

    /// Writes a key; the caller writes its value into the returned string next.
    pub fn key(&mut self, key: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        write_string(self.out, key);
        self.out.push(':');
        self.out
    }

    /// A string field.
    pub fn string(&mut self, key: &str, value: &str) {
        let out = self.key(key);
        write_string(out, value);
    }

    /// An integer field.
    pub fn u64(&mut self, key: &str, value: u64) {
        let out = self.key(key);
        push_u64(out, value);
    }

    /// A signed integer field.
    pub fn i64(&mut self, key: &str, value: i64) {
        let out = self.key(key);
        if value < 0 {
            out.push('-');
        }
        push_u64(out, value.unsigned_abs());
    }

    /// A boolean field.
    pub fn bool(&mut self, key: &str, value: bool) {
        self.key(key).push_str(if value { "true" } else { "false" });
    }

    /// A field whose value is JSON text already.
    pub fn raw(&mut self, key: &str, json: &str) {
        self.key(key).push_str(json);
    }

    /// Closes the object.
    pub fn end(self) {
        self.out.push('}');
    }
}

/// Decimal digits of `value`, without `core::fmt`.
pub fn push_u64(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Result<&str> {
        let mut reader = Reader::new(text);
        let raw = reader.raw()?;
        reader.finish()?;
        Ok(raw)
    }

    #[test]
    fn raw_values_keep_their_text_and_refuse_what_json_refuses() {
        assert_eq!(
            raw(" {\"a\": [1, -2.5e+3, true, null, {}], \"b\": \"\\u00e9\"} "),
            Ok("{\"a\": [1, -2.5e+3, true, null, {}], \"b\": \"\\u00e9\"}")
        );
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "1.",
            "-",
            "1e",
            "tru",
            "\"\\x\"",
            "\"\u{1}\"",
            "{1:2}",
            "[1 2]",
            "\"\\u12\"",
            "nul",
        ] {
            assert_eq!(raw(bad), Err(Invalid), "{bad:?}");
        }
        // Half a surrogate pair passes in a skipped string (serde_json does not check it there).
        assert_eq!(raw("\"\\ud800\""), Ok("\"\\ud800\""));
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(raw(&deep), Ok(deep.as_str()));
    }

    #[test]
    fn json_texts_are_kept_as_written_and_nest_at_most_127_deep() {
        let text = " {\"n\": 1.000000000000000000001e400, \"a\" : [ -0 ]} ";
        let json = Json::parse(text).unwrap();
        assert_eq!(json.as_str(), text.trim());
        assert!(
            json.value().is_err(),
            "serde_json refuses a number beyond f64"
        );
        assert_eq!(Json::parse(" null ").unwrap(), Json::null());
        assert!(Json::null().is_null());
        assert_eq!(
            Json::from(serde_json::json!({"a": [1, 2.5]})).as_str(),
            "{\"a\":[1,2.5]}"
        );
        assert_eq!(Json::parse("[1]").unwrap(), serde_json::json!([1]));
        assert_eq!(Json::parse("1 2"), Err(Invalid));
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(Json::parse(&nested(127)).is_ok());
        assert_eq!(Json::parse(&nested(128)), Err(Invalid));
        let objects = format!("{}1{}", "{\"a\":".repeat(128), "}".repeat(128));
        assert_eq!(Json::parse(&objects), Err(Invalid));
        // serde_json reads the same depths the same way.
        assert!(serde_json::from_str::<Value>(&nested(127)).is_ok());
        assert!(serde_json::from_str::<Value>(&nested(128)).is_err());
    }

    #[test]
    fn integers_follow_serde_json() {
        let read = |text: &str| Reader::new(text).u64();
        assert_eq!(read("0"), Ok(0));
        assert_eq!(read("18446744073709551615"), Ok(u64::MAX));
        for bad in [
            "18446744073709551616",
            "-1",
            "-0",
            "1.0",
            "1e2",
            "01",
            "",
            "-",
        ] {
            assert_eq!(read(bad), Err(Invalid), "{bad:?}");
        }
        assert_eq!(Reader::new("4294967296").u32(), Err(Invalid));
        let signed = |text: &str| Reader::new(text).i64();
        assert_eq!(signed("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(signed("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(signed("-32601"), Ok(-32601));
        for bad in ["9223372036854775808", "-9223372036854775809", "-0", "-1.5"] {
            assert_eq!(signed(bad), Err(Invalid), "{bad:?}");
        }
    }

    #[test]
    fn strings_round_trip_through_the_writer() {
        let value = "a\"b\\c\n\u{1}\u{7f}é😀/";
        let mut out = String::new();
        write_string(&mut out, value);
        assert_eq!(out, "\"a\\\"b\\\\c\\n\\u0001\u{7f}é😀/\"");
        assert_eq!(Reader::new(&out).string(), Ok(value.to_owned()));
        assert_eq!(
            Reader::new("\"\\ud83d\\ude00\\/\"").string(),
            Ok("😀/".to_owned())
        );
    }

    #[test]
    fn numbers_are_written_without_fmt() {
        for n in [0, 7, 10, 4_294_967_295, u64::MAX] {
            let mut out = String::new();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }
}
