//! Each `SyncMode` keeps what it promises, at every file-system operation
//! of a workload of writes, persists and flushes (with compactions):
//!
//! | mode | after a process kill | after a power cut |
//! |---|---|---|
//! | `Always` | every acknowledged write | every acknowledged write |
//! | `OsBuffered` | every acknowledged write | every persisted write |
//! | `Background` | every persisted write | every persisted write |
//!
//! The workload stops at operation N (it and every later one fail, as
//! when the process dies there); a process kill reopens the same `MemFs`
//! (every write the process made is in the file system's cache), a power
//! cut reopens `crash_copy()` and `crash_copy_torn()`. Each reopen must
//! succeed and hold exactly a prefix of the write order that includes
//! the writes the mode promised.

#[path = "common/crash_points.rs"]
mod crash_points;

use std::collections::BTreeMap;
use std::sync::Arc;

use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs};
use cairndb::{Config, Db, SyncMode};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

/// Ends with writes no persist covers.
const WRITES: u32 = 410;

fn key(i: u32) -> Vec<u8> {
    format!("k{:03}", (i * 37) % 90).into_bytes()
}

/// Write `i`: a put, or every ninth a delete; some values go to blob files.
fn apply(db: &Db, i: u32) -> cairndb::Result<()> {
    if i % 9 == 4 {
        return db.delete(key(i)).map(drop);
    }
    db.put(key(i), value(i)).map(drop)
}

fn value(i: u32) -> Vec<u8> {
    let len = if i.is_multiple_of(13) { 700 } else { 150 + (i % 100) as usize };
    vec![(i % 251) as u8; len]
}

fn open(fs: Arc<dyn Fs>, mode: SyncMode) -> cairndb::Result<Db> {
    Config::new("/db")
        .fs(fs)
        .sync(mode)
        .memtable_size_bytes(64 << 10)
        .blob_threshold_bytes(512)
        .table_target_bytes(8 << 10)
        .level0_trigger(2)
        .level1_target_bytes(64 << 10)
        .background_threads(false)
        .background_persist_interval(None)
        .open()
}

/// The state after each prefix of the writes: `states()[n]` after `n`.
fn states() -> Vec<State> {
    let mut state = State::new();
    let mut all = vec![state.clone()];
    for i in 0..WRITES {
        if i % 9 == 4 {
            state.remove(&key(i));
        } else {
            state.insert(key(i), value(i));
        }
        all.push(state.clone());
    }
    all
}

/// How many writes were acknowledged, and how many of those a completed
/// persist covered, when the workload stopped.
#[derive(Clone, Copy, Debug, Default)]
struct Acked {
    written: usize,
    persisted: usize,
}

/// Runs the workload until the first error: a persist every 50 writes,
/// a flush every 120, a full compaction after write 300.
fn run(fs: Arc<dyn Fs>, mode: SyncMode) -> Acked {
    let mut acked = Acked::default();
    let Ok(db) = open(fs, mode) else { return acked };
    for i in 0..WRITES {
        if apply(&db, i).is_err() {
            return acked;
        }
        acked.written = i as usize + 1;
        if i % 50 == 49 {
            if db.persist().is_err() {
                return acked;
            }
            acked.persisted = acked.written;
        }
        if i % 120 == 119 && db.flush().is_err() {
            return acked;
        }
        if i == 300 && db.compact().is_err() {
            return acked;
        }
    }
    let s = db.stats();
    let watermarks_hold = match mode {
        SyncMode::Always => s.durable_seqno == s.seqno,
        SyncMode::OsBuffered => s.written_seqno == s.seqno && s.durable_seqno < s.seqno,
        SyncMode::Background => s.written_seqno == s.durable_seqno && s.durable_seqno < s.seqno,
    };
    assert!(watermarks_hold, "{mode:?}: {s:?}");
    acked
}

fn contents(db: &Db) -> State {
    db.iter().map(|kv| kv.expect("scan after recovery")).collect()
}

/// What must survive: (after a process kill, after a power cut).
fn promised(mode: SyncMode, acked: Acked) -> (usize, usize) {
    match mode {
        SyncMode::Always => (acked.written, acked.written),
        SyncMode::OsBuffered => (acked.written, acked.persisted),
        SyncMode::Background => (acked.persisted, acked.persisted),
    }
}

fn check(fs: MemFs, mode: SyncMode, expected: &[State], at_least: usize, what: &str) {
    let db = open(Arc::new(fs.clone()), mode).unwrap_or_else(|e| panic!("{what}: reopen failed: {e}"));
    let state = contents(&db);
    let prefix = (at_least..expected.len()).find(|&k| expected[k] == state);
    assert!(prefix.is_some(), "{what}: not a prefix of the writes at or after the {at_least} promised ones");
    drop(db);
    let db = open(Arc::new(fs), mode).unwrap();
    assert_eq!(contents(&db), state, "{what}: a second recovery changed the state");
}

/// Sweeps every operation of the workload in `mode` (every `step`th);
/// returns how many crashed states were checked.
fn sweep(mode: SyncMode, step: u64) -> u64 {
    let expected = states();
    let total_ops = {
        let mem = MemFs::new();
        let fault = FaultFs::new(Arc::new(mem.clone()));
        let acked = run(Arc::new(fault.clone()), mode);
        assert_eq!(acked.written, WRITES as usize);
        let db = open(Arc::new(mem), mode).unwrap();
        let levels: Vec<usize> = db.version().levels.iter().map(Vec::len).collect();
        assert!(levels[1..].iter().sum::<usize>() > 0, "the workload compacts: {levels:?}");
        fault.op_count()
    };
    let mut explored = 0;
    let mut n = 0;
    while n <= total_ops {
        let mem = MemFs::new();
        let fault = FaultFs::new(Arc::new(mem.clone()));
        fault.add_rule(FaultRule::From { n, kind: FaultKind::TornWrite });
        let acked = run(Arc::new(fault), mode);
        let (kill, cut) = promised(mode, acked);
        let what = format!("{mode:?}, stopped at op {n} ({acked:?})");
        check(mem.crash_copy(), mode, &expected, cut, &format!("{what}, power cut"));
        check(mem.crash_copy_torn(n), mode, &expected, cut, &format!("{what}, torn power cut"));
        check(mem, mode, &expected, kill, &format!("{what}, process kill"));
        explored += 3;
        n += step;
    }
    eprintln!("{mode:?}: {total_ops} ops in the workload, {explored} crashed states checked");
    explored
}

#[test]
fn os_buffered_keeps_acknowledged_writes_through_a_kill_and_persisted_ones_through_a_power_cut() {
    let explored = sweep(SyncMode::OsBuffered, 1);
    crash_points::record("db_sync_modes_under_crash/os_buffered", explored, 0, explored);
}

#[test]
fn always_keeps_acknowledged_writes_through_anything() {
    let explored = sweep(SyncMode::Always, 1);
    crash_points::record("db_sync_modes_under_crash/always", explored, 0, explored);
}

#[test]
fn background_keeps_persisted_writes_through_anything() {
    let explored = sweep(SyncMode::Background, 1);
    crash_points::record("db_sync_modes_under_crash/background", explored, 0, explored);
}
