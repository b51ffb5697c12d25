//! Recovery reads log addresses from disk: a segment whose addresses no
//! writer could have given it is corruption, never a panic or a huge
//! allocation. A writer leaves less than a page between one segment and
//! the next (a new memtable starts at the next page boundary), and no
//! address reaches the end of the log's address space, 2^63.

use std::path::Path;
use std::sync::Arc;

use cairndb::fs::{Fs, MemFs, OpenOptions, read_to_vec};
use cairndb::internals::hlog::{HlogConfig, HybridLog, ReplayFrom, segment};
use cairndb::{Error, LogAddress, SeqNo};

const LOG: &str = "/log";

fn open(fs: &MemFs, address: u64, next_seqno: u64) -> cairndb::Result<HybridLog> {
    let config = HlogConfig { page_size_bytes: 4096, ..HlogConfig::default() };
    let replay = ReplayFrom { address: LogAddress(address), next_seqno: SeqNo(next_seqno) };
    Ok(HybridLog::open(Arc::new(fs.clone()), Path::new(LOG), config, replay)?.0)
}

/// A log with one persisted write, replayed from `address`.
fn one_write_at(address: u64, next_seqno: u64, key: &[u8]) -> MemFs {
    let fs = MemFs::new();
    let log = open(&fs, address, next_seqno).unwrap();
    log.put(key, b"value").unwrap();
    log.persist().unwrap();
    fs
}

fn write_file(fs: &MemFs, path: &Path, bytes: &[u8]) {
    let file = fs.open(path, OpenOptions::create_truncate()).unwrap();
    file.write_all_at(bytes, 0).unwrap();
    file.sync_all().unwrap();
}

/// Copies segment 0 of `from` into `to` as segment `number`.
fn add_segment(to: &MemFs, from: &MemFs, number: u64) {
    let mut bytes = read_to_vec(from, &segment::path(Path::new(LOG), 0)).unwrap();
    let mut header = segment::SegmentHeader::decode(&bytes).unwrap();
    header.number = number;
    bytes[..segment::HEADER_BYTES].copy_from_slice(&header.encode());
    write_file(to, &segment::path(Path::new(LOG), number), &bytes);
}

fn expect_corruption(result: cairndb::Result<HybridLog>, file: &str, what: &str) {
    match result {
        Err(Error::Corruption { file: f, what: w, .. }) => {
            assert_eq!(f, Path::new(LOG).join(file));
            assert!(w.contains(what), "{w}");
        }
        Err(e) => panic!("expected corruption, got {e}"),
        Ok(_) => panic!("expected corruption, the log opened"),
    }
}

#[test]
fn a_segment_far_past_the_one_before_is_corruption_not_a_panic() {
    for distance in [1u64 << 33, 1 << 40, 1 << 62] {
        let fs = one_write_at(0, 1, b"near");
        // Whole, valid commits at a far address, numbered next.
        add_segment(&fs, &one_write_at(distance, 2, b"far"), 1);
        expect_corruption(open(&fs, 0, 1), "1.hlog", "a writer leaves less than a page");
        // Nothing was changed: the log opens read-only the same way.
        let config = HlogConfig { page_size_bytes: 4096, read_only: true, ..HlogConfig::default() };
        let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
        assert!(HybridLog::open(Arc::new(fs.clone()), Path::new(LOG), config, replay).unwrap_err().is_corruption());
    }
}

#[test]
fn a_segment_reaching_past_the_end_of_the_address_space_is_corruption() {
    let fs = one_write_at(0, 1, b"near");
    let bytes = read_to_vec(&fs, &segment::path(Path::new(LOG), 0)).unwrap();
    let body = (bytes.len() - segment::HEADER_BYTES) as u64;
    let mut beyond = bytes.clone();
    let header = segment::SegmentHeader::decode(&bytes).unwrap();
    // Segment 0's bytes again, numbered next, placed so that its last
    // bytes lie past 2^63 (a later start than segment 0's end is fine
    // after a commit; that one is not).
    let header = segment::SegmentHeader { number: 1, start: (1 << 63) - body + 8, ..header };
    beyond[..segment::HEADER_BYTES].copy_from_slice(&header.encode());
    write_file(&fs, &segment::path(Path::new(LOG), 1), &beyond);
    expect_corruption(open(&fs, 0, 1), "1.hlog", "segment start address out of range");
}

#[test]
fn a_log_ending_at_the_end_of_the_address_space_recovers() {
    // The last page of the address space holds records and a commit.
    let end = 1u64 << 63;
    let fs = one_write_at(end - 4096, 1, b"last");
    let log = open(&fs, end - 4096, 1).unwrap();
    assert_eq!(log.get(b"last", None).unwrap().value(), Some(&b"value"[..]));
    let error = log.put(b"more", b"no room").unwrap_err();
    assert!(error.to_string().contains("address space"), "{error}");
}
