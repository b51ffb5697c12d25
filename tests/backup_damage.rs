//! Damage in a backup store: a shared file corrupted or deleted, a manifest
//! damaged. `verify` names the file, `restore` refuses with an error naming
//! it and leaves nothing at the target, and `recover_latest_valid` walks
//! back to the newest intact backup, saying what it skipped and why.

use std::path::Path;
use std::sync::Arc;

mod common;

use cairndb::backup::{BackupEngine, BackupId, BackupInfo, DirStore, ManifestFile};
use cairndb::fs::{Fs, MemFs, OpenOptions};
use common::backup::{Model, open_db, restored_state};

struct Setup {
    disk: Arc<dyn Fs>,
    engine: BackupEngine,
    model: Model,
    infos: Vec<BackupInfo>,
}

/// Three backups: 1 before a full compaction, 2 after it (all new tables),
/// 3 after a small change (sharing 2's tables).
fn setup() -> Setup {
    let disk: Arc<dyn Fs> = Arc::new(MemFs::new());
    let store = DirStore::open(Arc::clone(&disk), "/backups").unwrap();
    let engine = BackupEngine::new(Arc::new(store)).local_fs(Arc::clone(&disk));
    let db = open_db(Arc::clone(&disk), "/db");
    let mut model = Model::default();
    model.fill(&db, 0, 3000, 900);
    let mut infos = vec![engine.create_backup(&db).unwrap()];
    model.fill(&db, 3000, 500, 900);
    db.compact().unwrap();
    infos.push(engine.create_backup(&db).unwrap());
    model.put(&db, "small", "change");
    infos.push(engine.create_backup(&db).unwrap());
    Setup { disk, engine, model, infos }
}

/// A table file of backup 2 that backup 3 shares and backup 1 lacks.
fn shared_table(s: &Setup) -> ManifestFile {
    let (m1, m2, m3) = (
        s.engine.manifest(BackupId(1)).unwrap(),
        s.engine.manifest(BackupId(2)).unwrap(),
        s.engine.manifest(BackupId(3)).unwrap(),
    );
    *m2.files
        .iter()
        .find(|f| {
            f.db_name().starts_with("tables/")
                && m3.files.iter().any(|g| g.content == f.content)
                && !m1.files.iter().any(|g| g.content == f.content)
        })
        .expect("backups 2 and 3 share a table backup 1 lacks")
}

fn object_path(file: &ManifestFile) -> String {
    format!("/backups/{}", file.content.key())
}

fn check_damage_is_found(s: &Setup, file: &ManifestFile, what: &str) {
    for id in [BackupId(2), BackupId(3)] {
        let report = s.engine.verify(id).unwrap();
        assert_eq!(report.problems.len(), 1, "backup {id}: {report:?}");
        let problem = &report.problems[0];
        assert_eq!(problem.name, file.db_name());
        assert!(problem.location.ends_with(&file.content.key()), "{problem:?}");
        assert!(problem.what.contains(what), "{problem:?}");
        assert_eq!(report.files_checked, s.engine.manifest(id).unwrap().files.len());

        let target = format!("/restore-{id}");
        let err = s.engine.restore(id, Path::new(&target)).unwrap_err();
        let text = err.to_string();
        assert!(err.is_corruption(), "{text}");
        assert!(text.contains(&file.db_name()) && text.contains(&format!("backup {id}")), "{text}");
        assert!(!s.disk.exists(Path::new(&target)).unwrap(), "nothing appears at the target");
        let leftovers = s.disk.read_dir(Path::new("/")).unwrap();
        assert!(leftovers.iter().all(|e| !e.name.to_string_lossy().starts_with(".cairn-staging")), "{leftovers:?}");
    }
    assert!(s.engine.verify(BackupId(1)).unwrap().is_ok());
    let recovery = s.engine.recover_latest_valid().unwrap();
    assert_eq!(recovery.id, Some(BackupId(1)), "{recovery:?}");
    let skipped: Vec<u64> = recovery.skipped.iter().map(|k| k.id.get()).collect();
    assert_eq!(skipped, [3, 2]);
    assert!(recovery.skipped.iter().all(|k| k.reason.contains(&file.db_name())), "{recovery:?}");
    assert_eq!(restored_state(&s.engine, BackupId(1)), s.model.state_at(s.infos[0].seqno));
}

#[test]
fn a_corrupted_shared_file_is_named_and_refused() {
    let s = setup();
    let file = shared_table(&s);
    // Flip one byte in the middle, keeping the size.
    let handle = s.disk.open(Path::new(&object_path(&file)), OpenOptions::read_write()).unwrap();
    let mut byte = [0u8; 1];
    let offset = file.size_bytes() / 2;
    handle.read_exact_at(&mut byte, offset).unwrap();
    handle.write_all_at(&[byte[0] ^ 0x20], offset).unwrap();
    check_damage_is_found(&s, &file, "checksum mismatch");
}

#[test]
fn a_deleted_shared_file_is_named_and_refused() {
    let s = setup();
    let file = shared_table(&s);
    s.engine.store().delete(&file.content.key()).unwrap();
    check_damage_is_found(&s, &file, "missing");
}

#[test]
fn a_truncated_file_is_caught_while_restoring_and_a_damaged_manifest_is_skipped() {
    let s = setup();
    let file = shared_table(&s);
    let handle = s.disk.open(Path::new(&object_path(&file)), OpenOptions::read_write()).unwrap();
    handle.set_len(file.size_bytes() - 1).unwrap();
    check_damage_is_found(&s, &file, "bytes");

    // Damage backup 1's manifest too: nothing intact is left.
    let key = "manifests/manifest-000001.json";
    let mut bytes = cairndb::backup::get(&**s.engine.store(), key, 1 << 20).unwrap();
    bytes[20] ^= 1;
    s.engine.store().put(key, &bytes).unwrap();
    let recovery = s.engine.recover_latest_valid().unwrap();
    assert_eq!(recovery.id, None);
    assert_eq!(recovery.skipped.len(), 3);
    assert!(recovery.skipped[2].reason.contains("checksum"), "{recovery:?}");
    assert!(s.engine.verify(BackupId(1)).unwrap_err().is_corruption());
}
