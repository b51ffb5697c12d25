//! Continuous log archiving and point-in-time restore, against a model.
//!
//! - **Exact at any point**: two writer threads (puts, deletes, 2-op
//!   batches, hot keys overwritten in place) with background flushes and
//!   compactions, archived continuously across two base backups; restores
//!   to 50 random seqnos and 10 random times each equal the model at the
//!   commit they report, and that commit is the newest at or before the
//!   point (checked against the commits the writers saw made durable). On
//!   a directory store here, on the S3 server in `archive_s3.rs` (the
//!   scenario is `common::archive::exact_at_any_point`).
//! - Timelines: a restored copy written to again archives its own history;
//!   restoring a point of the old timeline afterwards still returns the
//!   old history.
//! - Gaps and fences are in `archive_gap_and_fence.rs`; power cuts in
//!   `archive_crash_sweep.rs`; store faults in `archive_faults.rs`.

use std::path::Path;
use std::sync::Arc;

mod common;

use cairndb::backup::{ArchiveOptions, BackupEngine, BackupStore, DirStore, RestorePoint};
use cairndb::fs::{Fs, MemFs};
use common::archive::{exact_at_any_point, open_busy_db, state_of};
use common::backup::Model;

#[test]
fn restores_to_any_point_equal_the_model_on_a_directory_store() {
    let disk: Arc<dyn Fs> = Arc::new(MemFs::new());
    let store: Arc<dyn BackupStore> = Arc::new(DirStore::open(disk, "/backups").unwrap());
    exact_at_any_point(store);
}

#[test]
fn a_restored_copy_written_again_is_a_new_timeline_and_the_old_one_still_restores() {
    let disk: Arc<dyn Fs> = Arc::new(MemFs::new());
    let store: Arc<dyn BackupStore> = Arc::new(DirStore::open(Arc::clone(&disk), "/backups").unwrap());
    let engine = BackupEngine::new(Arc::clone(&store)).local_fs(Arc::clone(&disk));
    let db = open_busy_db(Arc::clone(&disk), "/db");
    let old = db.identity().unwrap();
    let archive = engine.archive(&db, ArchiveOptions::default()).unwrap();
    engine.create_backup(&db).unwrap();
    let mut model = Model::default();
    model.put(&db, "a", "old-1");
    let middle = db.persist().unwrap();
    model.put(&db, "a", "old-2");
    model.put(&db, "b", "old-only");
    db.persist().unwrap();
    archive.sync().unwrap();
    drop(archive);

    // Restore the middle and write to it: a new timeline, archived too.
    let info = engine.restore_to(RestorePoint::Seqno(middle), Path::new("/copy")).unwrap();
    assert_eq!((info.seqno, info.database), (middle, Some(old)));
    let copy = open_busy_db(Arc::clone(&disk), "/copy");
    let new = copy.identity().unwrap();
    assert_ne!(new, old, "a restored copy opened for writing starts a new timeline");
    let new_engine = engine.clone().database(new);
    let copy_archive = new_engine.archive(&copy, ArchiveOptions::default()).unwrap();
    new_engine.create_backup(&copy).unwrap();
    copy.put("a", "new-1").unwrap();
    copy.put("c", "new-only").unwrap();
    copy.persist().unwrap();
    copy_archive.sync().unwrap();
    drop(copy_archive);

    // The old timeline's latest is still the old history.
    let old_engine = engine.clone().database(old);
    old_engine.restore_to(RestorePoint::Latest, Path::new("/old-latest")).unwrap();
    let state = state_of(&disk, "/old-latest");
    assert_eq!(state.get(&b"a"[..]).map(Vec::as_slice), Some(&b"old-2"[..]));
    assert_eq!(state.get(&b"b"[..]).map(Vec::as_slice), Some(&b"old-only"[..]));
    assert!(!state.contains_key(&b"c"[..]));
    // And the new one, its own.
    new_engine.restore_to(RestorePoint::Latest, Path::new("/new-latest")).unwrap();
    let state = state_of(&disk, "/new-latest");
    assert_eq!(state.get(&b"a"[..]).map(Vec::as_slice), Some(&b"new-1"[..]));
    assert!(!state.contains_key(&b"b"[..]));
    // Without a choice, two timelines are ambiguous.
    assert!(matches!(
        engine.restore_to(RestorePoint::Latest, Path::new("/x")),
        Err(cairndb::Error::AmbiguousDatabase { .. })
    ));
    let listed = engine.restorable().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
}
