//! Checkpoints open as databases holding exactly the writes up to their
//! seqno; they stay independent of the source in both directions; bad
//! targets are refused clearly; `verify` finds damage and `list` finds them.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use cairndb::checkpoint::{self, STAGING_PREFIX};
use cairndb::fs::{Fs, MemFs, OpenOptions, StdFs, remove_dir_all};
use cairndb::{CheckpointOptions, Config, Db, Error};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

fn config(fs: &MemFs, path: &str) -> Config {
    Config::new(path)
        .fs(Arc::new(fs.clone()))
        .memtable_size_bytes(64 << 10)
        .blob_threshold_bytes(500)
        .level0_trigger(2)
        .table_target_bytes(16 << 10)
        .background_threads(false)
}

fn contents(db: &Db) -> State {
    db.iter().map(|kv| kv.unwrap()).collect()
}

/// A source with tables, blob files, and both persisted and unpersisted
/// writes in the memtable.
fn source(fs: &MemFs) -> (Db, State) {
    let db = config(fs, "/db").open().unwrap();
    let mut model = State::new();
    for i in 0..3000u32 {
        let key = format!("key{:04}", (i * 13) % 1200).into_bytes();
        let value = if i % 50 == 0 { vec![(i % 256) as u8; 900] } else { format!("v{i}").into_bytes() };
        db.put(&key, &value).unwrap();
        model.insert(key, value);
        if i % 700 == 0 {
            db.delete(format!("key{:04}", i % 1200)).unwrap();
            model.remove(format!("key{:04}", i % 1200).as_bytes());
        }
    }
    db.persist().unwrap();
    db.put("unpersisted", "but acknowledged").unwrap();
    model.insert(b"unpersisted".to_vec(), b"but acknowledged".to_vec());
    assert!(db.version().table_count() > 0 && !db.version().blob_files.is_empty());
    (db, model)
}

#[test]
fn checkpoint_holds_exactly_the_source_state_flush_on_and_off() {
    for flush in [true, false] {
        let fs = MemFs::new();
        let (db, model) = source(&fs);
        let info = db.checkpoint_with("/backups/cp", CheckpointOptions::default().flush(flush)).unwrap();
        assert_eq!(info.path, Path::new("/backups/cp"));
        assert_eq!(info.seqno, db.stats().seqno, "nothing written since");
        let files = info.table_files + info.blob_files + info.log_segments;
        assert_eq!(info.hard_linked, files, "MemFs root: everything hard-linked, frozen log included");
        assert_eq!(info.bytes_copied, 0);
        assert_eq!(info.bytes_total, linked_bytes(&fs, &info.path));
        if flush {
            assert_eq!(info.log_segments, 0);
        } else {
            assert!(info.log_segments > 0, "the memtable travels as log: {info:?}");
        }
        let cp = config(&fs, "/backups/cp").open().unwrap();
        assert_eq!(contents(&cp), model, "flush={flush}");
        drop(cp);
        let ro = config(&fs, "/backups/cp").read_only(true).open().unwrap();
        assert_eq!(contents(&ro), model, "read-only, flush={flush}");
        let fs_arc: Arc<dyn Fs> = Arc::new(fs.clone());
        let report = checkpoint::verify(&fs_arc, Path::new("/backups/cp")).unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(report.seqno, info.seqno);
    }
}

fn linked_bytes(fs: &MemFs, dir: &Path) -> u64 {
    ["tables", "blobs", "log"]
        .iter()
        .flat_map(|sub| fs.read_dir(&dir.join(sub)).unwrap().into_iter().map(move |e| dir.join(sub).join(e.name)))
        .map(|p| fs.metadata(&p).unwrap().len)
        .sum()
}

#[test]
fn checkpoint_and_source_are_independent() {
    for flush in [true, false] {
        independence(CheckpointOptions::default().flush(flush));
    }
}

fn independence(options: CheckpointOptions) {
    let fs = MemFs::new();
    let (db, model) = source(&fs);
    db.checkpoint_with("/cp", options).unwrap();
    // Overwrite and delete everything in the source, compact, then destroy it.
    for key in model.keys() {
        db.put(key, b"overwritten").unwrap();
    }
    for key in model.keys().step_by(2) {
        db.delete(key).unwrap();
    }
    db.compact().unwrap();
    drop(db);
    remove_dir_all(&fs, Path::new("/db")).unwrap();
    let cp = config(&fs, "/cp").open().unwrap();
    assert_eq!(contents(&cp), model, "the source's later life never reaches the checkpoint");
    let fs_arc: Arc<dyn Fs> = Arc::new(fs.clone());
    assert!(checkpoint::verify(&fs_arc, Path::new("/cp")).unwrap().is_ok());

    // And the reverse: writing to a checkpoint never changes its source.
    let fs = MemFs::new();
    let (db, _) = source(&fs);
    let before = contents(&db);
    db.checkpoint_with("/cp2", options).unwrap();
    let cp = config(&fs, "/cp2").open().unwrap();
    for key in before.keys() {
        cp.put(key, b"written in the checkpoint").unwrap();
    }
    cp.compact().unwrap();
    drop(cp);
    assert_eq!(contents(&db), before);
    drop(db);
    assert_eq!(contents(&config(&fs, "/db").open().unwrap()), before);
}

