//! Hand-written JSON output for `--json` (RFC 8259), without a dependency.
//!
//! Only what the tool prints: objects with fields in a fixed order, arrays,
//! strings, unsigned numbers, booleans and null.

use std::fmt::Write as _;
use std::path::Path;

/// A JSON value, already rendered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Json(String);

impl Json {
    /// `null`.
    pub fn null() -> Json {
        Json("null".to_owned())
    }

    /// A string, escaped.
    pub fn str(s: &str) -> Json {
        let mut out = String::with_capacity(s.len() + 2);
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if u32::from(c) < 0x20 => {
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                }
                c => out.push(c),
            }
        }
        out.push('"');
        Json(out)
    }

    /// A path as a string (a name that is not UTF-8 gets U+FFFD in place of bad bytes).
    pub fn path(p: &Path) -> Json {
        Json::str(&p.to_string_lossy())
    }

    /// An unsigned number.
    pub fn num(n: impl Into<u64>) -> Json {
        Json(n.into().to_string())
    }

    /// `true` or `false`.
    pub fn bool(b: bool) -> Json {
        Json(b.to_string())
    }

    /// An array of values.
    pub fn array(items: impl IntoIterator<Item = Json>) -> Json {
        let parts: Vec<String> = items.into_iter().map(|j| j.0).collect();
        Json(format!("[{}]", parts.join(",")))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Builds an object field by field, in order.
#[derive(Debug, Default)]
pub struct Object {
    fields: Vec<String>,
}

impl Object {
    /// An empty object.
    pub fn new() -> Object {
        Object::default()
    }

    /// Adds `key: value`.
    pub fn field(mut self, key: &str, value: Json) -> Object {
        self.fields.push(format!("{}:{}", Json::str(key).0, value.0));
        self
    }

    /// The finished object.
    pub fn build(self) -> Json {
        Json(format!("{{{}}}", self.fields.join(",")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(Json::str("a\"b\\c\nd\u{1}é").as_str(), r#""a\"b\\c\nd\u0001é""#);
    }

    #[test]
    fn objects_and_arrays_nest() {
        let j = Object::new()
            .field("n", Json::num(3u64))
            .field("xs", Json::array([Json::bool(true), Json::null()]))
            .field("o", Object::new().build())
            .build();
        assert_eq!(j.as_str(), r#"{"n":3,"xs":[true,null],"o":{}}"#);
    }
}
