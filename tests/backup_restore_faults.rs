//! A restore that fails at any one operation of its target disk leaves
//! nothing at the target (and no staging directory); one that succeeds
//! holds exactly the backup. And a power cut at any operation leaves
//! either nothing or the whole restore.
//!
//! Found by the simulator (seed 412782289297389613): the rename into place
//! succeeded, the sync of the parent directory failed with ENOSPC, the
//! restore reported the error — and left the target there.

use std::path::Path;
use std::sync::Arc;

mod common;

use cairndb::backup::{BackupEngine, BackupInfo, DirStore};
use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs};
use common::backup::{Model, contents, open_db};

fn setup() -> (BackupEngine, BackupInfo, Model) {
    let db = open_db(Arc::new(MemFs::new()), "/db");
    let mut model = Model::default();
    model.fill(&db, 0, 300, 200);
    db.compact().unwrap();
    model.fill(&db, 300, 100, 200);
    let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::new(MemFs::new()), "/backups").unwrap()));
    let info = engine.create_backup(&db).unwrap();
    (engine, info, model)
}

/// The restore is whole and exact at `target`, or nothing of it is under
/// `/restores`.
fn check(disk: MemFs, target: &Path, restored: bool, s: &(BackupEngine, BackupInfo, Model), context: &str) {
    let left: Vec<String> = disk
        .read_dir(Path::new("/restores"))
        .unwrap_or_default()
        .iter()
        .map(|e| e.name.to_string_lossy().into_owned())
        .collect();
    if restored {
        assert_eq!(left, ["r"], "{context}");
        let db = open_db(Arc::new(disk), &target.to_string_lossy());
        assert_eq!(contents(&db), s.2.state_at(s.1.seqno), "{context}");
    } else {
        assert!(left.is_empty(), "{context}: a failed restore left {left:?}");
    }
}

#[test]
fn a_failed_restore_leaves_nothing_at_its_target() {
    let s = setup();
    let target = Path::new("/restores/r");
    let total = {
        let disk = MemFs::new();
        let fault = FaultFs::new(Arc::new(disk.clone()));
        s.0.clone().local_fs(Arc::new(fault.clone())).restore(s.1.id, target).unwrap();
        fault.op_count()
    };
    let (mut failed, mut cuts) = (0u64, 0u64);
    for n in 0..total {
        for kind in [FaultKind::IO, FaultKind::NO_SPACE] {
            let disk = MemFs::new();
            disk.create_dir(Path::new("/restores")).unwrap();
            let fault = FaultFs::new(Arc::new(disk.clone()));
            fault.add_rule(FaultRule::Nth { n, kind });
            let result = s.0.clone().local_fs(Arc::new(fault.clone())).restore(s.1.id, target);
            failed += u64::from(result.is_err());
            check(disk, target, result.is_ok(), &s, &format!("op {n} of {total} failed with {kind:?}: {result:?}"));
        }
        // A power cut at op n: the restore is there whole, or not at all.
        let disk = MemFs::new();
        disk.create_dir(Path::new("/restores")).unwrap();
        disk.sync_directory(Path::new("/")).unwrap();
        let fault = FaultFs::new(Arc::new(disk.clone()));
        fault.add_rule(FaultRule::From { n, kind: FaultKind::IO });
        let _ = s.0.clone().local_fs(Arc::new(fault.clone())).restore(s.1.id, target);
        let crashed = disk.crash_copy();
        let whole = crashed.exists(&target.join("CURRENT")).unwrap();
        if !whole {
            // A crash may leave a staging directory for the next restore to
            // remove; it must not leave the target.
            assert!(!crashed.exists(target).unwrap(), "power cut at op {n} of {total}: a partial target");
        } else {
            let db = open_db(Arc::new(crashed), &target.to_string_lossy());
            assert_eq!(contents(&db), s.2.state_at(s.1.seqno), "power cut at op {n} of {total}");
        }
        cuts += 1;
    }
    assert!(failed > 0);
    common::crash_points::record("backup_restore_faults", cuts, 2 * total, cuts);
}
