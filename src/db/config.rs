//! [`Config`]: how a database is opened.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::blob::BlobOptions;
use crate::compaction::{CompactionOptions, OutputOptions};
use crate::fs::{Fs, StdFs};
use crate::table::TableOptions;

/// Longest key accepted by writes.
pub const KEY_BYTES_MAX: usize = 16 << 10;
/// Longest value accepted by writes.
pub const VALUE_BYTES_MAX: usize = 64 << 20;

// One set of limits, nested layer by layer (db <= table <= log): a write
// the database accepts fits a table entry and a blob record (blob files
// take the table's limits), and anything a table holds fits a log record,
// so no accepted write can fail later in a flush or a compaction. Dump
// streams take the database's limits.
const _: () = assert!(KEY_BYTES_MAX <= crate::table::KEY_BYTES_MAX);
const _: () = assert!(VALUE_BYTES_MAX <= crate::table::VALUE_BYTES_MAX);
const _: () = assert!(crate::table::KEY_BYTES_MAX <= crate::hlog::record::KEY_BYTES_MAX);
const _: () = assert!(crate::table::VALUE_BYTES_MAX <= crate::hlog::record::VALUE_BYTES_MAX);
// Lengths are persisted as u32 (log records, blob records, dump records).
const _: () = assert!(crate::hlog::record::KEY_BYTES_MAX + crate::hlog::record::VALUE_BYTES_MAX < u32::MAX as usize);

/// The fewest files [`Config::max_open_files`] defaults to.
const DEFAULT_MAX_OPEN_FILES_MIN: usize = 64;
/// The most files [`Config::max_open_files`] defaults to (an unlimited or
/// huge descriptor limit): 2 PiB of default-sized tables.
const DEFAULT_MAX_OPEN_FILES_MAX: usize = 1 << 16;

/// The default bound on open files under a soft descriptor limit of `soft`
/// (`None`: unlimited): half of it, within bounds.
fn default_max_open_files(soft: Option<u64>) -> usize {
    let half = soft.map_or(u64::MAX, |limit| limit / 2);
    usize::try_from(half).unwrap_or(usize::MAX).clamp(DEFAULT_MAX_OPEN_FILES_MIN, DEFAULT_MAX_OPEN_FILES_MAX)
}

/// When an acknowledged write is safe from which crash: three durability
/// classes, cheapest last.
///
/// | mode | survives the process's death | survives a power cut | cost per write |
/// |---|---|---|---|
/// | [`Always`](Self::Always) | yes | yes | a `write` and an fsync (shared by concurrent writers) |
/// | [`OsBuffered`](Self::OsBuffered) | yes | up to the last fsync | a `write` (shared by concurrent writers) |
/// | [`Background`](Self::Background) | up to the last fsync | up to the last fsync | none |
///
/// "The last fsync" is the newest [`Db::persist`](super::Db::persist), background persist
/// ([`Config::background_persist_interval`], 100 ms by default), flush or
/// checkpoint. In every mode a crash loses at most a suffix of the writes:
/// what a reopen finds is a prefix of the write order, whole batches, no
/// holes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    /// Every write returns only once it is durable: written to its log
    /// segment and fsynced (a group commit that concurrent writers share).
    /// It survives any crash, a power cut included.
    Always,
    /// Every write returns only once it is in the operating system's hands:
    /// written (`pwrite`) to its log segment with a commit record, without
    /// an fsync; concurrent writers share one write (group commit). A
    /// process that dies however it dies (a panic, the OOM killer,
    /// `kill -9`) loses no acknowledged write: the next open recovers them
    /// from the file system's cache. An operating system crash or a power
    /// cut loses at most the writes since the last fsync, as
    /// [`Background`](Self::Background) does. This is the class of RocksDB's
    /// and LevelDB's default (`sync = false`: the WAL is written to the OS
    /// at every write).
    ///
    /// Named for where an acknowledged write is, which says what it
    /// survives: in the OS's buffers, not yet on the disk.
    OsBuffered,
    /// Writes stay in the process's memory until the next
    /// [`Db::persist`](super::Db::persist), background persist, flush or checkpoint
    /// writes and fsyncs them: any crash, the process's death included,
    /// loses at most the writes since then (up to 100 ms of them with the
    /// default interval).
    Background,
}

