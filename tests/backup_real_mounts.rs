//! Backups to a directory on a second real mount (`CAIRNDB_TEST_EXT4`, a
//! loop-mounted ext4 image `.ci/run` makes): the database on the project's
//! disk, its backups on the other device, restored back onto the first. Every
//! upload is a real copy across devices, made durable with fsync.

use std::sync::Arc;

mod common;

use cairndb::backup::{BackupEngine, DirStore};
use cairndb::{Config, Db};
use common::backup::{Model, contents};
use common::mounts::mount_from_env;

fn open(path: &std::path::Path) -> Db {
    Config::new(path).memtable_size_bytes(1 << 20).blob_threshold_bytes(2000).open().unwrap()
}

#[test]
fn backups_to_a_second_mount_are_incremental_and_restore_exactly() {
    let Some(mount) = mount_from_env("CAIRNDB_TEST_EXT4") else { return };
    let local = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let remote = tempfile::tempdir_in(mount).unwrap();
    let engine = BackupEngine::new(Arc::new(DirStore::open_path(remote.path().join("backups")).unwrap()));
    let db = open(&local.path().join("db"));
    let mut model = Model::default();
    for i in 0..20_000u32 {
        let value = if i % 100 == 0 { vec![b'B'; 5000] } else { format!("value-{i}").into_bytes() };
        model.put(&db, format!("key{i:06}"), value);
    }
    let first = engine.create_backup(&db).unwrap();
    assert_eq!(first.files_uploaded, first.files_total);
    for i in 0..200u32 {
        model.put(&db, format!("key{:06}", i * 100), format!("changed-{i}"));
    }
    let second = engine.create_backup(&db).unwrap();
    assert!(second.files_uploaded < first.files_total, "{second:?}");
    assert!(second.bytes_uploaded * 4 < second.bytes_total, "{second:?}");

    for info in [&first, &second] {
        assert!(engine.verify(info.id).unwrap().is_ok());
        let target = local.path().join(format!("restored-{}", info.id));
        engine.restore(info.id, &target).unwrap();
        let restored = Db::open(&target).unwrap();
        assert_eq!(contents(&restored), model.state_at(info.seqno), "backup {}", info.id);
        restored.put("only-in-restore", "x").unwrap();
    }
    assert_eq!(db.get("only-in-restore").unwrap(), None);
    engine.prune(1).unwrap();
    engine.gc().unwrap();
    assert!(common::backup::unreferenced_files(&engine).is_empty());
}
