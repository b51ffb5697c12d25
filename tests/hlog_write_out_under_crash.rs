//! `HybridLog::write_out` (the log side of `SyncMode::OsBuffered`): a
//! write handed to the file system without an fsync survives the death of
//! the process, and a power cut still loses only what no fsync covered.
//!
//! The sweep stops the workload at every file-system operation (all later
//! ones fail, plain or torn), then reopens what a process kill leaves (the
//! same file system, everything written) and what a power cut leaves (only
//! what was fsynced, and torn prefixes of the rest). Between persists the
//! write-outs cross segment rolls, so a power cut can keep a later segment
//! whole and an earlier one cut: the commit records of the later one were
//! written while the earlier bytes were not yet fsynced, and say so.

#[path = "common/batches.rs"]
mod batches;
#[path = "common/crash_points.rs"]
mod crash_points;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::thread;

use batches::{Batches, is_batch_boundary, state_at};
use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs};
use cairndb::internals::hlog::{HlogConfig, HybridLog, Op, RecoveryReport, ReplayFrom};
use cairndb::{LogAddress, SeqNo};

const LOG: &str = "/db/log";
const STEPS: u64 = 210;
/// A persist every this many steps: long unsynced runs of write-outs.
const PERSIST_EVERY: u64 = 40;

fn config() -> HlogConfig {
    HlogConfig {
        page_size_bytes: 4096,
        segment_size_bytes: 8192,
        memtable_size_bytes: 1 << 20,
        persist_interval_ms: 0,
        read_only: false,
    }
}

fn open(fs: Arc<dyn Fs>) -> cairndb::Result<(HybridLog, RecoveryReport)> {
    HybridLog::open(fs, Path::new(LOG), config(), ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) })
}

/// The batches written, in seqno order, and how far each watermark was
/// acknowledged.
#[derive(Default)]
struct Model {
    batches: Batches,
    /// Covered by a completed `write_out`: survives a process kill.
    written_seqno: u64,
    /// Covered by a completed `persist`: survives a power cut.
    durable_seqno: u64,
}

/// Writes, each followed by a write-out; a persist now and then and a
/// freeze halfway. Stops at the first error.
fn workload(fs: Arc<dyn Fs>, model: &mut Model) -> cairndb::Result<()> {
    let (log, _) = open(fs)?;
    let mut frozen_logs = Vec::new();
    for step in 0..STEPS {
        let key = format!("key-{:02}", (step * 7) % 13).into_bytes();
        let value = vec![step as u8; 40 + (step as usize * 37) % 120];
        let (seqno, changes) = if step % 5 == 4 {
            let other = format!("key-{:02}", (step * 3) % 13).into_bytes();
            let ops = [Op::Put { key: &key, value: &value }, Op::Delete { key: &other }];
            (log.write(&ops)?, vec![(key.clone(), Some(value.clone())), (other, None)])
        } else {
            (log.put(&key, &value)?, vec![(key, Some(value))])
        };
        model.batches.push((seqno.0, changes));
        let written = log.write_out()?;
        assert!(written.seqno >= seqno, "write_out returned before covering the write");
        model.written_seqno = written.seqno.0;
        if step == STEPS / 2 {
            frozen_logs.push(log.freeze());
        }
        if step % PERSIST_EVERY == PERSIST_EVERY - 1 {
            model.durable_seqno = log.persist()?.seqno.0;
        }
    }
    Ok(())
}

fn contents(log: &HybridLog) -> BTreeMap<Vec<u8>, Vec<u8>> {
    log.range(.., None).filter_map(|(k, l)| Some((k, l.value()?.to_vec()))).collect()
}

/// Recovers `fs`: it must open, hold every write up to `at_least`, and be
/// exactly the state at a batch boundary.
fn check_recovery(fs: MemFs, model: &Model, at_least: u64, what: &str) {
    let (log, report) = open(Arc::new(fs)).unwrap_or_else(|e| panic!("{what}: recovery failed: {e}"));
    let recovered = report.last_seqno.0;
    assert!(recovered >= at_least, "{what}: lost acknowledged writes ({recovered} < {at_least})");
    assert!(is_batch_boundary(&model.batches, recovered), "{what}: recovered half a batch (seqno {recovered})");
    assert_eq!(contents(&log), state_at(&model.batches, recovered), "{what}: state is not the prefix at {recovered}");
    log.put(b"next", b"life").unwrap();
    log.persist().unwrap();
}

