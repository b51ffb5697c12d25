//! `cairn sst dump` and `cairn sst verify` on a table and a blob file made
//! by a real flush, and on bit-flipped copies of them.

use std::path::{Path, PathBuf};

mod common;
use common::{cairn, ok, s};

/// A flushed database: 400 small values (one deleted), one blob-sized
/// value; returns its table and its blob file.
fn flushed(dir: &Path) -> (PathBuf, PathBuf) {
    let path = dir.join("db");
    let db = cairndb::Config::new(&path).blob_threshold_bytes(1000).open().unwrap();
    for i in 0..400u32 {
        db.put(format!("key{i:03}"), format!("value {i} {}", "x".repeat(i as usize % 50))).unwrap();
    }
    db.delete("key007").unwrap();
    db.put("big\u{1b}", vec![0xabu8; 5000]).unwrap();
    db.flush().unwrap();
    drop(db);
    let only = |folder: &str| std::fs::read_dir(path.join(folder)).unwrap().next().unwrap().unwrap().path();
    (only("tables"), only("blobs"))
}

/// A copy of `file` named `name` with one bit flipped at a third of its length.
fn flipped(file: &Path, name: &str) -> PathBuf {
    let mut bytes = std::fs::read(file).unwrap();
    let at = bytes.len() / 3;
    bytes[at] ^= 0x04;
    let copy = file.parent().unwrap().parent().unwrap().parent().unwrap().join(name);
    std::fs::write(&copy, bytes).unwrap();
    copy
}

#[test]
fn dump_prints_every_entry_of_a_table_with_seqno_and_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (table, blob) = flushed(dir.path());
    let text = ok(&["sst", "dump", s(&table)]);
    assert!(text.starts_with(&format!("file          {}\nkind          table\n", s(&table))), "{text}");
    assert!(text.contains("entries       401 (399 values, 1 tombstone, 1 blob reference)"), "{text}");
    let entries: Vec<&str> = text.lines().filter(|l| l.contains('\t')).collect();
    assert_eq!(entries.len(), 401, "{text}");
    let blob_id = blob.file_stem().unwrap().to_str().unwrap();
    let reference = format!("big\\x1b\t402\tblob\tfile {blob_id}, offset 0, ");
    assert!(entries[0].starts_with(&reference) && entries[0].ends_with(" bytes"), "{}", entries[0]);
    assert!(entries.contains(&"key000\t1\tvalue\tvalue 0 "), "{text}");
    // The delete (seqno 401) shadowed the put (seqno 8) before the flush,
    // which kept the tombstone alone.
    let at = entries.iter().position(|l| l.starts_with("key007\t")).unwrap();
    assert_eq!(entries[at], "key007\t401\ttombstone\t");
    assert!(entries[at + 1].starts_with("key008\t9\tvalue\t"), "{}", entries[at + 1]);

    let hex = ok(&["sst", "dump", s(&table), "--hex"]);
    assert!(hex.lines().any(|l| l == "6b6579303030\t1\tvalue\t76616c7565203020"), "key000 in hex:\n{hex}");
}

#[test]
fn dump_and_verify_a_blob_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_, blob) = flushed(dir.path());
    let text = ok(&["sst", "dump", s(&blob)]);
    let id = blob.file_stem().unwrap().to_str().unwrap();
    assert!(text.contains(&format!("kind          blob file {id}\n")) && text.contains("records       1,"), "{text}");
    let record = text.lines().find(|l| l.contains('\t')).unwrap();
    assert_eq!(record, format!("big\\x1b\t402\t0\t{}", "\\xab".repeat(5000)));
    let verified = ok(&["sst", "verify", s(&blob)]);
    assert!(verified.contains("result        ok: every checksum matches"), "{verified}");

    let damaged = flipped(&blob, "damaged.blob");
    let out = cairn(&["sst", "verify", s(&damaged)]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("result        DAMAGED at offset 0: "), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("cairn sst verify: corruption in ") && stderr.contains("at offset 0"), "{stderr}");
}

#[test]
fn verify_passes_an_intact_table_and_names_the_offset_of_damage_in_a_flipped_copy() {
    let dir = tempfile::tempdir().unwrap();
    let (table, _) = flushed(dir.path());
    let text = ok(&["sst", "verify", s(&table)]);
    assert!(text.contains("result        ok: every checksum matches"), "{text}");
    assert!(text.contains("401 entries in 6 data blocks"), "{text}");
    let json = ok(&["sst", "verify", s(&table), "--json"]);
    assert!(json.starts_with(&format!("{{\"path\":\"{}\",\"kind\":\"table\",\"ok\":true,", s(&table))), "{json}");
    assert!(json.contains("\"damage\":null"), "{json}");

    let damaged = flipped(&table, "damaged.sst");
    let out = cairn(&["sst", "verify", s(&damaged)]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("result        DAMAGED at offset "), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with(&format!("cairn sst verify: corruption in {} at offset ", s(&damaged))), "{stderr}");
    let out = cairn(&["sst", "verify", s(&damaged), "--json"]);
    let json = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(json.contains("\"ok\":false,") && json.contains("\"damage\":{\"offset\":"), "{json}");
    // A dump of it stops at the damage, with the same line.
    let out = cairn(&["sst", "dump", s(&damaged)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("corruption in "),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_kind_comes_from_the_name_or_from_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (table, _) = flushed(dir.path());
    let renamed = dir.path().join("table-copy");
    std::fs::copy(&table, &renamed).unwrap();
    let out = cairn(&["sst", "verify", s(&renamed)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--kind"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(ok(&["sst", "verify", s(&renamed), "--kind", "table"]).contains("result        ok"));
    // A table read as a blob file is corruption (no blob footer), not a panic.
    let out = cairn(&["sst", "verify", s(&renamed), "--kind", "blob"]);
    assert_eq!(out.status.code(), Some(1));
    let out = cairn(&["sst", "dump", s(&dir.path().join("missing.sst"))]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("cairn sst dump: cannot open "));
}
