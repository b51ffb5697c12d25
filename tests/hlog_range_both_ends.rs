//! A memtable range walked from both ends against a `BTreeMap` model:
//! random keys (more than one index chunk of them), deletes, random bounds
//! and random patterns of `next` and `next_back`, on the active log (at a
//! snapshot and at the latest point) and on a frozen one. Every key in the
//! range comes exactly once, tombstones included, and the ends never pass
//! each other.

use std::collections::{BTreeMap, VecDeque};
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::Arc;

use cairndb::fs::MemFs;
use cairndb::internals::hlog::{HlogConfig, HybridLog, RangeIter, ReplayFrom};
use cairndb::{LogAddress, SeqNo};
use quickcheck::{QuickCheck, TestResult};

/// Key -> value, `None` for a tombstone.
type Model = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

fn key(k: u16) -> Vec<u8> {
    format!("k{:03}", k % 500).into_bytes()
}

fn open() -> HybridLog {
    let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
    let config = HlogConfig {
        page_size_bytes: 4096,
        segment_size_bytes: 1 << 20,
        memtable_size_bytes: 1 << 20,
        persist_interval_ms: 0,
        read_only: false,
    };
    HybridLog::open(Arc::new(MemFs::new()), Path::new("/log"), config, replay).unwrap().0
}

fn bound(kind: u8, k: u16) -> Bound<Vec<u8>> {
    match kind % 3 {
        0 => Bound::Unbounded,
        1 => Bound::Included(key(k)),
        _ => Bound::Excluded(key(k)),
    }
}

/// Steps `iter` in `pattern` (cycled) until it ends; checks each step, and
/// that both ends stay ended.
fn walk(mut iter: RangeIter, mut left: VecDeque<(Vec<u8>, Option<Vec<u8>>)>, pattern: &[bool]) -> Result<(), String> {
    for (i, &forward) in pattern.iter().cycle().enumerate() {
        let (got, expected) =
            if forward { (iter.next(), left.pop_front()) } else { (iter.next_back(), left.pop_back()) };
        let got = got.map(|(k, found)| (k, found.value().map(<[u8]>::to_vec)));
        if got != expected {
            return Err(format!(
                "step {i} ({}): got {got:?}, expected {expected:?}",
                if forward { "next" } else { "back" }
            ));
        }
        if got.is_none() {
            return match (iter.next(), iter.next_back()) {
                (None, None) => Ok(()),
                _ => Err(format!("step {i}: an end yielded after the walk ended")),
            };
        }
    }
    unreachable!("the pattern cycles until the walk ends")
}

fn run(writes: Vec<(u16, bool)>, range: (u8, u16, u8, u16), pattern: Vec<bool>) -> TestResult {
    let pattern = if pattern.is_empty() { vec![true, false] } else { pattern };
    let log = open();
    let mut model = Model::new();
    // Enough keys for several index chunks (of 64) in any range.
    for k in 0..250u16 {
        log.put(&key(k * 2), b"base").unwrap();
        model.insert(key(k * 2), Some(b"base".to_vec()));
    }
    for &(k, delete) in &writes {
        if delete {
            log.delete(&key(k)).unwrap();
            model.insert(key(k), None);
        } else {
            log.put(&key(k), &k.to_le_bytes()).unwrap();
            model.insert(key(k), Some(k.to_le_bytes().to_vec()));
        }
    }
    let (lo, hi) = (bound(range.0, range.1), bound(range.2, range.3));
    let contains = |k: &Vec<u8>| RangeBounds::<Vec<u8>>::contains(&(lo.as_ref(), hi.as_ref()), k);
    let inside: VecDeque<_> = model.clone().into_iter().filter(|(k, _)| contains(k)).collect();
    let borrowed = (lo.as_ref().map(Vec::as_slice), hi.as_ref().map(Vec::as_slice));
    let snapshot = log.snapshot();
    // Writes after the snapshot that it must not see.
    log.put(&key(1), b"later").unwrap();
    log.delete(&key(3)).unwrap();
    let at_snapshot = walk(log.range(borrowed, Some(snapshot.seqno())), inside.clone(), &pattern);
    let mut latest = model.clone();
    latest.insert(key(1), Some(b"later".to_vec()));
    latest.insert(key(3), None);
    let latest: VecDeque<_> = latest.into_iter().filter(|(k, _)| contains(k)).collect();
    let at_latest = walk(log.range(borrowed, None), latest, &pattern);
    let frozen = log.freeze();
    let in_frozen = walk(frozen.range(borrowed, Some(snapshot.seqno())), inside, &pattern);
    match at_snapshot.and(at_latest).and(in_frozen) {
        Ok(()) => TestResult::passed(),
        Err(e) => TestResult::error(e),
    }
}

#[test]
fn memtable_ranges_walk_from_both_ends() {
    QuickCheck::new().tests(300).quickcheck(run as fn(Vec<(u16, bool)>, (u8, u16, u8, u16), Vec<bool>) -> TestResult);
}

#[test]
fn a_walk_meeting_in_the_middle_takes_every_key_once() {
    let log = open();
    for k in 0..300u16 {
        log.put(&key(k), b"v").unwrap();
    }
    let mut iter = log.range(.., None);
    let (mut front, mut back) = (Vec::new(), Vec::new());
    while let Some((k, _)) = iter.next() {
        front.push(k);
        let Some((k, _)) = iter.next_back() else { break };
        back.push(k);
    }
    back.reverse();
    front.extend(back);
    assert_eq!(front, (0..300).map(key).collect::<Vec<_>>());
}
