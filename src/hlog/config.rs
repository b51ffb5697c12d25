//! The hybrid log's tuning ([`HlogConfig`]), the operations it takes
//! ([`Op`]) and what it reports ([`LogAddresses`], [`HlogStats`]).

use super::record::Kind;
use crate::{Error, LogAddress, Result, SeqNo};

/// Tuning of a hybrid log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HlogConfig {
    /// Bytes per in-memory page (a multiple of 8, at least 4 KiB). Only used
    /// for a new log: an existing log keeps the page size in its segments.
    pub page_size_bytes: u32,
    /// A segment file is sealed and a new one started when the next page
    /// would take it past this size.
    pub segment_size_bytes: u64,
    /// The memtable budget. The log does not act on it (beyond sizing the
    /// point index); the database freezes when [`HybridLog::size_bytes`](super::HybridLog::size_bytes)
    /// passes it.
    pub memtable_size_bytes: u64,
    /// When non-zero, a background thread persists this often, bounding
    /// what a crash can lose without a sync write. It stops once the log
    /// and its frozen logs are dropped, or the log is poisoned.
    pub persist_interval_ms: u64,
    /// Recover without changing any file: a torn tail is skipped in memory
    /// but left on disk, no directory is created, and writes, persists and
    /// background persists are refused. For read-only opens (of a
    /// checkpoint, or beside a writer).
    pub read_only: bool,
}

impl Default for HlogConfig {
    fn default() -> Self {
        HlogConfig {
            page_size_bytes: 1 << 20,
            segment_size_bytes: 64 << 20,
            memtable_size_bytes: 64 << 20,
            persist_interval_ms: 0,
            read_only: false,
        }
    }
}

/// One operation of a write batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op<'a> {
    /// Sets `key` to `value`.
    Put {
        /// The key.
        key: &'a [u8],
        /// The value.
        value: &'a [u8],
    },
    /// Deletes `key`.
    Delete {
        /// The key.
        key: &'a [u8],
    },
}

impl<'a> Op<'a> {
    pub(super) fn key(&self) -> &'a [u8] {
        match *self {
            Op::Put { key, .. } | Op::Delete { key } => key,
        }
    }

    pub(super) fn kind_and_value(&self) -> (Kind, &'a [u8]) {
        match *self {
            Op::Put { value, .. } => (Kind::Value, value),
            Op::Delete { .. } => (Kind::Tombstone, &[]),
        }
    }
}

/// What [`HybridLog::try_write`](super::HybridLog::try_write) did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Appended {
    /// The batch is written; the seqno of its last operation.
    Batch(SeqNo),
    /// Nothing is written: the active memtable has no room left for the
    /// batch, and an empty one has. Freeze, then write it again.
    NeedsFreeze,
}

impl Appended {
    /// The seqno of a written batch; a batch that needs a freeze first as
    /// an `InvalidArgument` error, for callers that never freeze.
    pub fn or_full(self) -> Result<SeqNo> {
        match self {
            Appended::Batch(seqno) => Ok(seqno),
            Appended::NeedsFreeze => {
                Err(Error::invalid("the memtable has no room left for this batch: freeze it, then write it again"))
            }
        }
    }
}

/// The address bounds of the active memtable (`begin <= head <= read_only <= tail`).
///
/// The whole memtable stays in memory until it is flushed, so `head == begin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogAddresses {
    /// Oldest address the memtable holds.
    pub begin: LogAddress,
    /// Oldest address in memory (equal to `begin`).
    pub head: LogAddress,
    /// Records below it are immutable (being or already persisted).
    pub read_only: LogAddress,
    /// Where the next record goes.
    pub tail: LogAddress,
}

/// Counters for tests and monitoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HlogStats {
    /// Overwrites done in place in the active memtable.
    pub in_place_updates: u64,
    /// Distinct keys in the active memtable.
    pub key_count: usize,
    /// Bytes of the key records the active memtable holds (see
    /// [`DbStats::memtable_bytes`](crate::DbStats::memtable_bytes)).
    pub record_bytes: u64,
    /// Live registered snapshots.
    pub live_snapshots: usize,
    /// Calls to `persist` (on this log or its frozen logs) since open.
    pub persist_calls: u64,
    /// Write-and-fsync runs those calls needed: fewer than the calls when
    /// concurrent persists shared a group commit.
    pub persist_runs: u64,
    /// Calls to `write_out` since open.
    pub write_out_calls: u64,
    /// Write runs (no fsync) those calls needed: fewer than the calls when
    /// concurrent write-outs shared one.
    pub write_out_runs: u64,
}
