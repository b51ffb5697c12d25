//! `cairn dump` and `cairn load` as a user runs them: `dump | load`
//! through a real pipe between two processes gives a database equal to
//! the source (binary and empty keys, empty values, values stored in blob
//! files, deleted keys absent), checked against a model; a checkpoint's
//! dump is exact at its seqno; a non-empty target is refused unless
//! `--force`; truncated and bit-flipped dumps are refused, and a database
//! `--create` made for them is removed.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// The default blob threshold: values this long go to blob files.
const BLOB_BYTES: usize = 4 << 10;

fn cairn<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_cairn")).args(args).env_remove("RUST_LOG").output().expect("run cairn")
}

fn ok<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = cairn(args);
    assert!(out.status.success(), "status {:?}, stderr: {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Fails with status 1 and one line on stderr, which it returns.
fn fails<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = cairn(args);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn contents(path: &Path) -> Model {
    let db = cairndb::Config::new(path).read_only(true).open().unwrap();
    db.iter().map(|kv| kv.unwrap()).collect()
}

/// A source database written through the library, flushed twice so its
/// tables hold tombstones over older tables, with blob files; and its model.
fn source(dir: &Path) -> (PathBuf, Model) {
    let path = dir.join("source");
    let db = cairndb::Config::new(&path).open().unwrap();
    let mut model = Model::new();
    let mut put = |key: Vec<u8>, value: Vec<u8>| {
        db.put(&key, &value).unwrap();
        model.insert(key, value);
    };
    put(Vec::new(), b"the empty key".to_vec());
    put(b"empty value".to_vec(), Vec::new());
    for i in 0..300u32 {
        let key = [&[0xff, 0x00, b'\n'][..], &i.to_be_bytes()].concat();
        let value = match i % 50 {
            0 => (0..BLOB_BYTES * 3 + i as usize).map(|b| (b * 7 + i as usize) as u8).collect(),
            _ => format!("value {i}\t\x1b").into_bytes(),
        };
        put(key, value);
    }
    db.flush().unwrap();
    for i in (0..300u32).step_by(3) {
        let key = [&[0xff, 0x00, b'\n'][..], &i.to_be_bytes()].concat();
        db.delete(&key).unwrap();
        model.remove(&key);
    }
    db.flush().unwrap();
    db.put(b"in the memtable", b"only").unwrap();
    model.insert(b"in the memtable".to_vec(), b"only".to_vec());
    db.persist().unwrap();
    assert!(!db.version().blob_files.is_empty(), "blob-sized values are in blob files");
    drop(db);
    assert_eq!(contents(&path), model);
    (path, model)
}

#[test]
fn dump_piped_into_load_equals_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let (source, model) = source(dir.path());
    let target = dir.path().join("target");
    let mut dump = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["dump", s(&source)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let load = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["load", s(&target), "--create", "--json"])
        .stdin(dump.stdout.take().unwrap())
        .output()
        .unwrap();
    let dumped = dump.wait_with_output().unwrap();
    assert!(dumped.status.success() && dumped.stderr.is_empty(), "{}", String::from_utf8_lossy(&dumped.stderr));
    assert!(load.status.success(), "{}", String::from_utf8_lossy(&load.stderr));
    let json = String::from_utf8(load.stdout).unwrap();
    assert!(json.contains(&format!("\"file\":null,\"created\":true,\"records\":{},", model.len())), "{json}");
    assert_eq!(contents(&target), model);
}

#[test]
fn a_dump_of_a_checkpoint_is_exact_at_its_seqno() {
    let dir = tempfile::tempdir().unwrap();
    let (source, model) = source(dir.path());
    let checkpoint = dir.path().join("checkpoint");
    ok(["checkpoint", s(&source), s(&checkpoint)]);
    ok(["put", s(&source), "after", "the checkpoint"]);
    ok(["delete", s(&source), "empty value"]);
    let file = dir.path().join("checkpoint.dump");
    let json = ok(["dump", s(&checkpoint), s(&file), "--json"]);
    let seqno = contents_seqno(&checkpoint);
    assert!(json.contains(&format!("\"seqno\":{seqno},\"records\":{},", model.len())), "{json}");
    let text = ok(["load", s(&dir.path().join("copy")), s(&file), "--create"]);
    assert!(text.contains(&format!("a dump at seqno {seqno}, every checksum verified")), "{text}");
    assert_eq!(contents(&dir.path().join("copy")), model);
}

fn contents_seqno(path: &Path) -> u64 {
    cairndb::Config::new(path).read_only(true).open().unwrap().stats().seqno.get()
}

#[test]
fn load_into_a_database_with_keys_is_refused_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let (source, mut model) = source(dir.path());
    let file = dir.path().join("dump");
    ok(["dump", s(&source), s(&file)]);
    let target = dir.path().join("target");
    ok(["put", s(&target), "mine", "kept", "--create"]);
    ok(["put", s(&target), "empty value", "overwritten"]);
    let err = fails(["load", s(&target), s(&file)]);
    assert!(err.contains("holds keys already") && err.contains("--force"), "{err}");
    assert_eq!(contents(&target).len(), 2, "nothing was loaded");
    ok(["load", s(&target), s(&file), "--force"]);
    model.insert(b"mine".to_vec(), b"kept".to_vec());
    assert_eq!(contents(&target), model, "the dump's keys set, the others kept");
}

#[test]
fn truncated_and_flipped_dumps_are_refused_and_a_created_database_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (source, _) = source(dir.path());
    let file = dir.path().join("dump");
    ok(["dump", s(&source), s(&file)]);
    let bytes = std::fs::read(&file).unwrap();
    let damaged = dir.path().join("damaged");
    let target = dir.path().join("target");
    let cuts = [0, 10, 40, bytes.len() / 2, bytes.len() - 30, bytes.len() - 1];
    let flips = [3, 20, 33, 45, bytes.len() / 3, bytes.len() - 20, bytes.len() - 2];
    // A bad header (its 32 bytes) stops the load before it makes the database.
    for (what, bad, in_header) in cuts
        .iter()
        .map(|&len| (format!("cut to {len}"), bytes[..len].to_vec(), len < 32))
        .chain(flips.iter().map(|&at| {
            let mut bad = bytes.clone();
            bad[at] ^= 0x04;
            (format!("byte {at} flipped"), bad, at < 32)
        }))
    {
        std::fs::write(&damaged, &bad).unwrap();
        let err = fails(["load", s(&target), s(&damaged), "--create"]);
        assert!(
            err.starts_with(&format!("cairn load: corruption in {} at offset ", damaged.display())),
            "{what}: {err}"
        );
        assert!(!target.exists(), "{what}: no database is left: {err}");
        assert_eq!(!err.contains("removed the database"), in_header, "{what}: {err}");
    }
    let err = fails(["load", s(&target), s(&dir.path().join("missing")), "--create"]);
    assert!(err.contains("cannot open") && !target.exists(), "{err}");
}

#[test]
fn dump_refuses_an_existing_file_and_json_without_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let (source, _) = source(dir.path());
    let file = dir.path().join("dump");
    std::fs::write(&file, b"precious").unwrap();
    let err = fails(["dump", s(&source), s(&file)]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), b"precious");
    assert_eq!(cairn(["dump", s(&source), "--json"]).status.code(), Some(2), "--json needs FILE");
}
