//! The database against a `BTreeMap` model: random sequences of writes,
//! batches, reads, snapshot reads, iteration, range and prefix scans,
//! forward, backward and mixed walks (also kept open across later
//! operations), flushes, compactions and reopens, with shrinking on failure.

use std::collections::{BTreeMap, VecDeque};
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use cairndb::fs::MemFs;
use cairndb::{Config, Db, DbIter, Snapshot, WriteBatch};
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
    /// A whole walk over a range of the live state (`None`) or of a
    /// snapshot, stepping from the ends in the given pattern.
    Walk(Option<u8>, Span, Steps),
    /// Opens a walk kept open across the next operations.
    OpenWalk(Option<u8>, Span),
    /// A few steps of an open walk.
    StepWalk(u8, Steps),
    ContainsKey(Option<u8>, u8),
    FirstLast(Option<u8>),
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

/// A key range in each of the forms `Db::range` takes; either end may be
/// past the other (an empty range).
#[derive(Clone, Debug)]
enum Span {
    Full,
    From(u8),
    To(u8),
    ToInclusive(u8),
    Between(u8, u8),
    BetweenInclusive(u8, u8),
    /// Two bounds: `(Excluded(a), Included(b))`.
    AfterTo(u8, u8),
}

impl Arbitrary for Span {
    fn arbitrary(g: &mut Gen) -> Self {
        let (a, b) = (u8::arbitrary(g), u8::arbitrary(g));
        match u8::arbitrary(g) % 7 {
            0 => Span::Full,
            1 => Span::From(a),
            2 => Span::To(a),
            3 => Span::ToInclusive(a),
            4 => Span::Between(a, b),
            5 => Span::BetweenInclusive(a, b),
            _ => Span::AfterTo(a, b),
        }
    }
}

impl Span {
    fn bounds(&self) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
        use Bound::{Excluded, Included, Unbounded};
        match *self {
            Span::Full => (Unbounded, Unbounded),
            Span::From(a) => (Included(key(a)), Unbounded),
            Span::To(b) => (Unbounded, Excluded(key(b))),
            Span::ToInclusive(b) => (Unbounded, Included(key(b))),
            Span::Between(a, b) => (Included(key(a)), Excluded(key(b))),
            Span::BetweenInclusive(a, b) => (Included(key(a)), Included(key(b))),
            Span::AfterTo(a, b) => (Excluded(key(a)), Included(key(b))),
        }
    }

    /// Opens the range through the Rust range expression it stands for.
    fn open(&self, db: &Db, snapshot: Option<&Snapshot>) -> DbIter {
        macro_rules! range {
            ($range:expr) => {
                match snapshot {
                    Some(s) => s.range($range),
                    None => db.range($range),
                }
            };
        }
        match *self {
            Span::Full => range!(..),
            Span::From(a) => range!(key(a)..),
            Span::To(b) => range!(..key(b)),
            Span::ToInclusive(b) => range!(..=String::from_utf8(key(b)).unwrap()),
            Span::Between(a, b) => range!(key(a).as_slice()..key(b).as_slice()),
            Span::BetweenInclusive(a, b) => range!(key(a)..=key(b)),
            Span::AfterTo(a, b) => {
                range!((Bound::Excluded(key(a)), Bound::Included(String::from_utf8(key(b)).unwrap())))
            }
        }
    }
}

/// Which end each step takes (`true`: `next`, `false`: `next_back`).
#[derive(Clone, Debug)]
struct Steps(Vec<bool>);

impl Arbitrary for Steps {
    fn arbitrary(g: &mut Gen) -> Self {
        let n = usize::arbitrary(g) % 12 + 1;
        Steps(match u8::arbitrary(g) % 3 {
            0 => vec![true; n],
            1 => vec![false; n],
            _ => (0..n).map(|_| bool::arbitrary(g)).collect(),
        })
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        Box::new(self.0.shrink().filter(|s| !s.is_empty()).map(Steps))
    }
}

/// A walk and what the model says is left between its two ends.
struct OpenWalk {
    iter: DbIter,
    left: VecDeque<(Vec<u8>, Vec<u8>)>,
}