#[test]
fn bad_targets_are_refused_clearly() {
    let fs = MemFs::new();
    let (db, _) = source(&fs);
    let err = db.checkpoint("").unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    fs.create_dir(Path::new("/taken")).unwrap();
    match db.checkpoint("/taken") {
        Err(Error::TargetExists { path }) => assert_eq!(path, Path::new("/taken")),
        other => panic!("expected TargetExists, got {other:?}"),
    }
    let err = db.checkpoint("/db/inside").unwrap_err();
    assert!(err.to_string().contains("inside the source"), "{err}");
    let entries = |dir: &str| fs.read_dir(Path::new(dir)).unwrap().len();
    let root_entries = entries("/");
    db.checkpoint("/new/parents/cp").unwrap();
    assert!(fs.crash_copy().exists(Path::new("/new/parents")).unwrap(), "created parents are durable");
    assert_eq!(entries("/"), root_entries + 1);
}

#[test]
fn dangling_symlink_counts_as_existing() {
    let dir = tempfile::tempdir().unwrap();
    let db = Config::new(dir.path().join("db")).open().unwrap();
    db.put("k", "v").unwrap();
    let link = dir.path().join("cp");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).unwrap();
    match db.checkpoint(&link) {
        Err(Error::TargetExists { path }) => assert_eq!(path, link),
        other => panic!("expected TargetExists, got {other:?}"),
    }
    let info = db.checkpoint(dir.path().join("cp-real")).unwrap();
    let fs: Arc<dyn Fs> = Arc::new(StdFs::new());
    assert!(checkpoint::verify(&fs, &info.path).unwrap().is_ok());
}

#[test]
fn verify_names_the_damaged_file() {
    let fs = MemFs::new();
    let (db, _) = source(&fs);
    let info = db.checkpoint("/cp").unwrap();
    drop(db);
    let tables = fs.read_dir(Path::new("/cp/tables")).unwrap();
    let victim = Path::new("/cp/tables").join(&tables[0].name);
    // Replace the checkpoint's name with a damaged copy (a hard link
    // shares the inode, so flipping in place would damage the source too).
    let mut bytes = cairndb::fs::read_to_vec(&fs, &victim).unwrap();
    bytes[100] ^= 0x40;
    fs.remove_file(&victim).unwrap();
    let file = fs.open(&victim, OpenOptions::create_new()).unwrap();
    file.write_all_at(&bytes, 0).unwrap();
    let fs_arc: Arc<dyn Fs> = Arc::new(fs.clone());
    let report = checkpoint::verify(&fs_arc, &info.path).unwrap();
    assert_eq!(report.problems.len(), 1, "{report:?}");
    assert_eq!(report.problems[0].file, victim);
    assert!(checkpoint::verify(&fs_arc, Path::new("/db")).unwrap().is_ok(), "the source was not touched");
    let missing = checkpoint::verify(&fs_arc, Path::new("/nowhere")).unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
}

#[test]
fn list_finds_checkpoints_newest_first_and_leftovers_go() {
    let fs = MemFs::new();
    let (db, _) = source(&fs);
    let first = db.checkpoint("/cps/a").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    db.put("more", "data").unwrap();
    let second = db.checkpoint("/cps/b").unwrap();
    assert!(second.seqno > first.seqno);
    // A crash leftover: a staging directory nobody holds.
    let leftover = format!("/cps/{STAGING_PREFIX}c.1.1");
    fs.create_dir(Path::new(&leftover)).unwrap();
    fs.create_dir(Path::new("/cps/unrelated")).unwrap();
    let listed = checkpoint::list(&fs, Path::new("/cps")).unwrap();
    let paths: Vec<_> = listed.iter().map(|l| l.path.clone()).collect();
    assert_eq!(paths, [second.path.clone(), first.path.clone()], "newest first, only checkpoints");
    assert_eq!(listed[0].description.seqno, second.seqno);
    assert_eq!(listed[0].description.source, Path::new("/db"));
    db.checkpoint("/cps/c").unwrap();
    assert!(!fs.exists(Path::new(&leftover)).unwrap(), "the next checkpoint removed the leftover");
    assert!(fs.exists(Path::new("/cps/unrelated")).unwrap());
    assert!(checkpoint::describe(&fs, Path::new("/db")).unwrap().is_none(), "a database is not a checkpoint");
}
