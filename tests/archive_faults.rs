//! One failed operation at a time (EIO, ENOSPC) of the store's file system
//! while the archive ships across a flush: the database keeps taking
//! writes and persisting them, the archive reports the failure (`sync()`
//! fails, or `stats()` counts it) and resumes — after the fault `sync()`
//! succeeds, the chain has no gap, and Latest restores to exactly the
//! model.
//!
//! A failed removal of an upload's temporary file (after the object is
//! linked in place) is the one fault the store absorbs: the sync succeeds
//! and the file is left for gc.
//!
//! The archive ships only when asked (`common::archive::on_demand`) and the
//! database runs no background threads, so op `n` is the same op in every
//! run.

use std::path::Path;
use std::sync::Arc;

mod common;

use cairndb::backup::{BackupEngine, DirStore, LogArchive, RestorePoint, UPLOADS_DIR};
use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs};
use cairndb::{Db, Result, SeqNo};
use common::archive::{History, on_demand, restore_point};
use common::backup::open_db;

struct Setup {
    db: Db,
    fault: FaultFs,
    engine: BackupEngine,
    archive: LogArchive,
    history: History,
}

fn setup() -> Setup {
    let db = open_db(Arc::new(MemFs::new()), "/db");
    let fault = FaultFs::new(Arc::new(MemFs::new()));
    let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::new(fault.clone()), "/backups").unwrap()));
    let mut history = History::default();
    history.fill(&db, 0, 200, 150).unwrap();
    engine.create_backup(&db).unwrap();
    let archive = engine.archive(&db, on_demand()).unwrap();
    Setup { db, fault, engine, archive, history }
}

/// Writes (which must all succeed) and syncs (whose results are returned):
/// one shipped, one after a flush, one more.
fn swept(s: &mut Setup) -> Vec<Result<SeqNo>> {
    let mut synced = Vec::new();
    s.history.fill(&s.db, 200, 100, 150).unwrap();
    s.db.persist().unwrap();
    synced.push(s.archive.sync());
    s.history.fill(&s.db, 300, 100, 150).unwrap();
    s.db.persist().unwrap();
    s.db.flush().unwrap();
    synced.push(s.archive.sync());
    s.history.fill(&s.db, 400, 50, 150).unwrap();
    s.db.persist().unwrap();
    synced.push(s.archive.sync());
    synced
}

#[test]
fn one_failed_store_op_at_a_time_is_reported_and_the_archive_resumes() {
    let total = {
        let mut s = setup();
        s.fault.reset_counts();
        assert!(swept(&mut s).iter().all(Result::is_ok));
        s.fault.op_count()
    };
    let (mut faults, mut reported, mut absorbed, mut recoveries) = (0u64, 0u64, 0u64, 0u64);
    for n in 0..total {
        for kind in [FaultKind::IO, FaultKind::NO_SPACE] {
            let context = format!("store op {n} of {total} failed with {kind:?}");
            let mut s = setup();
            s.fault.reset_counts();
            s.fault.add_rule(FaultRule::Nth { n, kind });
            let synced = swept(&mut s);
            s.fault.clear_rules();
            assert_eq!(s.fault.injected_count(), 1, "{context}");
            faults += 1;
            let stats = s.archive.stats();
            let failed = synced.iter().any(Result::is_err);
            assert_eq!(failed, stats.failures > 0, "{context}: sync and stats disagree: {synced:?}, {stats:?}");
            if failed {
                reported += 1;
            } else {
                // The one failure a directory store absorbs: removing an
                // upload's temporary file after its link (gc collects it).
                let uploads = s.fault.read_dir(&Path::new("/backups").join(UPLOADS_DIR)).unwrap();
                assert_eq!(uploads.len(), 1, "{context}: the failure went unreported: {synced:?}, {stats:?}");
                absorbed += 1;
            }
            for e in synced.iter().filter_map(|r| r.as_ref().err()) {
                assert!(matches!(e, cairndb::Error::Io { .. }), "{context}: a store fault is an I/O error: {e}");
            }
            assert!(stats.stopped.is_none(), "{context}: one failed op stopped the archive: {stats:?}");

            // It resumes: everything durable ships, no gap, Latest exact.
            let end = s.db.persist().unwrap();
            assert_eq!(s.archive.sync().unwrap_or_else(|e| panic!("{context}: sync after: {e}")), end, "{context}");
            let stats = s.archive.stats();
            assert!(stats.gaps.is_empty() && stats.last_error.is_none(), "{context}: {stats:?}");
            let listed = s.engine.restorable().unwrap();
            assert!(listed[0].gaps.is_empty() && listed[0].archived_to == Some(end), "{context}: {listed:?}");
            let (latest, state) = restore_point(&s.engine, RestorePoint::Latest).unwrap();
            assert_eq!(latest.seqno, end, "{context}");
            assert!(state == s.history.state_at(end), "{context}: Latest is not the model");
            recoveries += 1;
        }
    }
    #[expect(clippy::print_stderr, reason = "report the size of the sweep")]
    {
        eprintln!(
            "archive store faults: {faults} single faults over {total} ops, {reported} reported by sync, {absorbed} \
             absorbed (a temporary upload left for gc)"
        );
    }
    common::crash_points::record("archive_faults", 0, faults, recoveries);
}
