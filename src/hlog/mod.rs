//! The hybrid-log memtable: in-memory pages with in-place updates in the
//! mutable region, whose durable prefix on disk is the write-ahead log.
//!
//! - [`record`]: the record format shared by pages and segment files.
//! - `page`: pages as atomic words, the per-record sequence lock, the page table.
//! - `room`: where records go in a memtable's address range, and whether a
//!   batch fits one.
//! - [`hash_index`]: key hash -> newest record, lock-free (point lookups, the writer).
//! - [`index`]: the sorted view of the keys (ranges, iteration); new keys
//!   reach it in sorted batches when someone needs order.
//! - `memtable`: read, append and in-place paths of one memtable.
//! - `snapshot`: the registry of live read points ([`Snapshot`]).
//! - [`segment`]: segment files `log/{n}.hlog`.
//! - `persist`: the segment plan and the group-commit paths (write out, fsync).
//! - `recovery`: replay from an address ([`ReplayFrom`], [`RecoveryReport`]).
//! - `config`: [`HlogConfig`], [`Op`], [`Appended`], [`LogAddresses`], [`HlogStats`].
//! - `shared`: what a log and its frozen logs share (writer state, persist plan).
//! - `log`: [`HybridLog`], the active log; `frozen`: [`FrozenLog`].
//! - `iter`: [`RangeIter`], [`SortedIter`].
//!
//! The byte formats are described in `docs/FORMAT.md`, section
//! "Hybrid-log segments".
//!
//! # Concurrency
//!
//! One writer at a time (a mutex) assigns seqnos, appends records, updates
//! records in place and reserves commit records; readers take no lock on
//! the record path. Pages are atomic words, so every byte access is an
//! atomic load or store and no `unsafe` is needed; a record's value is
//! kept whole by a sequence lock in its word 0 (readers retry while an
//! in-place update runs). Persisting takes a separate io mutex, never held
//! by the writer, so writers do not wait for disks; concurrent persists
//! queue on it and the first one writes and fsyncs for all (group commit).
//! A write-out (`HybridLog::write_out`) is the same group commit without
//! the fsync: it hands the bytes to the file system, which keeps them if
//! the process dies; only a persist makes them durable.
//!
//! The whole memtable stays in memory until the database drops it after a
//! flush (`head == begin`).

mod config;
mod frozen;
pub mod hash_index;
pub mod index;
mod iter;
mod log;
mod memtable;
mod page;
mod persist;
pub mod record;
mod recovery;
mod room;
pub mod segment;
mod shared;
mod snapshot;

pub use config::{Appended, HlogConfig, HlogStats, LogAddresses, Op};
pub use frozen::FrozenLog;
pub use iter::{EntryKind, RangeIter, SortedEntry, SortedIter};
pub use log::{HybridLog, SegmentRemoval};
pub use memtable::Lookup;
pub use persist::{PersistPoint, WrittenPoint};
pub(crate) use recovery::Tail;
pub use recovery::{
    CommitPoint, CommittedRun, LogPiece, RecoveryReport, ReplayFrom, RunDamage, check_committed_run, committed_prefix,
};
pub use segment::SegmentInfo;
pub use snapshot::Snapshot;
