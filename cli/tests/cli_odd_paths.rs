//! Paths whose names hold a newline, a control character or bytes that
//! are not UTF-8, through `checkpoint`, `list`, `list --json` and `info`
//! (text and JSON): every path is printed escaped as keys are (`\n`,
//! `\xNN`, `\\`), so each stays on its line, nothing reaches the terminal
//! raw, and undoing the escapes gives back the path's bytes exactly; the
//! `CHECKPOINT` file keeps the source path's bytes.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt as _, OsStringExt as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use cairndb::checkpoint;
use cairndb::fs::StdFs;
use serde_json::Value;

/// Runs `cairn ARGS`, which must succeed; its stdout, which must be UTF-8.
fn ok(args: &[&OsStr]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_cairn")).args(args).env_remove("RUST_LOG").output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("output is UTF-8, whatever the paths")
}

/// The bytes an escaped path stands for (the escapes `cairn` prints).
fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let (&kind, tail) = rest.split_first().expect("an escape after \\");
        rest = tail;
        match kind {
            b'\\' => out.push(b'\\'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'x' => {
                out.push(u8::from_str_radix(std::str::from_utf8(&rest[..2]).unwrap(), 16).unwrap());
                rest = &rest[2..];
            }
            b'u' => {
                let end = rest.iter().position(|&b| b == b'}').unwrap();
                let code = u32::from_str_radix(std::str::from_utf8(&rest[1..end]).unwrap(), 16).unwrap();
                out.extend_from_slice(char::from_u32(code).unwrap().encode_utf8(&mut [0; 4]).as_bytes());
                rest = &rest[end + 1..];
            }
            other => panic!("unknown escape \\{}", other as char),
        }
    }
    out
}

fn bytes(path: &Path) -> &[u8] {
    path.as_os_str().as_bytes()
}

/// A newline, a terminal escape, bytes that are not UTF-8, a backslash.
fn odd_names() -> Vec<OsString> {
    [&b"line\nbreak"[..], b"esc\x1b[2Jhere", b"caf\xe9-\xff", b"back\\slash\\x41"]
        .map(|n| OsString::from_vec(n.to_vec()))
        .into()
}

/// The database, itself at an odd path, with a few keys.
fn database(root: &Path) -> PathBuf {
    let db = root.join(OsStr::from_bytes(b"src\n\xfedb"));
    let handle = cairndb::Db::open(&db).unwrap();
    handle.put("k", "v").unwrap();
    db
}

#[test]
fn odd_paths_round_trip_through_checkpoint_list_and_info() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let db = database(&root);
    let dir = root.join("cps");
    let mut targets = Vec::new();
    for name in odd_names() {
        let target = dir.join(&name);
        let text = ok(&["checkpoint".as_ref(), db.as_os_str(), target.as_os_str()]);
        assert_eq!(text.lines().count(), 7, "one line per field: {text:?}");
        let first = text.lines().next().unwrap();
        assert_eq!(unescape(first.strip_prefix("checkpoint    ").unwrap()), bytes(&target), "{first:?}");
        assert!(!text.contains('\x1b'), "{text:?}");
        targets.push(target);

        let mut json_name = name.clone();
        json_name.push("-json");
        let target = dir.join(json_name);
        let json: Value =
            serde_json::from_str(&ok(&["checkpoint".as_ref(), db.as_os_str(), target.as_os_str(), "--json".as_ref()]))
                .unwrap();
        assert_eq!(unescape(json["path"].as_str().unwrap()), bytes(&target), "{json}");
        targets.push(target);
    }

    let listed = ok(&["list".as_ref(), dir.as_os_str()]);
    let rows: Vec<&str> = listed.lines().collect();
    assert_eq!(rows.len(), 1 + targets.len(), "a header and one row per checkpoint: {listed:?}");
    let path_column = rows[0].find("path").unwrap();
    let mut shown: Vec<Vec<u8>> = rows[1..].iter().map(|row| unescape(&row[path_column..])).collect();
    let mut expected: Vec<Vec<u8>> = targets.iter().map(|t| bytes(t).to_vec()).collect();
    shown.sort();
    expected.sort();
    assert_eq!(shown, expected, "{listed:?}");

    let json: Value = serde_json::from_str(&ok(&["list".as_ref(), dir.as_os_str(), "--json".as_ref()])).unwrap();
    let rows = json.as_array().unwrap();
    let mut shown: Vec<Vec<u8>> = rows.iter().map(|r| unescape(r["path"].as_str().unwrap())).collect();
    shown.sort();
    assert_eq!(shown, expected, "{json}");
    for row in rows {
        assert_eq!(unescape(row["source"].as_str().unwrap()), bytes(&db), "{row}");
    }

    for target in &targets {
        // The CHECKPOINT file holds the source's bytes.
        let description = checkpoint::describe(&StdFs::new(), target).unwrap().unwrap();
        assert_eq!(description.source, db);

        let text = ok(&["info".as_ref(), target.as_os_str()]);
        let field = |label: &str| text.lines().find_map(|l| l.strip_prefix(label)).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(unescape(field("path          ")), bytes(target), "{text:?}");
        let source = field("checkpoint    yes: of ").split(", taken at seqno").next().unwrap();
        assert_eq!(unescape(source), bytes(&db), "{text:?}");
        assert!(!text.contains('\x1b'), "{text:?}");

        let json: Value = serde_json::from_str(&ok(&["info".as_ref(), target.as_os_str(), "--json".as_ref()])).unwrap();
        assert_eq!(unescape(json["path"].as_str().unwrap()), bytes(target), "{json}");
        assert_eq!(unescape(json["checkpoint"]["source"].as_str().unwrap()), bytes(&db), "{json}");
    }
}
