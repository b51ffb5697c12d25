//! Scheduled backups: every tick backs up (skipping when nothing was
//! written), prunes to the newest `keep` and collects garbage, so the store
//! never holds more than `keep` backups of the database nor files only
//! pruned ones used; each kept backup restores exactly. On a directory
//! store; failures are reported and retried.

use std::sync::Arc;
use std::time::Duration;

mod common;

use cairndb::backup::{BackupEngine, BackupSchedule, DirStore};
use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs};
use common::backup::{Model, open_db, restored_state, unreferenced_files};

#[test]
fn scheduled_backups_keep_their_count_and_each_restores_exactly() {
    let disk: Arc<dyn Fs> = Arc::new(MemFs::new());
    let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::clone(&disk), "/backups").unwrap()));
    retention_holds(&disk, &engine);
}

/// The same on the S3 server `.ci/run` starts (skipped, saying why, without it).
#[cfg(feature = "s3")]
#[test]
fn scheduled_backups_to_s3_keep_their_count_and_each_restores_exactly() {
    let Some(store) = common::backup::s3_store("schedule", None) else { return };
    let disk: Arc<dyn Fs> = Arc::new(MemFs::new());
    retention_holds(&disk, &BackupEngine::new(Arc::new(store)));
}

/// Six ticks with writes between keep at most 3 backups, leave no
/// unreferenced file, skip a tick without writes, restore exactly, and end
/// with the database.
fn retention_holds(disk: &Arc<dyn Fs>, engine: &BackupEngine) {
    let db = open_db(Arc::clone(disk), "/db");
    let mut model = Model::default();
    let schedule = engine.schedule(&db, BackupSchedule::every(Duration::from_secs(3600)).keep(3)).unwrap();
    for round in 0..6u32 {
        model.fill(&db, round * 300, 300, 500);
        let stats = schedule.run_now();
        assert_eq!((stats.made, stats.failures), (u64::from(round) + 1, 0), "{stats:?}");
        assert!(engine.ids().unwrap().len() <= 3);
        assert!(unreferenced_files(engine).is_empty(), "gc ran after the prune");
    }
    assert_eq!(schedule.run_now().skipped, 1, "nothing written since the last backup");
    let ids = engine.ids().unwrap();
    assert_eq!(ids.len(), 3);
    for id in ids {
        let seqno = engine.manifest(id).unwrap().seqno;
        assert_eq!(restored_state(engine, id), model.state_at(seqno), "backup {id}");
    }
    drop(db);
    assert!(schedule.run_now().stopped, "the schedule ends with the database");
}

#[test]
fn a_failing_store_is_reported_and_the_next_tick_retries() {
    let disk: Arc<dyn Fs> = Arc::new(MemFs::new());
    let faulty = Arc::new(FaultFs::new(Arc::clone(&disk)));
    let engine = BackupEngine::new(Arc::new(DirStore::open(faulty.clone(), "/backups").unwrap()));
    let db = open_db(Arc::clone(&disk), "/db");
    let mut model = Model::default();
    model.fill(&db, 0, 300, 300);
    let schedule = engine.schedule(&db, BackupSchedule::every(Duration::from_secs(3600)).keep(2)).unwrap();
    faulty.add_rule(FaultRule::From { n: 0, kind: FaultKind::Errno(EIO) });
    let stats = schedule.run_now();
    assert_eq!((stats.made, stats.failures), (0, 1), "{stats:?}");
    assert!(stats.last_error.is_some());
    model.put(&db, "still", "writable");
    faulty.clear_rules();
    let stats = schedule.run_now();
    assert_eq!((stats.made, stats.failures), (1, 1), "{stats:?}");
    assert!(stats.last_error.is_none());
    let id = stats.last.unwrap().id;
    assert_eq!(restored_state(&engine, id), model.state_at(db.stats().seqno));
}

/// `EIO` on Linux.
const EIO: i32 = 5;
