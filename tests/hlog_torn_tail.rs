//! A torn record at the tail of the log is dropped silently; damage that a
//! crash cannot explain is `Error::Corruption`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairndb::fs::{Fs, MemFs, OpenOptions, read_to_vec};
use cairndb::internals::hlog::{HlogConfig, HybridLog, RecoveryReport, ReplayFrom, segment};
use cairndb::{LogAddress, SeqNo};
use quickcheck::quickcheck;

const LOG: &str = "/log";

fn config() -> HlogConfig {
    HlogConfig {
        page_size_bytes: 4096,
        segment_size_bytes: 1 << 20,
        memtable_size_bytes: 1 << 20,
        persist_interval_ms: 0,
        read_only: false,
    }
}

fn open(fs: &MemFs) -> cairndb::Result<(HybridLog, RecoveryReport)> {
    let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
    HybridLog::open(Arc::new(fs.clone()), Path::new(LOG), config(), replay)
}

fn contents(log: &HybridLog) -> BTreeMap<Vec<u8>, Vec<u8>> {
    log.range(.., None).filter_map(|(k, l)| Some((k, l.value()?.to_vec()))).collect()
}

/// Two persists into one segment; returns the durable file system, the
/// state at each persist, the segment path and the file offset where the
/// second persist's bytes begin.
struct TwoPersists {
    fs: MemFs,
    first: BTreeMap<Vec<u8>, Vec<u8>>,
    second: BTreeMap<Vec<u8>, Vec<u8>>,
    segment: PathBuf,
    second_starts_at: u64,
}

fn two_persists() -> TwoPersists {
    let fs = MemFs::new();
    let (log, _) = open(&fs).unwrap();
    for i in 0..20u32 {
        log.put(format!("key-{i:02}").as_bytes(), &[i as u8; 30]).unwrap();
    }
    let p1 = log.persist().unwrap();
    let first = contents(&log);
    for i in 10..25u32 {
        log.put(format!("key-{i:02}").as_bytes(), &[100 + i as u8; 30]).unwrap();
    }
    log.delete(b"key-00").unwrap();
    log.persist().unwrap();
    let second = contents(&log);
    let segments = log.segments();
    assert_eq!(segments.len(), 1);
    let seg = &segments[0];
    let second_starts_at = segment::HEADER_BYTES as u64 + (p1.end.0 - seg.start.0);
    TwoPersists { fs: fs.crash_copy(), first, second, segment: seg.path.clone(), second_starts_at }
}

fn with_file(fs: &MemFs, path: &Path, edit: impl FnOnce(&mut Vec<u8>)) -> MemFs {
    let copy = fs.crash_copy();
    let mut bytes = read_to_vec(&copy, path).unwrap();
    edit(&mut bytes);
    let file = copy.open(path, OpenOptions::create_truncate()).unwrap();
    file.write_all_at(&bytes, 0).unwrap();
    file.sync_all().unwrap();
    copy
}

#[test]
fn every_cut_inside_the_last_persist_recovers_the_one_before() {
    let t = two_persists();
    let full = read_to_vec(&t.fs, &t.segment).unwrap().len() as u64;
    for len in t.second_starts_at..full {
        let fs = with_file(&t.fs, &t.segment, |b| b.truncate(len as usize));
        let (log, report) = open(&fs).unwrap_or_else(|e| panic!("cut at {len}: {e}"));
        assert_eq!(contents(&log), t.first, "cut at {len}");
        assert_eq!(report.last_seqno, SeqNo(20));
        if len > t.second_starts_at {
            assert!(report.torn_at.is_some(), "cut at {len}: {report:?}");
        }
        // The tail was cut from the file: new writes and a reopen see no damage.
        log.put(b"after", b"crash").unwrap();
        log.persist().unwrap();
        drop(log);
        let (log, report) = open(&fs.crash_copy()).unwrap();
        assert_eq!(report.torn_at, None);
        assert_eq!(log.get(b"after", None).unwrap().value(), Some(&b"crash"[..]));
        assert_eq!(contents(&log).len(), t.first.len() + 1);
    }
    let (log, _) = open(&t.fs).unwrap();
    assert_eq!(contents(&log), t.second);
}

