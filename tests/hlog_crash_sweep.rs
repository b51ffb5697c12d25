//! Power cuts and I/O faults at every file-system operation of a workload of
//! writes, batches, persists and a freeze: after recovery, every write
//! acknowledged by a completed persist is present, and what is present is
//! exactly a prefix of the write order (whole batches, no holes).

#[path = "common/batches.rs"]
mod batches;
#[path = "common/crash_points.rs"]
mod crash_points;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use batches::{Batches, is_batch_boundary, state_at};
use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs};
use cairndb::internals::hlog::{FrozenLog, HlogConfig, HybridLog, Op, ReplayFrom};
use cairndb::{Error, LogAddress, SeqNo};

const LOG: &str = "/db/log";
const STEPS: u64 = 160;

fn config() -> HlogConfig {
    HlogConfig {
        page_size_bytes: 4096,
        segment_size_bytes: 8192,
        memtable_size_bytes: 1 << 20,
        persist_interval_ms: 0,
        read_only: false,
    }
}

fn open(fs: Arc<dyn Fs>) -> cairndb::Result<(HybridLog, cairndb::internals::hlog::RecoveryReport)> {
    HybridLog::open(fs, Path::new(LOG), config(), ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) })
}

/// The writes the workload made, in seqno order, and what was acknowledged durable.
#[derive(Default)]
struct Model {
    batches: Batches,
    acked_seqno: u64,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn persist_and_check(log: &HybridLog, frozen: Option<&FrozenLog>, model: &mut Model) -> cairndb::Result<()> {
    let written = model.batches.last().map_or(0, |b| b.0);
    let result = match frozen {
        Some(f) => f.persist().and_then(|_| log.persist()),
        None => log.persist(),
    };
    match result {
        Ok(point) => {
            assert!(point.seqno.0 >= written, "persist returned before covering acknowledged writes");
            model.acked_seqno = point.seqno.0;
            Ok(())
        }
        Err(e) => {
            // A failed persist poisons the log: later writes and persists fail.
            assert!(matches!(log.put(b"after", b"failure"), Err(Error::Poisoned { .. })));
            assert!(matches!(log.persist(), Err(Error::Poisoned { .. })));
            Err(e)
        }
    }
}

/// Runs the workload until it ends or an operation fails.
fn workload(fs: Arc<dyn Fs>, model: &mut Model) -> cairndb::Result<()> {
    let (log, _) = open(fs)?;
    let mut rng = Rng(7);
    let mut frozen_logs = Vec::new();
    for step in 0..STEPS {
        let key = format!("key-{:02}", rng.next() % 12).into_bytes();
        let value: Vec<u8> = vec![step as u8; (rng.next() % 150) as usize];
        match step % 8 {
            0..=3 => {
                let seqno = log.put(&key, &value)?;
                model.batches.push((seqno.0, vec![(key, Some(value))]));
            }
            4 => {
                let seqno = log.delete(&key)?;
                model.batches.push((seqno.0, vec![(key, None)]));
            }
            5 => {
                let other = format!("key-{:02}", rng.next() % 12).into_bytes();
                let ops = [
                    Op::Put { key: &key, value: &value },
                    Op::Delete { key: b"key-05" },
                    Op::Put { key: &other, value: &value[..value.len() / 2] },
                ];
                let seqno = log.write(&ops)?;
                let changes = vec![
                    (key.clone(), Some(value.clone())),
                    (b"key-05".to_vec(), None),
                    (other, Some(value[..value.len() / 2].to_vec())),
                ];
                model.batches.push((seqno.0, changes));
            }
            _ if step == 79 => {
                let frozen = log.freeze();
                persist_and_check(&log, Some(&frozen), model)?;
                frozen_logs.push(frozen);
            }
            _ => persist_and_check(&log, None, model)?,
        }
    }
    Ok(())
}

fn contents(log: &HybridLog) -> BTreeMap<Vec<u8>, Vec<u8>> {
    log.range(.., None).filter_map(|(k, l)| Some((k, l.value()?.to_vec()))).collect()
}

/// Recovers `fs` and checks the prefix property against `model`.
fn check_recovery(fs: MemFs, model: &Model, what: &str) {
    let (log, report) = open(Arc::new(fs)).unwrap_or_else(|e| panic!("{what}: recovery failed: {e}"));
    let recovered = report.last_seqno.0;
    assert!(recovered >= model.acked_seqno, "{what}: lost acknowledged writes ({recovered} < {})", model.acked_seqno);
    assert!(is_batch_boundary(&model.batches, recovered), "{what}: recovered half a batch (seqno {recovered})");
    assert_eq!(contents(&log), state_at(&model.batches, recovered), "{what}: state is not the prefix at {recovered}");
    // The recovered log accepts writes and recovers again.
    log.put(b"next", b"life").unwrap();
    log.persist().unwrap();
}

fn op_count_of_full_run() -> u64 {
    let mem = MemFs::new();
    let fault = FaultFs::new(Arc::new(mem.clone()));
    let mut model = Model::default();
    workload(Arc::new(fault.clone()), &mut model).unwrap();
    check_recovery(mem.crash_copy(), &model, "no fault");
    // The sweep crosses segment rolls and a freeze (a new segment per memtable).
    let (log, _) = open(Arc::new(mem.crash_copy())).unwrap();
    assert!(log.segments().len() >= 4, "workload wrote only {:?}", log.segments());
    assert_eq!(model.acked_seqno, model.batches.last().unwrap().0.max(model.acked_seqno));
    fault.op_count()
}

#[test]
fn power_cut_at_every_operation() {
    let ops = op_count_of_full_run();
    assert!(ops > 50, "workload too small: {ops} operations");
    eprintln!("sweeping {ops} operations");
    for n in 0..=ops {
        let mem = MemFs::new();
        let fault = FaultFs::new(Arc::new(mem.clone()));
        fault.add_rule(FaultRule::From { n, kind: FaultKind::IO });
        let mut model = Model::default();
        let _ = workload(Arc::new(fault), &mut model);
        check_recovery(mem.crash_copy(), &model, &format!("power cut at op {n}"));
        for seed in 0..3 {
            check_recovery(
                mem.crash_copy_torn(n * 31 + seed),
                &model,
                &format!("torn power cut at op {n} seed {seed}"),
            );
        }
    }
    crash_points::record("hlog_crash_sweep/power_cut", 4 * (ops + 1), 0, 4 * (ops + 1));
}

#[test]
fn a_single_failed_operation_poisons_and_loses_nothing_acknowledged() {
    let ops = op_count_of_full_run();
    for n in 0..=ops {
        for kind in [FaultKind::IO, FaultKind::TornWrite, FaultKind::ShortWrite] {
            let mem = MemFs::new();
            let fault = FaultFs::new(Arc::new(mem.clone()));
            fault.add_rule(FaultRule::Nth { n, kind });
            let mut model = Model::default();
            let _ = workload(Arc::new(fault), &mut model);
            check_recovery(mem.crash_copy(), &model, &format!("{kind:?} at op {n}, then power cut"));
            check_recovery(mem, &model, &format!("{kind:?} at op {n}, then reopen"));
        }
    }
    crash_points::record("hlog_crash_sweep/single_fault", 3 * (ops + 1), 3 * (ops + 1), 6 * (ops + 1));
}

/// One persist of writes that span several segments (the background
/// persist after a burst, a flush's, or a `persist` after a long pause): a
/// power cut at any of its operations, torn or not, recovers a prefix. A
/// persist fsyncs each segment before it writes into the next, so no cut
/// keeps a later segment's bytes while an earlier one lost some.
#[test]
fn a_persist_across_segments_cut_anywhere_recovers_a_prefix() {
    let run = |fs: Arc<dyn Fs>, model: &mut Model| -> cairndb::Result<()> {
        let (log, _) = open(fs)?;
        for step in 0..200u64 {
            let key = format!("key-{step:03}").into_bytes();
            let value = vec![step as u8; 150];
            let seqno = log.put(&key, &value)?;
            model.batches.push((seqno.0, vec![(key, Some(value))]));
            if step == 20 {
                model.acked_seqno = log.persist()?.seqno.0;
            }
        }
        model.acked_seqno = log.persist()?.seqno.0;
        Ok(())
    };
    let mem = MemFs::new();
    let fault = FaultFs::new(Arc::new(mem.clone()));
    run(Arc::new(fault.clone()), &mut Model::default()).unwrap();
    let ops = fault.op_count();
    let (log, _) = open(Arc::new(mem.crash_copy())).unwrap();
    assert!(log.segments().len() >= 4, "the last persist spans segments: {:?}", log.segments());
    let mut states = 0;
    for n in 0..=ops {
        let mem = MemFs::new();
        let fault = FaultFs::new(Arc::new(mem.clone()));
        fault.add_rule(FaultRule::From { n, kind: FaultKind::IO });
        let mut model = Model::default();
        let _ = run(Arc::new(fault), &mut model);
        for seed in 0..20 {
            check_recovery(mem.crash_copy_torn(n * 101 + seed), &model, &format!("power cut at op {n}, torn {seed}"));
            states += 1;
        }
    }
    crash_points::record("hlog_crash_sweep/persist_across_segments", states, 0, states);
}
