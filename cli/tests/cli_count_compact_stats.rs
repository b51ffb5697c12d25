//! `cairn count`, `cairn compact` and `cairn stats`, run as a user would.

use std::path::{Path, PathBuf};

mod common;
use common::{cairn, ok, s};

/// A database of `key000`..`key299` in four tables (the second and third
/// rewrite every third key, the fourth deletes three), plus a key in the
/// memtable.
fn layered(dir: &Path) -> PathBuf {
    let path = dir.join("db");
    // No background compaction of level 0 meanwhile.
    let db = cairndb::Config::new(&path).level0_trigger(100).open().unwrap();
    for round in 0..3u32 {
        for i in (0..300u32).filter(|i| i % 3 == round || round == 0) {
            db.put(format!("key{i:03}"), format!("value {i} round {round}")).unwrap();
        }
        db.flush().unwrap();
    }
    for i in 10..13 {
        db.delete(format!("key{i:03}")).unwrap();
    }
    db.flush().unwrap();
    db.put("key999", "in the memtable").unwrap();
    path
}

/// The `"name":N` number in a JSON line.
fn number(json: &str, name: &str) -> u64 {
    let at = json.find(&format!("\"{name}\":")).unwrap_or_else(|| panic!("{name} in {json}"));
    let digits: String = json[at + name.len() + 3..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("{name} is a number in {json}"))
}

/// Tables in every level, from `stats --json`.
fn tables(json: &str) -> u64 {
    json.split("\"tables\":").skip(1).map(|rest| number(&format!("\"n\":{rest}"), "n")).sum()
}

#[test]
fn count_counts_live_keys_in_a_range() {
    let dir = tempfile::tempdir().unwrap();
    let db = layered(dir.path());
    // 300 keys, 3 deleted, one more in the memtable.
    assert_eq!(ok(&["count", s(&db)]), "298\n");
    assert_eq!(ok(&["count", s(&db), "--from", "key010", "--to", "key020"]), "7\n", "key010..=key012 deleted");
    assert_eq!(ok(&["count", s(&db), "--prefix", "key9"]), "1\n");
    assert_eq!(ok(&["count", s(&db), "--hex", "--prefix", "6b65793239"]), "10\n", "key29: key290..key299");
    assert_eq!(ok(&["count", s(&db), "--to", "key", "--json"]), "{\"keys\":0}\n");
}

#[test]
fn compact_merges_every_table_into_one_run_and_keeps_every_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = layered(dir.path());
    let before = ok(&["scan", s(&db)]);
    assert!(tables(&ok(&["stats", s(&db), "--json"])) >= 3, "a table a flush");

    let text = ok(&["compact", s(&db)]);
    for label in ["compacted", "before", "after", "took"] {
        assert!(text.lines().any(|l| l.starts_with(label)), "{label} missing:\n{text}");
    }
    let after_line = text.lines().find(|l| l.starts_with("after")).unwrap();
    assert!(after_line.contains("1 table in level "), "{text}");
    assert_eq!(ok(&["scan", s(&db)]), before, "the same keys and values");
    assert!(ok(&["verify", s(&db)]).contains("result        ok"));

    // A second compaction finds one run already; its JSON says so.
    let json = ok(&["compact", s(&db), "--json"]);
    assert!(json.starts_with(&format!("{{\"path\":\"{}\",\"before\":{{\"levels\":[", s(&db))), "{json}");
    assert!(json.contains("\"after\":{\"levels\":[") && json.contains("\"duration_us\":"), "{json}");
    let stats = ok(&["stats", s(&db), "--json"]);
    let populated: Vec<&str> = stats.split("{\"level\":").skip(1).filter(|l| !l.contains("\"tables\":0,")).collect();
    assert_eq!(populated.len(), 1, "one level holds tables: {stats}");
    assert!(populated[0].contains("\"tables\":1,"), "one table: {stats}");
}

#[test]
fn stats_shows_every_figure_as_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = layered(dir.path());
    let text = ok(&["stats", s(&db)]);
    for label in
        ["seqno", "version", "memtable", "level ", "blob files", "open files", "flushes", "compactions", "write stalls"]
    {
        assert!(text.lines().any(|l| l.starts_with(label)), "{label} missing:\n{text}");
    }
    let json = ok(&["stats", s(&db), "--json"]);
    assert_eq!(json.lines().count(), 1, "{json}");
    for field in [
        "seqno",
        "version_id",
        "memtable_bytes",
        "frozen_memtables",
        "blob_files",
        "blob_bytes",
        "open_files",
        "max_open_files",
        "flushes",
        "compactions",
        "compaction_bytes_read",
        "compaction_bytes_written",
        "flush_bytes_written",
        "write_stalls",
        "write_stall_micros",
        "in_place_updates",
        "live_snapshots",
        "files_deleted",
    ] {
        number(&json, field);
    }
    assert!(json.contains("\"levels\":[{\"level\":0,\"tables\":") && json.contains("\"poisoned\":null"), "{json}");
    // 300 puts, 100 + 100 rewrites, 3 deletes and one more put.
    assert_eq!(number(&json, "seqno"), 300 + 200 + 3 + 1, "{json}");
    let missing = dir.path().join("missing");
    let out = cairn(&["stats", s(&missing)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no database here"));
}
