//! The log holds only what is not yet in tables: once a memtable is flushed,
//! its log segments leave the disk (and memory), whether or not they were
//! ever persisted, and segments a checkpoint kept alive go when it ends.

use std::path::Path;
use std::sync::Arc;

use cairndb::fs::{Fs, MemFs};
use cairndb::{CheckpointOptions, Config, Db};

fn config(fs: &MemFs) -> Config {
    Config::new("/db").fs(Arc::new(fs.clone())).background_threads(false).memtable_size_bytes(64 << 10)
}

/// Names and total length of the log segment files.
fn log_files(fs: &MemFs, db: &Path) -> (Vec<String>, u64) {
    let dir = db.join("log");
    let mut names = Vec::new();
    let mut bytes = 0;
    for entry in fs.read_dir(&dir).unwrap() {
        let name = entry.name.to_string_lossy().into_owned();
        if name.ends_with(".hlog") {
            bytes += fs.metadata(&dir.join(&name)).unwrap().len;
            names.push(name);
        }
    }
    (names, bytes)
}

fn write(db: &Db, range: std::ops::Range<u32>, persist_every: Option<u32>) {
    for i in range {
        db.put(format!("key{i:06}"), [i as u8; 80]).unwrap();
        if persist_every.is_some_and(|n| i % n == 0) {
            db.persist().unwrap();
        }
    }
    if persist_every.is_some() {
        db.persist().unwrap();
    }
}

fn reopened_holds(fs: &MemFs, n: u32) {
    let db = Config::new("/db").fs(Arc::new(fs.crash_copy())).background_threads(false).open().unwrap();
    for i in (0..n).step_by(97) {
        assert_eq!(db.get(format!("key{i:06}")).unwrap(), Some(vec![i as u8; 80]), "key {i}");
    }
    assert_eq!(db.iter().count(), n as usize);
}

#[test]
fn a_flush_removes_the_segments_of_what_it_flushed_persisted_or_not() {
    for persist_every in [None, Some(1), Some(50)] {
        let fs = MemFs::new();
        let db = config(&fs).open().unwrap();
        // Several memtables' worth, so freezes and flushes happen along the way.
        write(&db, 0..5000, persist_every);
        db.flush().unwrap();
        let (names, bytes) = log_files(&fs, Path::new("/db"));
        assert!(names.is_empty(), "persist every {persist_every:?}: {names:?} ({bytes} bytes) left after a flush");
        // Nothing the flush wrote depended on them.
        reopened_holds(&fs, 5000);
        // And the log starts again for new writes.
        write(&db, 5000..5100, Some(100));
        let (names, _) = log_files(&fs, Path::new("/db"));
        assert_eq!(names.len(), 1, "{names:?}");
        reopened_holds(&fs, 5100);
    }
}

#[test]
fn log_space_stays_bounded_by_the_memtables_in_memory() {
    let fs = MemFs::new();
    let db = config(&fs).open().unwrap();
    for round in 0..20u32 {
        write(&db, round * 1000..(round + 1) * 1000, Some(25));
        let (_, bytes) = log_files(&fs, Path::new("/db"));
        // The active memtable and at most one frozen one (never flushed in
        // the background here) may be on disk as log: 2 x 64 KiB + pages.
        let stats = db.stats();
        assert!(bytes <= 4 * (64 << 10), "round {round}: {bytes} bytes of log, {stats:?}");
    }
    reopened_holds(&fs, 20_000);
}

#[test]
fn segments_a_checkpoint_kept_alive_go_when_it_ends() {
    for flush in [true, false] {
        let fs = MemFs::new();
        let db = config(&fs).open().unwrap();
        write(&db, 0..300, Some(1));
        assert_eq!(log_files(&fs, Path::new("/db")).0.len(), 1);
        // The checkpoint flushes (or freezes) under a deletion pause: the
        // segments it links must stay until it is done, then go.
        db.checkpoint_with("/cp", CheckpointOptions::default().flush(flush)).unwrap();
        let cp = Config::new("/cp").fs(Arc::new(fs.clone())).background_threads(false).open().unwrap();
        assert_eq!(cp.iter().count(), 300);
        drop(cp);
        db.flush().unwrap();
        let (names, _) = log_files(&fs, Path::new("/db"));
        assert!(names.is_empty(), "flush {flush}: {names:?} left");
        reopened_holds(&fs, 300);
    }
}
