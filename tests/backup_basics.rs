//! Backups into a directory store on an in-memory disk: incremental (a
//! second backup after a small change uploads only the new files, counted
//! and sized), exact (each restore equals the model at its seqno, with a
//! writer running during the backup too), with and without a flush; list,
//! latest, prune and gc; leases that keep gc and backups apart.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

mod common;
#[path = "common/lease.rs"]
mod lease;

use cairndb::Error;
use cairndb::backup::{BackupEngine, BackupId, BackupOptions, BackupProgress, BackupStore, DirStore, Manifest};
use cairndb::fs::{Fs, MemFs};
use common::backup::{Model, contents, leases, open_db, restored_state, unreferenced_files};
use lease::lease_body;

fn setup() -> (Arc<dyn Fs>, BackupEngine) {
    let disk: Arc<dyn Fs> = Arc::new(MemFs::new());
    let store = DirStore::open(Arc::clone(&disk), "/backups").unwrap();
    (disk, BackupEngine::new(Arc::new(store)))
}

fn keys(m: &Manifest) -> BTreeSet<String> {
    m.files.iter().map(|f| f.content.key()).collect()
}

#[test]
fn second_backup_uploads_only_new_files_and_each_restores_exactly() {
    let (disk, engine) = setup();
    let db = open_db(Arc::clone(&disk), "/db");
    let mut model = Model::default();
    model.fill(&db, 0, 3000, 1000);

    let mut seen = Vec::new();
    let first = engine.create_backup_with(&db, BackupOptions::default(), &mut |p| seen.push(p)).unwrap();
    assert_eq!(first.id, BackupId(1));
    assert_eq!(first.seqno, db.stats().seqno, "a quiet database is backed up whole");
    assert!(first.files_total >= 4, "{first:?}");
    assert_eq!((first.files_uploaded, first.bytes_uploaded), (first.files_total, first.bytes_total));
    assert_eq!((first.files_skipped, first.bytes_skipped), (0, 0));
    let last = *seen.last().unwrap();
    assert_eq!(
        last,
        BackupProgress {
            files_done: first.files_total,
            files_total: first.files_total,
            bytes_done: first.bytes_total,
            bytes_total: first.bytes_total
        }
    );
    assert!(seen.windows(2).all(|w| w[0].bytes_done <= w[1].bytes_done && w[0].files_done <= w[1].files_done));

    // A small change: ten keys, one of them a blob.
    for i in 0..10u32 {
        let value = if i == 0 { vec![9u8; 900] } else { format!("changed-{i}").into_bytes() };
        model.put(&db, format!("k{:05}", i * 100), value);
    }
    let second = engine.create_backup(&db).unwrap();
    assert_eq!(second.id, BackupId(2));
    let (m1, m2) = (engine.manifest(BackupId(1)).unwrap(), engine.manifest(BackupId(2)).unwrap());
    let new: Vec<_> = m2.files.iter().filter(|f| !keys(&m1).contains(&f.content.key())).collect();
    assert_eq!(second.files_uploaded, new.len(), "{second:?}");
    assert_eq!(second.bytes_uploaded, new.iter().map(|f| f.size_bytes()).sum::<u64>());
    assert_eq!(second.files_skipped, second.files_total - new.len());
    assert_eq!(second.bytes_skipped, second.bytes_total - second.bytes_uploaded);
    // The flush of the change made a table and a blob file; the version is new.
    assert!(second.files_uploaded <= 3, "{second:?}");
    assert!(second.bytes_uploaded * 5 < second.bytes_total, "{second:?}");
    assert_eq!(second.files_skipped, first.files_total - 1, "every earlier table and blob file is shared");

    // Nothing changed: only the version file... which is the same too.
    let third = engine.create_backup(&db).unwrap();
    assert_eq!(third.files_uploaded, 0, "{third:?}");

    for info in [&first, &second, &third] {
        assert_eq!(restored_state(&engine, info.id), model.state_at(info.seqno), "backup {}", info.id);
    }
    let listed: Vec<u64> = engine.list().unwrap().iter().map(|l| l.id.get()).collect();
    assert_eq!(listed, [3, 2, 1]);
    assert_eq!(engine.latest().unwrap(), Some(BackupId(3)));
    assert!(leases(&**engine.store()).is_empty());
}

