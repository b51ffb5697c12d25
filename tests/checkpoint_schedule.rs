//! Scheduled checkpoints and keeping a folder of them.
//!
//! - A schedule of 100 ms keeping 5, over 3 s of full-speed writes: a
//!   concurrent observer never sees more than 5 checkpoints; each kept one
//!   equals the model at its seqno; the folder's file count stays bounded.
//! - `latest_valid` skips a checkpoint with a flipped byte in a table and
//!   one with a missing file, saying which and why; `prune` keeps the
//!   newest and finishes a removal a crash interrupted.
//! - Ticks with nothing written are skipped; dropping the database stops
//!   the schedule.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;

use cairndb::checkpoint::{self, CheckpointSchedule};
use cairndb::fs::{FileKind, Fs, MemFs, OpenOptions};
use cairndb::{Config, Db};
use common::backup::{Model, contents};

fn open(fs: &Arc<dyn Fs>, path: &str) -> Db {
    Config::new(path).fs(Arc::clone(fs)).memtable_size_bytes(256 << 10).table_target_bytes(64 << 10).open().unwrap()
}

fn file_count(fs: &dyn Fs, dir: &Path) -> usize {
    fs.read_dir(dir)
        .unwrap()
        .iter()
        .map(|e| if e.kind == FileKind::Dir { file_count(fs, &dir.join(&e.name)) } else { 1 })
        .sum()
}

#[test]
fn a_schedule_keeps_at_most_its_count_and_each_checkpoint_is_exact() {
    let fs: Arc<dyn Fs> = Arc::new(MemFs::new());
    let db = open(&fs, "/db");
    let model = Arc::new(Mutex::new(Model::default()));
    let schedule =
        db.schedule_checkpoints("/cps", CheckpointSchedule::every(Duration::from_millis(100)).keep(5)).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let most = Arc::new(AtomicUsize::new(0));
    let observer = {
        let (fs, done, most) = (Arc::clone(&fs), Arc::clone(&done), Arc::clone(&most));
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if fs.exists(Path::new("/cps")).unwrap() {
                    let n = checkpoint::list(&*fs, Path::new("/cps")).unwrap().len();
                    most.fetch_max(n, Ordering::Relaxed);
                }
                std::thread::yield_now();
            }
        })
    };
    let started = std::time::Instant::now();
    let mut i = 0u32;
    while started.elapsed() < Duration::from_secs(3) {
        let mut model = model.lock().unwrap();
        model.put(&db, format!("k{:05}", i % 5000), format!("v{i}"));
        if i.is_multiple_of(7) {
            model.delete(&db, format!("k{:05}", (i * 3) % 5000));
        }
        i += 1;
    }
    let stats = schedule.run_now();
    drop(schedule);
    done.store(true, Ordering::Relaxed);
    observer.join().unwrap();
    assert!(stats.made >= 10, "checkpoints taken over 3 s at 100 ms: {stats:?}");
    assert_eq!(stats.failures, 0, "{stats:?}");
    assert!(most.load(Ordering::Relaxed) <= 5, "an observer saw {} checkpoints", most.load(Ordering::Relaxed));
    let kept = checkpoint::list(&*fs, Path::new("/cps")).unwrap();
    assert_eq!(kept.len(), 5);
    let model = model.lock().unwrap();
    for listing in &kept {
        let name = listing.path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.ends_with(&format!("-{}", listing.description.seqno)), "{name} carries its seqno");
        let copy = Config::new(&listing.path).fs(Arc::clone(&fs)).read_only(true).open().unwrap();
        assert_eq!(contents(&copy), model.state_at(listing.description.seqno), "{name}");
    }
    let per_checkpoint = kept.iter().map(|l| file_count(&*fs, &l.path)).max().unwrap();
    assert_eq!(file_count(&*fs, Path::new("/cps")), kept.iter().map(|l| file_count(&*fs, &l.path)).sum::<usize>());
    assert!(per_checkpoint < 200, "{per_checkpoint}");
    let newest = checkpoint::latest_valid(&fs, Path::new("/cps")).unwrap();
    assert_eq!(newest.found.unwrap().path, kept[0].path);
}

