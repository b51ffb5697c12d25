//! [`DbStats`]: what a database reports about itself.

use std::sync::atomic::Ordering;

use super::Inner;
use crate::SeqNo;

/// Files and bytes of one level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LevelStats {
    /// Tables in the level.
    pub tables: usize,
    /// Bytes of those tables.
    pub bytes: u64,
}

/// Counters and sizes of an open database.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DbStats {
    /// Seqno of the newest complete write.
    pub seqno: SeqNo,
    /// Id of the current version.
    pub version_id: u64,
    /// Bytes held by the active memtable.
    pub memtable_bytes: u64,
    /// Frozen memtables waiting to be flushed.
    pub frozen_memtables: usize,
    /// Per level, from level 0.
    pub levels: Vec<LevelStats>,
    /// Live blob files.
    pub blob_files: usize,
    /// Bytes of live blob files.
    pub blob_bytes: u64,
    /// Flushes completed.
    pub flushes: u64,
    /// Compactions completed.
    pub compactions: u64,
    /// Bytes compactions read.
    pub compaction_bytes_read: u64,
    /// Bytes compactions wrote.
    pub compaction_bytes_written: u64,
    /// Bytes flushes wrote.
    pub flush_bytes_written: u64,
    /// Times a writer waited for flush or compaction to catch up.
    pub write_stalls: u64,
    /// Total time writers spent stalled, in microseconds.
    pub write_stall_micros: u64,
    /// Overwrites done in place in the memtable.
    pub in_place_updates: u64,
    /// Live snapshots (including iterators).
    pub live_snapshots: usize,
    /// Obsolete files deleted.
    pub files_deleted: u64,
    /// Why the database refuses writes, if it does.
    pub poisoned: Option<String>,
}

impl Inner {
    pub(crate) fn stats(&self) -> DbStats {
        let (frozen, version) = {
            let s = self.memtables();
            (s.frozen.len(), std::sync::Arc::clone(&s.version))
        };
        let hlog = self.hlog.stats();
        let c = &self.counters;
        DbStats {
            seqno: self.hlog.visible_seqno(),
            version_id: version.id.0,
            memtable_bytes: self.hlog.size_bytes(),
            frozen_memtables: frozen,
            levels: version
                .levels
                .iter()
                .map(|l| LevelStats { tables: l.len(), bytes: l.iter().map(|t| t.info.size_bytes).sum() })
                .collect(),
            blob_files: version.blob_files.len(),
            blob_bytes: version.blob_files.values().map(|b| b.info.size_bytes).sum(),
            flushes: c.flushes.load(Ordering::Relaxed),
            compactions: c.compactions.load(Ordering::Relaxed),
            compaction_bytes_read: c.compaction_bytes_read.load(Ordering::Relaxed),
            compaction_bytes_written: c.compaction_bytes_written.load(Ordering::Relaxed),
            flush_bytes_written: c.flush_bytes_written.load(Ordering::Relaxed),
            write_stalls: c.stalls.load(Ordering::Relaxed),
            write_stall_micros: c.stall_micros.load(Ordering::Relaxed),
            in_place_updates: hlog.in_place_updates,
            live_snapshots: hlog.live_snapshots,
            files_deleted: self.versions.deleter().deleted_count(),
            poisoned: self.poison_cause(),
        }
    }
}
