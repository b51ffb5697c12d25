//! read: N random point reads of present keys, then N with 10% misses;
//! every value is checked.

use std::time::Instant;

use super::{get_all, per_second};
use crate::data::{Lookup, Rng, key, value};
use crate::engine::Engine;
use crate::error::Result;
use crate::sample::Recorder;

const SEED_HITS: u64 = 2;
const SEED_MISSES: u64 = 3;
/// One lookup in this many is of an absent key in the second run.
const MISS_ONE_IN: u64 = 10;

/// Reads a database holding keys `0..keys` at version 0.
pub fn run(engine: &dyn Engine, keys: u64, rec: &mut Recorder<'_>) -> Result<()> {
    let mut rng = Rng::new(SEED_HITS);
    let hits = (0..keys).map(|_| present(rng.below(keys)));
    timed(engine, keys, hits, "hit_ops_per_s", rec)?;

    let mut rng = Rng::new(SEED_MISSES);
    let mixed = (0..keys).map(|j| {
        // Indices from `keys` on were never written.
        if rng.below(MISS_ONE_IN) == 0 {
            Lookup { key: key(keys + j), expected: None }
        } else {
            present(rng.below(keys))
        }
    });
    timed(engine, keys, mixed, "miss10_ops_per_s", rec)
}

fn present(i: u64) -> Lookup {
    Lookup { key: key(i), expected: Some(value(i, 0)) }
}

fn timed(
    engine: &dyn Engine,
    count: u64,
    lookups: impl Iterator<Item = Lookup>,
    metric: &'static str,
    rec: &mut Recorder<'_>,
) -> Result<()> {
    let start = Instant::now();
    let tally = get_all(engine, lookups)?;
    rec.record("read", metric, per_second(count, start.elapsed()));
    if tally.wrong > 0 {
        rec.fail("read", format!("{metric}: {} wrong answers of {count}", tally.wrong));
    }
    Ok(())
}
