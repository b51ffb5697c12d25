//! `cairn backup archive DB STORE`: ship a database's log to a backup
//! store as it commits, until Ctrl-C (or, with `--once`, until what is
//! durable now is in the store), then print what was shipped.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use cairndb::backup::{ArchiveGap, ArchiveOptions, ArchiveStats, LogArchive};
use indicatif::ProgressBar;
use serde_json::{Value, json};

use super::store::{self, Access};
use crate::args::BackupArchiveArgs;
use crate::commands::open;
use crate::escape;
use crate::failure::{At as _, Failure};
use crate::interrupt;
use crate::output::{Out, bytes, count, ms};
use crate::progress;

/// How often the status is looked at (and an interruption noticed).
const TICK: Duration = Duration::from_millis(100);

/// How often a status line is printed when nobody watches a terminal
/// (only when something moved).
const UNATTENDED_STATUS_EVERY: Duration = Duration::from_secs(10);

/// Archives until interrupted (or once), then stops the archive (which
/// ships what is durable) and reports.
pub fn run(args: &BackupArchiveArgs) -> Result<ExitCode, Failure> {
    let started = Instant::now();
    let at = Path::new(&args.store.store);
    let db = open::writable(&args.db, false)?;
    let engine = store::engine(&args.store, Access::Create)?;
    let options = ArchiveOptions::default()
        .interval(Duration::from_millis(args.interval_ms))
        .max_unshipped_bytes(args.max_unshipped_bytes);
    let archive = engine.archive(&db, options).at(&args.db)?;
    let cooperation = interrupt::cooperate();
    let note = interrupt::say_on_interrupt(format!(
        "the archive was stopped before it shipped everything durable: `cairn backup archive {} {}` continues \
         where the store's archive ends",
        escape::path(&args.db),
        escape::show(args.store.store.as_bytes())
    ));
    if !args.once {
        watch(&archive);
    }
    let stats = archive.stop().at(at)?;
    drop(note);
    drop(cooperation);
    drop(db);
    report(args, &stats, started.elapsed())
}

/// Shows the status until a signal arrives or the archive stops for good.
fn watch(archive: &LogArchive) {
    let mut status = Status::new();
    while !interrupt::interrupted() {
        std::thread::sleep(TICK);
        let stats = archive.stats();
        status.show(&stats);
        if stats.stopped.is_some() {
            break;
        }
    }
    status.bar.finish_and_clear();
}

/// What the user has been told.
struct Status {
    bar: ProgressBar,
    attended: bool,
    gaps_told: usize,
    error_told: Option<String>,
    line_told: Option<(Instant, u64)>,
}

impl Status {
    fn new() -> Status {
        let attended = progress::attended();
        Status { bar: progress::status("archiving"), attended, gaps_told: 0, error_told: None, line_told: None }
    }

    /// Gaps and new errors at once, loudly; the rest on the status line
    /// (or, unattended, a line now and then while the archive moves).
    fn show(&mut self, stats: &ArchiveStats) {
        for gap in &stats.gaps[self.gaps_told.min(stats.gaps.len())..] {
            self.say(&format!("GAP: {}", gap_text(gap)));
        }
        self.gaps_told = stats.gaps.len();
        if stats.last_error != self.error_told {
            if let Some(e) = &stats.last_error {
                self.say(&format!("the store failed (retrying): {}", e.replace(char::is_control, " ")));
            }
            self.error_told.clone_from(&stats.last_error);
        }
        let line = status_text(stats);
        if self.attended {
            self.bar.set_message(line);
            return;
        }
        let due = self.line_told.is_none_or(|(when, seqno)| {
            when.elapsed() >= UNATTENDED_STATUS_EVERY && seqno != stats.shipped_seqno.get()
        });
        if due {
            self.say(&line);
            self.line_told = Some((Instant::now(), stats.shipped_seqno.get()));
        }
    }

    fn say(&self, line: &str) {
        if self.attended {
            self.bar.println(format!("cairn backup archive: {line}"));
        } else {
            let _ = writeln!(std::io::stderr().lock(), "cairn backup archive: {line}");
        }
    }
}

fn status_text(stats: &ArchiveStats) -> String {
    let lag = stats.last_lag.map_or_else(|| "-".to_owned(), ms);
    format!(
        "shipped to seqno {} of {} durable, {} unshipped; {} shipped in {}; lag {lag}",
        stats.shipped_seqno,
        stats.durable_seqno,
        bytes(stats.unshipped_bytes),
        bytes(stats.bytes_shipped),
        count(usize::try_from(stats.chunks_shipped).unwrap_or(usize::MAX), "chunk")
    )
}

fn gap_text(gap: &ArchiveGap) -> String {
    format!(
        "the writes after seqno {} up to {} ({}) are not archived: no restore crosses them; restores past them \
         need a backup taken after seqno {}",
        gap.after,
        gap.resume,
        bytes(gap.lost_bytes),
        gap.resume
    )
}

fn report(args: &BackupArchiveArgs, stats: &ArchiveStats, took: Duration) -> Result<ExitCode, Failure> {
    let mut out = Out::new();
    if args.store.json {
        out.json(&to_json(stats, took))?;
    } else {
        out.field(
            "archived",
            format_args!("{} to {}", escape::path(&args.db), escape::show(args.store.store.as_bytes())),
        )?;
        out.field("database", stats.timeline)?;
        out.field(
            "shipped",
            format_args!("every commit up to seqno {} (durable: {})", stats.shipped_seqno, stats.durable_seqno),
        )?;
        out.field(
            "this run",
            format_args!(
                "{} ({}), {} failed and retried",
                count(usize::try_from(stats.chunks_shipped).unwrap_or(usize::MAX), "chunk"),
                bytes(stats.bytes_shipped),
                stats.failures
            ),
        )?;
        if let Some(lag) = stats.last_lag {
            out.field(
                "lag",
                format_args!("{} (from the newest shipped commit being made to its being stored)", ms(lag)),
            )?;
        }
        for gap in &stats.gaps {
            out.field("GAP", gap_text(gap))?;
        }
        out.field("took", ms(took))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn to_json(stats: &ArchiveStats, took: Duration) -> Value {
    let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    let gaps = stats
        .gaps
        .iter()
        .map(|g| json!({"after": g.after.get(), "resume": g.resume.get(), "lost_bytes": g.lost_bytes}));
    json!({
        "database": stats.timeline.to_string(),
        "shipped_seqno": stats.shipped_seqno.get(),
        "durable_seqno": stats.durable_seqno.get(),
        "unshipped_bytes": stats.unshipped_bytes,
        "chunks_shipped": stats.chunks_shipped,
        "bytes_shipped": stats.bytes_shipped,
        "last_lag_us": stats.last_lag.map_or(Value::Null, |d| json!(micros(d))),
        "gaps": gaps.collect::<Vec<_>>(),
        "failures": stats.failures,
        "duration_us": micros(took),
    })
}
