//! Helpers for the archive tests: the exact-at-any-point scenario, a
//! history of writes that can be cut at a seqno, restores to a point onto
//! a fresh disk, and the check that every range a store calls restorable
//! restores exactly.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use cairndb::backup::{ArchiveOptions, BackupEngine, BackupStore, RestorableRange, RestoreInfo, RestorePoint};
use cairndb::fs::{FileKind, Fs, MemFs, OpenOptions};
use cairndb::{Config, Db, Result, SeqNo, WriteBatch};

use super::backup::{Model, State, contents};

/// A database with small memtables and tables, flushing and compacting in
/// the background.
pub fn open_busy_db(fs: Arc<dyn Fs>, path: &str) -> Db {
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
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
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
pub fn state_of(disk: &Arc<dyn Fs>, path: &str) -> State {
    // A small memtable: opening with the default 64 MiB costs ~50 ms in a
    // debug build, and the sweeps open thousands.
    let db = Config::new(path)
        .fs(Arc::clone(disk))
        .read_only(true)
        .memtable_size_bytes(64 << 10)
        .open()
        .expect("open the restored database");
    contents(&db)
}

/// The exact-at-any-point scenario (see `archive_point_in_time.rs`) on
/// `store`: a directory store there, the S3 server in `archive_s3.rs`.
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

/// Archive options for deterministic tests: the thread ships only when
/// asked (`sync`, `stop`, drop), never on a timer or a size, so a run's
/// file-system operations come in the same order every time.
pub fn on_demand() -> ArchiveOptions {
    ArchiveOptions::default().interval(Duration::from_secs(3600))
}

/// Every write acknowledged, with its seqno; unlike `Model`, it records
/// only what succeeded, and can be cut back to what a crash kept.
#[derive(Clone, Debug, Default)]
pub struct History {
    writes: Vec<(SeqNo, Vec<u8>, Option<Vec<u8>>)>,
}

impl History {
    /// Puts `key` = `value` into `db`; records it if acknowledged.
    pub fn put(&mut self, db: &Db, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Result<SeqNo> {
        let (key, value) = (key.into(), value.into());
        let seqno = db.put(&key, &value)?;
        self.writes.push((seqno, key, Some(value)));
        Ok(seqno)
    }

    /// Deletes `key` in `db`; records it if acknowledged.
    pub fn delete(&mut self, db: &Db, key: impl Into<Vec<u8>>) -> Result<SeqNo> {
        let key = key.into();
        let seqno = db.delete(&key)?;
        self.writes.push((seqno, key, None));
        Ok(seqno)
    }

    /// `n` writes numbered from `from`: keys `k{..}` over `span` keys,
    /// every 25th value large (a blob), every 11th a delete. Stops at the
    /// first error.
    pub fn fill(&mut self, db: &Db, from: u32, n: u32, span: u32) -> Result<()> {
        for i in from..from + n {
            let key = format!("k{:05}", (i * 7) % span);
            if i % 11 == 5 {
                self.delete(db, key)?;
            } else if i % 25 == 0 {
                self.put(db, key, vec![(i % 251) as u8; 700])?;
            } else {
                self.put(db, key, format!("value-{i}"))?;
            }
        }
        Ok(())
    }

    /// The state after every write with seqno <= `seqno`.
    pub fn state_at(&self, seqno: SeqNo) -> State {
        let mut state = State::new();
        for (_, key, value) in self.writes.iter().filter(|(s, _, _)| *s <= seqno) {
            match value {
                Some(v) => state.insert(key.clone(), v.clone()),
                None => state.remove(key),
            };
        }
        state
    }

    /// The writes up to `seqno` (what a database that recovered to it holds).
    pub fn until(&self, seqno: SeqNo) -> History {
        History { writes: self.writes.iter().filter(|(s, _, _)| *s <= seqno).cloned().collect() }
    }

    /// The newest seqno written.
    pub fn last_seqno(&self) -> SeqNo {
        self.writes.last().map_or(SeqNo(0), |w| w.0)
    }
}

/// Restores `point` with `engine` onto a fresh in-memory disk: the commit
/// it landed on and the state it holds.
pub fn restore_point(engine: &BackupEngine, point: RestorePoint) -> Result<(RestoreInfo, State)> {
    let disk: Arc<dyn Fs> = Arc::new(MemFs::new());
    let info = engine.clone().local_fs(Arc::clone(&disk)).restore_to(point, Path::new("/restored"))?;
    Ok((info, state_of(&disk, "/restored")))
}

/// Restores `seqno` and checks it equals `history` at the commit landed on,
/// which is not after `seqno` (and is it, with `exact`). Returns where it
/// landed.
pub fn check_restore(
    engine: &BackupEngine,
    seqno: SeqNo,
    exact: bool,
    history: &History,
    context: &str,
) -> RestoreInfo {
    let (info, state) = restore_point(engine, RestorePoint::Seqno(seqno))
        .unwrap_or_else(|e| panic!("{context}: restoring seqno {seqno} failed: {e}"));
    assert!(info.seqno <= seqno, "{context}: restoring {seqno} landed on {} after it", info.seqno);
    if exact {
        assert_eq!(info.seqno, seqno, "{context}: restoring the commit {seqno} landed elsewhere: {info:?}");
    }
    assert!(state == history.state_at(info.seqno), "{context}: the restore of {seqno} ({info:?}) is not the model");
    info
}

/// Every range the store calls restorable, on every timeline, restores
/// exactly: its first and last commit, and one in between. Returns the
/// ranges and how many restores were checked.
pub fn check_ranges(engine: &BackupEngine, history: &History, context: &str) -> (Vec<RestorableRange>, u64) {
    check_ranges_but(engine, history, &[], context)
}

/// As [`check_ranges`], except restoring the seqnos in `known_refused` (a
/// known library bug refuses them; the test naming it says which).
pub fn check_ranges_but(
    engine: &BackupEngine,
    history: &History,
    known_refused: &[SeqNo],
    context: &str,
) -> (Vec<RestorableRange>, u64) {
    let timelines = engine.restorable().unwrap_or_else(|e| panic!("{context}: restorable: {e}"));
    let mut ranges = Vec::new();
    let mut restores = 0;
    for timeline in timelines {
        for range in timeline.ranges {
            let context = format!("{context}, range {}..={}", range.first_seqno, range.last_seqno);
            let middle = SeqNo(range.first_seqno.0 + (range.last_seqno.0 - range.first_seqno.0) / 2);
            let mut points = vec![(range.first_seqno, true), (range.last_seqno, true), (middle, false)];
            points.dedup_by_key(|p| p.0);
            for (seqno, exact) in points.into_iter().filter(|p| !known_refused.contains(&p.0)) {
                check_restore(engine, seqno, exact, history, &context);
                restores += 1;
            }
            ranges.push(range);
        }
    }
    (ranges, restores)
}

/// Copies the tree at `from` to `to` on `fs`, byte for byte (a database
/// copied by `cp -r` while closed).
pub fn copy_tree(fs: &dyn Fs, from: &Path, to: &Path) {
    fs.create_dir_all(to).unwrap();
    for entry in fs.read_dir(from).unwrap() {
        let (source, target) = (from.join(&entry.name), to.join(&entry.name));
        if entry.kind == FileKind::Dir {
            copy_tree(fs, &source, &target);
            continue;
        }
        let file = fs.open(&source, OpenOptions::read()).unwrap();
        let mut bytes = vec![0u8; usize::try_from(file.len().unwrap()).unwrap()];
        file.read_exact_at(&mut bytes, 0).unwrap();
        let copy = fs.open(&target, OpenOptions::create_new()).unwrap();
        copy.write_all_at(&bytes, 0).unwrap();
        copy.sync_all().unwrap();
    }
    fs.sync_directory(to).unwrap();
}
