//! Blob files read back exactly what was written, by reference and by
//! iteration, with and without compression, and tables refer to them.

mod common;

use std::sync::Arc;

use cairndb::fs::StdFs;
use cairndb::internals::blob::{BlobFile, BlobOptions, BlobRef, BlobWriter};
use cairndb::internals::table::{BlockCache, Table, TableOptions, TableWriter, ValueKind};
use cairndb::{BlobFileId, Error, SeqNo, TableId};
use quickcheck::QuickCheck;

fn value(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|j| ((i * 31 + j / 7) % 251) as u8).collect()
}

fn write_blobs(dir: &std::path::Path, compression: bool, values: &[Vec<u8>]) -> Vec<BlobRef> {
    let mut w =
        BlobWriter::new(&StdFs::new(), &dir.join("3.blob"), BlobFileId(3), BlobOptions { compression }).unwrap();
    let refs: Vec<BlobRef> = values
        .iter()
        .enumerate()
        .map(|(i, v)| w.add(format!("key{i}").as_bytes(), SeqNo(i as u64), v).unwrap())
        .collect();
    let meta = w.finish().unwrap();
    assert_eq!(meta.record_count, values.len() as u64);
    refs
}

fn reads_back(lens: Vec<u16>, compression: bool) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let values: Vec<Vec<u8>> = lens.iter().enumerate().map(|(i, &n)| value(i, usize::from(n) % 9000)).collect();
    let refs = write_blobs(dir.path(), compression, &values);
    let file = BlobFile::open(&StdFs::new(), &dir.path().join("3.blob"), BlobFileId(3)).unwrap();
    file.verify().unwrap();
    for (i, r) in refs.iter().enumerate() {
        assert_eq!(file.read_value(r, format!("key{i}").as_bytes()).unwrap(), values[i]);
    }
    let walked: Vec<_> = file.iter().map(Result::unwrap).collect();
    assert_eq!(walked.len(), values.len());
    for (i, (r, rec)) in walked.iter().enumerate() {
        assert_eq!((r, &rec.value, rec.seqno), (&refs[i], &values[i], SeqNo(i as u64)));
    }
    true
}

#[test]
fn random_blob_files_read_back_identically() {
    QuickCheck::new().tests(60).quickcheck(reads_back as fn(Vec<u16>, bool) -> bool);
}

#[test]
fn compression_shrinks_compressible_values() {
    let dir = tempfile::tempdir().unwrap();
    let values: Vec<Vec<u8>> = (0..50).map(|i| value(i, 20_000)).collect();
    write_blobs(dir.path(), true, &values);
    let file = BlobFile::open(&StdFs::new(), &dir.path().join("3.blob"), BlobFileId(3)).unwrap();
    let meta = file.meta();
    assert!(meta.stored_value_bytes * 2 < meta.raw_value_bytes, "{meta:?}");
    assert_eq!(meta.raw_value_bytes, 50 * 20_000);
}

#[test]
fn wrong_id_key_or_reference_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let refs = write_blobs(dir.path(), false, &[value(0, 5000), value(1, 5000)]);
    let path = dir.path().join("3.blob");
    assert!(BlobFile::open(&StdFs::new(), &path, BlobFileId(4)).unwrap_err().is_corruption());
    let file = BlobFile::open(&StdFs::new(), &path, BlobFileId(3)).unwrap();
    assert!(file.read_value(&refs[0], b"key1").unwrap_err().is_corruption());
    let past_end = BlobRef { offset: refs[1].offset + 1, ..refs[1] };
    assert!(file.read(&past_end).unwrap_err().is_corruption());
    let shifted = BlobRef { offset: refs[0].offset + 8, len_bytes: 100, ..refs[0] };
    assert!(file.read(&shifted).unwrap_err().is_corruption());
    let other_file = BlobRef { file: BlobFileId(9), ..refs[0] };
    assert!(matches!(file.read(&other_file), Err(Error::InvalidArgument { .. })));
}

#[test]
fn a_renamed_copy_opens_under_the_id_its_footer_records() {
    let dir = tempfile::tempdir().unwrap();
    let refs = write_blobs(dir.path(), false, &[value(0, 5000)]);
    let copy = dir.path().join("copy-of-3.blob");
    std::fs::copy(dir.path().join("3.blob"), &copy).unwrap();
    let file = BlobFile::open_as_found(&StdFs::new(), &copy).unwrap();
    assert_eq!(file.id(), BlobFileId(3));
    assert_eq!(file.read_value(&refs[0], b"key0").unwrap(), value(0, 5000));
    std::fs::write(&copy, b"not a blob file, but long enough to hold a footer's sixty-four bytes").unwrap();
    assert!(BlobFile::open_as_found(&StdFs::new(), &copy).unwrap_err().is_corruption());
}

/// The path a large value takes: blob file first, sealed, then a table
/// entry referring to it; a lookup follows the reference.
#[test]
fn table_entries_refer_to_sealed_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let values: Vec<Vec<u8>> = (0..100).map(|i| value(i, 4096 + i)).collect();
    let refs = write_blobs(dir.path(), true, &values);
    let mut keyed: Vec<(Vec<u8>, BlobRef)> =
        refs.iter().enumerate().map(|(i, r)| (format!("key{i}").into_bytes(), *r)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let sst = dir.path().join("1.sst");
    let mut w = TableWriter::new(&StdFs::new(), &sst, TableOptions::default()).unwrap();
    for (i, (key, r)) in keyed.iter().enumerate() {
        w.add(key, SeqNo(i as u64), ValueKind::BlobRef, &r.encode()).unwrap();
    }
    let meta = w.finish().unwrap();
    assert_eq!(meta.blob_ref_count, 100);
    assert_eq!(meta.blob_bytes, refs.iter().map(|r| u64::from(r.len_bytes)).sum::<u64>());
    let table = Table::open(&StdFs::new(), &sst, TableId(1), Arc::new(BlockCache::new(1 << 20))).unwrap();
    let blobs = BlobFile::open(&StdFs::new(), &dir.path().join("3.blob"), BlobFileId(3)).unwrap();
    for (i, expected) in values.iter().enumerate() {
        let key = format!("key{i}").into_bytes();
        let entry = table.get(&key, SeqNo(1000)).unwrap().unwrap();
        let r = entry.blob_ref().unwrap();
        assert_eq!(&blobs.read_value(&r, &key).unwrap(), expected);
    }
}
