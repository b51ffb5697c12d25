//! Opening: the directory lock, read-only opens that never write a byte,
//! `create_if_missing`, foreign directories, and size limits on writes.

use std::path::Path;
use std::sync::Arc;

use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs, OpKind, OpenOptions};
use cairndb::internals::hlog::{HlogConfig, HybridLog, ReplayFrom};
use cairndb::{Config, Db, Error, KEY_BYTES_MAX, LogAddress, SeqNo, VALUE_BYTES_MAX, WriteBatch};

fn config(fs: &MemFs) -> Config {
    Config::new("/db").fs(Arc::new(fs.clone())).background_threads(false)
}

fn filled(fs: &MemFs) -> Db {
    let db = config(fs).memtable_size_bytes(64 << 10).open().unwrap();
    for i in 0..3000u32 {
        db.put(format!("key{i:05}"), vec![b'v'; 60]).unwrap();
    }
    db.flush().unwrap();
    for i in 0..100u32 {
        db.put(format!("late{i:03}"), b"in the log only").unwrap();
    }
    db.persist().unwrap();
    db
}

#[test]
fn a_second_open_is_refused_while_the_first_lives() {
    let fs = MemFs::new();
    let db = config(&fs).open().unwrap();
    match config(&fs).open() {
        Err(Error::Locked { path }) => assert_eq!(path, Path::new("/db/LOCK")),
        other => panic!("expected Locked, got {other:?}"),
    }
    drop(db);
    config(&fs).open().unwrap();
}

#[test]
fn read_only_open_reads_everything_and_writes_nothing() {
    let fs = MemFs::new();
    drop(filled(&fs));
    let fault = FaultFs::new(Arc::new(fs.clone()));
    let ro = Config::new("/db").fs(Arc::new(fault.clone())).read_only(true).open().unwrap();
    assert_eq!(ro.get("key00042").unwrap(), Some(vec![b'v'; 60]));
    assert_eq!(ro.get("late007").unwrap().as_deref(), Some(&b"in the log only"[..]));
    assert_eq!(ro.iter().count(), 3100);
    let refused = |what: &str, result: cairndb::Result<()>| match result {
        Err(Error::ReadOnly { path }) => assert_eq!(path, Path::new("/db"), "{what}"),
        other => panic!("{what}: expected Error::ReadOnly, got {other:?}"),
    };
    let err = ro.put("x", "y").unwrap_err();
    assert!(err.to_string().contains("/db is open read-only"), "{err}");
    refused("put", ro.put("x", "y").map(drop));
    refused("delete", ro.delete("key00042").map(drop));
    refused("write", ro.write(WriteBatch::new().put("x", "y")).map(drop));
    refused("persist", ro.persist().map(drop));
    refused("flush", ro.flush());
    refused("compact", ro.compact());
    drop(ro);
    assert!(fault.op_count() > 0);
    assert_eq!(fault.mutating_op_count(), 0, "a read-only open never writes");
}

#[test]
fn read_only_opens_refuse_checkpoints_and_log_writes_as_read_only() {
    let fs = MemFs::new();
    drop(filled(&fs));
    let ro = Config::new("/db").fs(Arc::new(fs.clone())).read_only(true).open().unwrap();
    match ro.checkpoint("/cp") {
        Err(Error::ReadOnly { path }) => assert_eq!(path, Path::new("/db")),
        other => panic!("expected Error::ReadOnly, got {other:?}"),
    }
    assert!(!fs.exists(Path::new("/cp")).unwrap());
    drop(ro);
    let open_log = |read_only| {
        let config = HlogConfig { read_only, ..HlogConfig::default() };
        let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
        HybridLog::open(Arc::new(fs.clone()), Path::new("/log"), config, replay).unwrap().0
    };
    open_log(false).write_sync(&[]).unwrap();
    let log = open_log(true);
    assert!(matches!(log.put(b"k", b"v"), Err(Error::ReadOnly { path }) if path == Path::new("/log")));
    assert!(matches!(log.persist(), Err(Error::ReadOnly { .. })));
}

#[test]
fn read_only_open_works_beside_a_writer() {
    let fs = MemFs::new();
    let db = filled(&fs);
    let ro = Config::new("/db").fs(Arc::new(fs.clone())).read_only(true).open().unwrap();
    assert_eq!(ro.get("key00001").unwrap(), Some(vec![b'v'; 60]));
    drop(db);
}

