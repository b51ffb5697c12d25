//! Compaction: which tables to merge (a pure policy over a [`Version`]), and
//! which versions of a key a merge keeps.
//!
//! [`Version`]: crate::version::Version

mod output;
mod policy;
mod retention;

pub use policy::{CompactionOptions, CompactionTask, TaskReason, full, pick};
pub use retention::Retention;

pub(crate) use output::{Output, OutputOptions};
