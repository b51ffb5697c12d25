//! The workloads, each a function of an open engine that records what it
//! measured; helpers they share.

pub mod checkpoint;
pub mod fill;
pub mod read;
pub mod scan;
pub mod throughput;
pub mod update;

use std::time::Duration;

use crate::data::{Lookup, Pair};
use crate::engine::{Engine, ReadTally};
use crate::error::{Error, Result};

/// Pairs per `put_chunk` call: redb's write transaction size.
pub const CHUNK: usize = 1000;

/// How long to let background work (flushes, compactions, writeback) go
/// on after a flush before measuring the disk.
pub const SETTLE: Duration = Duration::from_secs(2);

/// The workloads, as named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// Load N keys in random order, flush; ops/s and bytes on disk.
    Fill,
    /// Random point reads, all hits, then 10% misses.
    Read,
    /// A full ordered scan.
    Scan,
    /// Uniform and hot-set overwrites, then a full compaction.
    Update,
    /// Checkpoint cost against `cp -r` and `cp -al`.
    Checkpoint,
    /// Writer throughput with a checkpoint every second.
    Throughput,
}

impl Workload {
    /// Every workload, in run order.
    pub const ALL: [Workload; 6] =
        [Workload::Fill, Workload::Read, Workload::Scan, Workload::Update, Workload::Checkpoint, Workload::Throughput];

    /// Its name on the command line and in the samples.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Fill => "fill",
            Workload::Read => "read",
            Workload::Scan => "scan",
            Workload::Update => "update",
            Workload::Checkpoint => "checkpoint",
            Workload::Throughput => "throughput",
        }
    }

    /// The workload named `name`.
    pub fn parse(name: &str) -> Result<Workload> {
        Workload::ALL
            .into_iter()
            .find(|w| w.name() == name)
            .ok_or_else(|| Error::Usage(format!("unknown workload {name:?}")))
    }
}

/// Writes the pair of every index of `indices` at `version`, `CHUNK` at a time.
pub fn put_all(engine: &dyn Engine, indices: impl IntoIterator<Item = u64>, version: u32) -> Result<()> {
    let mut chunk = Vec::with_capacity(CHUNK);
    for i in indices {
        chunk.push(Pair::new(i, version));
        if chunk.len() == CHUNK {
            engine.put_chunk(&chunk)?;
            chunk.clear();
        }
    }
    if !chunk.is_empty() {
        engine.put_chunk(&chunk)?;
    }
    Ok(())
}

/// Performs every lookup, `CHUNK` at a time.
pub fn get_all(engine: &dyn Engine, lookups: impl IntoIterator<Item = Lookup>) -> Result<ReadTally> {
    let mut tally = ReadTally::default();
    let mut chunk = Vec::with_capacity(CHUNK);
    for lookup in lookups {
        chunk.push(lookup);
        if chunk.len() == CHUNK {
            engine.get_chunk(&chunk, &mut tally)?;
            chunk.clear();
        }
    }
    if !chunk.is_empty() {
        engine.get_chunk(&chunk, &mut tally)?;
    }
    Ok(tally)
}

/// Operations per second.
pub fn per_second(ops: u64, elapsed: Duration) -> f64 {
    ops as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// Milliseconds.
pub fn ms(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64() * 1e3
}
