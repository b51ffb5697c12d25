//! Writers overwrite a small hot key set (mostly in place) while readers
//! check every value they see is one that was written (never torn), batches
//! are seen whole, and snapshots stay stable; persisters run throughout.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use cairndb::fs::MemFs;
use cairndb::internals::hlog::{HlogConfig, HybridLog, Op, ReplayFrom};
use cairndb::{LogAddress, SeqNo};

const HOT_KEYS: u64 = 8;
const VALUE_LEN: usize = 100;
const RUN_FOR: Duration = Duration::from_millis(1500);

/// A value that proves itself whole: the writer's stamp repeated, and a
/// length that varies with it (so in-place updates change lengths too).
fn value_for(stamp: u64) -> Vec<u8> {
    let len = VALUE_LEN - (stamp % 17) as usize;
    stamp.to_le_bytes().iter().copied().cycle().take(len).collect()
}

fn check_whole(value: &[u8]) -> u64 {
    assert!(value.len() >= 8, "short value {value:?}");
    let stamp = u64::from_le_bytes(value[..8].try_into().unwrap());
    assert_eq!(value, value_for(stamp), "torn value");
    stamp
}

fn key(i: u64) -> Vec<u8> {
    format!("hot-{i:02}").into_bytes()
}

#[test]
fn readers_never_see_torn_values_and_snapshots_stay_stable() {
    let config = HlogConfig {
        page_size_bytes: 64 << 10,
        segment_size_bytes: 256 << 10,
        memtable_size_bytes: 1 << 20,
        persist_interval_ms: 0,
        read_only: false,
    };
    let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
    let (log, _) = HybridLog::open(Arc::new(MemFs::new()), Path::new("/log"), config, replay).unwrap();
    let log = Arc::new(log);
    for i in 0..HOT_KEYS {
        log.put(&key(i), &value_for(i)).unwrap();
    }
    log.write(&[Op::Put { key: b"pair-a", value: &value_for(0) }, Op::Put { key: b"pair-b", value: &value_for(0) }])
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for writer in 0..2u64 {
        let (log, stop) = (Arc::clone(&log), Arc::clone(&stop));
        threads.push(thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let stamp = (writer << 48) | n;
                log.put(&key(n % HOT_KEYS), &value_for(stamp)).unwrap();
                if n.is_multiple_of(64) {
                    let v = value_for(stamp);
                    log.write(&[Op::Put { key: b"pair-a", value: &v }, Op::Put { key: b"pair-b", value: &v }]).unwrap();
                }
            }
            n
        }));
    }
    {
        let (log, stop) = (Arc::clone(&log), Arc::clone(&stop));
        threads.push(thread::spawn(move || {
            let mut persists = 0;
            while !stop.load(Ordering::Relaxed) {
                log.persist().unwrap();
                persists += 1;
                thread::sleep(Duration::from_millis(2));
            }
            persists
        }));
    }
    let mut reads = 0u64;
    let mut snapshot_checks = 0u64;
    let started = Instant::now();
    while started.elapsed() < RUN_FOR {
        for i in 0..HOT_KEYS {
            let found = log.get(&key(i), None).expect("hot keys always exist");
            check_whole(found.value().expect("never deleted"));
            reads += 1;
        }
        let snap = log.snapshot();
        let read_all = || -> Vec<Vec<u8>> {
            (0..HOT_KEYS)
                .map(key)
                .chain([b"pair-a".to_vec(), b"pair-b".to_vec()])
                .map(|k| log.get(&k, Some(snap.seqno())).unwrap().value().unwrap().to_vec())
                .collect()
        };
        let first = read_all();
        first.iter().for_each(|v| {
            check_whole(v);
        });
        assert_eq!(first[HOT_KEYS as usize], first[HOT_KEYS as usize + 1], "batch seen in part");
        thread::yield_now();
        assert_eq!(read_all(), first, "snapshot changed under a reader");
        let scanned: Vec<_> =
            log.range(..&b"hot-99"[..], Some(snap.seqno())).map(|(_, l)| l.value().unwrap().to_vec()).collect();
        assert_eq!(scanned, first[..HOT_KEYS as usize], "range at the snapshot differs from gets");
        snapshot_checks += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let counts: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let stats = log.stats();
    eprintln!("writes {counts:?} reads {reads} snapshot checks {snapshot_checks} stats {stats:?}");
    assert!(counts[0] > 100 && counts[1] > 100 && reads > 100 && snapshot_checks > 10);
    assert!(stats.in_place_updates > 0, "no in-place update happened");
    assert_eq!(stats.live_snapshots, 0);
}

#[test]
fn concurrent_sync_writers_share_fsyncs_and_lose_nothing() {
    const THREADS: u64 = 4;
    const WRITES: u64 = 40;
    let dir = tempfile::tempdir().unwrap();
    let log_dir = dir.path().join("log");
    let config = HlogConfig::default();
    let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
    let fs = Arc::new(cairndb::fs::StdFs::new());
    let (log, _) = HybridLog::open(fs.clone(), &log_dir, config, replay).unwrap();
    let log = Arc::new(log);
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let log = Arc::clone(&log);
            thread::spawn(move || {
                for i in 0..WRITES {
                    let seqno = log.write_sync(&[Op::Put { key: &key(t * 1000 + i), value: &value_for(i) }]).unwrap();
                    assert!(log.durable_point().seqno >= seqno, "write_sync returned before it was durable");
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    let stats = log.stats();
    eprintln!("persist calls {} runs {}", stats.persist_calls, stats.persist_runs);
    assert_eq!(stats.persist_calls, THREADS * WRITES);
    assert!(stats.persist_runs < stats.persist_calls, "no persist shared a group commit");
    drop(log);
    let (log, report) = HybridLog::open(fs, &log_dir, config, replay).unwrap();
    assert_eq!(report.records_recovered, THREADS * WRITES);
    for t in 0..THREADS {
        for i in 0..WRITES {
            assert_eq!(log.get(&key(t * 1000 + i), None).unwrap().value(), Some(&value_for(i)[..]));
        }
    }
}
