//! `--hex` keys and values on the command line and in output, and `get
//! --raw` for piping a value's bytes, run through the real binary.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn cairn<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_cairn")).args(args).env_remove("RUST_LOG").output().expect("run cairn")
}

fn ok<I, S>(args: I) -> Vec<u8>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = cairn(args);
    assert!(out.status.success(), "status {:?}, stderr: {}", out.status, String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn hex_keys_and_values_go_in_and_come_out_as_hex() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    // A key with a NUL and a non-UTF-8 byte; a value with a newline.
    ok(["put", s(&db), "--hex", "00ff6b", "0a76", "--create"]);
    ok(["put", s(&db), "plain", "text"]);
    assert_eq!(ok(["get", s(&db), "--hex", "00FF6B"]), b"0a76\n", "upper case hex is read too");
    assert_eq!(ok(["get", s(&db), "\\x00\\xffk"]), b"\\nv\n", "the same key, escaped");
    assert_eq!(ok(["scan", s(&db), "--hex"]), b"00ff6b\t0a76\n706c61696e\t74657874\n");
    ok(["delete", s(&db), "--hex", "00ff6b"]);
    assert_eq!(ok(["scan", s(&db)]), b"plain\ttext\n");
}

#[test]
fn raw_prints_the_value_bytes_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let value: Vec<u8> = (0..=255u8).collect();
    let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
    ok(["put", s(&db), "--hex", "6b", &hex, "--create"]);
    assert_eq!(ok(["get", s(&db), "k", "--raw"]), value, "every byte, unescaped, no newline added");
    // Piped into another process, byte for byte.
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["get", s(&db), "k", "--raw"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let counted = Command::new("wc").arg("-c").stdin(child.stdout.take().unwrap()).output().unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(String::from_utf8_lossy(&counted.stdout).trim(), "256");
}

#[test]
fn bad_hex_is_a_usage_error_that_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    ok(["put", s(&db), "k", "v", "--create"]);
    for (args, why) in [
        (vec!["get", s(&db), "--hex", "6"], "odd number of hex digits"),
        (vec!["get", s(&db), "--hex", "6x"], "not a hex digit"),
        (vec!["put", s(&db), "--hex", "6b", "zz"], "not a hex digit"),
        (vec!["scan", s(&db), "--hex", "--prefix", "abc"], "odd number of hex digits"),
    ] {
        let out = cairn(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(err.contains(why), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert_eq!(ok(["get", s(&db), "k"]), b"v\n", "nothing was written");
}
