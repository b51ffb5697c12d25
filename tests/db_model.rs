//! The database against a `BTreeMap` model: random sequences of writes,
//! batches, reads, snapshot reads, iteration, range and prefix scans,
//! flushes, compactions and reopens, with shrinking on failure.

use std::collections::BTreeMap;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use cairndb::fs::MemFs;
use cairndb::{Config, Db, Snapshot, WriteBatch};
use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

#[derive(Clone, Debug)]
enum Op {
    Put(u8, Value),
    Delete(u8),
    Batch(Vec<(u8, Option<Value>)>),
    Get(u8),
    TakeSnapshot,
    SnapshotGet(u8, u8),
    SnapshotScan(u8),
    DropSnapshot(u8),
    Scan,
    Range(u8, u8),
    Prefix(u8),
    Flush,
    Compact,
    Reopen,
}

/// A value: short, or long enough to live in a blob file.
#[derive(Clone, Debug)]
struct Value(u8, u16);

impl Value {
    fn bytes(&self) -> Vec<u8> {
        let len = usize::from(self.1 % 600);
        (0..len).map(|i| self.0.wrapping_add(i as u8)).collect()
    }
}

impl Arbitrary for Value {
    fn arbitrary(g: &mut Gen) -> Self {
        let len = if bool::arbitrary(g) { u16::arbitrary(g) % 40 } else { u16::arbitrary(g) % 600 };
        Value(u8::arbitrary(g), len)
    }
}

const KEYS: u8 = 24;

