//! The rounds: every engine through every workload asked for, engines
//! interleaved within each round.

use crate::args::Args;
use crate::disk::{clear, remove};
use crate::engine::EngineKind;
use crate::error::Result;
use crate::sample::{Recorder, Samples};
use crate::workload::{Workload, checkpoint, fill, read, scan, throughput, update};

/// Runs `args.rounds` rounds, recording into `samples`.
pub fn rounds(args: &Args, samples: &mut Samples) -> Result<()> {
    let base = [Workload::Fill, Workload::Read, Workload::Scan, Workload::Update].iter().any(|&w| args.runs(w));
    for round in 1..=args.rounds {
        let order = rotated(&args.engines, round);
        let names: Vec<&str> = order.iter().map(|k| k.name()).collect();
        eprintln!("round {round} of {}: {}", args.rounds, names.join(", "));
        if base {
            for &kind in &order {
                basic(kind, args, round, samples)?;
            }
        }
        if args.runs(Workload::Checkpoint) {
            for &size in &args.checkpoint_sizes {
                for &kind in &order {
                    let mut rec = Recorder::new(samples, round, kind.name());
                    checkpoint::run(kind, &args.dir, size, args.checkpoints, &mut rec)?;
                }
            }
        }
        if args.runs(Workload::Throughput) {
            for &kind in order.iter().filter(|k| k.has_checkpoint()) {
                let mut rec = Recorder::new(samples, round, kind.name());
                throughput::run(kind, &args.dir, args.throughput_secs, round, &mut rec)?;
            }
        }
    }
    Ok(())
}

/// `engines` rotated left by `round - 1`, so no engine always goes first.
fn rotated(engines: &[EngineKind], round: usize) -> Vec<EngineKind> {
    let mut order = engines.to_vec();
    order.rotate_left((round - 1) % engines.len());
    order
}

/// fill, then read, scan and update as asked, on one fresh database.
fn basic(kind: EngineKind, args: &Args, round: usize, samples: &mut Samples) -> Result<()> {
    let dir = args.dir.join(format!("data-{}", kind.name()));
    clear(&dir)?;
    let mut engine = kind.open(&dir)?;
    let mut rec = Recorder::new(samples, round, kind.name());
    fill::run(engine.as_ref(), &dir, args.keys, &mut rec)?;
    if args.runs(Workload::Read) {
        read::run(engine.as_ref(), args.keys, &mut rec)?;
    }
    if args.runs(Workload::Scan) {
        scan::run(engine.as_ref(), args.keys, &mut rec)?;
    }
    if args.runs(Workload::Update) {
        update::run(engine.as_mut(), &dir, args.keys, &mut rec)?;
    }
    drop(engine);
    remove(&dir)
}
