//! A checkpoint or restore that fails after its rename into place (the
//! parent's sync refused) takes the target back; a power cut at any point
//! after that leaves the target whole or absent, never half-emptied.
//!
//! Found by the simulator (seed 1508161354238415226): the take-back
//! emptied the target in place; a torn power cut kept the rename into
//! place but also some of the removals inside it, and a directory with a
//! `CURRENT` but no `CHECKPOINT` appeared where the checkpoint was to be.

use std::path::Path;
use std::sync::Arc;

mod common;

use cairndb::backup::{BackupEngine, DirStore};
use cairndb::checkpoint;
use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs, OpKind};
use common::backup::{Model, contents, open_db};

/// The target is absent, or a whole copy holding `expected`.
fn whole_or_absent(disk: MemFs, target: &Path, expected: &common::backup::State, context: &str) -> bool {
    if !disk.exists(target).unwrap() {
        return false;
    }
    let report = checkpoint::verify(&(Arc::new(disk.clone()) as Arc<dyn Fs>), target)
        .unwrap_or_else(|e| panic!("{context}: {e}"));
    assert!(report.is_ok(), "{context}: {:?}", report.problems);
    let db = open_db(Arc::new(disk), &target.to_string_lossy());
    assert_eq!(&contents(&db), expected, "{context}");
    true
}

#[test]
fn a_checkpoint_taken_back_is_whole_or_absent_after_any_crash() {
    let setup = || {
        let disk = MemFs::new();
        let fault = FaultFs::new(Arc::new(disk.clone()));
        let db = open_db(Arc::new(fault.clone()), "/db");
        let mut model = Model::default();
        model.fill(&db, 0, 200, 100);
        db.persist().unwrap();
        (disk, fault, db, model)
    };
    // The last directory sync of a checkpoint is its parent's, after the rename.
    let syncs = {
        let (_, fault, db, _) = setup();
        fault.reset_counts();
        db.checkpoint("/cps/cp").unwrap();
        fault.op_count_of(OpKind::SyncDirectory)
    };
    let (mut kept, mut gone) = (0, 0);
    for seed in 0..100u64 {
        let (disk, fault, db, model) = setup();
        fault.reset_counts();
        fault.add_rule(FaultRule::NthOfKind { op: OpKind::SyncDirectory, nth: syncs - 1, kind: FaultKind::IO });
        let result = db.checkpoint("/cps/cp");
        fault.clear_rules();
        assert!(result.is_err(), "the parent's sync failed");
        assert!(!disk.exists(Path::new("/cps/cp")).unwrap(), "a failed checkpoint left its target");
        let expected = model.state_at(db.stats().seqno);
        let context = format!("torn crash {seed} after a taken-back checkpoint");
        if whole_or_absent(disk.crash_copy_torn(seed), Path::new("/cps/cp"), &expected, &context) {
            kept += 1;
        } else {
            gone += 1;
        }
    }
    assert!(gone > 0, "{kept} crashes kept the checkpoint, {gone} did not");
    common::crash_points::record("checkpoint_take_back_under_crash", 100, 100, 100);
}

#[test]
fn a_restore_taken_back_is_whole_or_absent_after_any_crash() {
    let db = open_db(Arc::new(MemFs::new()), "/db");
    let mut model = Model::default();
    model.fill(&db, 0, 200, 100);
    let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::new(MemFs::new()), "/backups").unwrap()));
    let info = engine.create_backup(&db).unwrap();
    let expected = model.state_at(info.seqno);
    let syncs = {
        let fault = FaultFs::new(Arc::new(MemFs::new()));
        engine.clone().local_fs(Arc::new(fault.clone())).restore(info.id, Path::new("/r/db")).unwrap();
        fault.op_count_of(OpKind::SyncDirectory)
    };
    for seed in 0..100u64 {
        let disk = MemFs::new();
        let fault = FaultFs::new(Arc::new(disk.clone()));
        fault.add_rule(FaultRule::NthOfKind { op: OpKind::SyncDirectory, nth: syncs - 1, kind: FaultKind::IO });
        let result = engine.clone().local_fs(Arc::new(fault.clone())).restore(info.id, Path::new("/r/db"));
        assert!(result.is_err(), "the parent's sync failed");
        assert!(!disk.exists(Path::new("/r/db")).unwrap(), "a failed restore left its target");
        let crashed = disk.crash_copy_torn(seed);
        if crashed.exists(Path::new("/r/db")).unwrap() {
            let db = open_db(Arc::new(crashed), "/r/db");
            assert_eq!(contents(&db), expected, "torn crash {seed} after a taken-back restore");
        }
    }
    common::crash_points::record("checkpoint_take_back_under_crash/restore", 100, 100, 100);
}
