//! The [`BackupStore`] contract as a test suite: run [`contract`] against a
//! store implementation (on an empty bucket or directory) to check that it
//! behaves as backups rely on — create-only puts that refuse an existing
//! key (also when racing), ranged and streamed reads, sorted prefix
//! listings with sizes, bad keys refused before they reach storage,
//! deletes, and [`probe_create_only`] passing.
//!
//! ```
//! use std::sync::Arc;
//! use cairndb::backup::DirStore;
//! use cairndb::fs::MemFs;
//!
//! let store = DirStore::open(Arc::new(MemFs::new()), "/store")?;
//! cairndb::conformance::backup_store::contract(&store);
//! # Ok::<(), cairndb::Error>(())
//! ```
//!
//! cairndb's own tests run it on `DirStore` (in memory, on the real disk
//! and on a second mount) and on `S3Store` against a real S3 server.

use std::sync::Barrier;

use crate::backup::{BackupStore, ObjectInfo, probe_create_only};
use crate::{Error, Result};

/// Deterministic bytes of `len`, different per `seed`.
fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8 ^ seed).collect()
}

/// The whole object at `key`.
fn read(store: &dyn BackupStore, key: &str) -> Vec<u8> {
    crate::backup::get(store, key, 64 << 20).unwrap()
}

/// The keys of a listing.
fn keys(objects: &[ObjectInfo]) -> Vec<&str> {
    objects.iter().map(|o| o.key.as_str()).collect()
}

/// Runs the whole contract on `store`, which must be empty; panics on the
/// first broken rule. It leaves objects under `a/`, `d/` and `race/`.
pub fn contract(store: &dyn BackupStore) {
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
