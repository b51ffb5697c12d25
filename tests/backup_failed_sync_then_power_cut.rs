//! A store operation whose directory sync failed, then more work that
//! succeeds, then a power cut: every backup still listed verifies and
//! restores exactly.
//!
//! The danger (found by the simulator, seed 12300208079010157606): an
//! upload renamed its file into `files/` and the directory sync failed, so
//! the backup failed — but the file stayed visible. The next backup found
//! it there, named it in its manifest without uploading it again, and
//! committed; a power cut then kept the manifest and lost the file. The
//! mirror image: a prune whose manifest removal was not made durable, a gc
//! that no longer sees that manifest and removes its files, a power cut
//! that brings the manifest back without them.

use std::sync::Arc;

mod common;

use cairndb::Db;
use cairndb::backup::{BackupEngine, DirStore};
use cairndb::fs::{FaultFs, FaultKind, FaultRule, MemFs, OpKind};
use common::backup::{Model, open_db, restored_state};

struct Setup {
    store_disk: MemFs,
    fault: FaultFs,
    engine: BackupEngine,
    db: Db,
    model: Model,
}

fn setup() -> Setup {
    let db = open_db(Arc::new(MemFs::new()), "/db");
    let store_disk = MemFs::new();
    let fault = FaultFs::new(Arc::new(store_disk.clone()));
    let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::new(fault.clone()), "/backups").unwrap()));
    Setup { store_disk, fault, engine, db, model: Model::default() }
}

/// Every backup the crashed store lists verifies and restores to the
/// source at its seqno.
fn check(crashed: MemFs, s: &Setup, context: &str) -> usize {
    let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::new(crashed), "/backups").unwrap()));
    let listed = engine.list().unwrap();
    for listing in &listed {
        let id = listing.id;
        let manifest = listing.manifest.as_ref().unwrap_or_else(|| panic!("{context}: backup {id} unreadable"));
        let report = engine.verify(id).unwrap();
        assert!(report.is_ok(), "{context}: backup {id} is listed but damaged: {:?}", report.problems);
        assert_eq!(restored_state(&engine, id), s.model.state_at(manifest.seqno), "{context}: backup {id}");
    }
    listed.len()
}

/// How many directory syncs a backup of a fresh setup makes.
fn syncs_of_first_backup() -> u64 {
    let mut s = setup();
    s.model.fill(&s.db, 0, 300, 200);
    s.db.compact().unwrap();
    s.fault.reset_counts();
    s.engine.create_backup(&s.db).unwrap();
    s.fault.op_count_of(OpKind::SyncDirectory)
}

#[test]
fn a_file_left_by_a_failed_upload_is_durable_before_a_manifest_names_it() {
    let syncs = syncs_of_first_backup();
    assert!(syncs >= 3, "a lease, files, a manifest: {syncs} directory syncs");
    let mut failed = 0;
    for nth in 0..syncs {
        let mut s = setup();
        s.model.fill(&s.db, 0, 300, 200);
        s.db.compact().unwrap();
        s.fault.reset_counts();
        s.fault.add_rule(FaultRule::NthOfKind { op: OpKind::SyncDirectory, nth, kind: FaultKind::IO });
        if s.engine.create_backup(&s.db).is_err() {
            failed += 1;
        }
        s.fault.clear_rules();
        // The same files again: the second backup finds them in the store.
        s.engine.create_backup(&s.db).unwrap();
        let context = format!("directory sync {nth} of {syncs} of the first backup failed");
        assert!(check(s.store_disk.crash_copy(), &s, &context) >= 1, "{context}: the second backup is kept");
    }
    assert!(failed > 0, "some failed sync made the first backup fail");
    common::crash_points::record("backup_failed_sync_then_power_cut/upload", syncs, syncs, syncs);
}

#[test]
fn gc_does_not_collect_for_a_manifest_a_failed_delete_hid() {
    // Two backups with files of their own; pruning the older one fails at
    // its directory sync (manifest gone from view, its removal not
    // durable), then gc, then a power cut.
    let syncs = {
        let mut s = setup();
        for round in 0..2u32 {
            s.model.fill(&s.db, round * 300, 300, 200);
            s.db.compact().unwrap();
            s.engine.create_backup(&s.db).unwrap();
        }
        s.fault.reset_counts();
        s.engine.prune(1).unwrap();
        s.fault.op_count_of(OpKind::SyncDirectory)
    };
    for nth in 0..syncs {
        let mut s = setup();
        for round in 0..2u32 {
            s.model.fill(&s.db, round * 300, 300, 200);
            s.db.compact().unwrap();
            s.engine.create_backup(&s.db).unwrap();
        }
        s.fault.reset_counts();
        s.fault.add_rule(FaultRule::NthOfKind { op: OpKind::SyncDirectory, nth, kind: FaultKind::IO });
        let pruned = s.engine.prune(1);
        s.fault.clear_rules();
        s.engine.gc().unwrap();
        let context = format!("directory sync {nth} of {syncs} of the prune failed ({pruned:?}), then gc");
        assert!(check(s.store_disk.crash_copy(), &s, &context) >= 1, "{context}: the newer backup is kept");
    }
    common::crash_points::record("backup_failed_sync_then_power_cut/prune", syncs, syncs, syncs);
}

#[test]
fn a_deleted_or_pruned_backup_stays_gone_after_a_power_cut() {
    let mut s = setup();
    let mut ids = Vec::new();
    for round in 0..3u32 {
        s.model.fill(&s.db, round * 300, 300, 200);
        s.db.compact().unwrap();
        ids.push(s.engine.create_backup(&s.db).unwrap().id);
    }
    s.engine.delete(ids[1]).unwrap();
    let listed = |disk: MemFs| {
        let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::new(disk), "/backups").unwrap()));
        engine.ids().unwrap()
    };
    assert_eq!(listed(s.store_disk.crash_copy()), [ids[0], ids[2]], "a deleted backup came back");
    assert_eq!(s.engine.prune(1).unwrap().removed, [ids[0]]);
    assert_eq!(listed(s.store_disk.crash_copy()), [ids[2]], "a pruned backup came back");
    check(s.store_disk.crash_copy(), &s, "after delete and prune");
}
