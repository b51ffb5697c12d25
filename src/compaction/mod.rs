//! Compaction: which tables to merge (a pure policy over a [`Version`]),
//! which versions of a key a merge keeps, and which blob files it kills.
//!
//! [`Version`]: crate::version::Version

mod blob_liveness;
mod output;
mod policy;
mod retention;

pub use policy::{CompactionOptions, CompactionTask, TaskReason, full, pick};
pub use retention::Retention;

pub(crate) use blob_liveness::dead_blob_files;
pub(crate) use output::{Output, OutputOptions};
