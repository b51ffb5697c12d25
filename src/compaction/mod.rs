//! Compaction: which tables to merge (a pure policy over a [`Version`]), and
//! which versions of a key a merge keeps.
//!
//! [`Version`]: crate::version::Version

#[allow(dead_code, reason = "the database layer that uses it lands next")]
mod output;
mod policy;
mod retention;

pub use policy::{CompactionOptions, CompactionTask, TaskReason, full, pick};
pub use retention::Retention;

#[allow(unused_imports, reason = "used by the database layer")]
pub(crate) use output::{Output, OutputOptions};
