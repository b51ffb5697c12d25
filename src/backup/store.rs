//! [`BackupStore`]: the few operations a backup needs from where it keeps
//! its objects, and helpers built from them.
//!
//! # Contract
//!
//! Every implementation ([`DirStore`](super::DirStore),
//! `S3Store` with the `s3` feature) behaves alike:
//!
//! - Keys are `/`-separated names of ASCII letters, digits, `.`, `_` and
//!   `-`; no part is empty or starts with `.` ([`check_key`]).
//! - A write is atomic: a reader sees no object or the whole object, never
//!   part of one. A crashed write leaves at most a temporary upload, which
//!   [`BackupStore::remove_stale_uploads`] removes.
//! - When a write returns, the object is durable.
//! - [`BackupStore::put_if_absent`] is create-only: when the key exists it
//!   fails with [`Error::TargetExists`] and changes nothing, also when two
//!   writers race for the same key (exactly one wins).
//! - When a delete returns, the removal is durable: no crash brings the
//!   object back. (Later steps rely on it: gc removes the files of a
//!   pruned backup only after its manifest is gone for good.)
//! - Reading or sizing a missing key is an [`Error::Io`] whose kind is
//!   `NotFound`; deleting one is not an error.

use std::fmt;
use std::ops::Range;

use crate::{Error, Result};

/// Where backups keep their objects: a directory ([`DirStore`](super::DirStore))
/// or an object store (`S3Store`). Object-safe; used as `Arc<dyn BackupStore>`.
pub trait BackupStore: Send + Sync + fmt::Debug {
    /// Where `key` lives, for messages: a path or a URL.
    fn location(&self, key: &str) -> String;

    /// Stores `body` under `key` unless the key exists; then fails with
    /// [`Error::TargetExists`] and changes nothing.
    fn put_if_absent(&self, key: &str, body: &dyn Source) -> Result<()>;

    /// Stores `body` under `key`, replacing any object there.
    fn put(&self, key: &str, body: &dyn Source) -> Result<()>;

    /// Streams the object `key` to `sink` in order, in chunks; returns its
    /// length. An error from `sink` stops the read and is returned.
    fn read(&self, key: &str, sink: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<u64>;

    /// The bytes of `range` of the object `key` (fewer at its end).
    fn get_range(&self, key: &str, range: Range<u64>) -> Result<Vec<u8>>;

    /// Every object whose key starts with `prefix`, sorted by key.
    fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>>;

    /// Removes the object `key`, durably; a missing one is fine.
    fn delete(&self, key: &str) -> Result<()>;

    /// Makes what [`list`](Self::list) shows under `prefix` durable: the
    /// objects listed stay after a crash, those absent stay gone.
    ///
    /// A put or delete that failed may have changed what a directory store
    /// shows without making the change durable (the entry was made or
    /// removed, the directory sync failed; a later process still sees it
    /// so). A backup settles the files it finds before a manifest names
    /// them, and gc settles the manifests before it decides what they
    /// reference. A store whose objects are durable once visible (S3) has
    /// nothing to do.
    fn settle(&self, prefix: &str) -> Result<()>;

    /// Removes every object of `keys`, durably, as [`delete`](Self::delete)
    /// one by one would; a store may make them durable together (one
    /// directory sync for many removals).
    fn delete_many(&self, keys: &[String]) -> Result<()> {
        keys.iter().try_for_each(|key| self.delete(key))
    }

    /// The size of the object `key`, or `None` when there is none.
    fn head(&self, key: &str) -> Result<Option<u64>>;

    /// Removes temporary uploads begun at or before `cutoff_unix_ms` (a crashed
    /// writer's); returns how many. A store whose writes leave nothing
    /// behind returns 0.
    fn remove_stale_uploads(&self, cutoff_unix_ms: u64) -> Result<usize>;
}

/// One object [`BackupStore::list`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Its key.
    pub key: String,
    /// Its size.
    pub size_bytes: u64,
}

/// The bytes of an object being written, read in chunks and in any order.
pub trait Source {
    /// How many bytes there are.
    fn len_bytes(&self) -> u64;

    /// Reads up to `buf.len()` bytes at `offset`; returns how many (0 only
    /// at the end).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize>;
}