impl OpenWalk {
    fn new(iter: DbIter, model: &Model, span: &Span) -> OpenWalk {
        let (lo, hi) = span.bounds();
        OpenWalk { iter, left: model_range(model, lo, hi).into() }
    }

    /// Takes `steps` (repeated until the walk ends, if `to_the_end`); false
    /// when a step differs from the model.
    fn step(&mut self, steps: &Steps, to_the_end: bool) -> bool {
        let pattern = steps.0.iter().cycle().take(if to_the_end { usize::MAX } else { steps.0.len() });
        for &forward in pattern {
            let (got, expected) = if forward {
                (self.iter.next(), self.left.pop_front())
            } else {
                (self.iter.next_back(), self.left.pop_back())
            };
            let got = got.map(|kv| kv.expect("walk"));
            if got != expected {
                return false;
            }
            if got.is_none() {
                // Fused: both ends stay ended.
                return self.iter.next().is_none() && self.iter.next_back().is_none();
            }
        }
        true
    }
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Self {
        let k = u8::arbitrary(g);
        let view = |g: &mut Gen| bool::arbitrary(g).then(|| u8::arbitrary(g));
        match u8::arbitrary(g) % 120 {
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
            95..=96 => Op::Reopen,
            97..=104 => Op::Walk(view(g), Span::arbitrary(g), Steps::arbitrary(g)),
            105..=107 => Op::OpenWalk(view(g), Span::arbitrary(g)),
            108..=113 => Op::StepWalk(u8::arbitrary(g), Steps::arbitrary(g)),
            114..=116 => Op::ContainsKey(view(g), k),
            _ => Op::FirstLast(view(g)),
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        match self {
            Op::Batch(ops) => Box::new(ops.shrink().map(Op::Batch)),
            Op::Walk(view, span, steps) => {
                let (view, span) = (*view, span.clone());
                Box::new(steps.shrink().map(move |steps| Op::Walk(view, span.clone(), steps)))
            }
            Op::StepWalk(i, steps) => {
                let i = *i;
                Box::new(steps.shrink().map(move |steps| Op::StepWalk(i, steps)))
            }
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

fn scan(iter: DbIter) -> Vec<(Vec<u8>, Vec<u8>)> {
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
    let mut walks: Vec<OpenWalk> = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        // A view: the live state, or a snapshot with the model it froze.
        let view = |i: &Option<u8>| match i {
            Some(i) if !snapshots.is_empty() => {
                let (s, m) = &snapshots[usize::from(*i) % snapshots.len()];
                (Some(s), m)
            }
            _ => (None, &model),
        };
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
            Op::Walk(i, span, steps) => {
                let (snapshot, m) = view(i);
                OpenWalk::new(span.open(&db, snapshot), m, span).step(steps, true)
            }
            Op::OpenWalk(i, span) => {
                let (snapshot, m) = view(i);
                let walk = OpenWalk::new(span.open(&db, snapshot), m, span);
                walks.push(walk);
                true
            }
            Op::StepWalk(i, steps) => {
                let n = walks.len().max(1);
                walks.get_mut(usize::from(*i) % n).is_none_or(|w| w.step(steps, false))
            }
            Op::ContainsKey(i, k) => {
                let (snapshot, m) = view(i);
                let found = match snapshot {
                    Some(s) => s.contains_key(key(*k)).unwrap(),
                    None => db.contains_key(key(*k)).unwrap(),
                };
                found == m.contains_key(&key(*k))
            }
            Op::FirstLast(i) => {
                let (snapshot, m) = view(i);
                let (first, last) = match snapshot {
                    Some(s) => (s.first().unwrap(), s.last().unwrap()),
                    None => (db.first().unwrap(), db.last().unwrap()),
                };
                let pair = |(k, v): (&Vec<u8>, &Vec<u8>)| (k.clone(), v.clone());
                first == m.first_key_value().map(pair) && last == m.last_key_value().map(pair)
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
                walks.clear();
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
