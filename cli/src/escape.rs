//! Keys, values and paths as text: printed safely, and read back from
//! arguments.
//!
//! Printable characters (ASCII and other Unicode) appear as they are; a
//! backslash is `\\`; tab, newline and carriage return are `\t`, `\n`, `\r`;
//! other ASCII control characters and bytes that are not UTF-8 are `\xNN`;
//! other invisible or reordering characters `\u{..}`. [`parse`] accepts the
//! same escapes, so printed keys can be pasted back into a command. Paths
//! print the same way ([`path`]), in text and JSON alike: a file name can
//! hold any byte but `/` and NUL, and none may break a line or reach the
//! terminal raw.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;

/// `bytes` as one line of text that is safe for a terminal.
pub fn show(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut out, c);
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// `path`'s bytes as [`show`] writes them: what every command prints for a path.
pub fn path(path: &Path) -> String {
    show(path.as_os_str().as_bytes())
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c if c.is_ascii_control() => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// Characters that could move the cursor, reorder text or hide themselves.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}')
}

/// The bytes an argument stands for, with its escapes undone.
pub fn parse(arg: &OsStr) -> Result<Vec<u8>, String> {
    let bytes = arg.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        i += unescape(&bytes[i + 1..], &mut out).map_err(|what| format!("{what} in '{}'", arg.to_string_lossy()))? + 1;
    }
    Ok(out)
}

/// Decodes the escape after a backslash into `out`; returns its length.
fn unescape(rest: &[u8], out: &mut Vec<u8>) -> Result<usize, &'static str> {
    match rest.first() {
        Some(b'\\') => out.push(b'\\'),
        Some(b't') => out.push(b'\t'),
        Some(b'n') => out.push(b'\n'),
        Some(b'r') => out.push(b'\r'),
        Some(b'x') => {
            let hex = rest.get(1..3).ok_or("\\x needs two hex digits")?;
            let text = std::str::from_utf8(hex).map_err(|_| "\\x needs two hex digits")?;
            out.push(u8::from_str_radix(text, 16).map_err(|_| "\\x needs two hex digits")?);
            return Ok(3);
        }
        Some(b'u') => return unescape_unicode(rest, out),
        _ => return Err("unknown escape (use \\\\ for a backslash)"),
    }
    Ok(1)
}

fn unescape_unicode(rest: &[u8], out: &mut Vec<u8>) -> Result<usize, &'static str> {
    const BAD: &str = "\\u needs the form \\u{hex}";
    let body = rest.strip_prefix(b"u{").ok_or(BAD)?;
    let end = body.iter().position(|&b| b == b'}').ok_or(BAD)?;
    let text = std::str::from_utf8(&body[..end]).map_err(|_| BAD)?;
    let code = u32::from_str_radix(text, 16).map_err(|_| BAD)?;
    let c = char::from_u32(code).ok_or("\\u{..} is not a Unicode scalar value")?;
    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    Ok(2 + end + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_text_is_unchanged() {
        assert_eq!(show(b"user:42 caf\xc3\xa9"), "user:42 café");
    }

    #[test]
    fn control_and_invalid_bytes_are_escaped() {
        assert_eq!(show(b"a\\b\tc\n\x1b[2J\xff\x00"), "a\\\\b\\tc\\n\\x1b[2J\\xff\\x00");
        assert_eq!(show("x\u{202e}y\u{85}".as_bytes()), "x\\u{202e}y\\u{85}");
    }

    #[test]
    fn paths_show_their_bytes() {
        let odd = Path::new(OsStr::from_bytes(b"/data/a\nb\\c\xff"));
        assert_eq!(path(odd), "/data/a\\nb\\\\c\\xff");
        assert_eq!(parse(OsStr::new(&path(odd))).unwrap(), odd.as_os_str().as_bytes());
        assert_eq!(path(Path::new("/plain/caf\u{e9}")), "/plain/café");
    }

    #[test]
    fn parse_undoes_show() {
        let samples: [&[u8]; 5] = [b"plain", b"\\", b"\xff\xfe\x00\x1b", "é\u{202e}\u{85}".as_bytes(), b"\r\n\t"];
        for bytes in samples {
            let shown = show(bytes);
            assert_eq!(parse(OsStr::new(&shown)).unwrap(), bytes, "{shown}");
        }
    }

    #[test]
    fn parse_rejects_bad_escapes() {
        for bad in ["\\", "\\q", "\\x4", "\\xzz", "\\u{110000}", "\\u{41"] {
            assert!(parse(OsStr::new(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn parse_keeps_raw_non_utf8_arguments() {
        assert_eq!(parse(OsStr::from_bytes(b"k\xff")).unwrap(), b"k\xff");
    }
}
