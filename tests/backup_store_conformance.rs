//! The `BackupStore` contract (`cairndb::conformance::backup_store`,
//! published for outside implementations), run against every implementation: a
//! directory store on the in-memory disk, on the real disk and on a second
//! real mount (`CAIRNDB_TEST_EXT4`), and with the `s3` feature an S3 store
//! on a real S3 server on 127.0.0.1 (`CAIRNDB_TEST_S3_ENDPOINT`, moto,
//! started by `.ci/run`). Also: a store that overwrites where it should
//! refuse is caught by the probe.

use std::ops::Range;
use std::sync::Arc;

mod common;

use cairndb::backup::{BackupStore, DirStore, ObjectInfo, Source, probe_create_only};
use cairndb::conformance::backup_store::contract;
use cairndb::fs::MemFs;
use cairndb::{Error, Result};
use common::mounts::mount_from_env;

fn keys(objects: &[ObjectInfo]) -> Vec<&str> {
    objects.iter().map(|o| o.key.as_str()).collect()
}

#[test]
fn dir_store_on_the_in_memory_disk() {
    contract(&DirStore::open(Arc::new(MemFs::new()), "/store").unwrap());
}

#[test]
fn dir_store_deletes_are_durable_when_they_return() {
    let disk = MemFs::new();
    let store = DirStore::open(Arc::new(disk.clone()), "/store").unwrap();
    let names: Vec<String> = ["a/1", "a/2", "b/3", "c"].iter().map(|k| k.to_string()).collect();
    for key in &names {
        store.put(key, &b"x".to_vec()).unwrap();
    }
    store.delete("a/1").unwrap();
    store.delete_many(&names[1..3]).unwrap();
    let after = DirStore::open(Arc::new(disk.crash_copy()), "/store").unwrap();
    assert_eq!(keys(&after.list("").unwrap()), ["c"], "a power cut brings no deleted object back");
}

#[test]
fn dir_store_on_the_real_disk() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    contract(&DirStore::open_path(dir.path().join("store")).unwrap());
}

#[test]
fn dir_store_on_a_second_mount() {
    let Some(mount) = mount_from_env("CAIRNDB_TEST_EXT4") else { return };
    let dir = tempfile::tempdir_in(mount).unwrap();
    contract(&DirStore::open_path(dir.path().join("store")).unwrap());
}

#[cfg(feature = "s3")]
#[test]
fn s3_store_on_a_real_s3_server() {
    let Some(store) = common::backup::s3_store("conformance", None) else { return };
    contract(&store);
}

/// A store that ignores create-only: every create overwrites, as some
/// S3-compatible servers do with `If-None-Match: *`.
#[derive(Debug)]
struct Overwriting(DirStore);

impl BackupStore for Overwriting {
    fn location(&self, key: &str) -> String {
        self.0.location(key)
    }
    fn put_if_absent(&self, key: &str, body: &dyn Source) -> Result<()> {
        self.0.put(key, body)
    }
    fn put(&self, key: &str, body: &dyn Source) -> Result<()> {
        self.0.put(key, body)
    }
    fn read(&self, key: &str, sink: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<u64> {
        self.0.read(key, sink)
    }
    fn get_range(&self, key: &str, range: Range<u64>) -> Result<Vec<u8>> {
        self.0.get_range(key, range)
    }
    fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        self.0.list(prefix)
    }
    fn delete(&self, key: &str) -> Result<()> {
        self.0.delete(key)
    }
    fn settle(&self, prefix: &str) -> Result<()> {
        self.0.settle(prefix)
    }
    fn head(&self, key: &str) -> Result<Option<u64>> {
        self.0.head(key)
    }
    fn remove_stale_uploads(&self, cutoff_unix_ms: u64) -> Result<usize> {
        self.0.remove_stale_uploads(cutoff_unix_ms)
    }
}

#[test]
fn a_store_that_overwrites_instead_of_refusing_is_caught() {
    let store = Overwriting(DirStore::open(Arc::new(MemFs::new()), "/store").unwrap());
    let err = probe_create_only(&store).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("create-only"), "{err}");
    assert!(store.list("").unwrap().is_empty(), "the probe cleans up after itself");
}
