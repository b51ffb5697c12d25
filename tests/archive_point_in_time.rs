//! Continuous log archiving and point-in-time restore, against a model.
//!
//! - **Exact at any point**: two writer threads (puts, deletes, 2-op
//!   batches, hot keys overwritten in place) with background flushes and
//!   compactions, archived continuously across two base backups; restores
//!   to 50 random seqnos and 10 random times each equal the model at the
//!   commit they report, and that commit is the newest at or before the
//!   point (checked against the commits the writers saw made durable). On
//!   a directory store here, on the S3 server in `archive_s3.rs`.
//! - Timelines: a restored copy written to again archives its own history;
//!   restoring a point of the old timeline afterwards still returns the
//!   old history.
//! - Gaps and fences are in `archive_gap_and_fence.rs`.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

mod common;

use cairndb::backup::{ArchiveOptions, BackupEngine, BackupStore, DirStore, RestorePoint};
use cairndb::fs::{Fs, MemFs};
use cairndb::{Config, Db, SeqNo, WriteBatch};
use common::backup::{Model, State, contents};

/// A database with small memtables and tables, flushing and compacting in
/// the background.
fn open_busy_db(fs: Arc<dyn Fs>, path: &str) -> Db {
    Config::new(path)
        .fs(fs)
        .memtable_size_bytes(96 << 10)
        .blob_threshold_bytes(300)
        .table_target_bytes(32 << 10)
        .level0_trigger(3)
        .open()
        .expect("open the database")
}

/// A tiny deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Commits the writers saw durable: (seqno, time just after persist
/// returned).
type Commits = Arc<Mutex<Vec<(SeqNo, SystemTime)>>>;

/// One writer: `ops` operations of every kind, persisting now and then.
fn writer(db: Db, model: Arc<Mutex<Model>>, commits: Commits, seed: u64, ops: u32, stop: Arc<AtomicBool>) {
    let mut rng = Rng(seed);
    for i in 0..ops {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let hot = format!("hot{}", rng.below(4));
        let key = format!("key{:04}", rng.below(600));
        match rng.below(10) {
            // Overwrites of hot keys with same-sized values: in place.
            0..=2 => {
                let value = format!("h{seed}-{i:08}");
                let seqno = db.put(&hot, &value).unwrap();
                model.lock().unwrap().record(seqno, hot.into_bytes(), Some(value.into_bytes()));
            }
            3..=5 => {
                let big = rng.below(8) == 0;
                let value = if big { vec![(i % 251) as u8; 500] } else { format!("v{seed}-{i}").into_bytes() };
                let seqno = db.put(&key, &value).unwrap();
                model.lock().unwrap().record(seqno, key.into_bytes(), Some(value));
            }
            6 => {
                let seqno = db.delete(&key).unwrap();
                model.lock().unwrap().record(seqno, key.into_bytes(), None);
            }
            _ => {
                let other = format!("key{:04}", rng.below(600));
                let value = format!("b{seed}-{i}");
                let batch = WriteBatch::new().put(&key, &value).delete(&other);
                let last = db.write(batch).unwrap();
                let mut model = model.lock().unwrap();
                model.record(SeqNo(last.0 - 1), key.into_bytes(), Some(value.into_bytes()));
                model.record(last, other.into_bytes(), None);
            }
        }
        if i % 97 == 0 {
            let seqno = db.persist().unwrap();
            commits.lock().unwrap().push((seqno, SystemTime::now()));
        }
        if i % 400 == 0 {
            std::thread::sleep(Duration::from_millis(3));
        }
    }
}

/// The restored state at `path` on `disk`.
fn state_of(disk: &Arc<dyn Fs>, path: &str) -> State {
    let db = Config::new(path).fs(Arc::clone(disk)).read_only(true).open().expect("open the restored database");
    contents(&db)
}

