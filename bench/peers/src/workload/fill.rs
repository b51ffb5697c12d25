//! fill: N keys in random order with default durability, then a flush.

use std::path::Path;
use std::time::Instant;

use super::{SETTLE, per_second, put_all};
use crate::data::{PAIR_BYTES, shuffled};
use crate::disk::usage;
use crate::engine::Engine;
use crate::error::Result;
use crate::sample::Recorder;

const SEED: u64 = 1;

/// Loads keys `0..keys` (version 0) in random order, flushes, lets
/// background work settle and measures the directory `dir`.
pub fn run(engine: &dyn Engine, dir: &Path, keys: u64, rec: &mut Recorder<'_>) -> Result<()> {
    let order = shuffled(keys, SEED);
    let start = Instant::now();
    put_all(engine, order, 0)?;
    let loaded = start.elapsed();
    engine.flush()?;
    let flushed = start.elapsed();
    rec.record("fill", "ops_per_s", per_second(keys, flushed));
    rec.record("fill", "load_ops_per_s", per_second(keys, loaded));
    std::thread::sleep(SETTLE);
    record_space(dir, keys, "after_fill", rec)
}

/// Records the bytes under `dir` (file sizes and allocated blocks), their
/// ratio to the logical size of `keys` entries, and where they are.
pub fn record_space(dir: &Path, keys: u64, when: &str, rec: &mut Recorder<'_>) -> Result<()> {
    let usage = usage(dir)?;
    let logical = (keys * PAIR_BYTES) as f64;
    rec.record("space", format!("bytes_{when}"), usage.bytes as f64);
    rec.record("space", format!("amp_{when}"), usage.bytes as f64 / logical);
    rec.record("space", format!("allocated_{when}"), usage.allocated_bytes as f64);
    rec.record("space", format!("amp_allocated_{when}"), usage.allocated_bytes as f64 / logical);
    for (group, bytes) in usage.groups {
        rec.record("space_detail", format!("{when}.{group}"), bytes as f64);
    }
    Ok(())
}
