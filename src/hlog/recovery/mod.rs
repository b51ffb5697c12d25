//! Recovery: replays the log's segments from an address into a fresh
//! memtable, cutting only a tail a crash can leave and reporting anything
//! else as corruption.

mod chain;
mod replay;
mod scan;
mod shipped;

pub use replay::{RecoveryReport, ReplayFrom};
pub(crate) use replay::{Tail, recover};
pub use scan::CommitPoint;
pub use shipped::{CommittedRun, LogPiece, RunDamage, check_committed_run, committed_prefix};