/// Drives the whole scenario on `store`.
pub fn exact_at_any_point(store: Arc<dyn BackupStore>) {
    let disk: Arc<dyn Fs> = Arc::new(MemFs::new());
    let db = open_busy_db(Arc::clone(&disk), "/db");
    let engine = BackupEngine::new(Arc::clone(&store)).local_fs(Arc::clone(&disk));
    let model = Arc::new(Mutex::new(Model::default()));
    let commits: Commits = Arc::default();
    let archive = engine.archive(&db, ArchiveOptions::default().interval(Duration::from_millis(20))).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let mut bases = Vec::new();
    let mut started_at = Vec::new();
    for round in 0..3u64 {
        started_at.push(SystemTime::now());
        let writers: Vec<_> = (0..2u64)
            .map(|w| {
                let (db, model, commits, stop) = (db.clone(), model.clone(), commits.clone(), stop.clone());
                std::thread::spawn(move || writer(db, model, commits, round * 10 + w + 1, 2500, stop))
            })
            .collect();
        if round < 2 {
            std::thread::sleep(Duration::from_millis(30));
            // A base backup while the writers run.
            bases.push(engine.create_backup(&db).unwrap());
        }
        for w in writers {
            w.join().unwrap();
        }
    }
    let end = db.persist().unwrap();
    commits.lock().unwrap().push((end, SystemTime::now()));
    assert_eq!(archive.sync().unwrap(), end, "sync ships everything durable");
    let stats = archive.stats();
    assert!(stats.chunks_shipped >= 5 && stats.gaps.is_empty(), "{stats:?}");
    assert!(db.stats().flushes >= 3, "flushes ran while archiving: {:?}", db.stats().flushes);

    let restorable = engine.restorable().unwrap();
    assert_eq!(restorable.len(), 1, "{restorable:?}");
    let range = &restorable[0].ranges[0];
    assert_eq!((range.first_seqno, range.last_seqno), (bases[0].seqno, end), "{restorable:?}");
    assert!(restorable[0].gaps.is_empty());

    let model = model.lock().unwrap();
    let commits = commits.lock().unwrap().clone();
    let mut rng = Rng(7);
    let local: Arc<dyn Fs> = Arc::new(MemFs::new());
    let engine = engine.local_fs(Arc::clone(&local));
    let span = end.0 - bases[0].seqno.0;
    let mut replayed = 0;
    for i in 0..50 {
        let wanted = SeqNo(bases[0].seqno.0 + rng.below(span + 1));
        let path = format!("/r/seqno-{i}");
        let info = engine.restore_to(RestorePoint::Seqno(wanted), Path::new(&path)).unwrap();
        assert!(info.seqno <= wanted, "landed at {} past {wanted}", info.seqno);
        // Every commit a writer saw durable at or before the point is covered.
        let newest_seen = commits.iter().map(|c| c.0).filter(|s| *s <= wanted).max().unwrap_or(SeqNo(0));
        assert!(info.seqno >= newest_seen.min(wanted), "landed at {} before the commit {newest_seen}", info.seqno);
        assert_eq!(state_of(&local, &path), model.state_at(info.seqno), "restore to seqno {wanted} ({info:?})");
        replayed += usize::from(info.log_chunks > 0);
    }
    assert!(replayed >= 40, "most restores replay archived log onto a base: {replayed} of 50");
    // Times: a point just after a commit a writer saw durable lands at or
    // after it, and at a commit made by then.
    for i in 0..10 {
        let (seqno, at) = commits[rng.below(commits.len() as u64) as usize];
        if seqno < bases[0].seqno {
            continue;
        }
        let path = format!("/r/time-{i}");
        let info = engine.restore_to(RestorePoint::Time(at), Path::new(&path)).unwrap();
        assert!(info.seqno >= seqno, "time restore landed at {} before the commit {seqno} durable by then", info.seqno);
        assert!(info.commit_time.is_none_or(|t| t <= at), "landed on a commit made after the point: {info:?}");
        assert_eq!(state_of(&local, &path), model.state_at(info.seqno), "restore to a time ({info:?})");
    }
    let latest = engine.restore_to(RestorePoint::Latest, Path::new("/r/latest")).unwrap();
    assert_eq!(latest.seqno, end);
    assert_eq!(state_of(&local, "/r/latest"), model.state_at(end));
    assert_eq!(state_of(&local, "/r/latest"), contents(&db));
    // Before the first base backup, nothing is restorable.
    let before = engine.restore_to(RestorePoint::Time(started_at[0] - Duration::from_secs(60)), Path::new("/r/x"));
    assert!(before.is_err(), "{before:?}");
    drop(archive);
}

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
