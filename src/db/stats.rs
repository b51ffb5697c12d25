//! [`DbStats`]: what a database reports about itself.

use std::sync::atomic::Ordering;

use super::Inner;
use crate::{SeqNo, VersionId};

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
    /// Every write with a seqno at or below this is in the operating
    /// system's hands (written to the log, fsynced or not): it survives
    /// the death of this process. At or past
    /// [`durable_seqno`](Self::durable_seqno); it runs ahead of it only
    /// in [`SyncMode::OsBuffered`](crate::SyncMode::OsBuffered).
    pub written_seqno: SeqNo,
    /// Every write with a seqno at or below this is fsynced: it survives
    /// a power cut.
    pub durable_seqno: SeqNo,
    /// Id of the current version.
    pub version_id: VersionId,
    /// Bytes of the records the active memtable holds: keys, values and
    /// tombstones with their record headers, every version still there.
    /// Not the log's disk space (its segment files), nor the address space
    /// the memtable spans, which grows by a segment at each open.
    pub memtable_bytes: u64,
    /// Distinct keys in the active memtable.
    pub memtable_keys: usize,
    /// Frozen memtables waiting to be flushed.
    pub frozen_memtables: usize,
    /// Per level, from level 0.
    pub levels: Vec<LevelStats>,
    /// Live blob files.
    pub blob_files: usize,
    /// Bytes of live blob files.
    pub blob_bytes: u64,
    /// Table and blob files the database holds open now, for reads (at
    /// most [`max_open_files`](Self::max_open_files)). An iterator or a
    /// compaction may hold a few more while it reads them, and the log
    /// and the files being written hold their own descriptors.
    pub open_files: u64,
    /// The bound on [`open_files`](Self::open_files):
    /// [`Config::max_open_files`](crate::Config::max_open_files), or the
    /// default derived from the descriptor limit at open.
    pub max_open_files: u64,
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
    /// Continuous log archives attached ([`BackupEngine::archive`](crate::backup::BackupEngine::archive)).
    pub log_archives: usize,
    /// Times an archive fell more than its `max_unshipped_bytes` behind and
    /// its log segments were released: each is a gap in its archive.
    pub log_archive_gaps: u64,
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
            written_seqno: self.hlog.written_point().seqno,
            durable_seqno: self.hlog.durable_point().seqno,
            version_id: version.id,
            memtable_bytes: hlog.record_bytes,
            memtable_keys: hlog.key_count,
            frozen_memtables: frozen,
            levels: version
                .levels
                .iter()
                .map(|l| LevelStats { tables: l.len(), bytes: l.iter().map(|t| t.info.size_bytes).sum() })
                .collect(),
            blob_files: version.blob_files.len(),
            blob_bytes: version.blob_files.values().map(|b| b.info.size_bytes).sum(),
            open_files: self.readers.open_files.count() as u64,
            max_open_files: self.readers.open_files.max() as u64,
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
            log_archives: self.log_holds.count(),
            log_archive_gaps: c.archive_gaps.load(Ordering::Relaxed),
            poisoned: self.poison_cause(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::Config;
    use crate::fs::MemFs;
    use crate::hlog::record::record_len_for;

    #[test]
    fn memtable_bytes_count_records_not_the_segment_each_open_starts() {
        let fs = MemFs::new();
        let open = || Config::new("/db").fs(Arc::new(fs.clone())).background_threads(false).open().unwrap();
        for i in 0..5u32 {
            let db = open();
            db.put(format!("key{i}"), "value").unwrap();
            db.delete("gone").unwrap();
        }
        let stats = open().stats();
        let per_open = record_len_for(4, 5) + record_len_for(4, 0);
        assert_eq!(stats.memtable_bytes, 5 * per_open as u64, "replayed records counted, segment gaps not");
        assert_eq!(stats.memtable_keys, 6);
    }
}
