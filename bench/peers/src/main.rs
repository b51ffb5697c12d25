//! `peers`: the same workloads on cairndb, RocksDB, fjall and redb, side by
//! side; a markdown report on stdout and in `--out` (with the raw numbers
//! as JSON and a checkpoint chart as SVG). See `README.md`.

mod args;
mod data;
mod disk;
mod engine;
mod error;
mod meta;
mod report;
mod run;
mod sample;
mod workload;

use std::process::ExitCode;
use std::time::Instant;

use args::{Args, USAGE};
use error::{IoContext, Result};
use meta::Meta;
use sample::Samples;

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("peers: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = match &args.replot {
        Some(json) => replot(json, args.clone()),
        None => bench(&args),
    };
    match outcome {
        Ok(samples) if samples.failures.is_empty() => ExitCode::SUCCESS,
        Ok(samples) => {
            eprintln!("peers: {} wrong answers (listed in the report)", samples.failures.len());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("peers: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs the rounds and writes the report.
fn bench(args: &Args) -> Result<Samples> {
    std::fs::create_dir_all(&args.dir).io("create", &args.dir)?;
    let meta = Meta::collect(&args.dir);
    eprintln!("peers: working in {} ({})", args.dir.display(), meta.file_system);
    let start = Instant::now();
    let mut samples = Samples::default();
    run::rounds(args, &mut samples)?;
    let elapsed_s = start.elapsed().as_secs_f64();

    std::fs::create_dir_all(&args.out).io("create", &args.out)?;
    let json = report::json::render(args, &meta, &samples, elapsed_s);
    std::fs::write(args.out.join("peers.json"), json).io("write", args.out.join("peers.json"))?;
    draw(args, &meta, &samples, elapsed_s)?;
    eprintln!("peers: done in {:.1} min; report in {}", elapsed_s / 60.0, args.out.display());
    Ok(samples)
}

/// Draws the report of the run recorded in `json` again.
fn replot(json: &std::path::Path, defaults: Args) -> Result<Samples> {
    let run = report::reread::read(json, defaults)?;
    draw(&run.args, &run.meta, &run.samples, run.elapsed_s)?;
    eprintln!("peers: redrew the report in {}", run.args.out.display());
    Ok(run.samples)
}

/// Writes `peers.md` (and prints it) and `checkpoint.svg` into `args.out`.
fn draw(args: &Args, meta: &Meta, samples: &Samples, elapsed_s: f64) -> Result<()> {
    let markdown = report::markdown::render(args, meta, samples, elapsed_s);
    print!("{markdown}");
    std::fs::write(args.out.join("peers.md"), &markdown).io("write", args.out.join("peers.md"))?;
    if args.runs(workload::Workload::Checkpoint) {
        let lines = report::chart::series(args, samples);
        report::chart::write(&args.out.join("checkpoint.svg"), &lines)?;
    }
    Ok(())
}
