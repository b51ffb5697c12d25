//! A failed log write or fsync poisons the whole database, not just the
//! log: `stats().poisoned` says why, and writes, persists, flushes,
//! compactions and checkpoints all refuse with `Error::Poisoned` until a
//! reopen recovers from what is on disk. (Found by the simulator: the log
//! refused writes while the database reported itself healthy, flushed, and
//! persisted again at close.)

use std::sync::Arc;

use cairndb::fs::{FaultFs, FaultKind, FaultRule, MemFs, OpKind};
use cairndb::{Config, Db, Error};

fn open(fault: &FaultFs) -> Db {
    Config::new("/db")
        .fs(Arc::new(fault.clone()))
        .background_threads(false)
        .background_persist_interval(None)
        .open()
        .unwrap()
}

#[test]
fn a_failed_log_fsync_poisons_the_database() {
    let mem = MemFs::new();
    let fault = FaultFs::new(Arc::new(mem.clone()));
    let db = open(&fault);
    db.put(b"durable", b"1").unwrap();
    db.persist().unwrap();
    fault.add_rule(FaultRule::Kind { op: OpKind::SyncFile, kind: FaultKind::IO });
    db.put(b"lost", b"2").unwrap();
    let err = db.persist().unwrap_err();
    assert!(err.to_string().contains("Input/output error"), "{err}");
    fault.clear_rules();
    let cause = db.stats().poisoned.expect("the database reports the poisoned log");
    assert!(cause.contains("fdatasync"), "{cause}");
    assert!(matches!(db.put(b"k", b"v"), Err(Error::Poisoned { .. })));
    assert!(matches!(db.persist(), Err(Error::Poisoned { .. })));
    assert!(matches!(db.flush(), Err(Error::Poisoned { .. })));
    assert!(matches!(db.compact(), Err(Error::Poisoned { .. })));
    assert!(matches!(db.checkpoint("/cp"), Err(Error::Poisoned { .. })));
    drop(db);
    // The reopen recovers from the disk; the durable write is there.
    let db = open(&FaultFs::new(Arc::new(mem.crash_copy())));
    assert_eq!(db.get(b"durable").unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(db.get(b"lost").unwrap(), None);
}

/// A flush whose last step — the directory sync that makes `CURRENT`'s
/// rename durable — fails leaves the new version visible but not durable.
/// The restarted database must make it durable before it deletes what the
/// old version needed (found by the simulator, seed 823960456675228480:
/// the restart removed the old version's log segments and, after a power
/// cut, `CURRENT` named the old version again: every write in them lost).
#[test]
fn a_restart_makes_the_version_it_recovered_durable_before_deleting() {
    for nth in 0..6 {
        let mem = MemFs::new();
        let db = open(&FaultFs::new(Arc::new(mem.clone())));
        for i in 0..200u32 {
            db.put(format!("k{i:03}"), [7u8; 40]).unwrap();
        }
        db.persist().unwrap();
        drop(db);
        let fault = FaultFs::new(Arc::new(mem.clone()));
        let db = open(&fault);
        let base = fault.op_count_of(OpKind::SyncDirectory);
        fault.add_rule(FaultRule::NthOfKind { op: OpKind::SyncDirectory, nth: base + nth, kind: FaultKind::IO });
        let failed = db.flush().err();
        drop(db);
        let Some(error) = failed else { continue };
        // The application restarts on the same disk, writes, persists.
        let db = open(&FaultFs::new(Arc::new(mem.clone())));
        db.put(b"after", b"restart").unwrap();
        db.persist().unwrap();
        drop(db);
        let db = open(&FaultFs::new(Arc::new(mem.crash_copy())));
        for i in 0..200u32 {
            let got = db.get(format!("k{i:03}")).unwrap();
            assert_eq!(got.as_deref(), Some(&[7u8; 40][..]), "sync {nth} failed ({error}): k{i:03} lost");
        }
        assert_eq!(db.get(b"after").unwrap().as_deref(), Some(&b"restart"[..]));
    }
}
