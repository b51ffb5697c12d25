//! A writable open that fails changes nothing: a directory that is empty,
//! that holds something else, or that is a backup store is left exactly
//! as it was (no `LOCK`, no folders), through the API and through `cairn`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use cairndb::backup::{BackupEngine, DirStore};
use cairndb::fs::{FileKind, Fs, MemFs, StdFs, read_to_vec};
use cairndb::{Config, Db};

/// Every entry below `dir`: its kind, and a file's bytes.
fn listing(fs: &dyn Fs, dir: &Path) -> BTreeMap<PathBuf, (FileKind, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in fs.read_dir(&at).unwrap() {
            let path = at.join(&entry.name);
            let bytes = if entry.kind == FileKind::File { read_to_vec(fs, &path).unwrap() } else { Vec::new() };
            if entry.kind == FileKind::Dir {
                stack.push(path.clone());
            }
            out.insert(path.strip_prefix(dir).unwrap().to_path_buf(), (entry.kind, bytes));
        }
    }
    out
}

/// The directories a failed open must leave alone, made in `root`: empty,
/// holding someone else's files, and a backup store with one backup.
fn not_databases(fs: &Arc<dyn Fs>, root: &Path) -> Vec<PathBuf> {
    let empty = root.join("empty");
    fs.create_dir_all(&empty).unwrap();
    let other = root.join("other");
    fs.create_dir_all(&other.join("sub")).unwrap();
    fs.open(&other.join("notes.txt"), cairndb::fs::OpenOptions::create_new())
        .unwrap()
        .write_all_at(b"not ours", 0)
        .unwrap();
    let store = root.join("store");
    let db = Config::new(root.join("db")).fs(Arc::clone(fs)).open().unwrap();
    db.put("k", "v").unwrap();
    let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::clone(fs), &store).unwrap())).local_fs(Arc::clone(fs));
    engine.create_backup(&db).unwrap();
    vec![empty, other, store]
}

fn failed_opens_change_nothing(fs: Arc<dyn Fs>, root: &Path) {
    for dir in not_databases(&fs, root) {
        let before = listing(&*fs, &dir);
        for create in [false, true] {
            if create && before.is_empty() {
                continue; // An empty directory may become a database.
            }
            let result = Config::new(&dir).fs(Arc::clone(&fs)).create_if_missing(create).open();
            assert!(result.is_err(), "{} (create: {create}) is no database", dir.display());
            assert_eq!(listing(&*fs, &dir), before, "{} (create: {create}) changed", dir.display());
        }
    }
    let missing = root.join("missing");
    assert!(Config::new(&missing).fs(Arc::clone(&fs)).create_if_missing(false).open().is_err());
    assert!(!fs.exists(&missing).unwrap());
}

#[test]
fn failed_opens_change_nothing_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    failed_opens_change_nothing(Arc::new(StdFs::new()), dir.path());
}

#[test]
fn failed_opens_change_nothing_on_memfs() {
    failed_opens_change_nothing(Arc::new(MemFs::new()), Path::new("/root"));
}

#[test]
fn failed_cairn_commands_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let fs: Arc<dyn Fs> = Arc::new(StdFs::new());
    let never = tmp.path().join("never");
    let never = never.to_str().unwrap();
    for dir in not_databases(&fs, tmp.path()) {
        let before = listing(&*fs, &dir);
        let mut commands =
            vec![vec!["put", "k", "v"], vec!["delete", "k"], vec!["checkpoint", never], vec!["backup", never]];
        if !before.is_empty() {
            commands.push(vec!["put", "k", "v", "--create"]);
        }
        for args in commands {
            let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
            match args[0] {
                // `cairn backup create DB STORE`.
                "backup" => command.args(["backup", "create"]).arg(&dir).args(&args[1..]),
                _ => command.arg(args[0]).arg(&dir).args(&args[1..]),
            };
            command.env_remove("RUST_LOG");
            let out = command.output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?} in {}: {stderr}", dir.display());
            assert_eq!(listing(&*fs, &dir), before, "{args:?} changed {}", dir.display());
        }
    }
    assert!(!Path::new(never).exists(), "no checkpoint or store was made");
    // The directory a failed command named is still usable as intended.
    let empty = tmp.path().join("empty");
    assert!(Db::open(&empty).is_ok(), "an empty directory can still become a database");
}
