//! Damaged archived log chunks: every byte flipped in a stored chunk makes
//! a restore through it fail with `Error::Corruption` naming the chunk,
//! and nothing appears at the target; a restore that does not need the
//! chunk still works. Also writes the chunk as a fuzz seed when
//! `CAIRNDB_WRITE_FUZZ_SEEDS` is set.

use std::path::Path;
use std::sync::Arc;

mod common;

use cairndb::backup::{
    ARCHIVE_PREFIX, ArchiveOptions, BackupEngine, BackupStore, DirStore, GAP_CHUNK_BYTES, RestorePoint,
};
use cairndb::fs::{Fs, MemFs};
use cairndb::{Config, SeqNo};
use common::backup::{Model, contents};

#[test]
fn every_flipped_byte_of_a_chunk_is_found_by_the_restore() {
    let disk: Arc<dyn Fs> = Arc::new(MemFs::new());
    let store = Arc::new(DirStore::open(Arc::clone(&disk), "/backups").unwrap());
    let engine = BackupEngine::new(store.clone()).local_fs(Arc::clone(&disk));
    let db = Config::new("/db").fs(Arc::clone(&disk)).background_threads(false).open().unwrap();
    let mut model = Model::default();
    model.put(&db, "before", "base");
    let base = engine.create_backup(&db).unwrap();
    let archive = engine.archive(&db, ArchiveOptions::default()).unwrap();
    model.put(&db, "k1", "v1");
    model.delete(&db, "before");
    let first = db.persist().unwrap();
    archive.sync().unwrap();
    model.put(&db, "k2", vec![7u8; 300]);
    let second = db.persist().unwrap();
    assert_eq!(archive.sync().unwrap(), second);
    drop(archive);

    // The log chunks (a gap record after seqno 0 starts the timeline's archive).
    let chunks: Vec<_> =
        store.list(ARCHIVE_PREFIX).unwrap().into_iter().filter(|o| o.size_bytes != GAP_CHUNK_BYTES).collect();
    assert_eq!(chunks.len(), 2, "{chunks:?}");
    let key = &chunks[1].key;
    let bytes = cairndb::backup::get(&*store, key, 1 << 20).unwrap();
    if let Some(dir) = std::env::var_os("CAIRNDB_WRITE_FUZZ_SEEDS") {
        std::fs::write(Path::new(&dir).join("archive_chunk-log"), &bytes).unwrap();
    }
    assert!(cairndb::fuzzing::archive_chunk(&bytes), "a stored chunk decodes");
    let local: Arc<dyn Fs> = Arc::new(MemFs::new());
    let engine = engine.local_fs(Arc::clone(&local));
    for i in 0..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[i] ^= 0x10;
        store.put(key, &damaged).unwrap();
        let target = format!("/r/{i}");
        let err = engine.restore_to(RestorePoint::Seqno(second), Path::new(&target)).unwrap_err();
        assert!(err.is_corruption() || matches!(err, cairndb::Error::InvalidArgument { .. }), "byte {i}: {err}");
        assert!(!local.exists(Path::new(&target)).unwrap(), "byte {i}: nothing at the target");
    }
    store.put(key, &bytes).unwrap();
    // Intact again: both points restore exactly; the first never needed it.
    for (seqno, path) in [(first, "/ok1"), (second, "/ok2"), (base.seqno, "/ok0")] {
        let info = engine.restore_to(RestorePoint::Seqno(seqno), Path::new(path)).unwrap();
        assert_eq!(info.seqno, seqno);
        let restored = Config::new(path).fs(Arc::clone(&local)).read_only(true).open().unwrap();
        assert_eq!(contents(&restored), model.state_at(seqno));
    }
    assert_eq!(engine.restore_to(RestorePoint::Seqno(SeqNo(second.0 + 100)), Path::new("/ok3")).unwrap().seqno, second);
}
