//! checkpoint: what a checkpoint of a flushed database costs, what opening
//! it costs, and what copying the closed directory with `cp -r` or `cp -al`
//! (each followed by `sync`) costs instead.

use std::path::Path;
use std::time::Instant;

use super::{SETTLE, get_all, ms, put_all};
use crate::data::{Lookup, Rng, key, shuffled, value};
use crate::disk::{clear, dir_bytes, remove, run as run_command, sync};
use crate::engine::EngineKind;
use crate::error::Result;
use crate::sample::Recorder;

const SEED_FILL: u64 = 6;
const SEED_READ: u64 = 7;
/// Keys read from each opened checkpoint.
const READS: u64 = 1000;
/// Fresh writes in the memtable before each checkpoint of the "fresh" cases.
const FRESH_WRITES: u64 = 1000;

/// The cases measured on an engine with a checkpoint API.
#[derive(Clone, Copy)]
enum Case {
    /// Nothing written since the flush.
    Idle,
    /// Fresh writes, and the checkpoint flushes them.
    FreshFlush,
    /// Fresh writes, and the checkpoint carries them as log instead.
    FreshNoFlush,
}

impl Case {
    const ALL: [Case; 3] = [Case::Idle, Case::FreshFlush, Case::FreshNoFlush];

    fn name(self) -> &'static str {
        match self {
            Case::Idle => "idle",
            Case::FreshFlush => "fresh_flush",
            Case::FreshNoFlush => "fresh_noflush",
        }
    }
}

/// Measures `kind` at `size` keys in `work`, `per_case` times each.
pub fn run(kind: EngineKind, work: &Path, size: u64, per_case: usize, rec: &mut Recorder<'_>) -> Result<()> {
    let dir = work.join(format!("checkpoint-{}-{size}", kind.name()));
    clear(&dir)?;
    let source = kind.open(&dir)?;
    put_all(source.as_ref(), shuffled(size, SEED_FILL), 0)?;
    source.flush()?;
    // Let the fill's writeback finish, so the checkpoints meet a quiet disk.
    sync()?;
    std::thread::sleep(SETTLE);
    rec.record("checkpoint", format!("{size}.bytes"), dir_bytes(&dir)? as f64);

    let target = work.join("checkpoint-target");
    if kind.has_checkpoint() {
        let mut fresh_base = size;
        for case in Case::ALL {
            for _ in 0..per_case {
                clear(&target)?;
                if !matches!(case, Case::Idle) {
                    put_all(source.as_ref(), fresh_base..fresh_base + FRESH_WRITES, 0)?;
                    fresh_base += FRESH_WRITES;
                }
                let start = Instant::now();
                source.checkpoint(&target, !matches!(case, Case::FreshNoFlush))?;
                rec.record("checkpoint", format!("{size}.{}_ms", case.name()), ms(start.elapsed()));
                open_and_read(kind, &target, size, fresh_base, case, rec)?;
            }
        }
        remove(&target)?;
    }
    // `cp` of a live database races with its file deletions and appends:
    // the baselines copy it closed.
    drop(source);
    copy_baseline(&dir, &target, "cp_r", &["-r"], size, per_case, rec)?;
    copy_baseline(&dir, &target, "cp_al", &["-al"], size, per_case, rec)?;
    remove(&target)?;
    remove(&dir)
}

/// Opens the checkpoint at `target` and reads `READS` keys of `0..size`,
/// timed; checks them, and that the last fresh write (below `fresh_end`) is there.
fn open_and_read(
    kind: EngineKind,
    target: &Path,
    size: u64,
    fresh_end: u64,
    case: Case,
    rec: &mut Recorder<'_>,
) -> Result<()> {
    let mut rng = Rng::new(SEED_READ);
    let lookups = (0..READS).map(|_| rng.below(size)).map(|i| Lookup { key: key(i), expected: Some(value(i, 0)) });
    let start = Instant::now();
    let opened = kind.open(target)?;
    let tally = get_all(opened.as_ref(), lookups)?;
    rec.record("checkpoint", format!("{size}.{}_open_read_ms", case.name()), ms(start.elapsed()));
    let latest = fresh_end - 1;
    let latest_ok = matches!(case, Case::Idle)
        || get_all(opened.as_ref(), [Lookup { key: key(latest), expected: Some(value(latest, 0)) }])?.hits == 1;
    if tally.wrong > 0 || !latest_ok {
        let what =
            format!("checkpoint {}: {} wrong reads, latest write present: {latest_ok}", case.name(), tally.wrong);
        rec.fail("checkpoint", what);
    }
    Ok(())
}

/// Times `cp FLAGS dir target` + `sync`, `times` times.
fn copy_baseline(
    dir: &Path,
    target: &Path,
    name: &str,
    flags: &[&str],
    size: u64,
    times: usize,
    rec: &mut Recorder<'_>,
) -> Result<()> {
    let mut args: Vec<&Path> = flags.iter().map(Path::new).collect();
    args.extend([dir, target]);
    for _ in 0..times {
        clear(target)?;
        let start = Instant::now();
        run_command("cp", &args)?;
        sync()?;
        rec.record("checkpoint", format!("{size}.{name}_ms"), ms(start.elapsed()));
    }
    Ok(())
}