fn op_count_of_full_run() -> u64 {
    let mem = MemFs::new();
    let fault = FaultFs::new(Arc::new(mem.clone()));
    let mut model = Model::default();
    workload(Arc::new(fault.clone()), &mut model).unwrap();
    let last = model.batches.last().unwrap().0;
    assert_eq!(model.written_seqno, last);
    assert!(model.durable_seqno < last, "the workload ends with writes no fsync covers");
    // A power cut now loses the unsynced writes; a process kill none.
    let (cut, _) = open(Arc::new(mem.crash_copy())).unwrap();
    assert_eq!(contents(&cut), state_at(&model.batches, model.durable_seqno), "a power cut after the run");
    assert!(cut.segments().len() >= 6, "the workload rolls segments: {:?}", cut.segments());
    drop(cut);
    check_recovery(mem, &model, last, "process kill after the run");
    fault.op_count()
}

#[test]
fn process_kill_and_power_cut_at_every_operation() {
    let ops = op_count_of_full_run();
    assert!(ops > 100, "workload too small: {ops} operations");
    let mut states = 0;
    for n in 0..=ops {
        for kind in [FaultKind::IO, FaultKind::TornWrite] {
            let mem = MemFs::new();
            let fault = FaultFs::new(Arc::new(mem.clone()));
            fault.add_rule(FaultRule::From { n, kind });
            let mut model = Model::default();
            let _ = workload(Arc::new(fault), &mut model);
            let what = format!("{kind:?} from op {n}");
            check_recovery(mem.crash_copy(), &model, model.durable_seqno, &format!("{what}, power cut"));
            for seed in 0..3 {
                let torn = mem.crash_copy_torn(n * 31 + seed);
                check_recovery(torn, &model, model.durable_seqno, &format!("{what}, torn power cut {seed}"));
            }
            check_recovery(mem, &model, model.written_seqno, &format!("{what}, process kill"));
            states += 5;
        }
    }
    eprintln!("{ops} operations, {states} crash states");
    crash_points::record("hlog_write_out_under_crash", states, 2 * (ops + 1), states);
}

#[test]
fn concurrent_write_outs_share_runs_and_make_nothing_durable() {
    const THREADS: u64 = 4;
    const WRITES: u64 = 500;
    let mem = MemFs::new();
    let (log, _) = open(Arc::new(mem.clone())).unwrap();
    let log = Arc::new(log);
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let log = Arc::clone(&log);
            thread::spawn(move || {
                for i in 0..WRITES {
                    let key = format!("t{t}-{i:04}");
                    let seqno = log.put(key.as_bytes(), &[t as u8; 100]).unwrap();
                    assert!(log.write_out().unwrap().seqno >= seqno, "write_out returned before covering the write");
                    assert!(log.written_point().seqno >= seqno);
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    let stats = log.stats();
    eprintln!("write-out calls {} runs {}", stats.write_out_calls, stats.write_out_runs);
    assert_eq!(stats.write_out_calls, THREADS * WRITES);
    assert_eq!((stats.persist_calls, stats.persist_runs), (0, 0));
    assert_eq!(log.durable_point().seqno, SeqNo(0), "a write-out made something durable");
    assert!(log.segments().iter().all(|s| !s.sealed && s.durable_end == s.start), "{:?}", log.segments());
    // A power cut keeps a prefix (a segment is fsynced before the next one
    // gets bytes) short of the newest segment's writes; a process kill all.
    let (cut, report) = open(Arc::new(mem.crash_copy())).unwrap();
    assert!(report.records_recovered < THREADS * WRITES, "{report:?}");
    assert_eq!(report.records_recovered, report.last_seqno.0, "not a prefix: {report:?}");
    drop((cut, log));
    let (killed, report) = open(Arc::new(mem)).unwrap();
    assert_eq!(report.records_recovered, THREADS * WRITES);
    assert_eq!(killed.range(.., None).count() as u64, THREADS * WRITES);
}
