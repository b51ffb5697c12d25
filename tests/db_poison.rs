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