impl Source for [u8] {
    fn len_bytes(&self) -> u64 {
        self.len() as u64
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.len());
        let n = buf.len().min(self.len() - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }
}

impl Source for Vec<u8> {
    fn len_bytes(&self) -> u64 {
        self.as_slice().len_bytes()
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        self.as_slice().read_at(buf, offset)
    }
}

/// Reads exactly `buf.len()` bytes of `source` at `offset`.
pub fn read_exact(source: &dyn Source, buf: &mut [u8], mut offset: u64, what: &str) -> Result<()> {
    let mut done = 0;
    while done < buf.len() {
        let n = source.read_at(&mut buf[done..], offset)?;
        if n == 0 {
            return Err(Error::io(
                "read",
                what,
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("source ends at {offset} bytes")),
            ));
        }
        done += n;
        offset += n as u64;
    }
    Ok(())
}

/// The whole object `key`, refusing one larger than `max_bytes` (the
/// objects read whole are small: manifests, `latest.json`, leases).
pub fn get(store: &dyn BackupStore, key: &str, max_bytes: u64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    store.read(key, &mut |chunk| {
        if out.len() as u64 + chunk.len() as u64 > max_bytes {
            return Err(Error::corruption(
                std::path::Path::new(&store.location(key)),
                out.len() as u64,
                format!("larger than the {max_bytes} bytes such an object may hold"),
            ));
        }
        out.extend_from_slice(chunk);
        Ok(())
    })?;
    Ok(out)
}

/// Checks `key` against the contract's rules; the error names it.
pub fn check_key(key: &str) -> Result<()> {
    let part_ok = |part: &str| {
        !part.is_empty()
            && !part.starts_with('.')
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    if key.split('/').all(part_ok) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{key:?} is not a backup store key (parts of ASCII letters, digits, '.', '_', '-', none empty or \
             starting with '.')"
        )))
    }
}

/// Checks that `store` honours create-only writes: creates a fresh marker
/// under `probe/`, creates it again (which must fail with
/// [`Error::TargetExists`]), then deletes it. A store that overwrote
/// instead (an S3-compatible server that ignores `If-None-Match: *`) is
/// [`Error::Unsupported`]: two backups could then both commit the same id.
pub fn probe_create_only(store: &dyn BackupStore) -> Result<()> {
    probe_create_only_with(store, &|key, body| store.put_if_absent(key, body))
}

/// [`probe_create_only`] with `create` as the create-only write (a store
/// that probes itself before its first write passes its own, unprobed one).
pub(crate) fn probe_create_only_with(
    store: &dyn BackupStore,
    create: &dyn Fn(&str, &dyn Source) -> Result<()>,
) -> Result<()> {
    let key = format!("probe/{}-{:016x}", super::clock::now_unix_ms(), super::clock::nonce());
    create(&key, &b"first".to_vec())?;
    let second = create(&key, &b"second".to_vec());
    let outcome = match second {
        Err(e) if e.is_already_exists() => Ok(()),
        Err(e) => Err(e),
        Ok(()) => Err(Error::Unsupported {
            what: format!(
                "{} does not honour create-only writes (a second create of {} succeeded); backups need them so \
                 that two writers can never both commit the same backup",
                store.location(""),
                store.location(&key)
            ),
        }),
    };
    let deleted = store.delete(&key);
    outcome.and(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        for good in ["files/0a-1.sst", "manifests/manifest-000001.json", "latest.json", "locks/gc-1-ab"] {
            check_key(good).unwrap();
        }
        for bad in ["", "/a", "a/", "a//b", "../x", "a/../b", ".tmp", "a/.b", "a b", "a\\b", "é"] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn byte_sources_read_anywhere() {
        let src: &[u8] = b"hello";
        let mut buf = [0u8; 3];
        assert_eq!(src.read_at(&mut buf, 3).unwrap(), 2);
        assert_eq!(&buf[..2], b"lo");
        assert_eq!(src.read_at(&mut buf, 99).unwrap(), 0);
        assert!(read_exact(&src.to_vec(), &mut [0u8; 6], 0, "src").is_err());
    }
}
