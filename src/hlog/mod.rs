//! The hybrid-log memtable: in-memory pages with in-place updates in the
//! mutable region, whose durable prefix on disk is the write-ahead log.
//!
//! - [`record`]: the record format shared by pages and segment files.
//! - `page`: pages as atomic words, the per-record sequence lock, the page table.
//! - [`index`]: the ordered key -> newest-record index (ranges).
//! - [`hash_index`]: the lock-free key-hash -> newest-record table (point lookups).
//! - `memtable`: read, append and in-place paths of one memtable.
//! - `snapshot`: the registry of live read points ([`Snapshot`]).
//! - [`segment`]: segment files `log/{n}.hlog`.
//! - `persist`: the segment plan and the group-commit path.
//! - `recovery`: replay from an address ([`ReplayFrom`], [`RecoveryReport`]).
//! - `log`: [`HybridLog`], the active log; `frozen`: [`FrozenLog`].
//! - `iter`: [`RangeIter`], [`SortedIter`].
//!
//! The byte formats are described in `docs/FORMAT.md`, section
//! "Hybrid-log segments".

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
pub mod segment;
mod snapshot;

pub use frozen::FrozenLog;
pub use iter::{EntryKind, RangeIter, SortedEntry, SortedIter};
pub use log::{HlogConfig, HlogStats, HybridLog, LogAddresses, Op};
pub use memtable::Lookup;
pub use persist::PersistPoint;
pub use recovery::{RecoveryReport, ReplayFrom};
pub use segment::SegmentInfo;
pub use snapshot::Snapshot;
