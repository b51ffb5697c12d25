//! Continuous archiving to S3 through a real S3 HTTP server on 127.0.0.1
//! (moto, which `.ci/run` starts: `CAIRNDB_TEST_S3_ENDPOINT`,
//! `CAIRNDB_TEST_S3_BUCKET`). Needs the `s3` feature; without the server
//! these tests skip, saying why — except under CI.
//!
//! - Exact at any point: the scenario of `archive_point_in_time.rs` (50
//!   seqnos and 10 times, each equal to the model at the commit it lands
//!   on), on S3.
//! - The fence: two archivers of one database, through two S3 clients of
//!   one prefix — exactly one ships, the other stops with
//!   `Error::ArchiveConflict`, every restore is exact.
#![cfg(feature = "s3")]

use std::sync::Arc;
use std::time::Duration;

mod common;

use cairndb::Error;
use cairndb::backup::{ArchiveOptions, BackupEngine, BackupStore, RestorePoint};
use cairndb::fs::MemFs;
use common::archive::{History, check_ranges, check_restore, exact_at_any_point, restore_point};
use common::backup::{contents, open_db, s3_store, s3_store_at, unique_name};

#[test]
fn restores_to_any_point_equal_the_model_on_s3() {
    let Some(store) = s3_store("archive-exact", None) else { return };
    let store: Arc<dyn BackupStore> = Arc::new(store);
    exact_at_any_point(store);
}

#[test]
fn two_archivers_of_one_database_on_s3_exactly_one_ships() {
    let Some(endpoint) = common::backup::s3_endpoint() else { return };
    let prefix = unique_name("archive-fence");
    let engines = [
        BackupEngine::new(Arc::new(s3_store_at(&endpoint, &prefix, None))),
        BackupEngine::new(Arc::new(s3_store_at(&endpoint, &prefix, None))),
    ];
    let db = open_db(Arc::new(MemFs::new()), "/db");
    let mut history = History::default();
    history.fill(&db, 0, 300, 200).unwrap();
    let base = engines[0].create_backup(&db).unwrap();
    let options = ArchiveOptions::default().interval(Duration::from_millis(20));
    let archives = [engines[0].archive(&db, options).unwrap(), engines[1].archive(&db, options).unwrap()];
    for round in 0..10u32 {
        history.fill(&db, 300 + round * 40, 40, 200).unwrap();
        db.persist().unwrap();
        std::thread::sleep(Duration::from_millis(15));
    }
    let end = db.persist().unwrap();
    let synced: Vec<_> = archives.iter().map(|a| a.sync()).collect();
    let winners: Vec<usize> = (0..2).filter(|&i| synced[i].is_ok()).collect();
    assert_eq!(winners.len(), 1, "{synced:?}");
    assert_eq!(synced[winners[0]].as_ref().unwrap(), &end);
    let loser = 1 - winners[0];
    assert!(matches!(synced[loser], Err(Error::ArchiveConflict { .. })), "{synced:?}");
    assert!(archives[loser].stats().stopped.is_some());
    drop(archives);

    let listed = engines[1].restorable().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].gaps.is_empty(), "{listed:?}");
    let ranges: Vec<_> = listed[0].ranges.iter().map(|r| (r.first_seqno, r.last_seqno)).collect();
    assert_eq!(ranges, [(base.seqno, end)], "{listed:?}");
    check_ranges(&engines[1], &history, "the fenced chain on S3");
    for k in 1..5 {
        let seqno = cairndb::SeqNo(base.seqno.0 + (end.0 - base.seqno.0) * k / 5);
        check_restore(&engines[0], seqno, false, &history, "the fenced chain on S3");
    }
    let (latest, state) = restore_point(&engines[0], RestorePoint::Latest).unwrap();
    assert_eq!(latest.seqno, end);
    assert!(state == contents(&db));
}
