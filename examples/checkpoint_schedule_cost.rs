//! What scheduled checkpoints cost a writer, on the real disk: writer
//! throughput (one thread, 16-byte keys, 100-byte values, no fsync per
//! write) with `schedule_checkpoints` every second keeping 10, against the
//! same writer without, in interleaved rounds (off, on, off, on, ...).
//!
//! `cargo run --release --example checkpoint_schedule_cost [SECONDS] [DIR]`
//! (default 60 s per run, 3 rounds of each; DIR default a temporary
//! directory under target/). Prints each run, the medians and spreads,
//! and the ratio.

use std::path::Path;
use std::time::{Duration, Instant};

use cairndb::checkpoint::{self, CheckpointSchedule};
use cairndb::{Config, Db};

const ROUNDS: usize = 3;

fn key(i: u64) -> [u8; 16] {
    let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&x.to_be_bytes());
    k[8..].copy_from_slice(&i.to_be_bytes());
    k
}

#[expect(clippy::print_stdout, reason = "the example reports")]
fn report(line: &str) {
    println!("{line}");
}

/// Writes for `seconds`; returns ops/s and, with a schedule, how many
/// checkpoints it took and the most kept at the end.
fn run(work: &Path, round: usize, scheduled: bool, seconds: u64) -> (f64, u64, usize) {
    let dir = work.join(format!("db-{round}-{scheduled}"));
    let cps = work.join(format!("cps-{round}-{scheduled}"));
    let db: Db = Config::new(&dir).open().unwrap();
    let schedule = scheduled
        .then(|| db.schedule_checkpoints(&cps, CheckpointSchedule::every(Duration::from_secs(1)).keep(10)).unwrap());
    let value = [7u8; 100];
    let started = Instant::now();
    let mut ops = 0u64;
    while started.elapsed() < Duration::from_secs(seconds) {
        for _ in 0..1000 {
            db.put(key(ops % 5_000_000), value).unwrap();
            ops += 1;
        }
    }
    let rate = ops as f64 / started.elapsed().as_secs_f64();
    let (made, kept) = match schedule {
        Some(s) => {
            let stats = s.stats();
            assert_eq!(stats.failures, 0, "{stats:?}");
            drop(s);
            (stats.made, checkpoint::list(&cairndb::fs::StdFs::new(), &cps).unwrap().len())
        }
        None => (0, 0),
    };
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&cps);
    (rate, made, kept)
}

fn median_spread(mut xs: Vec<f64>) -> (f64, f64) {
    xs.sort_by(f64::total_cmp);
    (xs[xs.len() / 2], xs[xs.len() - 1] - xs[0])
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map_or(60, |s| s.parse().expect("SECONDS is a number"));
    let work = args.next().map_or_else(
        || std::env::current_dir().unwrap().join("target/checkpoint-schedule-cost"),
        std::path::PathBuf::from,
    );
    std::fs::create_dir_all(&work).unwrap();
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (rate, _, _) = run(&work, round, false, seconds);
        report(&format!("round {round}: without a schedule {rate:>10.0} ops/s"));
        off.push(rate);
        let (rate, made, kept) = run(&work, round, true, seconds);
        report(&format!("round {round}: checkpoint every 1 s {rate:>10.0} ops/s ({made} taken, {kept} kept)"));
        assert!(kept <= 10);
        on.push(rate);
    }
    let ((off_median, off_spread), (on_median, on_spread)) = (median_spread(off), median_spread(on));
    report(&format!("without: median {off_median:.0} ops/s, spread {off_spread:.0}"));
    report(&format!("with:    median {on_median:.0} ops/s, spread {on_spread:.0}"));
    report(&format!("ratio (with / without, medians): {:.3}", on_median / off_median));
    let _ = std::fs::remove_dir_all(&work);
}
