//! Arbitrary bytes as the body of a hybrid-log segment: recovery must
//! return a log or a corruption error, never panic or allocate wildly. The
//! bytes are tried as they are and with every record's checksum recomputed
//! (so the commit-record and chain logic behind the checksums is reached).
#![no_main]

use std::path::Path;
use std::sync::Arc;

use cairndb::fs::{Fs, MemFs, OpenOptions};
use cairndb::internals::hlog::record::{self, CHECKSUM_OFFSET, HEADER_BYTES, LAYOUT_OFFSET};
use cairndb::internals::hlog::segment::{self, SegmentHeader};
use cairndb::internals::hlog::{HlogConfig, HybridLog, ReplayFrom};
use cairndb::{LogAddress, SeqNo};
use cairndb_fuzz::check_error;
use libfuzzer_sys::fuzz_target;

const PAGE_SIZE: u32 = 4096;

/// Recomputes the checksum of each record the layout words chain together.
fn fix_checksums(body: &mut [u8]) {
    let mut at = 0;
    while at + HEADER_BYTES <= body.len() {
        let layout = u64::from_le_bytes(body[at + LAYOUT_OFFSET..at + HEADER_BYTES].try_into().unwrap());
        let (len, _, _) = record::split_layout(layout);
        let len = len as usize;
        if len < HEADER_BYTES || len % 8 != 0 || at + len > body.len() {
            return;
        }
        let sum = record::checksum(&body[at..at + len]);
        body[at + CHECKSUM_OFFSET..at + CHECKSUM_OFFSET + 8].copy_from_slice(&sum.to_le_bytes());
        at += len;
    }
}

fn replay(body: &[u8]) {
    let fs = MemFs::new();
    let dir = Path::new("/log");
    fs.create_dir(dir).unwrap();
    let file = fs.open(&segment::path(dir, 0), OpenOptions::create_new()).unwrap();
    let header = SegmentHeader { page_size_bytes: PAGE_SIZE, number: 0, start: 0 };
    file.write_all_at(&header.encode(), 0).unwrap();
    file.write_all_at(body, segment::HEADER_BYTES as u64).unwrap();
    drop(file);
    let config = HlogConfig { page_size_bytes: PAGE_SIZE, segment_size_bytes: 1 << 20, memtable_size_bytes: 1 << 20, persist_interval_ms: 0, read_only: false };
    let from = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
    match HybridLog::open(Arc::new(fs.clone()), dir, config, from) {
        Ok((log, report)) => {
            let keys = log.range(.., None).take(10_000).count();
            assert!(keys as u64 <= report.records_recovered);
            log.put(b"after", b"replay").unwrap();
            log.persist().unwrap();
            // A flush's view walks the recovered pages record by record: it
            // must list every recovered key (and the new one), in order.
            let sorted: Vec<_> = log.freeze().iter_sorted().map(|e| (e.key, e.seqno)).collect();
            assert!(sorted.windows(2).all(|w| (&w[0].0, std::cmp::Reverse(w[0].1)) < (&w[1].0, std::cmp::Reverse(w[1].1))));
            assert!(sorted.len() as u64 >= keys as u64 + 1 && sorted.len() as u64 <= report.records_recovered + 1);
            drop(log);
            // Whatever recovery cut, the log it left takes the write and
            // reopens with it: a recovered log is never made unopenable.
            let (again, _) = HybridLog::open(Arc::new(fs), dir, config, from).expect("a recovered log reopens");
            assert_eq!(again.get(b"after", None).and_then(|l| l.value().map(<[u8]>::to_vec)), Some(b"replay".to_vec()));
            if keys < 10_000 {
                assert_eq!(again.range(.., None).count(), keys + usize::from(log_had_no_after(&sorted)));
            }
        }
        Err(e) => check_error(&e),
    }
}

/// Whether "after" was a new key (not one the fuzzed log already held).
fn log_had_no_after(sorted: &[(Vec<u8>, cairndb::SeqNo)]) -> bool {
    sorted.iter().filter(|(k, _)| k == b"after").count() == 1
}

fuzz_target!(|data: &[u8]| {
    replay(data);
    let mut fixed = data.to_vec();
    fix_checksums(&mut fixed);
    replay(&fixed);
});
