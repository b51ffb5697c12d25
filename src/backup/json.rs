//! The JSON the backup objects are written in (RFC 8259), by hand: a value
//! type, an escaping writer and a parser that never panics.
//!
//! Numbers are unsigned integers only (everything a backup records is a
//! count, an id, a size or a time); the parser refuses any other number
//! rather than round it. It also refuses duplicate object keys, unpaired
//! surrogate escapes, raw control characters in strings, nesting deeper than
//! [`DEPTH_MAX`], and anything after the value but whitespace.

use std::fmt::Write as _;

/// How deeply arrays and objects may nest.
pub const DEPTH_MAX: usize = 16;

/// A parsed JSON value. Objects keep their members in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An unsigned integer.
    Number(u64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, members in order.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value as a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a number.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The value as an array.
    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The keys of an object, in order (empty for anything else).
    pub fn keys(&self) -> Vec<&str> {
        match self {
            Json::Object(members) => members.iter().map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// The compact text of the value.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    /// Appends the compact text of the value to `out`.
    pub fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => {
                let _ = write!(out, "{n}");
            }
            Json::String(s) => write_string(out, s),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(out, key);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// Appends `s` as a JSON string: quotes, backslashes and control characters
/// escaped, everything else as it is.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Parses one JSON value filling all of `bytes` (surrounding whitespace
/// allowed). The error says what is wrong and at which byte.
pub fn parse(bytes: &[u8]) -> Result<Json, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 at byte {}", e.valid_up_to()))?;
    let mut parser = Parser { text: text.as_bytes(), pos: 0 };
    let value = parser.value(0)?;
    parser.skip_whitespace();
    if parser.pos != parser.text.len() {
        return Err(parser.error("text after the value"));
    }
    Ok(value)
}

struct Parser<'a> {
    /// Valid UTF-8 (checked by [`parse`]), walked byte by byte.
    text: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        format!("{what} at byte {}", self.pos)
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected '{}'", byte as char)))
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if self.text[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("unknown literal"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.error("unexpected end")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Json::String),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'0'..=b'9') => self.number(),
            Some(b'-') => Err(self.error("negative numbers are not used")),
            Some(_) => Err(self.error("unexpected character")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, String> {
        if depth > DEPTH_MAX {
            return Err(self.error("nested too deeply"));
        }
        self.expect(b'{')?;
        let mut members: Vec<(String, Json)> = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a member name"));
            }
            let at = self.pos;
            let key = self.string()?;
            if members.iter().any(|(k, _)| *k == key) {
                return Err(format!("duplicate member {key:?} at byte {at}"));
            }
            self.skip_whitespace();
            self.expect(b':')?;
            let value = self.value(depth)?;
            members.push((key, value));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, String> {
        if depth > DEPTH_MAX {
            return Err(self.error("nested too deeply"));
        }
        self.expect(b'[')?;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return Err(self.error("only whole numbers are used"));
        }
        let digits = &self.text[start..self.pos];
        if digits.len() > 1 && digits[0] == b'0' {
            return Err(format!("number with a leading zero at byte {start}"));
        }
        let mut n: u64 = 0;
        for &d in digits {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d - b'0')))
                .ok_or_else(|| format!("number too large at byte {start}"))?;
        }
        Ok(Json::Number(n))
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The input is valid UTF-8 and a run stops only at ASCII bytes,
            // so the run is whole characters.
            out.push_str(std::str::from_utf8(&self.text[run_start..self.pos]).map_err(|_| self.error("bad UTF-8"))?);
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.escape()?;
                    out.push(c);
                }
                Some(_) => return Err(self.error("control character in a string")),
            }
        }
    }

    /// The character an escape stands for; `pos` is just past the backslash.
    fn escape(&mut self) -> Result<char, String> {
        let Some(b) = self.peek() else { return Err(self.error("unterminated escape")) };
        self.pos += 1;
        Ok(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(),
            _ => return Err(self.error("unknown escape")),
        })
    }

    fn unicode_escape(&mut self) -> Result<char, String> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.text[self.pos..].starts_with(b"\\u") {
                    return Err(self.error("unpaired surrogate escape"));
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error("unpaired surrogate escape"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.error("unpaired surrogate escape")),
            code => code,
        };
        char::from_u32(code).ok_or_else(|| self.error("bad unicode escape"))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self.text.get(self.pos..self.pos + 4).ok_or_else(|| self.error("short unicode escape"))?;
        let mut n = 0;
        for &d in digits {
            let v = (d as char).to_digit(16).ok_or_else(|| self.error("bad hex digit in a unicode escape"))?;
            n = n * 16 + v;
        }
        self.pos += 4;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use quickcheck::{Arbitrary, Gen, QuickCheck};

    use super::*;

    #[test]
    fn parses_what_it_writes_and_standard_escapes() {
        let text = r#" {"a": [1, true, null, "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"], "b": {}, "c": []} "#;
        let value = parse(text.as_bytes()).unwrap();
        assert_eq!(value.get("a").unwrap().as_array().unwrap()[3].as_str(), Some("x\"\\/\u{8}\u{c}\n\r\té😀"));
        assert_eq!(parse(value.encode().as_bytes()).unwrap(), value);
        assert_eq!(value.keys(), ["a", "b", "c"]);
        assert_eq!(parse(b"18446744073709551615").unwrap(), Json::Number(u64::MAX));
    }

    #[test]
    fn refuses_what_it_does_not_use_or_is_wrong() {
        for bad in [
            &b""[..],
            b"{",
            b"[1,]",
            b"{\"a\":1,}",
            b"{\"a\":1,\"a\":2}",
            b"-1",
            b"1.5",
            b"1e3",
            b"01",
            b"18446744073709551616",
            b"\"\\ud800\"",
            b"\"\\udc00\"",
            b"\"\\ud800\\u0041\"",
            b"\"a\nb\"",
            b"\"\\x\"",
            b"\"\\u12\"",
            b"tru",
            b"nul",
            b"1 2",
            b"\"\xff\"",
            b"{1:2}",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = "[".repeat(DEPTH_MAX + 1) + &"]".repeat(DEPTH_MAX + 1);
        assert!(parse(deep.as_bytes()).unwrap_err().contains("deep"));
        let ok = "[".repeat(DEPTH_MAX) + &"]".repeat(DEPTH_MAX);
        assert!(parse(ok.as_bytes()).is_ok());
    }

    #[derive(Clone, Debug)]
    struct Value(Json);

    fn arbitrary_json(g: &mut Gen, depth: usize) -> Json {
        let choice = u8::arbitrary(g) % if depth >= 4 { 4 } else { 6 };
        match choice {
            0 => Json::Null,
            1 => Json::Bool(bool::arbitrary(g)),
            2 => Json::Number(u64::arbitrary(g)),
            3 => Json::String(String::arbitrary(g)),
            4 => Json::Array((0..usize::arbitrary(g) % 4).map(|_| arbitrary_json(g, depth + 1)).collect()),
            _ => {
                let mut members: Vec<(String, Json)> = Vec::new();
                for _ in 0..usize::arbitrary(g) % 4 {
                    let key = String::arbitrary(g);
                    if !members.iter().any(|(k, _)| *k == key) {
                        members.push((key, arbitrary_json(g, depth + 1)));
                    }
                }
                Json::Object(members)
            }
        }
    }

    impl Arbitrary for Value {
        fn arbitrary(g: &mut Gen) -> Self {
            Value(arbitrary_json(g, 0))
        }
    }

    #[test]
    fn every_value_round_trips() {
        fn prop(v: Value) -> bool {
            parse(v.0.encode().as_bytes()) == Ok(v.0)
        }
        QuickCheck::new().tests(2000).quickcheck(prop as fn(Value) -> bool);
    }

    #[test]
    fn every_string_round_trips_and_arbitrary_bytes_never_panic() {
        fn strings(s: String) -> bool {
            let mut out = String::new();
            write_string(&mut out, &s);
            !out.bytes().any(|b| b < 0x20) && parse(out.as_bytes()) == Ok(Json::String(s))
        }
        fn bytes(b: Vec<u8>) -> bool {
            let _ = parse(&b);
            true
        }
        QuickCheck::new().tests(2000).quickcheck(strings as fn(String) -> bool);
        QuickCheck::new().tests(2000).quickcheck(bytes as fn(Vec<u8>) -> bool);
    }
}
