//! Checkpoints on real file systems: reflinked on a reflink-capable XFS
//! image, hard-linked on the project's ext4 disk, copied to a second mount;
//! each opens and verifies. The mounts come from `.ci/run` (see
//! `tests/fs_real_mounts.rs` for how they are made and when tests skip).

use std::path::Path;
use std::sync::Arc;

mod common;

use cairndb::checkpoint;
use cairndb::fs::{Fs, StdFs};
use cairndb::{CheckpointInfo, Config, Db};
use common::mounts::mount_from_env;

fn filled(dir: &Path) -> Db {
    let db = Config::new(dir).blob_threshold_bytes(2000).memtable_size_bytes(1 << 20).open().unwrap();
    for i in 0..20_000u32 {
        let value = if i % 100 == 0 { vec![b'B'; 5000] } else { format!("value-{i}").into_bytes() };
        db.put(format!("key{i:06}"), value).unwrap();
    }
    db.flush().unwrap();
    db.put("in-memtable", "yes").unwrap();
    db
}

fn check(db: &Db, info: &CheckpointInfo) {
    let fs: Arc<dyn Fs> = Arc::new(StdFs::new());
    let report = checkpoint::verify(&fs, &info.path).unwrap();
    assert!(report.is_ok(), "{report:?}");
    let cp = Config::new(&info.path).read_only(true).open().unwrap();
    assert_eq!(cp.get("in-memtable").unwrap().as_deref(), Some(&b"yes"[..]));
    assert_eq!(cp.iter().count(), db.iter().count());
    let rw = Db::open(&info.path).unwrap();
    rw.put("only-in-checkpoint", "x").unwrap();
    assert_eq!(db.get("only-in-checkpoint").unwrap(), None);
}

#[test]
fn ext4_checkpoints_hard_link() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let db = filled(&dir.path().join("db"));
    let info = db.checkpoint(dir.path().join("cp")).unwrap();
    if StdFs::new().supports_reflink(dir.path()).unwrap() {
        assert_eq!(info.reflinked, info.table_files + info.blob_files);
    } else {
        assert_eq!(info.hard_linked, info.table_files + info.blob_files, "{info:?}");
        assert_eq!(info.bytes_copied, 0);
    }
    check(&db, &info);
}

#[test]
fn xfs_checkpoints_reflink() {
    let Some(xfs) = mount_from_env("CAIRNDB_TEST_XFS") else { return };
    let dir = tempfile::tempdir_in(&xfs).unwrap();
    let db = filled(&dir.path().join("db"));
    let info = db.checkpoint(dir.path().join("cp")).unwrap();
    assert_eq!(info.reflinked, info.table_files + info.blob_files, "{info:?}");
    assert!(info.table_files > 0 && info.blob_files > 0);
    assert_eq!(info.bytes_copied, 0);
    check(&db, &info);
}

#[test]
fn checkpoints_to_another_mount_are_copied() {
    let Some(ext4) = mount_from_env("CAIRNDB_TEST_EXT4") else { return };
    let source = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let target = tempfile::tempdir_in(&ext4).unwrap();
    let db = filled(&source.path().join("db"));
    for flush in [true, false] {
        let path = target.path().join(format!("cp-{flush}"));
        let info = db.checkpoint_with(&path, cairndb::CheckpointOptions::default().flush(flush)).unwrap();
        assert_eq!(info.copied, info.table_files + info.blob_files + info.log_segments, "{info:?}");
        assert_eq!(info.bytes_copied, info.bytes_total);
        check(&db, &info);
    }
}
