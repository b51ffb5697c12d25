//! `cairn info` and `cairn list` say what a database holds: the memtable's
//! data (not the log's address space), and whether a checkpoint still
//! holds what it was taken with or has been written since.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

fn ok<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = Command::new(env!("CARGO_BIN_EXE_cairn")).args(args).env_remove("RUST_LOG").output().unwrap();
    assert!(out.status.success(), "status {:?}, stderr: {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The number after `"name":` in one line of JSON.
fn json_number(json: &str, name: &str) -> u64 {
    let rest = json.split(&format!("\"{name}\":")).nth(1).unwrap_or_else(|| panic!("no {name} in {json}"));
    rest.split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

#[test]
fn info_reports_the_memtable_data_not_one_segment_per_open() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    ok(["put", s(&db), "key00", "value", "--create"]);
    for i in 1..23 {
        ok(["put", s(&db), &format!("key{i:02}"), "value"]);
    }
    let json = ok(["info", s(&db), "--json"]);
    // 23 records of a 40-byte header, a key and a value, each padded to 8 bytes.
    assert_eq!(json_number(&json, "memtable_bytes"), 23 * (40 + 8 + 8), "{json}");
    assert_eq!(json_number(&json, "memtable_keys"), 23, "{json}");
    let text = ok(["info", s(&db)]);
    let line = text.lines().find(|l| l.starts_with("memtable")).unwrap();
    assert_eq!(line, "memtable      23 keys, 1.26 KiB of records");
    // The log's disk space is the log's: 23 small segment files.
    let log = text.lines().find(|l| l.starts_with("log")).unwrap();
    assert!(log.ends_with("segments 0..=22 (23 files, 3.77 KiB on disk)"), "{log}");
}
#[test]
fn a_checkpoint_written_since_says_so_in_info_and_list() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    ok(["put", s(&db), "a", "1", "--create"]);
    ok(["put", s(&db), "b", "2"]);
    let cp = dir.path().join("checkpoints").join("cp");
    ok(["checkpoint", s(&db), s(&cp)]);
    let line = |text: &str| text.lines().find(|l| l.starts_with("checkpoint")).unwrap().to_owned();
    let before = line(&ok(["info", s(&cp)]));
    assert!(before.contains("at seqno 2,") && before.ends_with("; as taken"), "{before}");

    ok(["put", s(&cp), "c", "3"]);
    let info = ok(["info", s(&cp)]);
    let after = line(&info);
    assert!(after.contains("taken at seqno 2,"), "{after}");
    assert!(after.contains("written since: at seqno 3 as database "), "{after}");
    let json = ok(["info", s(&cp), "--json"]);
    assert!(
        json.contains("\"state\":{\"opened_for_writing\":true,\"written_since\":true,\"seqno\":3,\"database\":\""),
        "{json}"
    );

    let listing = ok(["list", s(&dir.path().join("checkpoints"))]);
    let row = listing.lines().nth(1).unwrap();
    assert!(row.contains("written since (at seqno 3)"), "{listing}");
    let json = ok(["list", s(&dir.path().join("checkpoints")), "--json"]);
    assert!(
        json.contains("\"seqno\":2,")
            && json.contains("\"state\":{\"opened_for_writing\":true,\"written_since\":true,\"seqno\":3,"),
        "{json}"
    );
}
