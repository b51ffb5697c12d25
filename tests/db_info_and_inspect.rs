//! `Db::info` and `cairndb::inspect`: the public view of a database's files
//! that the `cairn` tool uses, checked against what was written.

use std::sync::Arc;

use cairndb::fs::{Fs, MemFs, OpenOptions, read_to_vec};
use cairndb::inspect::{BlobFile, TableFile, TableValue};
use cairndb::{Config, Db, SeqNo};

fn open(disk: &MemFs) -> Db {
    Config::new("/db").fs(Arc::new(disk.clone())).blob_threshold_bytes(1000).background_threads(false).open().unwrap()
}

#[test]
fn info_follows_the_version_and_the_log() {
    let disk = MemFs::new();
    let db = open(&disk);
    let fresh = db.info().unwrap();
    assert_eq!(fresh.identity, db.identity());
    assert!(!fresh.fork_pending);
    assert!(fresh.table_files.is_empty() && fresh.blob_files.is_empty());
    assert!(fresh.log_segments.is_empty(), "a segment is made at the first persist: {fresh:?}");

    db.put(b"small", b"v").unwrap();
    db.persist().unwrap();
    let persisted = db.info().unwrap();
    assert_eq!(persisted.log_segments.len(), 1);
    for segment in &persisted.log_segments {
        assert_eq!(segment.start, Some(persisted.log_start), "{segment:?}");
        assert_eq!(disk.metadata(&segment.path).unwrap().len, segment.len_bytes);
    }

    db.put(b"large", vec![7u8; 5000]).unwrap();
    db.flush().unwrap();
    let flushed = db.info().unwrap();
    assert_eq!(flushed.tables_seqno, SeqNo(2));
    assert_eq!(flushed.version_id, db.stats().version_id);
    assert!(flushed.version_id > fresh.version_id);
    assert_eq!(flushed.table_files.len(), 1);
    assert_eq!(flushed.blob_files.len(), 1, "the large value went to a blob file");
    assert!(flushed.log_start > fresh.log_start, "the flushed log is no longer replayed");
    for file in flushed.table_files.iter().chain(&flushed.blob_files) {
        assert!(disk.exists(file).unwrap(), "{}", file.display());
    }
    assert!(flushed.log_segments.iter().all(|s| s.start.is_some()), "every header reads: {flushed:?}");
    db.put(b"after", b"flush").unwrap();
    db.persist().unwrap();
    let after = db.info().unwrap();
    let newest = after.log_segments.last().unwrap();
    assert!(
        newest.start.unwrap() >= after.log_start,
        "the write after the flush is in a segment above the replay start: {after:?}"
    );
}

#[test]
fn info_reports_a_segment_whose_header_is_damaged() {
    let disk = MemFs::new();
    let db = open(&disk);
    db.put(b"k", b"v").unwrap();
    db.persist().unwrap();
    let segment = db.info().unwrap().log_segments.pop().unwrap();
    let file = disk.open(&segment.path, OpenOptions::read_write()).unwrap();
    file.write_all_at(&[0xff; 8], 0).unwrap();
    let damaged = db.info().unwrap().log_segments.pop().unwrap();
    assert_eq!((damaged.number, damaged.start), (segment.number, None));
}

#[test]
fn inspect_reads_tables_and_blob_files_and_finds_damage() {
    let disk = MemFs::new();
    let db = open(&disk);
    db.put(b"a", b"one").unwrap();
    db.put(b"b", vec![9u8; 3000]).unwrap();
    db.delete(b"c").unwrap();
    db.flush().unwrap();
    let info = db.info().unwrap();

    let table = TableFile::open(&disk, &info.table_files[0]).unwrap();
    assert_eq!((table.meta().entry_count, table.meta().blob_ref_count), (3, 1));
    let entries: Vec<_> = table.entries().collect::<Result<_, _>>().unwrap();
    let keys: Vec<&[u8]> = entries.iter().map(|e| e.key.as_slice()).collect();
    assert_eq!(keys, [&b"a"[..], b"b", b"c"]);
    assert_eq!(entries[0].value, TableValue::Value(b"one".to_vec()));
    assert_eq!(entries[2].value, TableValue::Tombstone);
    let TableValue::Blob { offset, .. } = entries[1].value else { panic!("{:?}", entries[1]) };
    table.verify().unwrap();

    let blobs = BlobFile::open(&disk, &info.blob_files[0]).unwrap();
    assert_eq!(blobs.meta().record_count, 1);
    let records: Vec<_> = blobs.records().collect::<Result<_, _>>().unwrap();
    assert_eq!((records[0].offset, records[0].key.as_slice()), (offset, &b"b"[..]));
    assert_eq!(records[0].value, vec![9u8; 3000]);
    blobs.verify().unwrap();

    // One flipped byte in the table's first data block: verify names it.
    let path = &info.table_files[0];
    let mut bytes = read_to_vec(&disk, path).unwrap();
    bytes[10] ^= 0x40;
    disk.open(path, OpenOptions::read_write()).unwrap().write_all_at(&bytes, 0).unwrap();
    let err = TableFile::open(&disk, path).and_then(|t| t.verify()).unwrap_err();
    assert!(err.is_corruption(), "{err}");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
}
