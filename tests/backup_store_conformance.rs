//! The `BackupStore` contract, run against every implementation: a
//! directory store on the in-memory disk, on the real disk and on a second
//! real mount (`CAIRNDB_TEST_EXT4`), and with the `s3` feature an S3 store
//! on a real S3 server on 127.0.0.1 (`CAIRNDB_TEST_S3_ENDPOINT`, moto,
//! started by `.ci/run`). Also: a store that overwrites where it should
//! refuse is caught by the probe.

use std::ops::Range;
use std::sync::{Arc, Barrier};

mod common;

use cairndb::backup::{BackupStore, DirStore, ObjectInfo, Source, probe_create_only};
use cairndb::fs::MemFs;
use cairndb::{Error, Result};
use common::mounts::mount_from_env;

fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8 ^ seed).collect()
}

fn read(store: &dyn BackupStore, key: &str) -> Vec<u8> {
    cairndb::backup::get(store, key, 64 << 20).unwrap()
}

fn keys(objects: &[ObjectInfo]) -> Vec<&str> {
    objects.iter().map(|o| o.key.as_str()).collect()
}

fn contract(store: &dyn BackupStore) {
    // Missing keys.
    assert_eq!(store.head("a/x").unwrap(), None);
    assert!(store.read("a/x", &mut |_| Ok(())).unwrap_err().is_not_found());
    store.delete("a/x").unwrap();

    // Create-only: the second create fails and changes nothing.
    store.put_if_absent("a/x", &b"first".to_vec()).unwrap();
    let err = store.put_if_absent("a/x", &b"second".to_vec()).unwrap_err();
    assert!(err.is_already_exists() && err.to_string().contains("a/x"), "{err}");
    assert_eq!(read(store, "a/x"), b"first");

    // Overwrite, ranges, sizes.
    store.put("a/x", &b"replaced".to_vec()).unwrap();
    assert_eq!(read(store, "a/x"), b"replaced");
    assert_eq!(store.head("a/x").unwrap(), Some(8));
    assert_eq!(store.get_range("a/x", 2..5).unwrap(), b"pla");
    assert_eq!(store.get_range("a/x", 6..100).unwrap(), b"ed");

    // Empty, nested and multi-chunk objects.
    store.put("a/empty", &Vec::new()).unwrap();
    assert_eq!(read(store, "a/empty"), b"");
    store.put("d/e/f", &b"deep".to_vec()).unwrap();
    let big = payload(3 << 20 | 123, 1);
    store.put("a/big", &big).unwrap();
    let mut chunks = 0;
    let mut streamed = Vec::new();
    let len = store
        .read("a/big", &mut |c| {
            chunks += 1;
            streamed.extend_from_slice(c);
            Ok(())
        })
        .unwrap();
    assert_eq!((len, streamed == big), (big.len() as u64, true));
    assert!(chunks >= 1);

    // Listing: sorted, by string prefix, with sizes.
    let all = store.list("").unwrap();
    assert_eq!(keys(&all), ["a/big", "a/empty", "a/x", "d/e/f"]);
    assert_eq!(all[2].size_bytes, 8);
    assert_eq!(keys(&store.list("a/").unwrap()), ["a/big", "a/empty", "a/x"]);
    assert_eq!(keys(&store.list("a/e").unwrap()), ["a/empty"]);
    assert_eq!(keys(&store.list("d/").unwrap()), ["d/e/f"]);
    assert!(store.list("nothing/").unwrap().is_empty());

    // An error from the sink stops the read and comes back.
    let err = store.read("a/big", &mut |_| Err(Error::invalid("enough"))).unwrap_err();
    assert!(err.to_string().contains("enough"));

    // Bad keys never reach the storage.
    for bad in ["../x", "a/.hidden", "", "a//b", "a b"] {
        assert!(matches!(store.put(bad, &b"x".to_vec()), Err(Error::InvalidArgument { .. })), "{bad:?}");
    }

    // Delete, and stale uploads (none: every write above finished).
    store.delete("a/x").unwrap();
    assert_eq!(store.head("a/x").unwrap(), None);
    assert_eq!(store.remove_stale_uploads(u64::MAX).unwrap(), 0);
    assert_eq!(keys(&store.list("a/").unwrap()), ["a/big", "a/empty"]);

    // Racing creates of one key: exactly one wins.
    for round in 0..3 {
        let key = format!("race/{round}");
        let writers = 6;
        let barrier = Barrier::new(writers);
        let results: Vec<Result<()>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..writers)
                .map(|i| {
                    let (barrier, key) = (&barrier, &key);
                    s.spawn(move || {
                        barrier.wait();
                        store.put_if_absent(key, &payload(1000, i as u8))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<usize> = (0..writers).filter(|&i| results[i].is_ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        assert!(results.iter().all(|r| r.as_ref().is_ok() || r.as_ref().unwrap_err().is_already_exists()));
        assert_eq!(read(store, &key), payload(1000, winners[0] as u8));
    }
    probe_create_only(store).unwrap();
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
