//! `prune(keep)` counts only backups that can be restored: a backup whose
//! manifest is unreadable, or whose files are not all in the store with
//! their sizes, is not one of the `keep`, is never removed by prune, and is
//! reported. A prune never leaves fewer intact backups than asked for.

use std::sync::Arc;

mod common;

use cairndb::backup::{BackupEngine, BackupId, BackupInfo, DirStore, get, manifest_key};
use cairndb::fs::MemFs;
use common::backup::{Model, open_db, restored_state};

/// `n` backups, each after new writes and a compaction (so each has files
/// of its own).
fn backups(n: u32) -> (BackupEngine, Model, Vec<BackupInfo>) {
    let disk = Arc::new(MemFs::new());
    let engine = BackupEngine::new(Arc::new(DirStore::open(disk.clone(), "/backups").unwrap()));
    let db = open_db(disk, "/db");
    let mut model = Model::default();
    let infos = (0..n)
        .map(|round| {
            model.fill(&db, round * 300, 300, 200);
            db.compact().unwrap();
            engine.create_backup(&db).unwrap()
        })
        .collect();
    (engine, model, infos)
}

fn damage_manifest(engine: &BackupEngine, id: u64) {
    let key = manifest_key(BackupId(id));
    let mut bytes = get(&**engine.store(), &key, 1 << 20).unwrap();
    bytes[30] ^= 0x10;
    engine.store().put(&key, &bytes).unwrap();
}

/// Backup ids as numbers, to compare with literals.
fn numbers(ids: &[BackupId]) -> Vec<u64> {
    ids.iter().map(|id| id.get()).collect()
}

fn assert_restorable(engine: &BackupEngine, model: &Model, infos: &[BackupInfo], ids: &[u64]) {
    for id in ids.iter().copied().map(BackupId) {
        let info = infos.iter().find(|i| i.id == id).unwrap();
        assert!(engine.verify(id).unwrap().is_ok(), "backup {id}");
        assert_eq!(restored_state(engine, id), model.state_at(info.seqno), "backup {id}");
    }
}

#[test]
fn damaged_newest_manifests_do_not_count_and_are_not_removed() {
    let (engine, model, infos) = backups(4);
    damage_manifest(&engine, 3);
    damage_manifest(&engine, 4);
    let report = engine.prune(2).unwrap();
    assert_eq!(report.removed, [], "{report:?}");
    assert_eq!(numbers(&report.kept), [2, 1], "{report:?}");
    let damaged: Vec<u64> = report.damaged.iter().map(|d| d.id.get()).collect();
    assert_eq!(damaged, [4, 3], "{report:?}");
    assert!(report.damaged.iter().all(|d| d.reason.contains("checksum")), "{report:?}");
    let listed: Vec<u64> = engine.list().unwrap().iter().map(|l| l.id.get()).collect();
    assert_eq!(listed, [4, 3, 2, 1], "damaged manifests stay for a person to look at");
    assert_restorable(&engine, &model, &infos, &[2, 1]);
}

#[test]
fn a_backup_with_a_missing_file_does_not_count() {
    let (engine, model, infos) = backups(4);
    let manifest = engine.manifest(BackupId(4)).unwrap();
    let own = manifest
        .files
        .iter()
        .find(|f| {
            f.db_name().starts_with("tables/") && engine.manifest(BackupId(3)).unwrap().files.iter().all(|g| g != *f)
        })
        .expect("backup 4 has a table of its own");
    engine.store().delete(&own.content.key()).unwrap();
    let report = engine.prune(2).unwrap();
    assert_eq!((numbers(&report.removed), numbers(&report.kept)), (vec![1], vec![3, 2]), "{report:?}");
    assert_eq!(report.damaged.len(), 1, "{report:?}");
    assert_eq!(report.damaged[0].id, BackupId(4));
    assert!(report.damaged[0].reason.contains(&format!("{} (missing)", own.db_name())), "{report:?}");
    assert!(engine.manifest(BackupId(4)).is_ok(), "a damaged backup is reported, not removed");
    assert_restorable(&engine, &model, &infos, &[3, 2]);
}

#[test]
fn fewer_intact_backups_than_asked_removes_nothing_intact() {
    let (engine, model, infos) = backups(3);
    damage_manifest(&engine, 3);
    let report = engine.prune(3).unwrap();
    assert_eq!((numbers(&report.removed), numbers(&report.kept)), (vec![], vec![2, 1]), "{report:?}");
    assert_eq!(report.damaged.iter().map(|d| d.id).collect::<Vec<_>>(), [BackupId(3)]);
    assert_restorable(&engine, &model, &infos, &[2, 1]);
    let report = engine.prune(1).unwrap();
    assert_eq!((numbers(&report.removed), numbers(&report.kept)), (vec![1], vec![2]), "{report:?}");
    assert_restorable(&engine, &model, &infos, &[2]);
}
