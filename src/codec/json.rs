//! Strict JSON and the Matrix canonical JSON serialiser (`alloc`).
//!
//! [`parse`] reads one JSON text into a [`Value`]. It is stricter than RFC 8259 requires, because the
//! values it reads are signed, MACed or hashed: duplicate object keys, invalid UTF-8, lone surrogate
//! escapes, non-integer numbers and numbers outside the interoperable range
//! `[-(2^53 - 1), 2^53 - 1]` are typed [`JsonError`]s, as are inputs longer than
//! [`MAX_JSON_LEN`] bytes or nested deeper than [`MAX_JSON_DEPTH`]. A number written with a fraction or
//! an exponent is accepted when its value is such an integer (`1e10`, `2.0`), as the canonical form
//! requires; `-0` reads as `0`.
//!
//! [`Value::to_canonical`] writes the form the Matrix specification (Appendices, "Canonical JSON")
//! signs: object keys sorted by code point, no insignificant whitespace, integers in shortest form,
//! strings in UTF-8 with only `"`, `\` and the C0 controls escaped (the short escapes where JSON has
//! them, `\u00xx` with lowercase hex otherwise).
//!
//! ```
//! use safemeet::codec::json;
//!
//! let value = json::parse(br#"{"b":"2", "a": 1e3, "c": "\u65E5"}"#)?;
//! assert_eq!(value.to_canonical(), r#"{"a":1000,"b":"2","c":"日"}"#);
//! assert_eq!(value.get("b").and_then(json::Value::as_str), Some("2"));
//! # Ok::<(), safemeet::JsonError>(())
//! ```

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

pub use crate::error::JsonError;
use crate::limits::{MAX_JSON_DEPTH, MAX_JSON_LEN, MAX_JSON_RESPONSE_LEN};

/// The largest magnitude of an integer that canonical JSON allows: `2^53 - 1`.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// A JSON object: members keyed by their name, iterated in canonical (code-point) order.
pub type Object = BTreeMap<String, Value>;

/// A parsed JSON value. Numbers are integers within `[-(2^53 - 1), 2^53 - 1]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer within `±(2^53 - 1)`.
    Integer(i64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object.
    Object(Object),
}

