//! Leases: how backups and garbage collection keep out of each other's way
//! in a store that has no locks.
//!
//! A job first writes its own lease object, `locks/{kind}-{start ms}-{nonce}`
//! (create-only, so the name is its own), and only then lists `locks/`. A
//! backup yields to a live gc lease; a gc yields to any other live lease.
//! Because each side writes before it reads, two conflicting jobs cannot
//! both miss each other: whichever wrote second sees the first (both may
//! yield, and retry). A gc therefore never runs while a backup that may
//! still commit a file is under way.
//!
//! A lease holds the time it was last refreshed; a long job refreshes it
//! (every quarter of the grace period, at most every 5 minutes). A lease not
//! refreshed for the grace period belongs to a crashed job: it is ignored,
//! and gc removes it.
//!
//! The lease object is a sealed JSON document ([`crate::sealed`]):
//!
//! ```text
//! {
//!   "format": "cairndb-lease",
//!   "format_version": 2,
//!   "kind": "backup",
//!   "pid": 4242,
//!   "refreshed_unix_ms": 1763725000000,
//!   "checksum": "0123456789abcdef"
//! }
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::clock::{nonce, now_unix_ms};
use super::store::{BackupStore, get};
use crate::sealed;
use crate::{Error, Result};

/// Folder of leases in a backup store.
pub const LOCKS_PREFIX: &str = "locks/";
/// The `format` member of a lease.
const LEASE_FORMAT: &str = "cairndb-lease";
const LEASE_FORMAT_VERSION: u64 = 2;
const LEASE_BYTES_MAX: u64 = 4096;
const REFRESH_EVERY_MAX: Duration = Duration::from_secs(300);

/// Which job holds a lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseKind {
    /// A backup being taken.
    Backup,
    /// Garbage collection.
    Gc,
}

impl LeaseKind {
    fn name(self) -> &'static str {
        match self {
            LeaseKind::Backup => "backup",
            LeaseKind::Gc => "gc",
        }
    }

    fn from_name(name: &str) -> Option<LeaseKind> {
        [LeaseKind::Backup, LeaseKind::Gc].into_iter().find(|k| k.name() == name)
    }

    fn conflicts_with(self, other: LeaseKind) -> bool {
        self == LeaseKind::Gc || other == LeaseKind::Gc
    }
}

/// A lease someone holds, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldLease {
    /// Its store key.
    pub key: String,
    /// Whose it is.
    pub kind: LeaseKind,
    /// When it was last refreshed (or taken), in ms since the Unix epoch.
    pub refreshed_unix_ms: u64,
}

impl HeldLease {
    /// True when its job has not refreshed it for `grace`: it crashed.
    pub fn is_stale(&self, now_unix_ms: u64, grace: Duration) -> bool {
        let grace_ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX);
        now_unix_ms.saturating_sub(self.refreshed_unix_ms) >= grace_ms
    }

    fn describe(&self, now_unix_ms: u64) -> String {
        let age_s = now_unix_ms.saturating_sub(self.refreshed_unix_ms) / 1000;
        format!("a {} holds the lease {} (refreshed {age_s} s ago)", self.kind.name(), self.key)
    }
}

/// A lease this process holds; released (deleted) when dropped.
#[derive(Debug)]
pub struct Lease<'a> {
    store: &'a dyn BackupStore,
    kind: LeaseKind,
    key: String,
    refreshed: Instant,
    refresh_every: Duration,
}

impl<'a> Lease<'a> {
    /// Takes a `kind` lease in `store`, or fails with [`Error::StoreBusy`]
    /// when a live lease of a conflicting job exists.
    pub fn acquire(store: &'a dyn BackupStore, kind: LeaseKind, grace: Duration) -> Result<Lease<'a>> {
        let now = now_unix_ms();
        let key = format!("{LOCKS_PREFIX}{}-{now:013}-{:016x}", kind.name(), nonce());
        store.put_if_absent(&key, &body(kind, now))?;
        let lease = Lease {
            store,
            kind,
            key,
            refreshed: Instant::now(),
            refresh_every: (grace / 4).clamp(Duration::from_secs(1), REFRESH_EVERY_MAX),
        };
        let now = now_unix_ms();
        for other in held(store)? {
            if other.key != lease.key && !other.is_stale(now, grace) && kind.conflicts_with(other.kind) {
                return Err(Error::StoreBusy { store: store.location(""), holder: other.describe(now) });
            }
        }
        Ok(lease)
    }

    /// Its store key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Refreshes the lease when a refresh is due, so a long job's lease
    /// never looks stale.
    pub fn refresh_if_due(&mut self) -> Result<()> {
        if self.refreshed.elapsed() >= self.refresh_every {
            self.store.put(&self.key, &body(self.kind, now_unix_ms()))?;
            self.refreshed = Instant::now();
        }
        Ok(())
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        // A lease left behind only delays a gc until it goes stale.
        if let Err(e) = self.store.delete(&self.key) {
            log::warn!("could not release the backup lease {}: {e}", self.store.location(&self.key));
        }
    }
}

/// The document as stored.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LeaseDoc {
    format: String,
    format_version: u64,
    kind: String,
    /// The process holding it, for people.
    pid: u32,
    refreshed_unix_ms: u64,
}

fn body(kind: LeaseKind, refreshed_unix_ms: u64) -> Vec<u8> {
    sealed::seal(&LeaseDoc {
        format: LEASE_FORMAT.to_owned(),
        format_version: LEASE_FORMAT_VERSION,
        kind: kind.name().to_owned(),
        pid: std::process::id(),
        refreshed_unix_ms,
    })
}