#[test]
fn a_backup_without_flush_carries_the_log_and_replays_it() {
    let (disk, engine) = setup();
    let db = open_db(Arc::clone(&disk), "/db");
    let mut model = Model::default();
    model.fill(&db, 0, 2000, 700);
    db.flush().unwrap();
    model.fill(&db, 2000, 300, 700);
    let info = engine.create_backup_with(&db, BackupOptions::default().flush(false), &mut |_| {}).unwrap();
    let manifest = engine.manifest(info.id).unwrap();
    assert!(manifest.files.iter().any(|f| f.db_name().starts_with("log/")), "{manifest:?}");
    assert_eq!(info.seqno, db.stats().seqno);
    assert_eq!(restored_state(&engine, info.id), model.state_at(info.seqno));
    assert_eq!(restored_state(&engine, info.id), contents(&db));
}

#[test]
fn a_backup_under_load_holds_exactly_the_writes_up_to_its_seqno() {
    let (disk, engine) = setup();
    let db = open_db(Arc::clone(&disk), "/db");
    let mut model = Model::default();
    model.fill(&db, 0, 1500, 500);
    let stop = AtomicBool::new(false);
    let (infos, writes) = std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let mut writes = Vec::new();
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) || i < 200 {
                let key = format!("w{:04}", i % 300).into_bytes();
                let value = format!("load-{i}").into_bytes();
                writes.push((db.put(&key, &value).unwrap(), key, Some(value)));
                i += 1;
            }
            writes
        });
        let infos: Vec<_> = (0..3)
            .map(|i| engine.create_backup_with(&db, BackupOptions::default().flush(i != 1), &mut |_| {}).unwrap())
            .collect();
        stop.store(true, Ordering::Relaxed);
        (infos, writer.join().unwrap())
    });
    for (seqno, key, value) in writes {
        model.record(seqno, key, value);
    }
    for info in &infos {
        assert_eq!(restored_state(&engine, info.id), model.state_at(info.seqno), "backup {}", info.id);
    }
}

#[test]
fn restore_needs_a_fresh_target_and_names_a_missing_backup() {
    let (disk, engine) = setup();
    let db = open_db(Arc::clone(&disk), "/db");
    db.put("a", "1").unwrap();
    let engine = engine.local_fs(Arc::clone(&disk));
    let info = engine.create_backup(&db).unwrap();
    let err = engine.restore(info.id, Path::new("/db")).unwrap_err();
    assert!(matches!(err, Error::TargetExists { .. }), "{err}");
    let err = engine.restore(BackupId(99), Path::new("/r")).unwrap_err();
    assert!(err.is_not_found() && err.to_string().contains("no backup 99"), "{err}");
    assert!(!disk.exists(Path::new("/r")).unwrap());
    let restored = engine.restore(info.id, Path::new("/deep/er/r")).unwrap();
    assert_eq!(restored.seqno, info.seqno);
    assert_eq!(contents(&open_db(disk, "/deep/er/r")).len(), 1);
}

