//! The recovery rule, swept: in a log of several segments (two sessions, a
//! freeze, page padding, a value larger than a page), a flipped bit in any
//! byte class — segment header, record header, record body, commit record —
//! is `Error::Corruption` on a read-only and on a writable open, and no
//! file changes; every cut of the last segment at a record boundary (or
//! inside a record) recovers exactly the state of the last commit before
//! it, accepts a write, and reopens with both.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairndb::fs::{FileKind, Fs, MemFs, OpenOptions, read_to_vec};
use cairndb::internals::hlog::record::{self, Kind};
use cairndb::internals::hlog::{HlogConfig, HybridLog, ReplayFrom, segment};
use cairndb::{LogAddress, SeqNo};

const LOG: &str = "/log";
const FROM_START: ReplayFrom = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };

type State = BTreeMap<Vec<u8>, Vec<u8>>;

fn config(read_only: bool) -> HlogConfig {
    HlogConfig {
        page_size_bytes: 4096,
        segment_size_bytes: 8192,
        memtable_size_bytes: 1 << 20,
        persist_interval_ms: 0,
        read_only,
    }
}

fn open(fs: &MemFs, read_only: bool) -> cairndb::Result<HybridLog> {
    HybridLog::open(Arc::new(fs.clone()), Path::new(LOG), config(read_only), FROM_START).map(|(log, _)| log)
}

fn contents(log: &HybridLog) -> State {
    log.range(.., None).filter_map(|(k, l)| Some((k, l.value()?.to_vec()))).collect()
}

/// The log and the state at each persist (its end address, its contents).
struct Log {
    fs: MemFs,
    persists: Vec<(u64, State)>,
}

fn build() -> Log {
    let fs = MemFs::new();
    let mut persists = Vec::new();
    let log = open(&fs, false).unwrap();
    for i in 0..120u32 {
        log.put(format!("a{i:03}").as_bytes(), &[i as u8; 37]).unwrap();
        if i % 30 == 29 {
            let point = log.persist().unwrap();
            persists.push((point.end.0, contents(&log)));
        }
    }
    // A freeze: the next memtable starts on a fresh page, in a new segment.
    let frozen = log.freeze();
    frozen.persist().unwrap();
    log.put(b"big", &[9; 6000]).unwrap();
    for i in 0..40u32 {
        log.put(b"hot", &i.to_le_bytes()).unwrap();
        log.put(format!("b{i:03}").as_bytes(), &[7; 21]).unwrap();
    }
    let point = log.persist().unwrap();
    let mut state: State = frozen.range(.., None).filter_map(|(k, l)| Some((k, l.value()?.to_vec()))).collect();
    state.extend(contents(&log));
    persists.push((point.end.0, state.clone()));
    drop((log, frozen));
    // A second session: it starts a new segment on the next page.
    let log = open(&fs, false).unwrap();
    for i in 0..150u32 {
        log.put(format!("c{i:03}").as_bytes(), &[3; 45]).unwrap();
        if i % 50 == 49 {
            let point = log.persist().unwrap();
            persists.push((point.end.0, contents(&log)));
        }
    }
    drop(log);
    Log { fs: fs.crash_copy(), persists }
}

fn files(fs: &MemFs) -> BTreeMap<PathBuf, Vec<u8>> {
    fs.read_dir(Path::new(LOG))
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == FileKind::File)
        .map(|e| {
            let path = Path::new(LOG).join(&e.name);
            let bytes = read_to_vec(fs, &path).unwrap();
            (path, bytes)
        })
        .collect()
}

fn with(fs: &MemFs, path: &Path, edit: impl FnOnce(&mut Vec<u8>)) -> MemFs {
    let copy = fs.crash_copy();
    let mut bytes = read_to_vec(&copy, path).unwrap();
    edit(&mut bytes);
    let file = copy.open(path, OpenOptions::create_truncate()).unwrap();
    file.write_all_at(&bytes, 0).unwrap();
    file.sync_all().unwrap();
    copy
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    SegmentHeader,
    RecordHeader,
    RecordBody,
    Commit,
}

