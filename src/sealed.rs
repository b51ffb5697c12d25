//! Sealed JSON documents: the metadata files (backup manifests,
//! `latest.json`, leases, `CHECKPOINT`) as one JSON object written by
//! `serde_json`, one member per line, whose last member is a checksum of
//! every byte before it, so damage is detected before a single field is
//! believed (`docs/FORMAT.md`, "Sealed documents").
//!
//! ```text
//! {
//!   "format": "cairndb-backup-manifest",
//!   "format_version": 3,
//!   ...,
//!   "checksum": "0123456789abcdef"
//! }
//! ```
//!
//! `checksum` is the xxh3-64, as 16 lowercase hex digits, of every byte
//! before its line. The document ends with that line, `}` and a newline.
//! Behind the seal, the object without its `checksum` is the document's
//! struct, which refuses unknown and duplicate members.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::wire::checksum;
use crate::{Error, Result};

const CHECKSUM_LINE_START: &str = "  \"checksum\": \"";
const END: &str = "\"\n}\n";
const CHECKSUM_HEX_DIGITS: usize = 16;
const TAIL_BYTES: usize = CHECKSUM_LINE_START.len() + CHECKSUM_HEX_DIGITS + END.len();
/// How the last member before the checksum line ends.
const BODY_END: &[u8] = b",\n";
/// How `serde_json`'s pretty printer closes an object.
const PRETTY_CLOSE: &[u8] = b"\n}";

/// The two members every sealed document starts with, read first so that a
/// document of another kind or version is reported as that, not as the
/// members it has that this build does not know.
#[derive(serde::Deserialize)]
struct Header {
    format: String,
    format_version: u64,
}

/// The bytes of `document` (a struct with at least one member, its first
/// two `format` and `format_version`), sealed by a checksum.
pub fn seal<T: Serialize>(document: &T) -> Vec<u8> {
    let mut text = serde_json::to_vec_pretty(document).expect("a document of strings and integers serializes");
    assert!(text.starts_with(b"{\n") && text.ends_with(PRETTY_CLOSE), "a document is a non-empty object");
    text.truncate(text.len() - PRETTY_CLOSE.len());
    text.extend_from_slice(BODY_END);
    let sum = checksum(&text);
    let mut tail = String::with_capacity(TAIL_BYTES);
    let _ = write!(tail, "{CHECKSUM_LINE_START}{sum:016x}{END}");
    text.extend_from_slice(tail.as_bytes());
    text
}

/// Checks the seal of the document read from `location`, that it is
/// `format` at `format_version`, and parses it as a `T`. Damage, another
/// format or version, unknown, duplicate, missing or mistyped members are
/// [`Error::Corruption`] naming `location`; never panics.
pub fn unseal<T: DeserializeOwned>(location: &Path, bytes: &[u8], format: &str, format_version: u64) -> Result<T> {
    let bad = |offset: usize, what: String| Error::corruption(location, offset as u64, what);
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
    let Some(members) = bytes[..body_end].strip_suffix(BODY_END) else {
        return Err(bad(body_end, "the checksum is not the last member".into()));
    };
    // The object without its checksum member, lines as in the file.
    let mut object = Vec::with_capacity(members.len() + PRETTY_CLOSE.len());
    object.extend_from_slice(members);
    object.extend_from_slice(PRETTY_CLOSE);
    let header: Header =
        serde_json::from_slice(&object).map_err(|e| bad(0, format!("not a sealed JSON document: {e}")))?;
    if header.format != format {
        return Err(bad(0, format!("format {:?}, expected {format:?}", header.format)));
    }
    if header.format_version != format_version {
        let found = header.format_version;
        return Err(bad(0, format!("format version {found} is not supported (this build reads {format_version})")));
    }
    serde_json::from_slice(&object).map_err(|e| bad(0, format!("not a valid {format} document: {e}")))
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        format: String,
        format_version: u64,
        n: u64,
        list: Vec<u64>,
        text: String,
    }

    fn sample() -> Doc {
        Doc { format: "x".into(), format_version: 2, n: 7, list: vec![1, 2], text: "a\"\\\n\u{1}é😀".into() }
    }

    /// Reseals a hand-edited document so only the edit is judged.
    fn resealed(edit: impl Fn(&str) -> String) -> Vec<u8> {
        let text = String::from_utf8(seal(&sample())).unwrap();
        let body = edit(&text[..text.rfind(CHECKSUM_LINE_START).unwrap()]);
        format!("{body}{CHECKSUM_LINE_START}{:016x}{END}", checksum(body.as_bytes())).into_bytes()
    }

    #[test]
    fn sealed_documents_round_trip_and_every_flip_is_caught() {
        let bytes = seal(&sample());
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("{\n  \"format\": \"x\",\n  \"format_version\": 2,\n  \"n\": 7,\n"), "{text}");
        assert_eq!(unseal::<Doc>(Path::new("doc"), &bytes, "x", 2).unwrap(), sample());
        for bit in 0..bytes.len() * 8 {
            let mut bad = bytes.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(unseal::<Doc>(Path::new("doc"), &bad, "x", 2).unwrap_err().is_corruption(), "bit {bit}");
        }
        for len in 0..bytes.len() {
            assert!(unseal::<Doc>(Path::new("doc"), &bytes[..len], "x", 2).unwrap_err().is_corruption(), "len {len}");
        }
    }

    #[test]
    fn what_a_document_never_holds_is_refused_behind_the_seal() {
        type Edit = fn(&str) -> String;
        let cases: [(&str, &str, Edit); 12] = [
            ("unknown field", "extra", |t| t.replacen("\"n\": 7,", "\"n\": 7,\n  \"extra\": 1,", 1)),
            ("duplicate field", "duplicate", |t| t.replacen("\"n\": 7,", "\"n\": 7,\n  \"n\": 8,", 1)),
            ("missing field", "missing", |t| t.replacen("  \"n\": 7,\n", "", 1)),
            ("fraction", "floating", |t| t.replacen("\"n\": 7,", "\"n\": 7.5,", 1)),
            ("exponent", "floating", |t| t.replacen("\"n\": 7,", "\"n\": 7e3,", 1)),
            ("negative", "integer", |t| t.replacen("\"n\": 7,", "\"n\": -7,", 1)),
            ("too large", "floating", |t| t.replacen("\"n\": 7,", "\"n\": 18446744073709551616,", 1)),
            ("leading zero", "", |t| t.replacen("\"n\": 7,", "\"n\": 07,", 1)),
            ("lone surrogate", "escape", |t| t.replacen("\"text\": \"", "\"text\": \"\\ud800", 1)),
            ("other format", "format \"y\"", |t| t.replacen("\"format\": \"x\"", "\"format\": \"y\"", 1)),
            ("other version", "version 3", |t| t.replacen("\"format_version\": 2", "\"format_version\": 3", 1)),
            ("checksum inside", "unknown field", |t| t.replacen("\"n\": 7,", "\"n\": 7,\n  \"checksum\": \"0\",", 1)),
        ];
        for (what, says, edit) in cases {
            let err = unseal::<Doc>(Path::new("doc"), &resealed(edit), "x", 2).unwrap_err();
            assert!(err.is_corruption() && err.to_string().contains(says), "{what}: {err}");
            assert!(err.to_string().contains("doc"), "{what}: {err}");
        }
        assert_eq!(unseal::<Doc>(Path::new("doc"), &resealed(str::to_owned), "x", 2).unwrap(), sample());
    }
}
