//! `cairn schedule DB DIR --every 60s --keep 24`: scheduled checkpoints in
//! the foreground until interrupted, one line (or JSON object) per event.

use std::process::ExitCode;
use std::time::Duration;

use cairndb::checkpoint::{CheckpointInfo, CheckpointSchedule, ScheduleStats};
use serde_json::json;

use crate::args::ScheduleArgs;
use crate::commands::open;
use crate::escape;
use crate::failure::{At as _, Failure};
use crate::interrupt;
use crate::output::{Out, bytes, ms};

/// How often the schedule's report is looked at (and a signal noticed).
const TICK: Duration = Duration::from_millis(50);

/// Runs the schedule until a signal, reporting each checkpoint taken, each
/// tick skipped and each failure as it happens.
pub fn run(args: &ScheduleArgs) -> Result<ExitCode, Failure> {
    if args.keep == 0 {
        return Err(Failure::usage("--keep must be at least 1"));
    }
    let db = open::writable(&args.db, false)?;
    let mut schedule = CheckpointSchedule::every(args.every).keep(args.keep).flush(!args.no_flush);
    if let Some(age) = args.max_age {
        schedule = schedule.max_age(age);
    }
    let scheduler = db.schedule_checkpoints(&args.dir, schedule).at(&args.db)?;
    let cooperation = interrupt::cooperate();
    let mut seen = ScheduleStats::<CheckpointInfo>::default();
    let mut out = Out::new();
    while !interrupt::interrupted() {
        std::thread::sleep(TICK);
        let stats = scheduler.stats();
        report(&mut out, args.json, &seen, &stats)?;
        out.flush()?;
        seen = stats;
        if seen.stopped {
            break;
        }
    }
    drop(scheduler);
    drop(cooperation);
    let line =
        format!("stopped: {} checkpoints taken, {} ticks skipped, {} failed", seen.made, seen.skipped, seen.failures);
    if args.json {
        out.json(&json!({"event": "stopped", "taken": seen.made, "skipped": seen.skipped, "failed": seen.failures}))?;
    } else {
        out.line(line)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// What happened between `before` and `now`.
fn report(
    out: &mut Out,
    json: bool,
    before: &ScheduleStats<CheckpointInfo>,
    now: &ScheduleStats<CheckpointInfo>,
) -> std::io::Result<()> {
    if now.made > before.made
        && let Some(info) = &now.last
    {
        if json {
            out.json(&json!({
                "event": "checkpoint",
                "path": escape::path(&info.path),
                "seqno": info.seqno.get(),
                "bytes_total": info.bytes_total,
                "duration_us": u64::try_from(info.duration.as_micros()).unwrap_or(u64::MAX),
            }))?;
        } else {
            out.line(format_args!(
                "checkpoint {} at seqno {} ({}, {})",
                escape::path(&info.path),
                info.seqno,
                bytes(info.bytes_total),
                ms(info.duration)
            ))?;
        }
    }
    if now.skipped > before.skipped {
        match json {
            true => out.json(&json!({"event": "skipped", "reason": "nothing written since the last checkpoint"}))?,
            false => out.line("skipped: nothing written since the last checkpoint")?,
        }
    }
    if now.failures > before.failures {
        let error = now.last_error.as_deref().unwrap_or("unknown").replace(char::is_control, " ");
        match json {
            true => out.json(&json!({"event": "failed", "error": error, "retry": "at the next tick"}))?,
            false => out.line(format_args!("failed (retried at the next tick): {error}"))?,
        }
    }
    Ok(())
}
