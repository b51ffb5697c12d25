//! Group commit from many threads: callers whose commit a run covered
//! return when it ends, so the runs gather the writes made meanwhile.
//! Before, callers waited on the persister's io mutex and one whose commit
//! was already durable could queue behind the next run's fsync: 16 threads
//! shared an fsync between about 1.7 writes (p99 28 ms). On a real disk,
//! where an fsync takes long enough for writes to gather.

use std::path::Path;
use std::sync::Arc;

use cairndb::fs::StdFs;
use cairndb::internals::hlog::{HlogConfig, HybridLog, ReplayFrom};
use cairndb::{LogAddress, SeqNo};

const THREADS: u64 = 16;
const WRITES: u64 = 150;

fn open(dir: &Path) -> HybridLog {
    let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
    HybridLog::open(Arc::new(StdFs::new()), &dir.join("log"), HlogConfig::default(), replay).unwrap().0
}

fn key(thread: u64, i: u64) -> Vec<u8> {
    format!("t{thread:02}-{i:04}").into_bytes()
}

#[test]
fn sixteen_durable_writers_share_fsyncs_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(open(dir.path()));
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let log = Arc::clone(&log);
            s.spawn(move || {
                for i in 0..WRITES {
                    let seqno = log.put(&key(t, i), &[7u8; 100]).unwrap();
                    let point = log.persist().unwrap();
                    assert!(point.seqno >= seqno, "persist returned before the write was durable");
                }
            });
        }
    });
    let stats = log.stats();
    let per_run = stats.persist_calls as f64 / stats.persist_runs as f64;
    eprintln!("{} persists, {} fsync runs: {per_run:.2} writes per run", stats.persist_calls, stats.persist_runs);
    assert!(per_run >= 3.0, "16 writers should share fsyncs: {per_run:.2} writes per run");
    drop(log);
    let log = open(dir.path());
    for t in 0..THREADS {
        for i in 0..WRITES {
            assert!(log.get(&key(t, i), None).is_some(), "write {t}/{i} lost");
        }
    }
}