#[test]
fn missing_directories_and_foreign_ones() {
    let fs = MemFs::new();
    let err = config(&fs).create_if_missing(false).open().unwrap_err();
    assert!(err.is_not_found() && err.to_string().contains("/db"), "{err}");
    let err = Config::new("/db").fs(Arc::new(fs.clone())).read_only(true).open().unwrap_err();
    assert!(err.is_not_found(), "{err}");
    fs.create_dir(Path::new("/other")).unwrap();
    fs.open(Path::new("/other/data.csv"), OpenOptions::create_new()).unwrap();
    let err = Config::new("/other").fs(Arc::new(fs.clone())).open().unwrap_err();
    assert!(err.to_string().contains("not a cairndb database"), "{err}");
    assert!(fs.exists(Path::new("/other/data.csv")).unwrap(), "nothing of it touched");
}

#[test]
fn oversized_keys_and_values_are_refused_clearly() {
    let fs = MemFs::new();
    let db = config(&fs).open().unwrap();
    let err = db.put(vec![0u8; KEY_BYTES_MAX + 1], b"v").unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }) && err.to_string().contains("key"), "{err}");
    let err = db.put(b"k", vec![0u8; VALUE_BYTES_MAX + 1]).unwrap_err();
    assert!(err.to_string().contains("value"), "{err}");
    db.put(vec![1u8; KEY_BYTES_MAX], vec![2u8; 1 << 20]).unwrap();
    db.flush().unwrap();
    assert_eq!(db.get(vec![1u8; KEY_BYTES_MAX]).unwrap().map(|v| v.len()), Some(1 << 20));
    assert_eq!(db.get(b"k").unwrap(), None, "refused writes leave nothing behind");
}

#[test]
fn deletes_and_overwrites_survive_flush_compaction_and_reopen() {
    let fs = MemFs::new();
    let db = config(&fs).open().unwrap();
    db.put("a", "1").unwrap();
    db.put("b", "2").unwrap();
    db.flush().unwrap();
    db.delete("a").unwrap();
    db.put("b", "3").unwrap();
    db.flush().unwrap();
    db.compact().unwrap();
    drop(db);
    let db = config(&fs).open().unwrap();
    assert_eq!(db.get("a").unwrap(), None);
    assert_eq!(db.get("b").unwrap().as_deref(), Some(&b"3"[..]));
    let version = db.version();
    assert_eq!(version.table_count(), 1, "one sorted run after a full compaction");
    let tables = fs.read_dir(Path::new("/db/tables")).unwrap().len();
    assert_eq!(tables, 1, "obsolete tables deleted");
}

#[test]
fn read_only_open_after_a_crash_leaves_the_torn_log_alone() {
    let fs = MemFs::new();
    let faulty = FaultFs::new(Arc::new(fs.clone()));
    let db = Config::new("/db").fs(Arc::new(faulty.clone())).background_threads(false).open().unwrap();
    for i in 0..200u32 {
        db.put(format!("k{i:03}"), vec![b'x'; 100]).unwrap();
        if i == 99 {
            db.persist().unwrap();
        }
    }
    // The second persist's log write is torn, and then the power goes.
    faulty.add_rule(FaultRule::Kind { op: OpKind::Write, kind: FaultKind::TornWrite });
    assert!(db.persist().is_err());
    std::mem::forget(db);
    let log_bytes = |f: &MemFs| -> u64 {
        let dir = Path::new("/db/log");
        f.read_dir(dir).unwrap().iter().map(|e| f.metadata(&dir.join(&e.name)).unwrap().len).sum()
    };
    let clean = log_bytes(&fs.crash_copy());
    let crashed = (0..256).map(|seed| fs.crash_copy_torn(seed)).find(|c| log_bytes(c) > clean).expect("a torn tail");
    let before: Vec<_> = crashed.read_dir(Path::new("/db/log")).unwrap();
    let torn_len = log_bytes(&crashed);
    let fault = FaultFs::new(Arc::new(crashed.clone()));
    let ro = Config::new("/db").fs(Arc::new(fault.clone())).read_only(true).open().unwrap();
    assert_eq!(ro.iter().count(), 100, "exactly the persisted writes");
    drop(ro);
    assert_eq!(fault.mutating_op_count(), 0, "recovery in read-only mode writes nothing");
    assert_eq!(crashed.read_dir(Path::new("/db/log")).unwrap(), before);
    assert_eq!(log_bytes(&crashed), torn_len, "the torn tail is left for a writable open to cut");
    let db = config(&crashed).open().unwrap();
    assert_eq!(db.iter().count(), 100);
}
