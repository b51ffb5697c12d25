//! Recovery: replays the log's segments from an address into a fresh
//! memtable, cutting only a tail a crash can leave and reporting anything
//! else as corruption.

mod chain;
mod replay;
mod scan;

pub use replay::{RecoveryReport, ReplayFrom};
pub(crate) use replay::{Tail, recover};