#[test]
fn zeros_or_a_cut_header_after_the_last_commit_are_a_torn_tail() {
    let t = two_persists();
    // Zeros: unwritten space some file systems show after a crash; a
    // record header cut short.
    for garbage in [vec![0u8; 100], vec![0xA5; 7]] {
        let fs = with_file(&t.fs, &t.segment, |b| b.extend_from_slice(&garbage));
        let (log, report) = open(&fs).unwrap();
        assert_eq!(contents(&log), t.second);
        assert!(report.torn_at.is_some());
    }
}

#[test]
fn whole_garbage_after_the_last_commit_is_corruption() {
    // A crash leaves a prefix of what was written: whole bytes that are
    // not a record were never written by a persist.
    let t = two_persists();
    let fs = with_file(&t.fs, &t.segment, |b| b.extend((0..255u8).cycle().take(300)));
    for read_only in [true, false] {
        let config = HlogConfig { read_only, ..config() };
        let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
        let err = HybridLog::open(Arc::new(fs.clone()), Path::new(LOG), config, replay).map(|_| ()).unwrap_err();
        assert!(err.is_corruption(), "{err}");
    }
}

#[test]
fn a_damaged_byte_covered_by_a_later_commit_is_corruption() {
    let t = two_persists();
    for offset in (segment::HEADER_BYTES as u64..t.second_starts_at).step_by(13) {
        let fs = with_file(&t.fs, &t.segment, |b| b[offset as usize] ^= 0x10);
        match open(&fs) {
            Err(e) => assert!(e.is_corruption(), "flip at {offset}: {e}"),
            Ok(_) => panic!("flip at {offset} went unnoticed"),
        }
    }
}

#[test]
fn a_damaged_record_followed_by_valid_ones_is_corruption() {
    let t = two_persists();
    // The second persist's first record: valid records follow it in the file.
    let offset = t.second_starts_at as usize + 50;
    let fs = with_file(&t.fs, &t.segment, |b| b[offset] ^= 1);
    let err = open(&fs).map(|_| ()).unwrap_err();
    assert!(err.is_corruption(), "{err}");
    assert!(err.to_string().contains("0.hlog"), "{err}");
}

#[test]
fn a_damaged_last_commit_record_is_corruption() {
    // A crash cuts a commit record short; it never leaves a whole one with
    // a bad checksum, or a length no persist writes.
    let t = two_persists();
    let full = read_to_vec(&t.fs, &t.segment).unwrap().len();
    let commit = full - cairndb::internals::hlog::record::COMMIT_RECORD_BYTES;
    for at in commit..full {
        for bit in 0..8 {
            let fs = with_file(&t.fs, &t.segment, |b| b[at] ^= 1 << bit);
            match open(&fs) {
                Err(e) => assert!(e.is_corruption(), "byte {at} bit {bit}: {e}"),
                Ok((log, report)) => panic!("byte {at} bit {bit}: {} keys, {report:?}", contents(&log).len()),
            }
        }
    }
}

#[test]
fn a_missing_middle_segment_is_corruption() {
    let fs = MemFs::new();
    let small = HlogConfig {
        page_size_bytes: 4096,
        segment_size_bytes: 4096,
        memtable_size_bytes: 1 << 20,
        persist_interval_ms: 0,
        read_only: false,
    };
    let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
    let (log, _) = HybridLog::open(Arc::new(fs.clone()), Path::new(LOG), small, replay).unwrap();
    for i in 0..200u32 {
        log.put(format!("key-{i:03}").as_bytes(), &[7; 60]).unwrap();
        if i % 10 == 9 {
            log.persist().unwrap();
        }
    }
    let segments = log.segments();
    assert!(segments.len() >= 3, "{segments:?}");
    let fs = fs.crash_copy();
    fs.remove_file(&segments[1].path).unwrap();
    let err = HybridLog::open(Arc::new(fs), Path::new(LOG), small, replay).map(|_| ()).unwrap_err();
    assert!(err.is_corruption(), "{err}");
}

quickcheck! {
    fn arbitrary_segment_bytes_never_panic(tail: Vec<u8>, keep_valid_prefix: bool) -> bool {
        let t = two_persists();
        let fs = with_file(&t.fs, &t.segment, |b| {
            if !keep_valid_prefix {
                b.truncate(segment::HEADER_BYTES);
            }
            b.extend_from_slice(&tail);
        });
        match open(&fs) {
            Ok((log, _)) => contents(&log).len() <= 25,
            Err(e) => e.is_corruption(),
        }
    }
}
