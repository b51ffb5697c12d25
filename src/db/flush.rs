//! Flush: the oldest frozen memtable written to level-0 tables (large
//! values to blob files) and installed in one step with the log start
//! past it (`docs/DESIGN.md`, "Flush").

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::inner::Inner;
use crate::Result;
use crate::compaction::{Output, Retention};
use crate::hlog::{EntryKind, FrozenLog};
use crate::table::{Entry, ValueKind};
use crate::version::{Version, VersionEdit};

/// Writes the oldest frozen memtable to level-0 tables and installs them.
/// Returns false when there was nothing to flush.
pub(crate) fn flush_oldest(inner: &Inner) -> Result<bool> {
    let _one_at_a_time = inner.work.flush_lock();
    flush_oldest_locked(inner)
}

/// [`flush_oldest`] for a caller holding the flush lock. A failure poisons
/// the database (the disk may hold a partial state only a reopen,
/// recovering from the log, sorts out), unless it is one that
/// [`poisons`](super::inner::poisons) lets go: the memtable then stays
/// frozen, for the next flush.
pub(crate) fn flush_oldest_locked(inner: &Inner) -> Result<bool> {
    inner.check_writable()?;
    let Some(frozen) = inner.memtables().frozen.first().cloned() else {
        return Ok(false);
    };
    write_frozen(inner, &frozen).inspect_err(|e| inner.job_failed("a flush", e))?;
    Ok(true)
}

fn write_frozen(inner: &Inner, frozen: &Arc<FrozenLog>) -> Result<()> {
    if inner.log_holds.count() > 0 {
        // An archive ships the log: every record must reach it, also those
        // of a memtable flushed before a persist wrote them out.
        frozen.persist()?;
    }
    let retention = Retention::new(inner.hlog.live_snapshots(), false);
    let mut output = new_output(inner);
    let entries = frozen.iter_sorted().map(|e| {
        let kind = match e.kind {
            EntryKind::Value => ValueKind::Value,
            EntryKind::Tombstone => ValueKind::Tombstone,
        };
        Ok(Entry { key: e.key, seqno: e.seqno, kind, value: e.value })
    });
    output.add_sorted(&retention, entries)?;
    let (tables, blobs) = output.finish()?;
    let written: u64 = tables.iter().map(|t| t.size_bytes).chain(blobs.iter().map(|b| b.size_bytes)).sum();
    let edit = VersionEdit {
        add_tables: tables.into_iter().map(|t| (0, t)).collect(),
        add_blobs: blobs,
        last_seqno: Some(frozen.seqno_cut()),
        log_start: Some(frozen.address_range().end),
        ..VersionEdit::default()
    };
    // The hold first, durably: once the version is installed, a restart
    // would otherwise remove the segments an archive has not shipped.
    if let Some(keeps) = inner.log_holds.lowest_below(frozen.address_range().end.0) {
        inner.log_holds.persist(&*inner.fs, inner.layout.root(), Some(keeps))?;
    }
    let version = install_output(inner, &edit)?;
    inner.replace_frozen(frozen, &version);
    inner.counters.flushes.fetch_add(1, Ordering::Relaxed);
    inner.counters.flush_bytes_written.fetch_add(written, Ordering::Relaxed);
    inner.remove_obsolete_log()?;
    inner.work.notify_all();
    Ok(())
}

/// Installs `edit`, whose new tables and blob files a flush or compaction
/// just wrote. When the install fails without poisoning the version set
/// (nothing on disk names the new files), they are removed again: the job
/// runs again later and writes its own.
pub(crate) fn install_output(inner: &Inner, edit: &VersionEdit) -> Result<Arc<Version>> {
    inner.versions.install(edit).inspect_err(|_| {
        if inner.versions.is_poisoned() {
            return;
        }
        let tables = edit.add_tables.iter().map(|(_, t)| inner.layout.table(t.id));
        for path in tables.chain(edit.add_blobs.iter().map(|b| inner.layout.blob(b.id))) {
            if let Err(e) = inner.fs.remove_file(&path) {
                log::warn!("could not remove {}, written by a job that failed: {e}", path.display());
            }
        }
    })
}

/// A fresh output for flush or compaction, laid out as the configuration says.
pub(crate) fn new_output(inner: &Inner) -> Output {
    let ids = inner.versions.id_source();
    Output::new(Arc::clone(&inner.fs), inner.layout.clone(), inner.config.output_options(), Box::new(ids))
}
