//! A directory made on the way to a checkpoint, a restore or a backup
//! store is durable before anything is put in it, or it is taken back.
//!
//! Found by the simulator (seed 9258250167954657910): a checkpoint created
//! its missing parent `/cps1`, the sync of `/` failed, the checkpoint
//! failed — and `/cps1` stayed. The next checkpoint into `/cps1` found it
//! there, synced only `/cps1` itself, and succeeded; a power cut then took
//! `/cps1` away with every checkpoint in it. A backup store opened at a new
//! nested path synced only the innermost parent the same way.

use std::path::Path;
use std::sync::Arc;

mod common;

use cairndb::backup::{BackupEngine, DirStore};
use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs, OpKind};
use common::backup::{Model, contents, open_db, restored_state};

fn disk() -> MemFs {
    let disk = MemFs::new();
    disk.sync_directory(Path::new("/")).unwrap();
    disk
}

#[test]
fn a_checkpoint_into_a_parent_a_failed_call_made_survives_a_power_cut() {
    for nth in 0..4 {
        let disk = disk();
        let fault = FaultFs::new(Arc::new(disk.clone()));
        let db = open_db(Arc::new(fault.clone()), "/db");
        let mut model = Model::default();
        model.fill(&db, 0, 200, 100);
        // The first checkpoint's directory syncs fail, one at a time.
        fault.reset_counts();
        fault.add_rule(FaultRule::NthOfKind { op: OpKind::SyncDirectory, nth, kind: FaultKind::IO });
        let first = db.checkpoint("/a/b/cp-1");
        fault.clear_rules();
        if first.is_err() {
            assert!(!disk.exists(Path::new("/a/b/cp-1")).unwrap(), "sync {nth}: a failed checkpoint left its target");
        }
        // A fault that hit the database's own sync poisoned it: restart it.
        let db = if db.stats().poisoned.is_some() {
            drop(db);
            open_db(Arc::new(fault.clone()), "/db")
        } else {
            db
        };
        let second = db.checkpoint("/a/b/cp-2").unwrap();
        let crashed = disk.crash_copy();
        let context = format!("directory sync {nth} of the first checkpoint failed ({first:?})");
        assert!(crashed.exists(Path::new("/a/b/cp-2/CURRENT")).unwrap(), "{context}: the second checkpoint is gone");
        let opened = open_db(Arc::new(crashed), "/a/b/cp-2");
        assert_eq!(contents(&opened), model.state_at(second.seqno), "{context}");
    }
}

#[test]
fn a_backup_store_at_a_new_nested_path_is_durable_before_it_is_used() {
    for nth in 0..4 {
        let store_disk = disk();
        let fault = FaultFs::new(Arc::new(store_disk.clone()));
        fault.add_rule(FaultRule::NthOfKind { op: OpKind::SyncDirectory, nth, kind: FaultKind::IO });
        let first = DirStore::open(Arc::new(fault.clone()), "/mnt/backups/store");
        fault.clear_rules();
        if first.is_err() {
            // What a failed open leaves is durable: a crash keeps it all.
            let crashed = store_disk.crash_copy();
            for dir in ["/mnt", "/mnt/backups", "/mnt/backups/store", "/mnt/backups/store/.uploads"] {
                let (live, kept) =
                    (store_disk.exists(Path::new(dir)).unwrap(), crashed.exists(Path::new(dir)).unwrap());
                assert!(!live || kept, "sync {nth}: a failed open left {dir}, not durable");
            }
        }
        let db = open_db(Arc::new(MemFs::new()), "/db");
        let mut model = Model::default();
        model.fill(&db, 0, 200, 100);
        let engine =
            BackupEngine::new(Arc::new(DirStore::open(Arc::new(fault.clone()), "/mnt/backups/store").unwrap()));
        let info = engine.create_backup(&db).unwrap();
        let crashed = BackupEngine::new(Arc::new(
            DirStore::open(Arc::new(store_disk.crash_copy()), "/mnt/backups/store").unwrap(),
        ));
        let context = format!("directory sync {nth} of the store's first open failed ({:?})", first.err());
        assert_eq!(crashed.ids().unwrap(), [info.id], "{context}: the backup is gone");
        assert_eq!(restored_state(&crashed, info.id), model.state_at(info.seqno), "{context}");
    }
}