/// The byte offsets of a segment file worth flipping, with their class.
fn offsets(bytes: &[u8]) -> Vec<(usize, Class)> {
    let mut out: Vec<(usize, Class)> = (0..segment::HEADER_BYTES).map(|o| (o, Class::SegmentHeader)).collect();
    let mut at = segment::HEADER_BYTES;
    let mut n = 0;
    while at < bytes.len() {
        let rec = record::decode(&bytes[at..]).expect("an intact log decodes");
        if rec.kind == Kind::Commit {
            out.extend((at..at + rec.len_bytes).map(|o| (o, Class::Commit)));
        } else {
            let stride = if n < 3 { 1 } else { 3 };
            out.extend((at..at + record::HEADER_BYTES).step_by(stride).map(|o| (o, Class::RecordHeader)));
            out.extend((at + record::HEADER_BYTES..at + rec.len_bytes).step_by(13).map(|o| (o, Class::RecordBody)));
        }
        at += rec.len_bytes;
        n += 1;
    }
    out
}

#[test]
fn every_flipped_bit_is_corruption_and_changes_no_file() {
    let log = build();
    let paths: Vec<PathBuf> = files(&log.fs).into_keys().collect();
    assert!(paths.len() >= 4, "{paths:?}");
    let mut flips = BTreeMap::new();
    for path in &paths {
        let bytes = read_to_vec(&log.fs, path).unwrap();
        for (offset, class) in offsets(&bytes) {
            let bit = (offset * 5 + 3) % 8;
            let fs = with(&log.fs, path, |b| b[offset] ^= 1 << bit);
            let before = files(&fs);
            for read_only in [true, false] {
                match open(&fs, read_only) {
                    Err(e) => assert!(e.is_corruption(), "{path:?} {class:?} byte {offset}: {e}"),
                    Ok(opened) => panic!(
                        "{path:?} {class:?} byte {offset} bit {bit} (read-only {read_only}): opened with {} keys",
                        contents(&opened).len()
                    ),
                }
                assert!(files(&fs) == before, "{path:?} {class:?} byte {offset}: a file changed");
            }
            *flips.entry(format!("{class:?}")).or_insert(0) += 1;
        }
    }
    for class in ["SegmentHeader", "RecordHeader", "RecordBody", "Commit"] {
        assert!(flips.get(class).copied().unwrap_or(0) > 0, "no {class} flipped: {flips:?}");
    }
    eprintln!("flipped bits by class: {flips:?}");
}

#[test]
fn every_cut_of_the_last_segment_keeps_what_was_committed_and_takes_new_writes() {
    let log = build();
    let all = files(&log.fs);
    let (last, bytes) = all.iter().next_back().unwrap();
    let number = segment::list(&log.fs, Path::new(LOG)).unwrap().into_iter().max().unwrap();
    assert_eq!(last, &segment::path(Path::new(LOG), number));
    let start = segment::SegmentHeader::decode(bytes).unwrap().start;
    let mut cuts = vec![segment::HEADER_BYTES, segment::HEADER_BYTES + 5];
    let mut at = segment::HEADER_BYTES;
    while at < bytes.len() {
        let rec = record::decode(&bytes[at..]).unwrap();
        cuts.extend([at, at + 8, at + record::HEADER_BYTES + 1]);
        at += rec.len_bytes;
    }
    cuts.retain(|&c| c < bytes.len());
    cuts.dedup();
    for cut in cuts {
        let fs = with(&log.fs, last, |b| b.truncate(cut));
        let address = start + (cut - segment::HEADER_BYTES) as u64;
        let expected = log.persists.iter().rev().find(|(end, _)| *end <= address).map(|(_, s)| s.clone()).unwrap();
        let reopened = open(&fs, true).unwrap_or_else(|e| panic!("cut at {cut}, read-only: {e}"));
        assert!(contents(&reopened) == expected, "cut at {cut}, read-only");
        let reopened = open(&fs, false).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert!(contents(&reopened) == expected, "cut at {cut}");
        reopened.put(b"after", b"recovery").unwrap();
        reopened.persist().unwrap();
        drop(reopened);
        let mut expected = expected;
        expected.insert(b"after".to_vec(), b"recovery".to_vec());
        for round in 0..2 {
            let again = open(&fs.crash_copy(), false).unwrap_or_else(|e| panic!("cut at {cut}, reopen {round}: {e}"));
            assert!(contents(&again) == expected, "cut at {cut}, reopen {round}");
        }
    }
}