/// When the `kind` lease read from `location` was last refreshed; damage,
/// or a body of another kind, is `Error::Corruption`.
fn refreshed_unix_ms(location: &str, bytes: &[u8], kind: LeaseKind) -> Result<u64> {
    let doc: LeaseDoc = sealed::unseal(Path::new(location), bytes, LEASE_FORMAT, LEASE_FORMAT_VERSION)?;
    if LeaseKind::from_name(&doc.kind) != Some(kind) {
        return Err(Error::corruption(
            Path::new(location),
            0,
            format!("kind {:?} in a {} lease", doc.kind, kind.name()),
        ));
    }
    Ok(doc.refreshed_unix_ms)
}

/// Every lease in `store`. One whose object cannot be read as a lease
/// counts as refreshed when it was taken (the time in its name).
pub fn held(store: &dyn BackupStore) -> Result<Vec<HeldLease>> {
    let mut leases = Vec::new();
    for object in store.list(LOCKS_PREFIX)? {
        let Some((kind, started_unix_ms)) = parse_lease_key(&object.key) else { continue };
        let refreshed = match get(store, &object.key, LEASE_BYTES_MAX) {
            Ok(bytes) => refreshed_unix_ms(&store.location(&object.key), &bytes, kind)
                .unwrap_or_else(|e| damaged(e, started_unix_ms)),
            // Released since the listing.
            Err(e) if e.is_not_found() => continue,
            Err(e) if e.is_corruption() => damaged(e, started_unix_ms),
            Err(e) => return Err(e),
        };
        leases.push(HeldLease { key: object.key, kind, refreshed_unix_ms: refreshed.max(started_unix_ms) });
    }
    Ok(leases)
}

/// A damaged lease: its job is known only to have started when its key
/// says, so it counts as refreshed then (held until its grace runs out,
/// then removed by gc as stale); said, not silently assumed.
fn damaged(e: Error, started_unix_ms: u64) -> u64 {
    log::warn!("{e}; the lease counts as taken at {started_unix_ms} ms (its key's time)");
    started_unix_ms
}

fn parse_lease_key(key: &str) -> Option<(LeaseKind, u64)> {
    let rest = key.strip_prefix(LOCKS_PREFIX)?;
    let (kind, rest) = rest.split_once('-')?;
    let kind = LeaseKind::from_name(kind)?;
    let (started, _nonce) = rest.split_once('-')?;
    Some((kind, started.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::backup::DirStore;
    use crate::fs::MemFs;

    #[test]
    fn backups_share_gc_excludes_and_leases_refresh_and_go() {
        let store = DirStore::open(Arc::new(MemFs::new()), "/s").unwrap();
        let hour = Duration::from_secs(3600);
        let first = Lease::acquire(&store, LeaseKind::Backup, hour).unwrap();
        let second = Lease::acquire(&store, LeaseKind::Backup, hour).unwrap();
        let err = Lease::acquire(&store, LeaseKind::Gc, hour).unwrap_err();
        assert!(matches!(&err, Error::StoreBusy { holder, .. } if holder.contains("backup")), "{err}");
        assert_eq!(held(&store).unwrap().len(), 2, "the refused gc took its lease back");
        drop((first, second));
        assert!(held(&store).unwrap().is_empty());

        let mut gc = Lease::acquire(&store, LeaseKind::Gc, Duration::from_secs(4)).unwrap();
        assert!(matches!(Lease::acquire(&store, LeaseKind::Backup, hour), Err(Error::StoreBusy { .. })));
        let before = held(&store).unwrap()[0].refreshed_unix_ms;
        std::thread::sleep(Duration::from_millis(1100));
        gc.refresh_if_due().unwrap();
        let after = held(&store).unwrap()[0].refreshed_unix_ms;
        assert!(after >= before + 1000, "refreshed: {before} -> {after}");
    }

    #[test]
    fn names_and_bodies_parse() {
        assert_eq!(parse_lease_key("locks/gc-0001763725000000-00ff"), Some((LeaseKind::Gc, 1_763_725_000_000)));
        assert_eq!(parse_lease_key("locks/other-1-2"), None);
        assert_eq!(refreshed_unix_ms("l", &body(LeaseKind::Backup, 99), LeaseKind::Backup).unwrap(), 99);
        let wrong_kind = refreshed_unix_ms("l", &body(LeaseKind::Backup, 99), LeaseKind::Gc).unwrap_err();
        assert!(
            wrong_kind.is_corruption() && wrong_kind.to_string().contains("\"backup\" in a gc lease"),
            "{wrong_kind}"
        );
        let text = String::from_utf8(body(LeaseKind::Gc, 5)).unwrap();
        assert!(text.contains("\n  \"kind\": \"gc\",\n") && text.contains("\"refreshed_unix_ms\": 5,"), "{text}");
        let damaged = text.replace("\": 5,", "\": 6,");
        assert!(refreshed_unix_ms("l", damaged.as_bytes(), LeaseKind::Gc).unwrap_err().is_corruption());
        let lease = HeldLease { key: "k".into(), kind: LeaseKind::Backup, refreshed_unix_ms: 1000 };
        assert!(!lease.is_stale(1500, Duration::from_secs(1)));
        assert!(lease.is_stale(2000, Duration::from_secs(1)));
        assert!(lease.is_stale(1000, Duration::ZERO));
    }
}
