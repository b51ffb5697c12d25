//! `cairn gc DIR`: remove the staging leftovers of killed checkpoints and
//! restores in a folder, never one a live process holds.

use std::path::Path;
use std::process::ExitCode;

use cairndb::checkpoint::{Leftover, StagingState, leftover_state, leftovers, remove_leftover};
use cairndb::fs::StdFs;
use serde_json::{Value, json};

use crate::args::GcArgs;
use crate::escape;
use crate::failure::{At as _, Failure};
use crate::output::{Out, bytes, count};

/// One staging directory and what became of it.
struct Row {
    leftover: Leftover,
    state: StagingState,
    removed: bool,
}

/// Removes (or, with `--dry-run`, names) the abandoned staging directories
/// in DIR and reports every one found.
pub fn run(args: &GcArgs) -> Result<ExitCode, Failure> {
    let fs = StdFs::new();
    let mut rows = Vec::new();
    for leftover in leftovers(&fs, &args.dir).at(&args.dir)? {
        let Some(state) = leftover_state(&fs, &leftover.path).at(&leftover.path)? else { continue };
        let removed = state == StagingState::Abandoned
            && !args.dry_run
            && remove_leftover(&fs, &leftover.path).at(&leftover.path)?;
        rows.push(Row { leftover, state, removed });
    }
    let mut out = Out::new();
    match args.json {
        true => out.json(&to_json(&args.dir, args.dry_run, &rows))?,
        false => print_text(&mut out, &args.dir, args.dry_run, &rows)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn print_text(out: &mut Out, dir: &Path, dry_run: bool, rows: &[Row]) -> std::io::Result<()> {
    if rows.is_empty() {
        return out.line(format_args!("no staging leftovers in {}", escape::path(dir)));
    }
    for row in rows {
        let (label, why) = match (row.state, row.removed) {
            (_, true) => ("removed", "left by a killed checkpoint, restore or checkpoint removal"),
            (StagingState::Abandoned, false) if dry_run => {
                ("would remove", "left by a killed checkpoint, restore or checkpoint removal")
            }
            (StagingState::Abandoned, false) => ("left alone", "taken up or removed by another process meanwhile"),
            (StagingState::InUse, _) => ("in use", "a live process holds its LOCK: a checkpoint or restore being made"),
            (_, _) => ("left alone", "no LOCK, and it holds files no staging directory does: not cairndb's"),
        };
        let l = &row.leftover;
        out.field(
            label,
            format_args!("{}: {}, {} ({why})", escape::path(&l.path), count(l.files as usize, "file"), bytes(l.bytes)),
        )?;
    }
    let done: Vec<_> = rows.iter().filter(|r| r.removed || (dry_run && r.state == StagingState::Abandoned)).collect();
    let freed: u64 = done.iter().map(|r| r.leftover.bytes).sum();
    let verb = if dry_run { "would remove" } else { "removed" };
    out.field("total", format_args!("{verb} {}, {}", staging_dirs(done.len()), bytes(freed)))
}

/// `1 staging directory`, `2 staging directories`.
pub fn staging_dirs(n: usize) -> String {
    match n {
        1 => "1 staging directory".to_owned(),
        n => format!("{n} staging directories"),
    }
}

fn state_name(state: StagingState) -> &'static str {
    match state {
        StagingState::Abandoned => "abandoned",
        StagingState::InUse => "in_use",
        _ => "unrecognized",
    }
}

fn to_json(dir: &Path, dry_run: bool, rows: &[Row]) -> Value {
    let removed: Vec<_> = rows.iter().filter(|r| r.removed).collect();
    json!({
        "dir": escape::path(dir),
        "dry_run": dry_run,
        "leftovers": rows.iter().map(|r| json!({
            "path": escape::path(&r.leftover.path),
            "state": state_name(r.state),
            "files": r.leftover.files,
            "bytes": r.leftover.bytes,
            "removed": r.removed,
        })).collect::<Vec<_>>(),
        "removed": removed.len(),
        "removed_bytes": removed.iter().map(|r| r.leftover.bytes).sum::<u64>(),
    })
}
