//! Blob files whose values are mostly overwritten are collected: their live
//! values move to a new blob file, the old file leaves the version and the
//! disk, and every value still reads back.

use std::path::Path;
use std::sync::Arc;

use cairndb::fs::{Fs, MemFs};
use cairndb::{Config, Db};

fn open(fs: &MemFs) -> Db {
    Config::new("/db")
        .fs(Arc::new(fs.clone()))
        .blob_threshold_bytes(1000)
        .memtable_size_bytes(4 << 20)
        .background_threads(false)
        .open()
        .unwrap()
}

fn big(i: u32) -> Vec<u8> {
    (0..4000u32).map(|j| (i * 31 + j) as u8).collect()
}

#[test]
fn mostly_dead_blob_files_are_rewritten_and_deleted() {
    let fs = MemFs::new();
    let db = open(&fs);
    for i in 0..200u32 {
        db.put(format!("k{i:03}"), big(i)).unwrap();
    }
    db.flush().unwrap();
    let first = db.version();
    assert_eq!(first.blob_files.len(), 1, "large values went to one blob file");
    let old_blob = *first.blob_files.keys().next().unwrap();
    drop(first);
    let snapshot = db.snapshot();
    for i in 0..180u32 {
        db.put(format!("k{i:03}"), b"small now").unwrap();
    }
    db.flush().unwrap();
    db.compact().unwrap();
    assert!(db.version().blob_files.contains_key(&old_blob), "a snapshot still reads the old values");
    assert_eq!(snapshot.get("k005").unwrap(), Some(big(5)));
    drop(snapshot);
    db.compact().unwrap();

    let version = db.version();
    assert!(!version.blob_files.contains_key(&old_blob), "the mostly dead blob file was collected");
    assert_eq!(version.blob_files.len(), 1, "the 20 live values moved to a new blob file");
    let live = version.blob_files.values().next().unwrap();
    assert_eq!(live.info.value_count, 20);
    let on_disk = fs.read_dir(Path::new("/db/blobs")).unwrap().len();
    assert_eq!(on_disk, 1, "the old blob file is deleted from disk");
    for i in 0..200u32 {
        let expected = if i < 180 { b"small now".to_vec() } else { big(i) };
        assert_eq!(db.get(format!("k{i:03}")).unwrap(), Some(expected), "k{i:03}");
    }
    drop(db);
    let db = open(&fs);
    assert_eq!(db.get("k199").unwrap(), Some(big(199)));
    assert_eq!(db.iter().count(), 200);
}
