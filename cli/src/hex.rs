//! Keys and values as hex: two digits a byte, for `--hex`.

use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt as _;

use std::ffi::OsStr;

/// `bytes` as lower-case hex.
pub fn show(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The bytes a hex argument stands for (either case).
pub fn parse(arg: &OsStr) -> Result<Vec<u8>, String> {
    let text = arg.as_bytes();
    let shown = || arg.to_string_lossy();
    if let Some(i) = text.iter().position(|b| !b.is_ascii_hexdigit()) {
        return Err(format!(
            "'{}' is not a hex digit (at byte {i} of '{}')",
            shown().get(i..=i).unwrap_or("?"),
            shown()
        ));
    }
    if !text.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits in '{}' (two digits a byte)", shown()));
    }
    Ok(text.chunks(2).map(|pair| digit(pair[0]) << 4 | digit(pair[1])).collect())
}

fn digit(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => unreachable!("checked by parse"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_undoes_show() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(parse(OsStr::new(&show(&all))).unwrap(), all);
        assert_eq!(parse(OsStr::new("DEADbeef")).unwrap(), [0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(parse(OsStr::new("")).unwrap(), b"");
    }

    #[test]
    fn bad_hex_says_why() {
        assert!(parse(OsStr::new("abc")).unwrap_err().contains("odd number"));
        assert!(parse(OsStr::new("0g")).unwrap_err().contains("'g' is not a hex digit (at byte 1"));
        assert!(parse(OsStr::from_bytes(b"\xff0")).unwrap_err().contains("not a hex digit (at byte 0"));
    }
}
