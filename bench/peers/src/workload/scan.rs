//! scan: every key and value in order; the count and order are checked.

use std::time::Instant;

use super::per_second;
use crate::engine::Engine;
use crate::error::Result;
use crate::sample::Recorder;

/// Scans a database holding `keys` keys.
pub fn run(engine: &dyn Engine, keys: u64, rec: &mut Recorder<'_>) -> Result<()> {
    let start = Instant::now();
    let tally = engine.scan()?;
    rec.record("scan", "keys_per_s", per_second(tally.count, start.elapsed()));
    if tally.count != keys || tally.out_of_order > 0 {
        rec.fail("scan", format!("{} entries (expected {keys}), {} out of order", tally.count, tally.out_of_order));
    }
    Ok(())
}
