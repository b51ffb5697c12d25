//! throughput: a writer at full speed, with and without a checkpoint taken
//! every second (flushing, or carrying the memtable as log), in interleaved
//! runs.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{ms, per_second};
use crate::data::Pair;
use crate::disk::{clear, remove};
use crate::engine::{Engine, EngineKind};
use crate::error::{IoContext, Result};
use crate::sample::{Recorder, median};

/// Pairs the writer puts between looks at the stop flag.
const WRITER_CHUNK: u64 = 100;
/// Indices of consecutive runs start this far apart, so every run writes new keys.
const RUN_STRIDE: u64 = 1 << 32;
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// What runs beside the writer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Nothing.
    Alone,
    /// A checkpoint every second that flushes the memtable first.
    Flush,
    /// A checkpoint every second that carries the memtable as its log.
    NoFlush,
}

impl Mode {
    /// The suffix of its metrics.
    fn suffix(self) -> &'static str {
        match self {
            Mode::Alone | Mode::Flush => "",
            Mode::NoFlush => "_noflush",
        }
    }
}

/// One writer run: its mode, puts per second, and the checkpoints' durations (ms).
struct WriterRun {
    mode: Mode,
    ops_per_s: f64,
    checkpoint_ms: Vec<f64>,
}

/// Measures `kind` in a fresh database under `work`: two runs of each mode,
/// in a symmetric order that reverses with `round`.
pub fn run(kind: EngineKind, work: &Path, secs: u64, round: usize, rec: &mut Recorder<'_>) -> Result<()> {
    let dir = work.join(format!("throughput-{}", kind.name()));
    clear(&dir)?;
    let engine = kind.open(&dir)?;
    let mut order = [Mode::Alone, Mode::Flush, Mode::NoFlush, Mode::NoFlush, Mode::Flush, Mode::Alone];
    if round.is_multiple_of(2) {
        order.reverse();
    }
    let targets = work.join("throughput-checkpoints");
    let mut runs = Vec::new();
    for (i, mode) in order.into_iter().enumerate() {
        clear(&targets)?;
        std::fs::create_dir_all(&targets).io("create", &targets)?;
        let checkpoints = (mode != Mode::Alone).then_some((targets.as_path(), mode == Mode::Flush));
        let (ops_per_s, checkpoint_ms) = writer_run(engine.as_ref(), secs, checkpoints, i as u64 * RUN_STRIDE)?;
        runs.push(WriterRun { mode, ops_per_s, checkpoint_ms });
    }
    remove(&targets)?;
    let rate = |mode: Mode| {
        let rates: Vec<f64> = runs.iter().filter(|r| r.mode == mode).map(|r| r.ops_per_s).collect();
        rates.iter().sum::<f64>() / rates.len() as f64
    };
    let alone = rate(Mode::Alone);
    rec.record("throughput", "without_ops_per_s", alone);
    for mode in [Mode::Flush, Mode::NoFlush] {
        let times: Vec<f64> =
            runs.iter().filter(|r| r.mode == mode).flat_map(|r| r.checkpoint_ms.iter().copied()).collect();
        let suffix = mode.suffix();
        rec.record("throughput", format!("with{suffix}_ops_per_s"), rate(mode));
        rec.record("throughput", format!("ratio{suffix}"), rate(mode) / alone);
        rec.record("throughput", format!("checkpoint{suffix}_ms"), median(&times));
        rec.record("throughput", format!("checkpoints{suffix}"), times.len() as f64);
    }
    drop(engine);
    remove(&dir)
}

/// Puts per second of one writer over `secs`; with `checkpoints` (a
/// directory, and whether to flush), a checkpoint into it every second,
/// whose durations are returned.
fn writer_run(
    engine: &dyn Engine,
    secs: u64,
    checkpoints: Option<(&Path, bool)>,
    base: u64,
) -> Result<(f64, Vec<f64>)> {
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
        let times = checkpoint_loop(engine, checkpoints, start, total);
        stop.store(true, Ordering::Relaxed);
        let elapsed = start.elapsed();
        writer.join().expect("the writer thread does not panic")?;
        Ok((per_second(written.load(Ordering::Relaxed), elapsed), times?))
    })
}

/// Sleeps until `total` has passed since `start`, checkpointing every
/// second into the directory of `checkpoints` if given.
fn checkpoint_loop(
    engine: &dyn Engine,
    checkpoints: Option<(&Path, bool)>,
    start: Instant,
    total: Duration,
) -> Result<Vec<f64>> {
    let mut times = Vec::new();
    while start.elapsed() < total {
        std::thread::sleep(CHECKPOINT_EVERY.min(total.saturating_sub(start.elapsed())));
        if let Some((targets, flush)) = checkpoints
            && start.elapsed() < total
        {
            let began = Instant::now();
            engine.checkpoint(&targets.join(times.len().to_string()), flush)?;
            times.push(ms(began.elapsed()));
        }
    }
    Ok(times)
}
