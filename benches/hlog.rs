//! Hybrid-log throughput and latency: inserts, in-place overwrites, point
//! reads, persist latency, and the index choice.
//!
//! `cargo bench --bench hlog` (16-byte keys, 100-byte values, no persist per
//! write unless the name says so).

#![expect(missing_docs, reason = "criterion_group! generates an undocumented function")]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use cairndb::fs::{MemFs, StdFs};
use cairndb::internals::hlog::hash_index::HashIndex;
use cairndb::internals::hlog::index::Index;
use cairndb::internals::hlog::{HlogConfig, HybridLog, ReplayFrom};
use cairndb::{LogAddress, SeqNo};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const VALUE: [u8; 100] = [0x5a; 100];
/// Keys per memtable in the insert bench, then a fresh log (untimed).
const KEYS_PER_LOG: u64 = 200_000;
const HOT_KEYS: u64 = 1_000;

/// A 16-byte key; consecutive `i` are scattered over the key space.
fn key(i: u64) -> [u8; 16] {
    let mixed = i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29) ^ 0xD6E8_FEB8_6659_FD93;
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&mixed.to_be_bytes());
    out[8..].copy_from_slice(&i.to_be_bytes());
    out
}

fn hash(i: u64) -> u64 {
    xxhash_rust::xxh3::xxh3_64(&key(i))
}

fn fresh_log() -> HybridLog {
    let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
    HybridLog::open(Arc::new(MemFs::new()), Path::new("/log"), HlogConfig::default(), replay).unwrap().0
}

fn memtable(c: &mut Criterion) {
    let mut group = c.benchmark_group("hlog");
    group.throughput(Throughput::Elements(1));
    group.bench_function("insert", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let log = fresh_log();
                let n = (iters - done).min(KEYS_PER_LOG);
                let started = Instant::now();
                for i in 0..n {
                    log.put(&key(i), &VALUE).unwrap();
                }
                spent += started.elapsed();
                done += n;
            }
            spent
        })
    });
    let log = fresh_log();
    for i in 0..HOT_KEYS {
        log.put(&key(i), &VALUE).unwrap();
    }
    let mut i = 0u64;
    group.bench_function("overwrite_hot_in_place", |b| {
        b.iter(|| {
            i += 1;
            log.put(&key(i % HOT_KEYS), &VALUE).unwrap()
        })
    });
    assert!(i == 0 || log.stats().in_place_updates >= i, "overwrites were not in place");
    let log = fresh_log();
    for i in 0..KEYS_PER_LOG {
        log.put(&key(i), &VALUE).unwrap();
    }
    let mut i = 0u64;
    group.bench_function("point_read", |b| {
        b.iter(|| {
            i = (i + 7919) % KEYS_PER_LOG;
            log.get(&key(i), None).unwrap()
        })
    });
    group.bench_function("insert_then_iter_sorted", |b| {
        // The flush's view: inserts, freeze, every entry in key order (this
        // is where the deferred sorting of new keys is paid).
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let log = fresh_log();
                let n = (iters - done).min(KEYS_PER_LOG);
                let started = Instant::now();
                for i in 0..n {
                    log.put(&key(i), &VALUE).unwrap();
                }
                assert_eq!(log.freeze().iter_sorted().count() as u64, n);
                spent += started.elapsed();
                done += n;
            }
            spent
        })
    });
    group.finish();
}

/// Latency of a sync write (put + persist) on the real file system, alone
/// and with a second thread doing sync writes at the same time.
fn persist(c: &mut Criterion) {
    let mut group = c.benchmark_group("hlog_persist");
    group.sample_size(20);
    for writers in [1, 2] {
        let dir = tempfile::tempdir().unwrap();
        let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
        let log =
            HybridLog::open(Arc::new(StdFs::new()), &dir.path().join("log"), HlogConfig::default(), replay).unwrap().0;
        let log = Arc::new(log);
        let stop = Arc::new(AtomicBool::new(false));
        let helpers: Vec<_> = (1..writers)
            .map(|t| {
                let (log, stop) = (Arc::clone(&log), Arc::clone(&stop));
                thread::spawn(move || {
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        log.put(&key(i + (t << 40)), &VALUE).unwrap();
                        log.persist().unwrap();
                    }
                })
            })
            .collect();
        let mut i = 0u64;
        group.bench_function(BenchmarkId::new("put_then_persist", format!("{writers}_writers")), |b| {
            b.iter(|| {
                i += 1;
                log.put(&key(i), &VALUE).unwrap();
                log.persist().unwrap()
            })
        });
        stop.store(true, Ordering::Relaxed);
        helpers.into_iter().for_each(|h| h.join().unwrap());
    }
    group.finish();
}

/// The index as built (inline 16-byte key heads) against the plain
/// alternative (boxed keys in the same locked B-tree).
fn index(c: &mut Criterion) {
    let mut group = c.benchmark_group("hlog_index");
    group.throughput(Throughput::Elements(1));
    const N: u64 = 200_000;
    group.bench_function("insert_inline_keys", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let index = Index::default();
                let n = (iters - done).min(N);
                let started = Instant::now();
                for i in 0..n {
                    index.insert(&key(i), i);
                }
                spent += started.elapsed();
                done += n;
            }
            spent
        })
    });
    group.bench_function("insert_boxed_keys", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let index: RwLock<BTreeMap<Box<[u8]>, u64>> = RwLock::default();
                let n = (iters - done).min(N);
                let started = Instant::now();
                for i in 0..n {
                    index.write().unwrap().insert(key(i).into(), i);
                }
                spent += started.elapsed();
                done += n;
            }
            spent
        })
    });
    let inline = Index::default();
    let boxed: RwLock<BTreeMap<Box<[u8]>, u64>> = RwLock::default();
    for i in 0..N {
        inline.insert(&key(i), i);
        boxed.write().unwrap().insert(key(i).into(), i);
    }
    let mut i = 0;
    group.bench_function("get_inline_keys", |b| {
        b.iter(|| {
            i = (i + 7919) % N;
            inline.get(&key(i))
        })
    });
    let hashed = HashIndex::with_capacity(N as usize);
    for i in 0..N {
        hashed.publish(hash(i), i, |a| a == i);
    }
    group.bench_function("get_hash_table", |b| {
        b.iter(|| {
            i = (i + 7919) % N;
            hashed.get(hash(i), |a| a == i)
        })
    });
    group.bench_function("get_boxed_keys", |b| {
        b.iter(|| {
            i = (i + 7919) % N;
            boxed.read().unwrap().get(&key(i)[..]).copied()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = memtable, persist, index
}
criterion_main!(benches);
