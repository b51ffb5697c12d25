//! update: N uniform random overwrites, then N overwrites of a hot 1% of
//! the keys; then the space they leave, and a full compaction.

use std::path::Path;
use std::time::Instant;

use super::fill::record_space;
use super::{SETTLE, per_second, put_all};
use crate::data::Rng;
use crate::engine::Engine;
use crate::error::Result;
use crate::sample::Recorder;

const SEED_UNIFORM: u64 = 4;
const SEED_HOT: u64 = 5;
/// The hot set is one key in this many.
const HOT_ONE_IN: u64 = 100;

/// Overwrites a database holding keys `0..keys` in `dir`.
pub fn run(engine: &mut dyn Engine, dir: &Path, keys: u64, rec: &mut Recorder<'_>) -> Result<()> {
    let mut rng = Rng::new(SEED_UNIFORM);
    let start = Instant::now();
    put_all(engine, (0..keys).map(|_| rng.below(keys)), 1)?;
    rec.record("update", "uniform_ops_per_s", per_second(keys, start.elapsed()));

    // The hot set: indices below keys/100, whose keys are spread over the key space.
    let hot = (keys / HOT_ONE_IN).max(1);
    let mut rng = Rng::new(SEED_HOT);
    let start = Instant::now();
    put_all(engine, (0..keys).map(|_| rng.below(hot)), 2)?;
    rec.record("update", "hot_ops_per_s", per_second(keys, start.elapsed()));

    engine.flush()?;
    std::thread::sleep(SETTLE);
    record_space(dir, keys, "after_updates", rec)?;

    let start = Instant::now();
    if engine.compact()? {
        rec.record("space", "compaction_s", start.elapsed().as_secs_f64());
        std::thread::sleep(SETTLE);
        record_space(dir, keys, "after_compaction", rec)?;
    }
    Ok(())
}
