//! A log recovered after a power cut takes writes and recovers again: at
//! every operation of a workload whose persists cross segment boundaries,
//! a power cut, a recovery (every acknowledged write, whole batches), a
//! write and a persist, then a second power cut and recovery, which must
//! find the same and the new write. A persist that creates a segment
//! fsyncs its header before the bytes of the segment before it are
//! durable, so a cut can leave a segment with a header and nothing else,
//! starting past where the log continues: recovery removes it, or the
//! next segment would start below it (corruption at the next open).

#[path = "common/crash_points.rs"]
mod crash_points;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs};
use cairndb::internals::hlog::{HlogConfig, HybridLog, ReplayFrom};
use cairndb::{LogAddress, SeqNo};

fn open(fs: Arc<dyn Fs>) -> cairndb::Result<HybridLog> {
    let config = HlogConfig {
        page_size_bytes: 4096,
        // Two pages to a segment: most persists start one.
        segment_size_bytes: 8192,
        memtable_size_bytes: 1 << 20,
        persist_interval_ms: 0,
        read_only: false,
    };
    let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
    Ok(HybridLog::open(fs, Path::new("/log"), config, replay)?.0)
}

fn key(i: u64) -> Vec<u8> {
    format!("key-{:02}", i % 25).into_bytes()
}

fn value(i: u64) -> Vec<u8> {
    vec![i as u8; 200 + (i as usize * 37) % 900]
}

/// Puts `key(i) = value(i)` for seqno `i`, persisting every nine (about
/// 6 KB, so a persist often spans more than a page and reaches into the
/// next segment); sets `acked` to the last seqno a persist acknowledged.
fn workload(fs: Arc<dyn Fs>, acked: &mut u64) -> cairndb::Result<()> {
    let log = open(fs)?;
    for i in 1..=60u64 {
        assert_eq!(log.put(&key(i), &value(i))?, SeqNo(i));
        if i % 9 == 0 {
            *acked = log.persist()?.seqno.0;
        }
    }
    Ok(())
}

fn state_at(seqno: u64) -> BTreeMap<Vec<u8>, Vec<u8>> {
    (1..=seqno).map(|i| (key(i), value(i))).collect()
}

fn contents(log: &HybridLog) -> BTreeMap<Vec<u8>, Vec<u8>> {
    log.range(.., None).filter_map(|(k, l)| Some((k, l.value()?.to_vec()))).collect()
}

#[test]
fn a_log_recovered_from_a_power_cut_recovers_again_after_more_writes() {
    let ops = {
        let fault = FaultFs::new(Arc::new(MemFs::new()));
        workload(Arc::new(fault.clone()), &mut 0).unwrap();
        fault.op_count()
    };
    for n in 0..=ops {
        let mem = MemFs::new();
        let fault = FaultFs::new(Arc::new(mem.clone()));
        fault.add_rule(FaultRule::From { n, kind: FaultKind::IO });
        let mut acked = 0;
        let _ = workload(Arc::new(fault), &mut acked);
        let crashed = mem.crash_copy();
        let log = open(Arc::new(crashed.clone())).unwrap_or_else(|e| panic!("cut at op {n}: {e}"));
        let recovered = log.visible_seqno().0;
        assert!(recovered >= acked, "cut at op {n}: {recovered} < {acked} acknowledged");
        let mut expected = state_at(recovered);
        assert_eq!(contents(&log), expected, "cut at op {n}");
        log.put(b"after", b"the first recovery").unwrap();
        log.persist().unwrap();
        std::mem::forget(log);
        expected.insert(b"after".to_vec(), b"the first recovery".to_vec());
        let again = open(Arc::new(crashed.crash_copy())).unwrap_or_else(|e| panic!("cut at op {n}, again: {e}"));
        assert_eq!(contents(&again), expected, "cut at op {n}, recovered twice");
    }
    crash_points::record("hlog_crash_recovers_twice", ops + 1, 0, 2 * (ops + 1));
}
