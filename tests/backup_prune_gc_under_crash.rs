//! A power cut after `prune` and `gc`, at every file-system operation of
//! the next backup: a pruned backup never comes back without its files.
//! Whatever the crash leaves, every listed backup verifies and restores to
//! exactly the source at its seqno.
//!
//! The danger: prune removes a manifest, gc then unlinks the files only that
//! backup used, and a later directory sync of `files/` (the next backup's
//! uploads) makes the unlinks durable. Unless the manifest's removal was
//! made durable first, a crash brings the manifest back and its files are
//! gone.

use std::sync::Arc;

mod common;

use cairndb::Db;
use cairndb::backup::{BackupEngine, BackupId, BackupInfo, DirStore};
use cairndb::fs::{FaultFs, FaultKind, FaultRule, MemFs};
use common::backup::{Model, open_db, restored_state};

/// Three backups, each after a compaction (so each has tables of its own),
/// pruned to the newest and collected; then more writes for the next one.
struct Setup {
    store_disk: MemFs,
    fault: FaultFs,
    engine: BackupEngine,
    db: Db,
    model: Model,
    kept: BackupInfo,
}

fn setup() -> Setup {
    let db = open_db(Arc::new(MemFs::new()), "/db");
    let mut model = Model::default();
    let store_disk = MemFs::new();
    let fault = FaultFs::new(Arc::new(store_disk.clone()));
    let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::new(fault.clone()), "/backups").unwrap()));
    let mut infos = Vec::new();
    for round in 0..3u32 {
        model.fill(&db, round * 400, 400, 300);
        db.compact().unwrap();
        infos.push(engine.create_backup(&db).unwrap());
    }
    let report = engine.prune(1).unwrap();
    assert_eq!(report.removed, [BackupId(2), BackupId(1)]);
    let gc = engine.gc().unwrap();
    assert!(gc.files_removed > 0, "the pruned backups had files of their own: {gc:?}");
    model.fill(&db, 1200, 400, 300);
    db.compact().unwrap();
    let kept = infos.pop().unwrap();
    Setup { store_disk, fault, engine, db, model, kept }
}

fn check(crashed: MemFs, s: &Setup, context: &str) {
    let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::new(crashed), "/backups").unwrap()));
    let listed = engine.list().unwrap();
    assert!(listed.iter().any(|l| l.id == s.kept.id), "{context}: the kept backup vanished");
    for listing in &listed {
        let id = listing.id;
        let manifest = listing.manifest.as_ref().unwrap_or_else(|| panic!("{context}: backup {id} unreadable"));
        let report = engine.verify(id).unwrap();
        assert!(report.is_ok(), "{context}: backup {id} is listed but damaged: {:?}", report.problems);
        assert_eq!(restored_state(&engine, id), s.model.state_at(manifest.seqno), "{context}: backup {id}");
    }
}

#[test]
fn power_cut_after_prune_and_gc_brings_no_backup_back_without_its_files() {
    let total = {
        let s = setup();
        s.fault.reset_counts();
        s.engine.create_backup(&s.db).unwrap();
        s.fault.op_count()
    };
    for n in 0..=total {
        let s = setup();
        s.fault.reset_counts();
        s.fault.add_rule(FaultRule::From { n, kind: FaultKind::IO });
        let _ = s.engine.create_backup(&s.db);
        check(s.store_disk.crash_copy(), &s, &format!("crash at op {n} of {total}"));
        check(s.store_disk.crash_copy_torn(n), &s, &format!("torn crash at op {n} of {total}"));
    }
    // And a power cut right after gc, before any further backup.
    let s = setup();
    check(s.store_disk.crash_copy(), &s, "crash after gc");
    let cuts = 2 * (total + 1) + 1;
    common::crash_points::record("backup_prune_gc_under_crash", cuts, 0, cuts);
}
