//! throughput: a writer at full speed, with and without a checkpoint taken
//! every second, in interleaved runs.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{ms, per_second};
use crate::data::Pair;
use crate::disk::{clear, remove};
use crate::engine::{Engine, EngineKind};
use crate::error::Result;
use crate::sample::{Recorder, median};

/// Pairs the writer puts between looks at the stop flag.
const WRITER_CHUNK: u64 = 100;
/// Indices of consecutive runs start this far apart, so every run writes new keys.
const RUN_STRIDE: u64 = 1 << 32;
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Measures `kind` in a fresh database under `work`: two runs without and
/// two with checkpoints, in an order that alternates with `round`.
pub fn run(kind: EngineKind, work: &Path, secs: u64, round: usize, rec: &mut Recorder<'_>) -> Result<()> {
    let dir = work.join(format!("throughput-{}", kind.name()));
    clear(&dir)?;
    let engine = kind.open(&dir)?;
    let order = if round % 2 == 1 { [false, true, true, false] } else { [true, false, false, true] };
    let (mut with, mut without, mut checkpoint_ms) = (Vec::new(), Vec::new(), Vec::new());
    for (run, checkpoints) in order.into_iter().enumerate() {
        let targets = checkpoints.then(|| work.join("throughput-checkpoints"));
        let (ops_per_s, times) = writer_run(engine.as_ref(), secs, targets.as_deref(), run as u64 * RUN_STRIDE)?;
        if checkpoints {
            with.push(ops_per_s)
        } else {
            without.push(ops_per_s)
        }
        checkpoint_ms.extend(times);
        if let Some(targets) = targets {
            remove(&targets)?;
        }
    }
    let (with, without) = (mean(&with), mean(&without));
    rec.record("throughput", "without_ops_per_s", without);
    rec.record("throughput", "with_ops_per_s", with);
    rec.record("throughput", "ratio", with / without);
    rec.record("throughput", "checkpoint_ms", median(&checkpoint_ms));
    drop(engine);
    remove(&dir)
}

/// Puts per second of one writer over `secs`; with `targets`, a checkpoint
/// into it every second (their durations returned).
fn writer_run(engine: &dyn Engine, secs: u64, targets: Option<&Path>, base: u64) -> Result<(f64, Vec<f64>)> {
    let stop = AtomicBool::new(false);
    let written = AtomicU64::new(0);
    let total = Duration::from_secs(secs);
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| -> Result<()> {
            let mut next = base;
            while !stop.load(Ordering::Relaxed) {
                let chunk: Vec<Pair> = (next..next + WRITER_CHUNK).map(|i| Pair::new(i, 0)).collect();
                engine.put_chunk(&chunk)?;
                next += WRITER_CHUNK;
                written.fetch_add(WRITER_CHUNK, Ordering::Relaxed);
            }
            Ok(())
        });
        let start = Instant::now();
        let checkpoints = checkpoint_loop(engine, targets, start, total);
        stop.store(true, Ordering::Relaxed);
        let elapsed = start.elapsed();
        writer.join().expect("the writer thread does not panic")?;
        Ok((per_second(written.load(Ordering::Relaxed), elapsed), checkpoints?))
    })
}

/// Sleeps until `total` has passed since `start`, checkpointing into
/// `targets` every second if given.
fn checkpoint_loop(engine: &dyn Engine, targets: Option<&Path>, start: Instant, total: Duration) -> Result<Vec<f64>> {
    let mut times = Vec::new();
    while start.elapsed() < total {
        std::thread::sleep(CHECKPOINT_EVERY.min(total.saturating_sub(start.elapsed())));
        if let Some(targets) = targets
            && start.elapsed() < total
        {
            let began = Instant::now();
            engine.checkpoint(&targets.join(times.len().to_string()), true)?;
            times.push(ms(began.elapsed()));
        }
    }
    Ok(times)
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}