#[test]
fn ticks_without_writes_are_skipped_and_the_schedule_ends_with_the_database() {
    let fs: Arc<dyn Fs> = Arc::new(MemFs::new());
    let db = open(&fs, "/db");
    db.put("k", "v").unwrap();
    let schedule =
        db.schedule_checkpoints("/cps", CheckpointSchedule::every(Duration::from_secs(3600)).keep(3)).unwrap();
    assert_eq!(schedule.run_now().made, 1);
    let stats = schedule.run_now();
    assert_eq!((stats.made, stats.skipped), (1, 1), "nothing written: skipped");
    db.put("k", "w").unwrap();
    assert_eq!(schedule.run_now().made, 2);
    drop(db);
    let stats = schedule.run_now();
    assert!(stats.stopped, "the database is gone: {stats:?}");
    // A new schedule after a reopen counts the newest checkpoint there.
    let db = open(&fs, "/db");
    let again = db.schedule_checkpoints("/cps", CheckpointSchedule::every(Duration::from_secs(3600))).unwrap();
    let stats = again.run_now();
    assert_eq!((stats.made, stats.skipped), (0, 1), "{stats:?}");
}

#[test]
fn latest_valid_walks_back_past_damage_and_says_why() {
    let fs: Arc<dyn Fs> = Arc::new(MemFs::new());
    let db = open(&fs, "/db");
    let mut made = Vec::new();
    for round in 0..3u32 {
        for i in 0..200 {
            db.put(format!("k{i}"), format!("round{round}")).unwrap();
        }
        std::thread::sleep(Duration::from_millis(2));
        made.push(db.checkpoint_into("/cps", Default::default()).unwrap());
    }
    // The newest loses a table; the middle one gets a flipped byte in one.
    let table_of = |path: &Path| {
        let dir = path.join("tables");
        dir.join(&fs.read_dir(&dir).unwrap()[0].name)
    };
    fs.remove_file(&table_of(&made[2].path)).unwrap();
    let damaged = table_of(&made[1].path);
    // Not in place: the file is a hard link shared with the database.
    let mut bytes = cairndb::fs::read_to_vec(&*fs, &damaged).unwrap();
    bytes[10] ^= 0x40;
    fs.remove_file(&damaged).unwrap();
    fs.open(&damaged, OpenOptions::create_new()).unwrap().write_all_at(&bytes, 0).unwrap();

    let found = checkpoint::latest_valid(&fs, Path::new("/cps")).unwrap();
    assert_eq!(found.found.as_ref().map(|f| &f.path), Some(&made[0].path), "{found:?}");
    assert_eq!(found.found.as_ref().unwrap().seqno, made[0].seqno);
    let skipped: Vec<_> = found.skipped.iter().map(|s| s.path.clone()).collect();
    assert_eq!(skipped, [made[2].path.clone(), made[1].path.clone()]);
    assert!(found.skipped.iter().all(|s| !s.reason.is_empty()), "{found:?}");

    // Prune keeps the newest one whatever its state, and the count asked for.
    let pruned = checkpoint::prune(&*fs, Path::new("/cps"), 2, None).unwrap();
    assert_eq!(pruned.kept, [made[2].path.clone(), made[1].path.clone()]);
    assert_eq!(pruned.removed.len(), 1);
    assert!(!fs.exists(&made[0].path).unwrap());
    assert!(checkpoint::prune(&*fs, Path::new("/cps"), 0, None).is_err());
}

#[test]
fn a_removal_cut_short_is_never_listed_nor_opened_and_the_next_prune_finishes_it() {
    let fs: Arc<dyn Fs> = Arc::new(MemFs::new());
    let db = open(&fs, "/db");
    db.put("k", "v").unwrap();
    let info = db.checkpoint_into("/cps", Default::default()).unwrap();
    // What a crash after delete's rename leaves: a staging name, whole.
    let leftover = Path::new("/cps").join(format!("{}x.1.1", checkpoint::STAGING_PREFIX));
    fs.rename(&info.path, &leftover).unwrap();
    assert!(checkpoint::list(&*fs, Path::new("/cps")).unwrap().is_empty());
    assert!(checkpoint::latest_valid(&fs, Path::new("/cps")).unwrap().found.is_none());
    let err = Config::new(&leftover).fs(Arc::clone(&fs)).read_only(true).open().unwrap_err();
    assert!(err.to_string().contains("being made"), "{err}");
    let pruned = checkpoint::prune(&*fs, Path::new("/cps"), 3, None).unwrap();
    assert_eq!(pruned.leftovers_removed, 1);
    assert!(!fs.exists(&leftover).unwrap());
    assert!(pruned.kept.is_empty());
}