#[test]
fn prune_keeps_the_newest_and_gc_removes_only_what_no_backup_uses() {
    let (disk, engine) = setup();
    let db = open_db(Arc::clone(&disk), "/db");
    let mut model = Model::default();
    let mut infos = Vec::new();
    for round in 0..4u32 {
        model.fill(&db, round * 1000, 1000, 600);
        if round == 2 {
            db.compact().unwrap();
        }
        infos.push(engine.create_backup(&db).unwrap());
    }
    assert!(unreferenced_files(&engine).is_empty());
    let report = engine.prune(2).unwrap();
    assert_eq!((report.removed, report.kept), (vec![BackupId(2), BackupId(1)], vec![BackupId(4), BackupId(3)]));
    let orphans = unreferenced_files(&engine);
    assert!(!orphans.is_empty(), "the compaction made the first backups' tables unique to them");
    let gc = engine.gc().unwrap();
    assert_eq!(gc.files_removed, orphans.len());
    assert!(unreferenced_files(&engine).is_empty());
    assert_eq!(engine.latest().unwrap(), Some(BackupId(4)));
    for info in &infos[2..] {
        assert_eq!(restored_state(&engine, info.id), model.state_at(info.seqno));
        assert!(engine.verify(info.id).unwrap().is_ok());
    }
    assert!(engine.prune(0).is_err());
    engine.delete(BackupId(4)).unwrap();
    assert_eq!(engine.latest().unwrap(), Some(BackupId(3)));
    assert!(engine.delete(BackupId(4)).unwrap_err().is_not_found());
}

#[test]
fn gc_and_backups_keep_out_of_each_others_way() {
    let (disk, engine) = setup();
    let db = open_db(Arc::clone(&disk), "/db");
    db.put("a", "1").unwrap();
    let store: &dyn BackupStore = &**engine.store();
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    let body = lease_body("gc", now_ms);

    // A live gc lease: a backup yields, saying who holds the store.
    store.put_if_absent(&format!("locks/gc-{now_ms:013}-00"), &body).unwrap();
    let err = engine.create_backup(&db).unwrap_err();
    assert!(matches!(&err, Error::StoreBusy { holder, .. } if holder.contains("gc")), "{err}");
    assert!(engine.list().unwrap().is_empty());
    // ... and so does another gc.
    assert!(matches!(engine.gc().unwrap_err(), Error::StoreBusy { .. }));

    // Once stale (crashed), it is ignored, and gc removes it.
    let engine = engine.grace(Duration::ZERO);
    engine.create_backup(&db).unwrap();
    let report = engine.gc().unwrap();
    assert_eq!(report.leases_removed, 1);
    assert!(leases(&**engine.store()).is_empty());

    // A live backup lease keeps gc away: taken two hours ago (its key),
    // refreshed now (its body).
    let engine = engine.grace(Duration::from_secs(3600));
    let body = lease_body("backup", now_ms);
    let taken_ms = now_ms - 2 * 3600 * 1000;
    engine.store().put_if_absent(&format!("locks/backup-{taken_ms:013}-00"), &body).unwrap();
    assert!(matches!(engine.gc().unwrap_err(), Error::StoreBusy { .. }));
    engine.create_backup(&db).unwrap();
}

#[test]
fn gc_removes_stale_uploads_and_refuses_with_an_unreadable_manifest() {
    let disk = MemFs::new();
    let fs: Arc<dyn Fs> = Arc::new(disk.clone());
    let store = DirStore::open(Arc::clone(&fs), "/backups").unwrap();
    let engine = BackupEngine::new(Arc::new(store)).grace(Duration::ZERO);
    let db = open_db(Arc::clone(&fs), "/db");
    db.put("a", "1").unwrap();
    engine.create_backup(&db).unwrap();
    let stale = Path::new("/backups/.uploads/1000-00");
    fs.open(stale, cairndb::fs::OpenOptions::create_new()).unwrap().write_all_at(b"partial", 0).unwrap();
    assert_eq!(engine.gc().unwrap().uploads_removed, 1);
    assert!(!fs.exists(stale).unwrap());

    engine.store().put_if_absent("manifests/manifest-000002.json", &b"{ damaged".to_vec()).unwrap();
    let err = engine.gc().unwrap_err();
    assert!(err.is_corruption() && err.to_string().contains("delete backup 2"), "{err}");
    let listed = engine.list().unwrap();
    assert_eq!(listed[0].id, BackupId(2));
    assert!(listed[0].manifest.is_none() && listed[0].problem.is_some());
    engine.delete(BackupId(2)).unwrap();
    engine.gc().unwrap();
}