/// Options for opening a database; `Config::new(path)...open()`.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) path: PathBuf,
    pub(crate) fs: Arc<dyn Fs>,
    pub(crate) memtable_size_bytes: u64,
    pub(crate) blob_threshold_bytes: usize,
    pub(crate) block_cache_bytes: usize,
    /// `None`: derived from the descriptor limit at open.
    pub(crate) max_open_files: Option<usize>,
    pub(crate) sync: SyncMode,
    pub(crate) read_only: bool,
    pub(crate) create_if_missing: bool,
    pub(crate) background_persist_interval: Option<Duration>,
    pub(crate) table_target_bytes: u64,
    pub(crate) level0_trigger: usize,
    pub(crate) level0_stall: usize,
    pub(crate) level1_target_bytes: u64,
    pub(crate) compression: bool,
    pub(crate) background_threads: bool,
    /// Replaying an archived log into a restored copy: the copy keeps its
    /// identity and stays a copy (the user's first writable open forks it).
    pub(crate) replaying_into_copy: bool,
}

impl Config {
    /// Defaults for the database at `path` on the real file system.
    pub fn new(path: impl AsRef<Path>) -> Config {
        Config {
            path: path.as_ref().to_path_buf(),
            fs: Arc::new(StdFs::new()),
            memtable_size_bytes: 64 << 20,
            blob_threshold_bytes: 4 << 10,
            block_cache_bytes: super::memory::default_block_cache_bytes(),
            max_open_files: None,
            sync: SyncMode::Background,
            read_only: false,
            create_if_missing: true,
            background_persist_interval: Some(Duration::from_millis(100)),
            table_target_bytes: 32 << 20,
            level0_trigger: 4,
            level0_stall: 20,
            level1_target_bytes: 128 << 20,
            compression: true,
            background_threads: true,
            replaying_into_copy: false,
        }
    }

    /// The file system to use (`StdFs` by default; `MemFs` or `FaultFs` in tests).
    pub fn fs(mut self, fs: Arc<dyn Fs>) -> Config {
        self.fs = fs;
        self
    }

    /// Memtable budget: past it, the memtable is frozen and flushed to tables.
    pub fn memtable_size_bytes(mut self, bytes: u64) -> Config {
        self.memtable_size_bytes = bytes.max(64 << 10);
        self
    }

    /// Values this long or longer are stored in blob files.
    pub fn blob_threshold_bytes(mut self, bytes: usize) -> Config {
        self.blob_threshold_bytes = bytes.max(1);
        self
    }

    /// Capacity of the block cache shared by all tables (decoded blocks;
    /// 0 disables caching).
    ///
    /// By default, a sixteenth of the memory the process may use — the
    /// machine's, or its control group's limit when lower — kept between
    /// 64 MiB and 1 GiB (1 GiB on a machine of 16 GiB or more, 64 MiB in a
    /// container limited to 1 GiB or less). The cache grows only as blocks
    /// are read. Each open database has its own: a process that opens
    /// several at once should set it.
    pub fn block_cache_bytes(mut self, bytes: usize) -> Config {
        self.block_cache_bytes = bytes;
        self
    }

    /// How many table and blob files the database keeps open for reads, at
    /// most (at least 1). Past it, a read of a file that is not open closes
    /// the least recently used one; reopening a table costs an `open`, a
    /// read or two and parsing its index and filter again (its data blocks
    /// stay in the block cache). An iterator or a compaction holds the
    /// files it is reading besides (level 0's tables and one table per
    /// deeper level), as do the log and the files being written: leave the
    /// process some headroom under its descriptor limit. A read-only view
    /// reopens a closed file too, and fails with
    /// [`Error::ViewOutdated`](crate::Error::ViewOutdated) if the
    /// database's writer has removed it since.
    ///
    /// By default, half the process's soft `RLIMIT_NOFILE` as found at
    /// open, kept between 64 and 65,536 (512 under the common limit of
    /// 1,024): the other half is for the log, the files flushes,
    /// compactions and checkpoints write, and the application. A process
    /// that opens several databases at once, or needs many descriptors of
    /// its own, should set it.
    pub fn max_open_files(mut self, files: usize) -> Config {
        self.max_open_files = Some(files.max(1));
        self
    }

