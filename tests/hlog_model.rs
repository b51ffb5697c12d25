//! Random operation sequences against a `BTreeMap` model: writes, batches,
//! snapshots, persists, freezes and power cuts with reopen.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use cairndb::fs::MemFs;
use cairndb::internals::hlog::{EntryKind, FrozenLog, HlogConfig, HybridLog, Lookup, Op, ReplayFrom, Snapshot};
use cairndb::{LogAddress, SeqNo};
use quickcheck::{Arbitrary, Gen, QuickCheck};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

#[derive(Clone, Debug)]
enum Step {
    Put(u8, u8),
    Delete(u8),
    Batch(u8, u8, u8),
    TakeSnapshot,
    DropSnapshot(u8),
    Persist,
    Freeze,
    CrashAndReopen,
}

impl Arbitrary for Step {
    fn arbitrary(g: &mut Gen) -> Step {
        let (a, b, c) = (u8::arbitrary(g), u8::arbitrary(g), u8::arbitrary(g));
        match u8::arbitrary(g) % 20 {
            0..=7 => Step::Put(a, b),
            8..=9 => Step::Delete(a),
            10..=11 => Step::Batch(a, b, c),
            12..=13 => Step::TakeSnapshot,
            14 => Step::DropSnapshot(a),
            15..=16 => Step::Persist,
            17..=18 => Step::Freeze,
            _ => Step::CrashAndReopen,
        }
    }
}

fn key(k: u8) -> Vec<u8> {
    // Few keys, so overwrites (in place or not) are frequent.
    format!("k{:02}", k % 24).into_bytes()
}

fn value(v: u8) -> Vec<u8> {
    vec![v; (v % 40) as usize]
}

fn config() -> HlogConfig {
    // A tiny budget: the hash table overflows and the sorted view takes over.
    HlogConfig {
        page_size_bytes: 4096,
        segment_size_bytes: 8192,
        memtable_size_bytes: 2048,
        persist_interval_ms: 0,
        read_only: false,
    }
}

fn open(fs: &MemFs) -> HybridLog {
    let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
    HybridLog::open(Arc::new(fs.clone()), Path::new("/log"), config(), replay).unwrap().0
}

/// The active log over the frozen ones (newest first), as the database reads.
fn read(log: &HybridLog, frozen: &[FrozenLog], k: &[u8], at: Option<SeqNo>) -> Option<Vec<u8>> {
    let found = log.get(k, at).or_else(|| frozen.iter().rev().find_map(|f| f.get(k, at)));
    match found {
        Some(Lookup::Value { value, .. }) => Some(value),
        _ => None,
    }
}

fn read_all(log: &HybridLog, frozen: &[FrozenLog], at: Option<SeqNo>) -> State {
    (0..24u8).filter_map(|k| Some((key(k), read(log, frozen, &key(k), at)?))).collect()
}

/// A flush's view of a frozen log (after reopens too, where recovery
/// rebuilt the pages): keys ascending, seqnos descending, and the versions
/// listed are exactly what reads at the latest point and at every live
/// snapshot find.
fn check_sorted(f: &FrozenLog, snapshots: &[(Snapshot, State)]) {
    let entries: Vec<_> = f.iter_sorted().collect();
    for pair in entries.windows(2) {
        let order =
            (&pair[0].key, std::cmp::Reverse(pair[0].seqno)).cmp(&(&pair[1].key, std::cmp::Reverse(pair[1].seqno)));
        assert_eq!(order, std::cmp::Ordering::Less, "out of order: {pair:?}");
    }
    let points = snapshots.iter().map(|(s, _)| Some(s.seqno())).chain([None]);
    for at in points {
        for k in 0..24u8 {
            let k = key(k);
            let listed = entries.iter().find(|e| e.key == k && at.is_none_or(|at| e.seqno <= at));
            let listed = listed.map(|e| (e.seqno, (e.kind == EntryKind::Value).then(|| e.value.clone())));
            let read = f.get(&k, at).map(|l| (l.seqno(), l.value().map(<[u8]>::to_vec)));
            assert_eq!(listed, read, "key {k:?} at {at:?}");
        }
    }
}

fn run(steps: Vec<Step>) -> bool {
    let mut fs = MemFs::new();
    let mut log = open(&fs);
    let mut frozen: Vec<FrozenLog> = Vec::new();
    let mut snapshots: Vec<(Snapshot, State)> = Vec::new();
    let mut model = State::new();
    let mut persisted = State::new();
    for step in steps {
        match step {
            Step::Put(k, v) => {
                log.put(&key(k), &value(v)).unwrap();
                model.insert(key(k), value(v));
            }
            Step::Delete(k) => {
                log.delete(&key(k)).unwrap();
                model.remove(&key(k));
            }
            Step::Batch(a, b, v) => {
                let ops = [Op::Put { key: &key(a), value: &value(v) }, Op::Delete { key: &key(b) }];
                log.write(&ops).unwrap();
                model.insert(key(a), value(v));
                model.remove(&key(b));
            }
            Step::TakeSnapshot => snapshots.push((log.snapshot(), model.clone())),
            Step::DropSnapshot(i) => {
                if !snapshots.is_empty() {
                    snapshots.remove(i as usize % snapshots.len());
                }
            }
            Step::Persist => {
                for f in &frozen {
                    f.persist().unwrap();
                }
                log.persist().unwrap();
                persisted = model.clone();
            }
            Step::Freeze => {
                let f = log.freeze();
                check_sorted(&f, &snapshots);
                frozen.push(f);
            }
            Step::CrashAndReopen => {
                snapshots.clear();
                frozen.clear();
                drop(log);
                fs = fs.crash_copy();
                log = open(&fs);
                model = persisted.clone();
            }
        }
        assert_eq!(read_all(&log, &frozen, None), model, "latest view after {step:?}");
        for (snapshot, state) in &snapshots {
            assert_eq!(&read_all(&log, &frozen, Some(snapshot.seqno())), state, "snapshot {snapshot:?}");
        }
        let scanned: State = log.range(.., None).filter_map(|(k, l)| Some((k, l.value()?.to_vec()))).collect();
        let active_only: State =
            (0..24u8).filter_map(|k| Some((key(k), log.get(&key(k), None)?.value()?.to_vec()))).collect();
        assert_eq!(scanned, active_only, "range and get disagree");
    }
    true
}

#[test]
fn operation_sequences_match_the_model() {
    QuickCheck::new().tests(150).quickcheck(run as fn(Vec<Step>) -> bool);
}
