//! A checkpoint that has to copy a table or blob file (another device: the
//! streamed-copy fallback of `link_or_copy`) checks what it copies by the
//! file's own checksums: a damaged file fails the checkpoint with
//! `Error::Corruption` naming the source file, and neither the target nor a
//! staging directory is left behind. Undamaged, the copy opens and verifies.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairndb::checkpoint;
use cairndb::fs::{DeviceOptions, Fs, MemFs, OpenOptions};
use cairndb::{Config, Db, Error};

fn source(fs: &MemFs) -> Db {
    let db = Config::new("/db")
        .fs(Arc::new(fs.clone()))
        .memtable_size_bytes(64 << 10)
        .blob_threshold_bytes(500)
        .table_target_bytes(16 << 10)
        .background_threads(false)
        .open()
        .unwrap();
    for i in 0..2000u32 {
        let value = if i % 40 == 0 { vec![(i % 256) as u8; 900] } else { format!("v{i}").into_bytes() };
        db.put(format!("key{:04}", (i * 13) % 1000), value).unwrap();
    }
    db.flush().unwrap();
    assert!(db.version().table_count() > 0 && !db.version().blob_files.is_empty());
    db
}

fn flip_middle_byte(fs: &MemFs, path: &Path) {
    let file = fs.open(path, OpenOptions::read_write()).unwrap();
    let offset = file.len().unwrap() / 2;
    let mut byte = [0u8; 1];
    file.read_exact_at(&mut byte, offset).unwrap();
    file.write_all_at(&[byte[0] ^ 0x04], offset).unwrap();
}

#[test]
fn a_damaged_table_or_blob_file_is_not_copied_into_a_checkpoint() {
    let fs = MemFs::new();
    let db = source(&fs);
    fs.create_dir(Path::new("/other")).unwrap();
    fs.mount(Path::new("/other"), DeviceOptions::default()).unwrap();
    let version = db.version();
    let table = version.tables().next().unwrap().1.info.id;
    let blob = *version.blob_files.keys().next().unwrap();
    for damaged in [PathBuf::from(format!("/db/tables/{table}.sst")), PathBuf::from(format!("/db/blobs/{blob}.blob"))] {
        flip_middle_byte(&fs, &damaged);
        let err = db.checkpoint("/other/cp").unwrap_err();
        match &err {
            Error::Corruption { file, .. } => assert_eq!(file, &damaged, "{err}"),
            other => panic!("expected corruption naming {}, got {other}", damaged.display()),
        }
        assert!(fs.read_dir(Path::new("/other")).unwrap().is_empty(), "no target, no staging left");
        flip_middle_byte(&fs, &damaged);
    }
    let info = db.checkpoint("/other/cp").unwrap();
    assert_eq!(info.copied, info.table_files + info.blob_files, "{info:?}");
    let disk: Arc<dyn Fs> = Arc::new(fs.clone());
    assert!(checkpoint::verify(&disk, Path::new("/other/cp")).unwrap().is_ok());
}
