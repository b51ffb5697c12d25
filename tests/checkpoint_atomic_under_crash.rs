//! A power cut at every file-system operation of a checkpoint — with a
//! non-empty memtable and blob files, flush on and off — leaves either no
//! target or a complete checkpoint equal to the source at its seqno; the
//! source reopens with everything persisted; leftovers are only staging
//! directories, and the next checkpoint into the same parent removes them.

#[path = "common/crash_points.rs"]
mod crash_points;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use cairndb::checkpoint::{self, STAGING_PREFIX};
use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs};
use cairndb::{CheckpointOptions, Config, Db, SeqNo};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

fn open(fs: Arc<dyn Fs>, path: &str) -> cairndb::Result<Db> {
    Config::new(path)
        .fs(fs)
        .memtable_size_bytes(64 << 10)
        .blob_threshold_bytes(400)
        .table_target_bytes(16 << 10)
        .level0_trigger(3)
        .background_threads(false)
        .open()
}

/// Writes with known seqnos; returns the model state after each seqno.
fn fill(db: &Db) -> BTreeMap<SeqNo, State> {
    let mut states = BTreeMap::new();
    let mut state = State::new();
    states.insert(db.stats().seqno, state.clone());
    for i in 0..1200u32 {
        let key = format!("k{:03}", (i * 7) % 400).into_bytes();
        let value = if i % 40 == 0 { vec![(i % 251) as u8; 600] } else { format!("value-{i}").into_bytes() };
        let seqno = db.put(&key, &value).unwrap();
        state.insert(key, value);
        states.insert(seqno, state.clone());
        if i == 900 {
            db.persist().unwrap();
        }
    }
    states
}

fn contents(db: &Db) -> State {
    db.iter().map(|kv| kv.unwrap()).collect()
}

fn sweep(flush: bool) -> usize {
    let options = CheckpointOptions::default().flush(flush);
    let count_ops = || {
        let mem = MemFs::new();
        let fault = FaultFs::new(Arc::new(mem.clone()));
        let db = open(Arc::new(fault.clone()), "/db").unwrap();
        fill(&db);
        fault.reset_counts();
        db.checkpoint_with("/cps/cp", options).unwrap();
        fault.op_count()
    };
    let total = count_ops();
    let mut explored = 0;
    for n in 0..=total {
        let mem = MemFs::new();
        let fault = FaultFs::new(Arc::new(mem.clone()));
        let db = open(Arc::new(fault.clone()), "/db").unwrap();
        let states = fill(&db);
        fault.reset_counts();
        fault.add_rule(FaultRule::From { n, kind: FaultKind::IO });
        let result = db.checkpoint_with("/cps/cp", options);
        // A cut after the checkpoint is durable (say, in a queued deletion
        // of an obsolete file when the pause ends) does not fail it.
        assert!(result.is_ok() || n < total, "cut at {n} of {total}: {result:?}");
        std::mem::forget(db);
        for crashed in [mem.crash_copy(), mem.crash_copy_torn(n)] {
            check_after_crash(&crashed, &states, n, result.is_ok());
            explored += 1;
        }
    }
    explored
}

fn check_after_crash(crashed: &MemFs, states: &BTreeMap<SeqNo, State>, n: u64, acknowledged: bool) {
    let fs: Arc<dyn Fs> = Arc::new(crashed.clone());
    let target = Path::new("/cps/cp");
    if crashed.exists(target).unwrap() {
        let description = checkpoint::describe(crashed, target).unwrap().expect("a complete checkpoint");
        let report = checkpoint::verify(&fs, target).unwrap();
        assert!(report.is_ok(), "cut at {n}: {report:?}");
        let cp = open(Arc::clone(&fs), "/cps/cp").unwrap();
        let expected = &states[&description.seqno];
        assert_eq!(&contents(&cp), expected, "cut at {n}: checkpoint differs from the source at its seqno");
    } else {
        assert!(!acknowledged, "cut at {n}: an acknowledged checkpoint vanished");
    }
    // The source reopens with at least everything persisted, as a prefix.
    let source = open(Arc::clone(&fs), "/db").unwrap();
    let state = contents(&source);
    // Seqnos start at 1, and the persist came after the 901st write.
    let seqno = states.iter().rev().find(|(_, s)| **s == state).map(|(k, _)| *k);
    assert!(seqno.is_some_and(|s| s.0 >= 901), "cut at {n}: source at {seqno:?} lost persisted writes");
    // Only staging leftovers remain besides the target, and the next
    // checkpoint clears them.
    if crashed.exists(Path::new("/cps")).unwrap() {
        for entry in crashed.read_dir(Path::new("/cps")).unwrap() {
            let name = entry.name.to_string_lossy();
            assert!(name == "cp" || name.starts_with(STAGING_PREFIX), "cut at {n}: stray {name}");
        }
        source.checkpoint("/cps/next").unwrap();
        let left: Vec<_> = crashed.read_dir(Path::new("/cps")).unwrap();
        assert!(left.iter().all(|e| !e.name.to_string_lossy().starts_with(STAGING_PREFIX)), "cut at {n}");
    }
}

#[test]
fn power_cut_at_every_op_of_a_flushing_checkpoint() {
    let explored = sweep(true);
    crash_points::record("checkpoint_atomic_under_crash/flush", explored as u64, 0, explored as u64);
    #[expect(clippy::print_stderr, reason = "report the size of the sweep")]
    {
        eprintln!("checkpoint (flush) crash sweep: {explored} crash states explored");
    }
}

#[test]
fn power_cut_at_every_op_of_a_log_copying_checkpoint() {
    let explored = sweep(false);
    crash_points::record("checkpoint_atomic_under_crash/no_flush", explored as u64, 0, explored as u64);
    #[expect(clippy::print_stderr, reason = "report the size of the sweep")]
    {
        eprintln!("checkpoint (no flush) crash sweep: {explored} crash states explored");
    }
}
