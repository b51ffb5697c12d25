//! The deterministic simulator: every subsystem at once — writers, readers
//! with snapshots and iterators, flushes, compactions and blob GC,
//! checkpoints (flushed and not, on the same device and across devices),
//! opening them read-only and read-write, backups, prunes, gc, restores,
//! close and reopen — on a `MemFs` behind a `FaultFs`, with power cuts
//! (durable-only and torn, also during recovery) and single I/O errors
//! (EIO, ENOSPC, torn writes, fsync failures) at operations drawn from a
//! seed. After every cut and fault the world is checked against a model:
//! every durable write present, the state a prefix of the write order that
//! splits no batch, every checkpoint and every listed backup whole and
//! exact, nothing on disk that nothing references, no panic.
//!
//! A run is a function of its seed: the actions are drawn up front and one
//! thread performs them (background work off; flushes and compactions run
//! when an action or a full memtable asks). On a failure the test prints
//! the seed and the shortest list of actions that still fails.
//!
//! - `CAIRNDB_SIM_SECONDS` (default 20): how long to try fresh seeds, after
//!   the regression seeds in `tests/sim/seeds.txt` (`CAIRNDB_SIM_REGRESSIONS=0`
//!   skips those). Seeds run on `CAIRNDB_SIM_THREADS` threads at once
//!   (default: one per core), each world on its own.
//! - `CAIRNDB_SIM_SEED=<seed>` replays one seed (and nothing else);
//!   `CAIRNDB_SIM_ACTIONS` sets the actions per seed (default 250).
//! - Debugging a seed: `CAIRNDB_SIM_TRACE=1` prints each action and its
//!   result, `CAIRNDB_SIM_DUMP=1` the log segments after each, and
//!   `CAIRNDB_SIM_FSTRACE=/db/log` every change and fsync under a path
//!   (`CAIRNDB_SIM_FSTRACE_BT=1` adds a backtrace to each write).

mod model;
mod plan;
mod rng;
mod tap;
mod trace_fs;
mod world;

#[path = "../common/crash_points.rs"]
mod crash_points;

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use plan::{Action, plan};
use world::{Counts, World};

thread_local! {
    /// Index of the action this thread runs, so a failure knows where it happened.
    static AT: Cell<usize> = const { Cell::new(0) };
}

fn actions_per_seed() -> usize {
    std::env::var("CAIRNDB_SIM_ACTIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(250)
}

fn run(actions: &[Action]) -> Counts {
    let mut world = World::new();
    for (i, action) in actions.iter().enumerate() {
        AT.set(i);
        world.step(action);
    }
    AT.set(actions.len());
    world.finish();
    world.counts
}

/// Runs `actions`; on a failure returns its message and the index of the
/// action it happened in.
fn attempt(actions: &[Action]) -> Result<Counts, (String, usize)> {
    catch_unwind(AssertUnwindSafe(|| run(actions))).map_err(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic".into());
        (message, AT.get())
    })
}

/// What identifies a failure across runs: its message without numbers.
fn signature(message: &str) -> String {
    message.chars().filter(|c| !c.is_ascii_digit()).take(60).collect()
}

/// The shortest list of actions (from removing chunks, then single ones)
/// that still fails the same way, within a time bound.
fn shrink(mut actions: Vec<Action>, failure: &str, bound: Duration) -> Vec<Action> {
    let wanted = signature(failure);
    let started = Instant::now();
    let mut chunk = actions.len() / 2;
    while chunk >= 1 && started.elapsed() < bound {
        let mut i = 0;
        let mut removed_any = false;
        while i < actions.len() && started.elapsed() < bound {
            let mut candidate = actions.clone();
            candidate.drain(i..(i + chunk).min(candidate.len()));
            match attempt(&candidate) {
                Err((message, at)) if signature(&message) == wanted => {
                    candidate.truncate((at + 1).min(candidate.len()));
                    actions = candidate;
                    removed_any = true;
                }
                _ => i += chunk,
            }
        }
        if !removed_any {
            chunk /= 2;
        }
    }
    actions
}

fn regression_seeds() -> Vec<u64> {
    include_str!("seeds.txt")
        .lines()
        .filter_map(|line| line.split('#').next())
        .filter_map(|word| word.trim().parse().ok())
        .collect()
}

