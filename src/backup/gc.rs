//! Garbage collection: removing what no backup needs — files no manifest
//! references, archived log chunks that precede every base backup of their
//! timeline, temporary uploads and leases crashed jobs left behind.
//!
//! It runs under a gc lease ([`super::lease`]), so no backup is under way
//! meanwhile: a backup's files are unreferenced only until its manifest is
//! committed, and a backup can neither start nor commit while the lease is
//! live. A manifest that cannot be read stops it: what such a backup
//! references is unknown, and guessing could delete its files.

use std::collections::{HashMap, HashSet};

use super::clock::now_unix_ms;
use super::content::FILES_PREFIX;
use super::engine::BackupEngine;
use super::lease::{Lease, LeaseKind, held};
use super::manifest::{MANIFESTS_PREFIX, parse_manifest_key};
use super::point_in_time::{archived_timelines, chain};
use crate::version::DbIdentity;
use crate::{Error, Result, SeqNo};

/// Folder of the markers a store probe writes (`probe_create_only`).
const PROBE_PREFIX: &str = "probe/";
/// Files removed per [`BackupStore::delete_many`](super::BackupStore::delete_many)
/// call (a directory store fsyncs once per call; the lease is refreshed
/// between calls).
const DELETE_BATCH: usize = 1000;

/// What [`BackupEngine::gc`] removed and kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Files no backup references, removed.
    pub files_removed: usize,
    /// Their bytes.
    pub bytes_removed: u64,
    /// Files some backup references, kept.
    pub files_kept: usize,
    /// Temporary uploads of crashed writers, removed.
    pub uploads_removed: usize,
    /// Stale leases (of crashed jobs) and probe markers, removed.
    pub leases_removed: usize,
    /// Archived log chunks no kept backup needs (all their commits at or
    /// before the oldest base backup of their timeline), removed.
    pub chunks_removed: usize,
    /// Their bytes.
    pub chunk_bytes_removed: u64,
    /// Archived log chunks kept.
    pub chunks_kept: usize,
}

impl BackupEngine {
    /// Removes every file no backup references, temporary uploads older
    /// than the grace period, and leases not refreshed for it; and archived
    /// log chunks whose commits all lie at or before the oldest base backup
    /// of their timeline (none of a timeline with no backup left), except
    /// each timeline's newest chunk, which a running archive continues
    /// after. What `prune` keeps — every base backup left and the log
    /// following it — stays restorable. Fails with
    /// [`Error::StoreBusy`] while a backup is under way, and with
    /// `Error::Corruption` naming a manifest it cannot read (delete that
    /// backup first, or repair it).
    pub fn gc(&self) -> Result<GcReport> {
        let store = &*self.store;
        let mut lease = Lease::acquire(store, LeaseKind::Gc, self.grace)?;
        let grace_ms = u64::try_from(self.grace.as_millis()).unwrap_or(u64::MAX);
        let now = now_unix_ms();
        let cutoff = now.saturating_sub(grace_ms);
        let mut report = GcReport::default();
        for stale in held(store)?.into_iter().filter(|l| l.key != lease.key() && l.is_stale(now, self.grace)) {
            store.delete(&stale.key)?;
            report.leases_removed += 1;
        }
        for probe in store.list(PROBE_PREFIX)? {
            let begun = probe.key[PROBE_PREFIX.len()..].split('-').next().and_then(|ms| ms.parse::<u64>().ok());
            if begun.is_none_or(|ms| ms <= cutoff) {
                store.delete(&probe.key)?;
                report.leases_removed += 1;
            }
        }
        report.uploads_removed = store.remove_stale_uploads(cutoff)?;
        // A manifest a failed delete hid may come back after a crash: the
        // manifests decided on must be those that stay, or gc would remove
        // the files of a backup about to reappear.
        store.settle(MANIFESTS_PREFIX)?;
        let mut referenced = HashSet::new();
        // The oldest base backup of each timeline: archived log before it
        // restores nothing.
        let mut oldest_base: HashMap<DbIdentity, SeqNo> = HashMap::new();
        for object in store.list(MANIFESTS_PREFIX)? {
            let Some(id) = parse_manifest_key(&object.key) else { continue };
            let manifest = self.manifest(id).map_err(|e| match e {
                Error::Corruption { file, offset, what } => Error::Corruption {
                    file,
                    offset,
                    what: format!(
                        "{what}; gc removes nothing while a manifest is unreadable (delete backup {id} first)"
                    ),
                },
                e => e,
            })?;
            referenced.extend(manifest.files.iter().map(|f| f.content.key()));
            if let Some(timeline) = manifest.database {
                let oldest = oldest_base.entry(timeline).or_insert(manifest.seqno);
                *oldest = (*oldest).min(manifest.seqno);
            }
        }
        let (kept, unreferenced): (Vec<_>, Vec<_>) =
            store.list(FILES_PREFIX)?.into_iter().partition(|o| referenced.contains(&o.key));
        report.files_kept = kept.len();
        for batch in unreferenced.chunks(DELETE_BATCH) {
            lease.refresh_if_due()?;
            store.delete_many(&batch.iter().map(|o| o.key.clone()).collect::<Vec<_>>())?;
            report.files_removed += batch.len();
            report.bytes_removed += batch.iter().map(|o| o.size_bytes).sum::<u64>();
        }
        for timeline in archived_timelines(store)? {
            let links = chain(store, timeline)?;
            let oldest = oldest_base.get(&timeline).copied();
            // Never the newest chunk: an archive in progress continues after it.
            let (unneeded, kept): (Vec<_>, Vec<_>) =
                links.iter().partition(|l| l.until.is_some_and(|until| oldest.is_none_or(|o| until <= o)));
            report.chunks_kept += kept.iter().filter(|l| !l.is_gap).count();
            for batch in unneeded.chunks(DELETE_BATCH) {
                lease.refresh_if_due()?;
                store.delete_many(&batch.iter().map(|l| l.key.clone()).collect::<Vec<_>>())?;
                report.chunks_removed += batch.iter().filter(|l| !l.is_gap).count();
                report.chunk_bytes_removed += batch.iter().filter(|l| !l.is_gap).map(|l| l.size_bytes).sum::<u64>();
            }
        }
        drop(lease);
        Ok(report)
    }
}