/// Keys share prefixes so prefix scans are interesting: "k0", "k1", "k10", ...
fn key(k: u8) -> Vec<u8> {
    format!("k{}", k % KEYS).into_bytes()
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Self {
        let k = u8::arbitrary(g);
        match u8::arbitrary(g) % 100 {
            0..=34 => Op::Put(k, Value::arbitrary(g)),
            35..=44 => Op::Delete(k),
            45..=51 => {
                let n = usize::arbitrary(g) % 5;
                Op::Batch((0..n).map(|_| (u8::arbitrary(g), Option::<Value>::arbitrary(g))).collect())
            }
            52..=61 => Op::Get(k),
            62..=65 => Op::TakeSnapshot,
            66..=71 => Op::SnapshotGet(u8::arbitrary(g), k),
            72..=73 => Op::SnapshotScan(u8::arbitrary(g)),
            74..=75 => Op::DropSnapshot(u8::arbitrary(g)),
            76..=79 => Op::Scan,
            80..=83 => Op::Range(k, u8::arbitrary(g)),
            84..=86 => Op::Prefix(k % 3),
            87..=91 => Op::Flush,
            92..=94 => Op::Compact,
            _ => Op::Reopen,
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        match self {
            Op::Batch(ops) => Box::new(ops.shrink().map(Op::Batch)),
            _ => Box::new(std::iter::empty()),
        }
    }
}

fn open(fs: &MemFs) -> Db {
    Config::new("/db")
        .fs(Arc::new(fs.clone()))
        .memtable_size_bytes(64 << 10)
        .blob_threshold_bytes(256)
        .table_target_bytes(8 << 10)
        .level0_trigger(2)
        .level1_target_bytes(64 << 10)
        .background_threads(false)
        .open()
        .expect("open")
}

fn scan(iter: cairndb::DbIter) -> Vec<(Vec<u8>, Vec<u8>)> {
    iter.map(|kv| kv.expect("scan")).collect()
}

fn model_range(model: &Model, lo: Bound<Vec<u8>>, hi: Bound<Vec<u8>>) -> Vec<(Vec<u8>, Vec<u8>)> {
    // Spelled out: with the `s3` feature, `bytes` adds comparisons with `Vec<u8>`.
    let inside = |k: &Vec<u8>| RangeBounds::<Vec<u8>>::contains(&(lo.as_ref(), hi.as_ref()), k);
    model.iter().filter(|(k, _)| inside(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn run(ops: Vec<Op>) -> TestResult {
    let fs = MemFs::new();
    let mut db = open(&fs);
    let mut model = Model::new();
    let mut snapshots: Vec<(Snapshot, Model)> = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        let ok = match op {
            Op::Put(k, v) => {
                db.put(key(*k), v.bytes()).unwrap();
                model.insert(key(*k), v.bytes());
                true
            }
            Op::Delete(k) => {
                db.delete(key(*k)).unwrap();
                model.remove(&key(*k));
                true
            }
            Op::Batch(writes) => {
                let mut batch = WriteBatch::new();
                for (k, v) in writes {
                    match v {
                        Some(v) => {
                            batch.push_put(key(*k), v.bytes());
                            model.insert(key(*k), v.bytes());
                        }
                        None => {
                            batch.push_delete(key(*k));
                            model.remove(&key(*k));
                        }
                    }
                }
                db.write(batch).unwrap();
                true
            }
            Op::Get(k) => db.get(key(*k)).unwrap() == model.get(&key(*k)).cloned(),
            Op::TakeSnapshot => {
                snapshots.push((db.snapshot(), model.clone()));
                true
            }
            Op::SnapshotGet(i, k) => snapshots
                .get(usize::from(*i) % snapshots.len().max(1))
                .is_none_or(|(s, m)| s.get(key(*k)).unwrap() == m.get(&key(*k)).cloned()),
            Op::SnapshotScan(i) => snapshots
                .get(usize::from(*i) % snapshots.len().max(1))
                .is_none_or(|(s, m)| scan(s.iter()) == model_range(m, Bound::Unbounded, Bound::Unbounded)),
            Op::DropSnapshot(i) => {
                if !snapshots.is_empty() {
                    snapshots.remove(usize::from(*i) % snapshots.len());
                }
                true
            }
            Op::Scan => scan(db.iter()) == model_range(&model, Bound::Unbounded, Bound::Unbounded),
            Op::Range(a, b) => {
                let (lo, hi) = (key(*a), key(*b));
                scan(db.range(lo.clone()..hi.clone())) == model_range(&model, Bound::Included(lo), Bound::Excluded(hi))
            }
            Op::Prefix(p) => {
                let prefix = format!("k{p}").into_bytes();
                let expected: Vec<_> =
                    model.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(k, v)| (k.clone(), v.clone())).collect();
                scan(db.prefix(&prefix)) == expected
            }
            Op::Flush => {
                db.flush().unwrap();
                true
            }
            Op::Compact => {
                db.compact().unwrap();
                true
            }
            Op::Reopen => {
                snapshots.clear();
                drop(db);
                db = open(&fs);
                true
            }
        };
        if !ok {
            return TestResult::error(format!("step {step}: {op:?} disagrees with the model"));
        }
    }
    let final_ok = scan(db.iter()) == model_range(&model, Bound::Unbounded, Bound::Unbounded);
    if final_ok { TestResult::passed() } else { TestResult::error("final scan disagrees with the model") }
}

#[test]
fn db_matches_btreemap_model() {
    let tests = std::env::var("CAIRNDB_MODEL_TESTS").ok().and_then(|n| n.parse().ok()).unwrap_or(1500);
    QuickCheck::new().tests(tests).max_tests(tests * 2).rng(Gen::new(60)).quickcheck(run as fn(Vec<Op>) -> TestResult);
}

/// A long sequence that crosses many flushes and compactions.
#[test]
fn long_history_with_many_flushes() {
    let fs = MemFs::new();
    let db = open(&fs);
    let mut model = Model::new();
    for i in 0u32..20_000 {
        let k = format!("key{:05}", (i * 7919) % 3000).into_bytes();
        if i % 11 == 0 {
            db.delete(&k).unwrap();
            model.remove(&k);
        } else {
            let v = vec![(i % 251) as u8; (i % 700) as usize];
            db.put(&k, &v).unwrap();
            model.insert(k, v);
        }
    }
    assert!(db.stats().flushes > 3, "{:?}", db.stats());
    assert!(db.stats().compactions > 0, "{:?}", db.stats());
    assert_eq!(scan(db.iter()), model_range(&model, Bound::Unbounded, Bound::Unbounded));
    drop(db);
    let db = open(&fs);
    assert_eq!(scan(db.iter()), model_range(&model, Bound::Unbounded, Bound::Unbounded));
    for (k, v) in model.iter().step_by(37) {
        assert_eq!(db.get(k).unwrap().as_ref(), Some(v));
    }
}
