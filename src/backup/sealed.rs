//! Sealed JSON documents: a JSON object, one member per line, whose last
//! member is a checksum of every byte before it, so damage is detected
//! before a single field is believed.
//!
//! ```text
//! {
//!   "format": "cairndb-backup-manifest",
//!   ...,
//!   "checksum": "0123456789abcdef"
//! }
//! ```
//!
//! `checksum` is the xxh3-64, as 16 lowercase hex digits, of every byte
//! before its line. The document ends with that line, `}` and a newline.

use std::fmt::Write as _;
use std::path::Path;

use super::json::{self, Json};
use crate::wire::checksum;
use crate::{Error, Result};

const CHECKSUM_LINE_START: &str = "  \"checksum\": \"";
const END: &str = "\"\n}\n";
const CHECKSUM_HEX_DIGITS: usize = 16;
const TAIL_BYTES: usize = CHECKSUM_LINE_START.len() + CHECKSUM_HEX_DIGITS + END.len();

/// The document with `members` (each `(name, value text)`; the value text
/// may span lines), sealed by a checksum.
pub fn seal(members: &[(&str, String)]) -> Vec<u8> {
    let mut text = String::from("{\n");
    for (name, value) in members {
        text.push_str("  ");
        json::write_string(&mut text, name);
        text.push_str(": ");
        text.push_str(value);
        text.push_str(",\n");
    }
    let sum = checksum(text.as_bytes());
    let _ = write!(text, "{CHECKSUM_LINE_START}{sum:016x}{END}");
    text.into_bytes()
}

/// Checks the seal of the document read from `location` and parses it; the
/// result is an object whose last member is `checksum`. Damage is
/// [`Error::Corruption`].
pub fn unseal(location: &str, bytes: &[u8]) -> Result<Json> {
    let bad = |offset: usize, what: String| Error::corruption(Path::new(location), offset as u64, what);
    let Some(body_end) = bytes.len().checked_sub(TAIL_BYTES) else {
        return Err(bad(0, format!("{} bytes is too short for a sealed document", bytes.len())));
    };
    let tail = &bytes[body_end..];
    let hex = &tail[CHECKSUM_LINE_START.len()..CHECKSUM_LINE_START.len() + CHECKSUM_HEX_DIGITS];
    let shaped = tail.starts_with(CHECKSUM_LINE_START.as_bytes())
        && tail.ends_with(END.as_bytes())
        && hex.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let stored = std::str::from_utf8(hex).ok().filter(|_| shaped).and_then(|h| u64::from_str_radix(h, 16).ok());
    let Some(stored) = stored else {
        return Err(bad(body_end, "no checksum line at the end".into()));
    };
    if checksum(&bytes[..body_end]) != stored {
        return Err(bad(body_end, "checksum mismatch: the document is damaged".into()));
    }
    let value = json::parse(bytes).map_err(|what| bad(0, format!("not valid JSON: {what}")))?;
    if value.keys().last() != Some(&"checksum") {
        return Err(bad(body_end, "the checksum is not the last member".into()));
    }
    Ok(value)
}

/// The members of a sealed object, checked to be exactly `expected` (in
/// any order) plus the final `checksum`.
pub fn members<'a>(location: &str, value: &'a Json, expected: &[&str]) -> Result<Fields<'a>> {
    let keys = value.keys();
    let unexpected = keys.iter().find(|k| **k != "checksum" && !expected.contains(k));
    if let Some(k) = unexpected {
        return Err(Error::corruption(Path::new(location), 0, format!("unexpected member {k:?}")));
    }
    Ok(Fields { location: location.to_owned(), value })
}

/// Typed access to the members of an object; a missing or mistyped member
/// is [`Error::Corruption`] naming it.
#[derive(Debug)]
pub struct Fields<'a> {
    location: String,
    value: &'a Json,
}

impl<'a> Fields<'a> {
    /// Fields of `value`, an object read from `location`.
    pub fn of(location: &str, value: &'a Json) -> Fields<'a> {
        Fields { location: location.to_owned(), value }
    }

    /// Corruption of the document, saying `what`.
    pub fn bad(&self, what: impl Into<String>) -> Error {
        Error::corruption(Path::new(&self.location), 0, what)
    }

    fn member(&self, name: &str) -> Result<&'a Json> {
        self.value.get(name).ok_or_else(|| self.bad(format!("missing {name:?}")))
    }

    /// The string member `name`.
    pub fn str(&self, name: &str) -> Result<&'a str> {
        self.member(name)?.as_str().ok_or_else(|| self.bad(format!("{name:?} is not a string")))
    }

    /// The number member `name`.
    pub fn u64(&self, name: &str) -> Result<u64> {
        self.member(name)?.as_u64().ok_or_else(|| self.bad(format!("{name:?} is not a whole number")))
    }

    /// The array member `name`.
    pub fn array(&self, name: &str) -> Result<&'a [Json]> {
        self.member(name)?.as_array().ok_or_else(|| self.bad(format!("{name:?} is not an array")))
    }

    /// Checks `format`, and that `format_version` is one of `versions`;
    /// returns it.
    pub fn check_format(&self, format: &str, versions: &[u64]) -> Result<u64> {
        let found = self.str("format")?;
        if found != format {
            return Err(self.bad(format!("format {found:?}, expected {format:?}")));
        }
        let found = self.u64("format_version")?;
        if !versions.contains(&found) {
            return Err(self.bad(format!("format version {found} is not supported (this build reads {versions:?})")));
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_documents_round_trip_and_every_flip_is_caught() {
        let bytes = seal(&[("format", "\"x\"".into()), ("n", "7".into()), ("list", "[\n    1,\n    2\n  ]".into())]);
        let value = unseal("doc", &bytes).unwrap();
        assert_eq!(value.get("n"), Some(&Json::Number(7)));
        assert_eq!(value.keys(), ["format", "n", "list", "checksum"]);
        for bit in 0..bytes.len() * 8 {
            let mut bad = bytes.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(unseal("doc", &bad).unwrap_err().is_corruption(), "bit {bit}");
        }
        for len in 0..bytes.len() {
            assert!(unseal("doc", &bytes[..len]).unwrap_err().is_corruption(), "len {len}");
        }
    }
}
