//! Backups to S3 through a real S3 HTTP server on 127.0.0.1: moto in server
//! mode, which `.ci/run` installs, starts (`CAIRNDB_TEST_S3_ENDPOINT`,
//! `CAIRNDB_TEST_S3_BUCKET`) and stops. Needs the `s3` feature; without
//! the server these tests skip, saying why — except under CI.
//!
//! - Incremental backups and exact restores, multipart uploads of large
//!   files, damage found by verify and walked past by recovery.
//! - The fence: two engines committing the same backup id at once — exactly
//!   one succeeds, the other gets `Error::BackupConflict`.
#![cfg(feature = "s3")]

use std::sync::{Arc, Barrier};

mod common;

use cairndb::backup::{BackupEngine, BackupId, BackupOptions, BackupStore, S3Store};
use cairndb::fs::{Fs, MemFs};
use cairndb::{Config, Db, Error};
use common::backup::{Model, contents, open_db, restored_state, s3_store, s3_store_at, unique_name};

fn engine(store: S3Store) -> BackupEngine {
    BackupEngine::new(Arc::new(store))
}

#[test]
fn multipart_uploads_are_whole_and_atomic() {
    let Some(store) = s3_store("multipart", Some((5 << 20, 5 << 20))) else { return };
    let big: Vec<u8> = (0..(12 << 20) + 4321).map(|i: usize| (i.wrapping_mul(40_503) >> 5) as u8).collect();
    store.put("files/big", &big).unwrap();
    assert_eq!(store.head("files/big").unwrap(), Some(big.len() as u64));
    assert_eq!(cairndb::backup::get(&store, "files/big", 64 << 20).unwrap(), big);
    assert_eq!(store.get_range("files/big", (6 << 20)..(6 << 20) + 10).unwrap(), &big[6 << 20..(6 << 20) + 10]);
    // A second multipart upload of other bytes replaces the first whole.
    let other: Vec<u8> = big.iter().map(|b| b ^ 0x5a).collect();
    store.put("files/big", &other).unwrap();
    assert_eq!(cairndb::backup::get(&store, "files/big", 64 << 20).unwrap(), other);
}

#[test]
fn incremental_backups_to_s3_restore_exactly_and_damage_is_found() {
    let Some(store) = s3_store("engine", Some((5 << 20, 5 << 20))) else { return };
    let engine = engine(store);
    let disk: Arc<dyn Fs> = Arc::new(MemFs::new());
    // Large, incompressible values go to a blob file over the multipart threshold.
    let db = Config::new("/db")
        .fs(Arc::clone(&disk))
        .blob_threshold_bytes(1000)
        .memtable_size_bytes(16 << 20)
        .background_threads(false)
        .open()
        .unwrap();
    let mut model = Model::default();
    for i in 0..400u32 {
        let mut x = u64::from(i) + 1;
        let value: Vec<u8> = (0..20_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        model.put(&db, format!("big{i:04}"), value);
    }
    model.fill(&db, 0, 2000, 800);
    let first = engine.create_backup(&db).unwrap();
    assert_eq!(first.files_uploaded, first.files_total);
    let manifest = engine.manifest(first.id).unwrap();
    assert!(manifest.files.iter().any(|f| f.size_bytes() > 5 << 20), "a file went up in parts: {manifest:?}");

    model.put(&db, "small", "change");
    let second = engine.create_backup(&db).unwrap();
    assert!(second.files_uploaded <= 2, "{second:?}");
    assert!(second.bytes_uploaded < 64 << 10, "{second:?}");
    assert_eq!(second.files_skipped, first.files_total - 1);
    for info in [&first, &second] {
        assert!(engine.verify(info.id).unwrap().is_ok());
        assert_eq!(restored_state(&engine, info.id), model.state_at(info.seqno));
    }

    // Delete a file only the second backup holds: verify names it, restore
    // refuses, recovery falls back to the first.
    let m1 = engine.manifest(BackupId(1)).unwrap();
    let m2 = engine.manifest(BackupId(2)).unwrap();
    let lost = m2.files.iter().find(|f| !m1.files.iter().any(|g| g.content == f.content)).unwrap();
    engine.store().delete(&lost.content.key()).unwrap();
    let report = engine.verify(BackupId(2)).unwrap();
    assert_eq!(report.problems.len(), 1);
    assert_eq!(report.problems[0].name, lost.db_name());
    let target = MemFs::new();
    let err = engine.clone().local_fs(Arc::new(target.clone())).restore(BackupId(2), "/r".as_ref()).unwrap_err();
    assert!(err.is_corruption() && err.to_string().contains(&lost.db_name()), "{err}");
    assert!(!target.exists("/r".as_ref()).unwrap());
    let recovery = engine.recover_latest_valid().unwrap();
    assert_eq!(recovery.id, Some(BackupId(1)));
    assert_eq!(recovery.skipped.iter().map(|s| s.id).collect::<Vec<_>>(), [BackupId(2)]);
    engine.delete(BackupId(2)).unwrap();
    let gc = engine.gc().unwrap();
    assert!(gc.files_removed >= 1, "{gc:?}");
    assert_eq!(restored_state(&engine, BackupId(1)), model.state_at(first.seqno));
}

fn loaded_db(tag: &str) -> (Db, Model) {
    let db = open_db(Arc::new(MemFs::new()), "/db");
    let mut model = Model::default();
    model.fill(&db, 0, 800, 300);
    model.put(&db, "writer", tag);
    (db, model)
}

#[test]
fn two_engines_committing_the_same_id_exactly_one_wins() {
    let Some(endpoint) = common::backup::s3_endpoint() else {
        return;
    };
    let prefix = unique_name("fence");
    let engines = [engine(s3_store_at(&endpoint, &prefix, None)), engine(s3_store_at(&endpoint, &prefix, None))];
    let dbs = [loaded_db("a"), loaded_db("b")];
    for id in (1..=5).map(BackupId) {
        let barrier = Barrier::new(2);
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|i| {
                    let (engine, (db, _), barrier) = (&engines[i], &dbs[i], &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        engine.create_backup_with(db, BackupOptions::default().id(id), &mut |_| {})
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<usize> = (0..2).filter(|&i| results[i].is_ok()).collect();
        assert_eq!(winners.len(), 1, "id {id}: {results:?}");
        let loser = results[1 - winners[0]].as_ref().unwrap_err();
        assert!(matches!(loser, Error::BackupConflict { id: lost, .. } if *lost == id), "{loser}");
        let text = loser.to_string();
        assert!(text.contains(&format!("backup {id}")) && text.contains("another writer"), "{text}");
        // The committed backup is the winner's, whole.
        let (db, model) = &dbs[winners[0]];
        let restored = restored_state(&engines[0], id);
        assert_eq!(restored, model.state_at(results[winners[0]].as_ref().unwrap().seqno));
        assert_eq!(restored, contents(db));
    }
    assert_eq!(engines[1].ids().unwrap(), (1..=5).map(BackupId).collect::<Vec<_>>());
}