fn fresh_seed_base() -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32)
}

#[expect(clippy::print_stderr, reason = "the failure report and the summary are for people")]
fn report_failure(seed: u64, actions: &[Action], message: &str, at: usize) -> ! {
    eprintln!("simulator: seed {seed} failed at action {at} of {}: {message}", actions.len());
    eprintln!("simulator: shortening the run...");
    std::panic::set_hook(Box::new(|_| {}));
    let short = shrink(actions[..(at + 1).min(actions.len())].to_vec(), message, Duration::from_secs(120));
    let _ = std::panic::take_hook();
    let (short_message, _) = attempt(&short).err().unwrap_or_else(|| (message.to_string(), 0));
    eprintln!("simulator: the shortest run found ({} actions) fails with: {short_message}", short.len());
    for (i, action) in short.iter().enumerate() {
        eprintln!("  {i:4}  {action:?}");
    }
    panic!(
        "simulator: seed {seed} failed: {message}\nreplay: CAIRNDB_SIM_SEED={seed} cargo test --test sim -- --nocapture"
    );
}

/// The first failing seed: its actions, the message and the action it failed at.
type Failure = (u64, Vec<Action>, String, usize);

#[test]
#[expect(clippy::print_stderr, reason = "the summary is for people")]
fn simulator() {
    let count = actions_per_seed();
    let (seeds, budget): (Vec<u64>, Duration) = match std::env::var("CAIRNDB_SIM_SEED") {
        Ok(seed) => (vec![seed.trim().parse().expect("CAIRNDB_SIM_SEED is a u64")], Duration::ZERO),
        Err(_) => {
            let seconds = std::env::var("CAIRNDB_SIM_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
            // `CAIRNDB_SIM_REGRESSIONS=0` skips the kept seeds (to time how
            // soon fresh ones find a bug).
            let kept = std::env::var("CAIRNDB_SIM_REGRESSIONS").map_or(true, |v| v != "0");
            (if kept { regression_seeds() } else { Vec::new() }, Duration::from_secs(seconds))
        }
    };
    let started = Instant::now();
    let base = fresh_seed_base();
    let fresh = (0u64..).map(|i| rng::Rng::new(base.wrapping_add(i)).next_u64());
    let seeds = Mutex::new(seeds.into_iter().map(|s| (s, false)).chain(fresh.map(|s| (s, true))));
    // Seeds are independent worlds: one thread each per core, taking the
    // next seed from the shared list, until the budget is spent or one fails.
    let threads = std::env::var("CAIRNDB_SIM_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let (total, runs) = (Mutex::new(Counts::default()), Mutex::new(0u64));
    let failed = AtomicBool::new(false);
    let failure: Mutex<Option<Failure>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while !failed.load(Ordering::SeqCst) {
                    let Some((seed, is_fresh)) = seeds.lock().unwrap().next() else { break };
                    if is_fresh && (budget.is_zero() || started.elapsed() >= budget) {
                        break;
                    }
                    let actions = plan(seed, count);
                    match attempt(&actions) {
                        Ok(counts) => {
                            *total.lock().unwrap() += counts;
                            *runs.lock().unwrap() += 1;
                        }
                        Err((message, at)) => {
                            failed.store(true, Ordering::SeqCst);
                            failure.lock().unwrap().get_or_insert((seed, actions, message, at));
                        }
                    }
                }
            });
        }
    });
    let (total, runs) = (total.into_inner().unwrap(), runs.into_inner().unwrap());
    if let Some((seed, actions, message, at)) = failure.into_inner().unwrap() {
        eprintln!("simulator: found after {:.1} s and {runs} good seeds", started.elapsed().as_secs_f64());
        report_failure(seed, &actions, &message, at)
    }
    eprintln!(
        "simulator: {runs} seeds (fresh from base {base}; {threads} threads), {} actions, {} power cuts, {} faults, {} recoveries, \
         {} checkpoints and {} backups checked, 0 failures, in {:.1} s",
        total.actions,
        total.power_cuts,
        total.faults,
        total.recoveries,
        total.checkpoints_checked,
        total.backups_checked,
        started.elapsed().as_secs_f64()
    );
    crash_points::record("simulator", total.power_cuts, total.faults, total.recoveries);
}
