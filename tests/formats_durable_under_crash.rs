//! The durability claims of `TableWriter::finish` and `BlobWriter::finish`,
//! crashed on `MemFs`: a file whose writer finished (and whose directory
//! the caller synced) survives any power cut whole; a power cut at any
//! earlier file-system operation leaves a file that is refused as corrupt
//! or, where every byte happened to land, read back exactly — never a
//! wrong answer.

#[path = "common/crash_points.rs"]
mod crash_points;

use std::path::Path;
use std::sync::Arc;

use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs};
use cairndb::internals::blob::{BlobFile, BlobOptions, BlobWriter};
use cairndb::internals::table::{BlockCache, Entry, Table, TableOptions, TableWriter, ValueKind};
use cairndb::{BlobFileId, Error, SeqNo, TableId};

/// Torn copies examined per crash point.
const SEEDS: u64 = 6;

fn entries() -> Vec<Entry> {
    // About 700 KiB: several of the writers' 256 KiB buffered writes.
    (0..3000u32)
        .map(|i| Entry {
            key: format!("key{i:06}").into_bytes(),
            seqno: SeqNo(u64::from(i) + 1),
            kind: ValueKind::Value,
            value: (0..240).map(|j| (i as usize * 7 + j * 13) as u8).collect(),
        })
        .collect()
}

fn fresh_db() -> MemFs {
    let mem = MemFs::new();
    mem.create_dir(Path::new("/db")).unwrap();
    mem.sync_directory(Path::new("/")).unwrap();
    mem
}

fn write_table(fs: &dyn Fs, entries: &[Entry]) -> Result<(), Error> {
    let options = TableOptions { compression: false, ..TableOptions::default() };
    let mut w = TableWriter::new(fs, Path::new("/db/1.sst"), options)?;
    for e in entries {
        w.add(&e.key, e.seqno, e.kind, &e.value)?;
    }
    w.finish().map(drop)
}

fn write_blobs(fs: &dyn Fs, entries: &[Entry]) -> Result<(), Error> {
    let mut w = BlobWriter::new(fs, Path::new("/db/2.blob"), BlobFileId(2), BlobOptions::default())?;
    for e in entries {
        w.add(&e.key, e.seqno, &e.value)?;
    }
    w.finish().map(drop)
}

/// Whatever a crashed copy holds reads back exactly or is refused.
fn check_table(after: &MemFs, expected: &[Entry], finished: bool) {
    let cache = Arc::new(BlockCache::new(1 << 20));
    match Table::open(after, Path::new("/db/1.sst"), TableId(1), cache) {
        Ok(table) => {
            let read: Result<Vec<Entry>, Error> = table.iter().collect();
            assert_eq!(read.unwrap(), expected);
            table.verify().unwrap();
        }
        Err(e) => {
            assert!(!finished, "a finished table must survive: {e}");
            assert!(e.is_corruption() || e.is_not_found(), "{e}");
        }
    }
}

fn check_blobs(after: &MemFs, expected: &[Entry], finished: bool) {
    match BlobFile::open(after, Path::new("/db/2.blob"), BlobFileId(2)) {
        Ok(file) => {
            let records: Vec<_> = file.iter().map(Result::unwrap).collect();
            assert_eq!(records.len(), expected.len());
            for ((_, r), e) in records.iter().zip(expected) {
                assert_eq!((&r.key, r.seqno, &r.value), (&e.key, e.seqno, &e.value));
            }
        }
        Err(e) => {
            assert!(!finished, "a finished blob file must survive: {e}");
            assert!(e.is_corruption() || e.is_not_found(), "{e}");
        }
    }
}

/// Cuts the power at every operation of `write` in turn (every later
/// operation fails), makes the file's name durable as a caller would, and
/// checks every torn copy with `check`.
fn crash_at_every_operation(
    write: fn(&dyn Fs, &[Entry]) -> Result<(), Error>,
    check: fn(&MemFs, &[Entry], bool),
) -> u64 {
    let expected = entries();
    for n in 0.. {
        let mem = fresh_db();
        let fault = FaultFs::new(Arc::new(mem.clone()));
        fault.add_rule(FaultRule::From { n, kind: FaultKind::IO });
        let finished = write(&fault, &expected).is_ok();
        let _ = mem.sync_directory(Path::new("/db"));
        check(&mem.crash_copy(), &expected, finished);
        for seed in 0..SEEDS {
            check(&mem.crash_copy_torn(seed), &expected, finished);
        }
        if fault.injected_count() == 0 {
            assert!(finished);
            let explored = (n + 1) * (1 + SEEDS);
            crash_points::record("formats_durable_under_crash", explored, 0, explored);
            return n;
        }
    }
    unreachable!()
}

#[test]
fn tables_are_whole_after_finish_and_refused_before() {
    let points = crash_at_every_operation(write_table, check_table);
    assert!(points >= 4, "open, several writes and a sync: {points}");
}

#[test]
fn blob_files_are_whole_after_finish_and_refused_before() {
    let points = crash_at_every_operation(write_blobs, check_blobs);
    assert!(points >= 4, "open, several writes and a sync: {points}");
}
