//! Power cut at every file-system operation of a workload that spans
//! flushes and compactions. After each cut the database reopens with every
//! persisted write, holds exactly a prefix of the write order, reopens a
//! second time to the same state, and keeps no file its version does not
//! reference.

#[path = "common/crash_points.rs"]
mod crash_points;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs};
use cairndb::{Config, Db};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

#[derive(Clone, Debug)]
enum Write {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
}

fn workload() -> Vec<Write> {
    (0u32..1500)
        .map(|i| {
            let key = format!("k{:03}", (i * 37) % 150).into_bytes();
            if i % 9 == 4 {
                Write::Delete(key)
            } else {
                let len = if i % 13 == 0 { 700 } else { 20 + (i % 50) as usize };
                Write::Put(key, vec![(i % 251) as u8; len])
            }
        })
        .collect()
}

fn open(fs: Arc<dyn Fs>) -> cairndb::Result<Db> {
    Config::new("/db")
        .fs(fs)
        .memtable_size_bytes(64 << 10)
        .blob_threshold_bytes(512)
        .table_target_bytes(8 << 10)
        .level0_trigger(2)
        .level1_target_bytes(64 << 10)
        .background_threads(false)
        .open()
}

/// The model state after the first `n` writes.
fn states(writes: &[Write]) -> Vec<State> {
    let mut state = State::new();
    let mut all = vec![state.clone()];
    for w in writes {
        match w {
            Write::Put(k, v) => state.insert(k.clone(), v.clone()),
            Write::Delete(k) => state.remove(k),
        };
        all.push(state.clone());
    }
    all
}

/// Runs the workload until the first error; returns how many writes were
/// acknowledged as durable by a completed persist.
fn run(fs: Arc<dyn Fs>, writes: &[Write]) -> usize {
    let Ok(db) = open(fs) else { return 0 };
    let mut durable = 0;
    for (i, w) in writes.iter().enumerate() {
        let result = match w {
            Write::Put(k, v) => db.put(k, v).map(drop),
            Write::Delete(k) => db.delete(k).map(drop),
        };
        if result.is_err() {
            return durable;
        }
        if i % 40 == 39 {
            if db.persist().is_err() {
                return durable;
            }
            durable = i + 1;
        }
        if i % 150 == 149 && db.flush().is_err() {
            return durable;
        }
    }
    if db.persist().is_ok() { writes.len() } else { durable }
}

fn contents(db: &Db) -> State {
    db.iter().map(|kv| kv.expect("scan after recovery")).collect()
}

fn count_files(fs: &dyn Fs, dir: &str) -> usize {
    fs.read_dir(Path::new(dir)).map(|entries| entries.len()).unwrap_or(0)
}

#[test]
fn power_cut_at_every_op() {
    let writes = workload();
    let expected = states(&writes);
    let total_ops = {
        let mem = MemFs::new();
        let fault = FaultFs::new(Arc::new(mem.clone()));
        assert_eq!(run(Arc::new(fault.clone()), &writes), writes.len());
        let ops = fault.op_count();
        let db = open(Arc::new(mem)).unwrap();
        let levels: Vec<usize> = db.version().levels.iter().map(Vec::len).collect();
        assert!(levels[1..].iter().sum::<usize>() > 0, "the workload compacts: {levels:?}");
        assert!(!db.version().blob_files.is_empty(), "the workload writes blob files");
        ops
    };
    let step = std::env::var("CAIRNDB_CRASH_STEP").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut explored = 0;
    let mut n = 0;
    while n <= total_ops {
        let mem = MemFs::new();
        let fault = FaultFs::new(Arc::new(mem.clone()));
        fault.add_rule(FaultRule::From { n, kind: FaultKind::IO });
        let durable = run(Arc::new(fault), &writes);
        for crashed in [mem.crash_copy(), mem.crash_copy_torn(n)] {
            let db = open(Arc::new(crashed.clone())).unwrap_or_else(|e| panic!("cut at op {n}: reopen failed: {e}"));
            let state = contents(&db);
            let prefix = (durable..=writes.len()).find(|&k| expected[k] == state);
            assert!(
                prefix.is_some(),
                "cut at op {n}: state is not a prefix of the writes at or after the {durable} persisted ones"
            );
            let version = db.version();
            drop(db);
            let db = open(Arc::new(crashed.clone())).unwrap();
            assert_eq!(contents(&db), state, "cut at op {n}: a second recovery changed the state");
            let tables: usize = version.levels.iter().map(Vec::len).sum();
            assert_eq!(count_files(&crashed, "/db/tables"), tables, "cut at op {n}: table files leak");
            assert_eq!(count_files(&crashed, "/db/blobs"), version.blob_files.len(), "cut at op {n}: blobs leak");
            explored += 1;
        }
        n += step;
    }
    #[expect(clippy::print_stderr, reason = "report the size of the sweep")]
    {
        eprintln!("db crash sweep: {total_ops} ops in the workload, {explored} crash states explored");
    }
    crash_points::record("db_crash_sweep", explored as u64, 0, 2 * explored as u64);
}