impl Value {
    /// The member `key` if this is an object that has it.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Self> {
        self.as_object().and_then(|o| o.get(key))
    }

    /// The string if this is a string.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer if this is a number.
    #[must_use]
    pub const fn as_integer(&self) -> Option<i64> {
        match self {
            Self::Integer(n) => Some(*n),
            _ => None,
        }
    }

    /// The boolean if this is `true` or `false`.
    #[must_use]
    pub const fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The elements if this is an array.
    #[must_use]
    pub fn as_array(&self) -> Option<&[Self]> {
        match self {
            Self::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The members if this is an object.
    #[must_use]
    pub const fn as_object(&self) -> Option<&Object> {
        match self {
            Self::Object(o) => Some(o),
            _ => None,
        }
    }

    /// An integer value, or [`JsonError::NumberOutOfRange`] outside `±(2^53 - 1)`.
    pub const fn integer(n: i64) -> Result<Self, JsonError> {
        if n > MAX_SAFE_INTEGER || n < -MAX_SAFE_INTEGER {
            Err(JsonError::NumberOutOfRange)
        } else {
            Ok(Self::Integer(n))
        }
    }

    /// The canonical JSON encoding of this value.
    ///
    /// An [`Value::Integer`] built directly (not through [`Value::integer`] or [`parse`]) may lie outside
    /// the safe range; it is written as it is, and will not parse back.
    #[must_use]
    pub fn to_canonical(&self) -> String {
        let mut out = String::new();
        write_canonical(self, &mut out);
        out
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Self::String(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Self::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl From<Object> for Value {
    fn from(o: Object) -> Self {
        Self::Object(o)
    }
}

impl From<Vec<Self>> for Value {
    fn from(a: Vec<Self>) -> Self {
        Self::Array(a)
    }
}

/// Parses exactly one JSON text (surrounding whitespace allowed) into a [`Value`]: an event's content,
/// at most [`MAX_JSON_LEN`] bytes.
///
/// # Errors
/// A [`JsonError`] naming the first problem found; see the module documentation.
pub fn parse(input: &[u8]) -> Result<Value, JsonError> {
    parse_with_limit(input, MAX_JSON_LEN)
}

/// [`parse`] for an API response, such as `/keys/query`, which is not an event and may be far longer
/// than one: at most [`MAX_JSON_RESPONSE_LEN`] bytes. Nesting is bounded as for [`parse`].
///
/// # Errors
/// As [`parse`].
pub fn parse_response(input: &[u8]) -> Result<Value, JsonError> {
    parse_with_limit(input, MAX_JSON_RESPONSE_LEN)
}

fn parse_with_limit(input: &[u8], max_len: usize) -> Result<Value, JsonError> {
    if input.len() > max_len {
        return Err(JsonError::TooLarge);
    }
    let text = core::str::from_utf8(input).map_err(|_| JsonError::InvalidUtf8)?;
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
    };
    p.skip_ws();
    let value = p.value(0)?;
    p.skip_ws();
    if p.pos != p.s.len() {
        return Err(JsonError::TrailingData);
    }
    Ok(value)
}

/// Writes the canonical encoding of `value` to the end of `out`.
pub fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Integer(n) => {
            use core::fmt::Write as _;
            // Writing to a String cannot fail.
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            // BTreeMap<String, _> orders keys by their UTF-8 bytes, which is code-point order.
            for (i, (key, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
    }
}

pub(crate) fn write_string(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let b = c as u32 as usize;
                out.push_str("\\u00");
                out.push(char::from(*HEX.get(b >> 4).unwrap_or(&b'0')));
                out.push(char::from(*HEX.get(b & 15).unwrap_or(&b'0')));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn next(&mut self) -> Result<u8, JsonError> {
        let b = self.peek().ok_or(JsonError::UnexpectedEnd)?;
        self.pos += 1;
        Ok(b)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect_literal(&mut self, lit: &[u8]) -> Result<(), JsonError> {
        for &b in lit {
            if self.next()? != b {
                return Err(JsonError::InvalidSyntax);
            }
        }
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        match self.peek().ok_or(JsonError::UnexpectedEnd)? {
            b'n' => self.expect_literal(b"null").map(|()| Value::Null),
            b't' => self.expect_literal(b"true").map(|()| Value::Bool(true)),
            b'f' => self.expect_literal(b"false").map(|()| Value::Bool(false)),
            b'"' => self.string().map(Value::String),
            b'[' => self.array(depth + 1),
            b'{' => self.object(depth + 1),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(JsonError::InvalidSyntax),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_JSON_DEPTH {
            return Err(JsonError::TooDeep);
        }
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.next()? {
                b',' => {}
                b']' => return Ok(Value::Array(items)),
                _ => return Err(JsonError::InvalidSyntax),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_JSON_DEPTH {
            return Err(JsonError::TooDeep);
        }
        self.pos += 1; // '{'
        let mut members = Object::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek().ok_or(JsonError::UnexpectedEnd)? != b'"' {
                return Err(JsonError::InvalidSyntax);
            }
            let key = self.string()?;
            self.skip_ws();
            if self.next()? != b':' {
                return Err(JsonError::InvalidSyntax);
            }
            self.skip_ws();
            let value = self.value(depth)?;
            if members.insert(key, value).is_some() {
                return Err(JsonError::DuplicateKey);
            }
            self.skip_ws();
            match self.next()? {
                b',' => {}
                b'}' => return Ok(Value::Object(members)),
                _ => return Err(JsonError::InvalidSyntax),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.next()? {
                b @ b'0'..=b'9' => b - b'0',
                b @ b'a'..=b'f' => b - b'a' + 10,
                b @ b'A'..=b'F' => b - b'A' + 10,
                _ => return Err(JsonError::InvalidEscape),
            };
            v = (v << 4) | u32::from(d);
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1; // '"'
        let mut out = String::new();
        loop {
            // Copy the longest run of ordinary characters at once; it is valid UTF-8 because the whole
            // input is, and it starts and ends at ASCII bytes.
            let start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(
                self.text
                    .get(start..self.pos)
                    .ok_or(JsonError::InvalidUtf8)?,
            );
            match self.next()? {
                b'"' => return Ok(out),
                b'\\' => {}
                _ => return Err(JsonError::ControlCharacter),
            }
            let c = match self.next()? {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    let hi = self.hex4()?;
                    let code = match hi {
                        0xD800..=0xDBFF => {
                            if self.next()? != b'\\' || self.next()? != b'u' {
                                return Err(JsonError::LoneSurrogate);
                            }
                            let lo = self.hex4()?;
                            if !(0xDC00..=0xDFFF).contains(&lo) {
                                return Err(JsonError::LoneSurrogate);
                            }
                            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                        }
                        0xDC00..=0xDFFF => return Err(JsonError::LoneSurrogate),
                        c => c,
                    };
                    char::from_u32(code).ok_or(JsonError::LoneSurrogate)?
                }
                _ => return Err(JsonError::InvalidEscape),
            };
            out.push(c);
        }
    }

    /// A number: its value must be an integer within the safe range, whatever notation spells it.
    fn number(&mut self) -> Result<Value, JsonError> {
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        // Significant decimal digits (leading zeros dropped) and the power of ten they are scaled by.
        let mut digits: u64 = 0;
        let mut ndigits = 0usize;
        let mut scale: i64 = 0;
        let mut overflow = false;
        let mut push = |d: u8, digits: &mut u64, ndigits: &mut usize, scale: &mut i64| {
            if *ndigits == 0 && d == 0 {
                return;
            }
            if *ndigits < 17 {
                *digits = *digits * 10 + u64::from(d);
                *ndigits += 1;
            } else if d == 0 {
                // Trailing zeros beyond 17 digits only scale the value.
                *scale += 1;
            } else {
                overflow = true;
            }
        };
        match self.next()? {
            b'0' => {
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(JsonError::InvalidSyntax); // leading zero
                }
            }
            d @ b'1'..=b'9' => {
                push(d - b'0', &mut digits, &mut ndigits, &mut scale);
                while let Some(d @ b'0'..=b'9') = self.peek() {
                    self.pos += 1;
                    push(d - b'0', &mut digits, &mut ndigits, &mut scale);
                }
            }
            _ => return Err(JsonError::InvalidSyntax),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            let mut any = false;
            while let Some(d @ b'0'..=b'9') = self.peek() {
                self.pos += 1;
                any = true;
                push(d - b'0', &mut digits, &mut ndigits, &mut scale);
                // A fraction digit divides by ten, whether or not it was significant.
                scale -= 1;
            }
            if !any {
                return Err(JsonError::InvalidSyntax);
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            let exp_negative = match self.peek() {
                Some(b'-') => {
                    self.pos += 1;
                    true
                }
                Some(b'+') => {
                    self.pos += 1;
                    false
                }
                _ => false,
            };
            let mut exp: i64 = 0;
            let mut any = false;
            while let Some(d @ b'0'..=b'9') = self.peek() {
                self.pos += 1;
                any = true;
                exp = (exp * 10 + i64::from(d - b'0')).min(1 << 20);
            }
            if !any {
                return Err(JsonError::InvalidSyntax);
            }
            scale += if exp_negative { -exp } else { exp };
        }
        if overflow {
            return Err(JsonError::NumberOutOfRange);
        }
        if digits == 0 {
            return Ok(Value::Integer(0)); // includes -0 and 0e99
        }
        // Drop trailing zeros from the digits into the scale, then the value must be an integer.
        while digits.is_multiple_of(10) {
            digits /= 10;
            scale += 1;
        }
        if scale < 0 {
            return Err(JsonError::NotAnInteger);
        }
        let mut value = digits;
        for _ in 0..scale {
            value = value.checked_mul(10).ok_or(JsonError::NumberOutOfRange)?;
            if value > MAX_SAFE_INTEGER as u64 {
                return Err(JsonError::NumberOutOfRange);
            }
        }
        if value > MAX_SAFE_INTEGER as u64 {
            return Err(JsonError::NumberOutOfRange);
        }
        let value = value as i64;
        Ok(Value::Integer(if negative { -value } else { value }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;

    fn canon(s: &str) -> String {
        parse(s.as_bytes()).unwrap().to_canonical()
    }

    #[test]
    fn spec_appendix_examples() {
        // Matrix specification, Appendices, "Canonical JSON".
        assert_eq!(canon("{}"), "{}");
        assert_eq!(
            canon(r#"{"one": 1, "two": "Two"}"#),
            r#"{"one":1,"two":"Two"}"#
        );
        assert_eq!(canon(r#"{"b": "2", "a": "1"}"#), r#"{"a":"1","b":"2"}"#);
        assert_eq!(canon(r#"{"b":"2","a":"1"}"#), r#"{"a":"1","b":"2"}"#);
        assert_eq!(canon(r#"{"a": "日本語"}"#), r#"{"a":"日本語"}"#);
        assert_eq!(canon(r#"{"本": 2, "日": 1}"#), r#"{"日":1,"本":2}"#);
        assert_eq!(canon(r#"{"a": "\u65E5"}"#), r#"{"a":"日"}"#);
        assert_eq!(canon(r#"{"a": null}"#), r#"{"a":null}"#);
        assert_eq!(
            canon(r#"{"a": -0, "b": 1e10}"#),
            r#"{"a":0,"b":10000000000}"#
        );
        let nested = r#"{
            "auth": {
                "success": true,
                "mxid": "@john.doe:example.com",
                "profile": {
                    "display_name": "John Doe",
                    "three_pids": [
                        {"medium": "email", "address": "john.doe@example.org"},
                        {"medium": "msisdn", "address": "123456789"}
                    ]
                }
            }
        }"#;
        assert_eq!(
            canon(nested),
            r#"{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}"#
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(
            canon(r#"["\"\\\/\b\f\n\r\t\u0001\u001f\u007f"]"#),
            "[\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\u{7f}\"]"
        );
        assert_eq!(canon(r#"["\ud83d\ude00"]"#), "[\"😀\"]");
        assert_eq!(parse(br#""\ud83d""#), Err(JsonError::LoneSurrogate));
        assert_eq!(parse(br#""\ude00x""#), Err(JsonError::LoneSurrogate));
        assert_eq!(parse(br#""\ud83dx""#), Err(JsonError::LoneSurrogate));
        assert_eq!(parse(br#""\ud83d\u0041""#), Err(JsonError::LoneSurrogate));
        assert_eq!(parse(br#""\x""#), Err(JsonError::InvalidEscape));
        assert_eq!(parse(br#""\u12g4""#), Err(JsonError::InvalidEscape));
        assert_eq!(parse(b"\"a\nb\""), Err(JsonError::ControlCharacter));
    }

    #[test]
    fn astral_keys_sort_by_code_point_not_utf16() {
        // U+FF61 sorts before U+1F600 by code point; UTF-16 order would put the surrogate pair first.
        assert_eq!(
            canon("{\"\u{1F600}\":1,\"\u{FF61}\":2}"),
            "{\"\u{FF61}\":2,\"\u{1F600}\":1}"
        );
    }

    #[test]
    fn numbers() {
        for (text, value) in [
            ("0", 0),
            ("-0", 0),
            ("1e10", 10_000_000_000),
            ("1E+2", 100),
            ("2.50e1", 25),
            ("2.0", 2),
            ("0.0", 0),
            ("0e999999999999", 0),
            ("12345678901234560e-1", 1_234_567_890_123_456),
            ("0.00e5", 0),
            ("0.05e2", 5),
            ("9007199254740991", MAX_SAFE_INTEGER),
            ("-9007199254740991", -MAX_SAFE_INTEGER),
            ("900719925474099100e-2", MAX_SAFE_INTEGER),
            ("100000000000000000000e-10", 10_000_000_000),
        ] {
            assert_eq!(parse(text.as_bytes()), Ok(Value::Integer(value)), "{text}");
        }
        for (text, err) in [
            ("9007199254740992", JsonError::NumberOutOfRange),
            ("-9007199254740992", JsonError::NumberOutOfRange),
            ("1e16", JsonError::NumberOutOfRange),
            ("1e999999999999", JsonError::NumberOutOfRange),
            ("123456789012345678901", JsonError::NumberOutOfRange),
            ("1.5", JsonError::NotAnInteger),
            ("1e-1", JsonError::NotAnInteger),
            ("01", JsonError::InvalidSyntax),
            ("-", JsonError::UnexpectedEnd),
            ("+1", JsonError::InvalidSyntax),
            ("1.", JsonError::InvalidSyntax),
            ("1e", JsonError::InvalidSyntax),
            (".5", JsonError::InvalidSyntax),
        ] {
            assert_eq!(parse(text.as_bytes()), Err(err), "{text}");
        }
        assert_eq!(
            Value::integer(MAX_SAFE_INTEGER + 1),
            Err(JsonError::NumberOutOfRange)
        );
        assert_eq!(Value::integer(-5).unwrap().to_canonical(), "-5");
    }

    #[test]
    fn structural_errors() {
        for (text, err) in [
            (&b""[..], JsonError::UnexpectedEnd),
            (b"{\"a\":1,\"a\":2}", JsonError::DuplicateKey),
            (b"{} {}", JsonError::TrailingData),
            (b"[1,]", JsonError::InvalidSyntax),
            (b"{\"a\" 1}", JsonError::InvalidSyntax),
            (b"{1:1}", JsonError::InvalidSyntax),
            (b"[1", JsonError::UnexpectedEnd),
            (b"nul", JsonError::UnexpectedEnd),
            (b"trux", JsonError::InvalidSyntax),
            (b"\"\xff\"", JsonError::InvalidUtf8),
            (b"\"\xed\xa0\x80\"", JsonError::InvalidUtf8),
        ] {
            assert_eq!(parse(text), Err(err), "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn limits() {
        let deep_ok = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH),
            "]".repeat(MAX_JSON_DEPTH)
        );
        assert!(parse(deep_ok.as_bytes()).is_ok());
        let deep = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH + 1),
            "]".repeat(MAX_JSON_DEPTH + 1)
        );
        assert_eq!(parse(deep.as_bytes()), Err(JsonError::TooDeep));
        let big = format!("\"{}\"", "a".repeat(MAX_JSON_LEN));
        assert_eq!(parse(big.as_bytes()), Err(JsonError::TooLarge));
    }

    #[test]
    fn accessors() {
        let v = parse(br#"{"s":"x","n":3,"b":false,"a":[null],"o":{}}"#).unwrap();
        assert_eq!(v.get("s").and_then(Value::as_str), Some("x"));
        assert_eq!(v.get("n").and_then(Value::as_integer), Some(3));
        assert_eq!(v.get("b").and_then(Value::as_bool), Some(false));
        assert_eq!(
            v.get("a").and_then(Value::as_array),
            Some(&[Value::Null][..])
        );
        assert!(v.get("o").and_then(Value::as_object).is_some());
        assert_eq!(v.get("missing"), None);
        assert_eq!(Value::from("x").get("s"), None);
        assert_eq!(Value::from(true).to_canonical(), "true");
        assert_eq!(Value::from("a".to_string()).to_canonical(), "\"a\"");
    }
}