    /// When writes become safe from which crash ([`SyncMode`]; default
    /// [`SyncMode::Background`]).
    pub fn sync(mut self, mode: SyncMode) -> Config {
        self.sync = mode;
        self
    }

    /// Open without writing a byte: no lock file, no recovery writes, no
    /// background work; writes fail.
    pub fn read_only(mut self, read_only: bool) -> Config {
        self.read_only = read_only;
        self
    }

    /// Create a new database when the directory is missing or empty (default true).
    pub fn create_if_missing(mut self, create: bool) -> Config {
        self.create_if_missing = create;
        self
    }

    /// How often a background thread persists (writes and fsyncs) the
    /// writes not yet durable (`None`: never). In every [`SyncMode`] but
    /// `Always`, it bounds what a power cut can lose.
    pub fn background_persist_interval(mut self, interval: Option<Duration>) -> Config {
        self.background_persist_interval = interval;
        self
    }

    /// Target size of a table written by flush or compaction.
    pub fn table_target_bytes(mut self, bytes: u64) -> Config {
        self.table_target_bytes = bytes.max(4 << 10);
        self
    }

    /// Level-0 table count that triggers compaction.
    pub fn level0_trigger(mut self, tables: usize) -> Config {
        self.level0_trigger = tables.max(1);
        self
    }

    /// Byte target of level 1 (each deeper level is 10x larger).
    pub fn level1_target_bytes(mut self, bytes: u64) -> Config {
        self.level1_target_bytes = bytes.max(64 << 10);
        self
    }

    /// Compress table blocks and blob values with lz4 (default true).
    pub fn compression(mut self, on: bool) -> Config {
        self.compression = on;
        self
    }

    /// Run flushes and compactions on background threads (default true).
    /// Without, they run inline when due — deterministic, for tests.
    pub fn background_threads(mut self, on: bool) -> Config {
        self.background_threads = on;
        self
    }

    /// How flushes and compactions lay out the tables and blob files they write.
    pub(crate) fn output_options(&self) -> OutputOptions {
        OutputOptions {
            table: TableOptions { compression: self.compression, ..TableOptions::default() },
            blob: BlobOptions { compression: self.compression },
            table_target_bytes: self.table_target_bytes,
            blob_threshold_bytes: self.blob_threshold_bytes,
            blob_file_target_bytes: 256 << 20,
        }
    }

    /// The bound on open files: as set, or derived from the process's
    /// descriptor limit now.
    pub(crate) fn max_open_files_now(&self) -> usize {
        self.max_open_files.unwrap_or_else(|| {
            let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
            default_max_open_files(soft)
        })
    }

    /// The knobs of the compaction policy.
    pub(crate) fn compaction_options(&self) -> CompactionOptions {
        CompactionOptions {
            level0_trigger: self.level0_trigger,
            // About `level0_trigger` half-full tables.
            level0_trigger_bytes: self.level0_trigger as u64 * self.table_target_bytes / 2,
            level1_target_bytes: self.level1_target_bytes,
            ..CompactionOptions::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_open_files_defaults_to_half_the_descriptor_limit() {
        assert_eq!(default_max_open_files(Some(1024)), 512);
        assert_eq!(default_max_open_files(Some(256)), 128);
        assert_eq!(default_max_open_files(Some(20)), DEFAULT_MAX_OPEN_FILES_MIN);
        assert_eq!(default_max_open_files(Some(1 << 20)), DEFAULT_MAX_OPEN_FILES_MAX);
        assert_eq!(default_max_open_files(None), DEFAULT_MAX_OPEN_FILES_MAX);
        assert_eq!(Config::new("/db").max_open_files(0).max_open_files_now(), 1);
        assert_eq!(Config::new("/db").max_open_files(300).max_open_files_now(), 300);
    }
}
