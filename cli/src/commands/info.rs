//! `cairn info`: what a database (or checkpoint) is made of.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cairndb::checkpoint::{CheckpointDescription, CheckpointState, describe};
use cairndb::fs::StdFs;
use cairndb::{DbIdentity, DbStats, LogAddress};
use serde_json::{Map, Value, json};

use crate::args::PathArgs;
use crate::commands::list::{description_json, state_text};
use crate::commands::open;
use crate::escape;
use crate::failure::{At as _, Failure};
use crate::output::{Out, bytes, count, files, utc};

/// One log segment file on disk.
struct Segment {
    number: u64,
    /// Log address of its first byte (None when the header is unreadable).
    start: Option<LogAddress>,
    bytes: u64,
}

/// Everything `info` shows.
struct Summary {
    path: PathBuf,
    stats: DbStats,
    table_seqno: u64,
    identity: Option<DbIdentity>,
    /// A checkpoint or restore not yet opened for writing.
    fork_pending: bool,
    log_start: LogAddress,
    segments: Vec<Segment>,
    /// Present when the directory is a checkpoint: its description, and
    /// whether it was written since.
    checkpoint: Option<(CheckpointDescription, CheckpointState)>,
}

/// Prints the summary as text or JSON.
pub fn run(args: &PathArgs) -> Result<ExitCode, Failure> {
    let summary = summarize(&args.path)?;
    let mut out = Out::new();
    if args.json {
        out.json(&to_json(&summary))?;
    } else {
        print_text(&mut out, &summary)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn summarize(path: &Path) -> Result<Summary, Failure> {
    let db = open::read_only(path)?;
    let info = db.info().at(path)?;
    let description = describe(&StdFs::new(), path).at(path)?;
    Ok(Summary {
        path: path.to_path_buf(),
        stats: db.stats(),
        table_seqno: info.tables_seqno.get(),
        identity: info.identity,
        fork_pending: info.fork_pending,
        log_start: info.log_start,
        segments: info
            .log_segments
            .iter()
            .map(|g| Segment { number: g.number, start: g.start, bytes: g.len_bytes })
            .collect(),
        checkpoint: description.map(|d| {
            let state = CheckpointState::of(&d, &db);
            (d, state)
        }),
    })
}

fn print_text(out: &mut Out, s: &Summary) -> std::io::Result<()> {
    out.field("path", escape::path(&s.path))?;
    out.field("database", identity_text(s))?;
    out.field("version", format_args!("v{}", s.stats.version_id))?;
    out.field("seqno", format_args!("{} (tables hold writes up to {})", s.stats.seqno, s.table_seqno))?;
    let mut levels = s.stats.levels.iter().enumerate().filter(|(_, l)| l.tables > 0).peekable();
    if levels.peek().is_none() {
        out.field("levels", "no tables")?;
    }
    for (n, level) in levels {
        out.field(&format!("level {n}"), format_args!("{}, {}", count(level.tables, "table"), bytes(level.bytes)))?;
    }
    out.field("blob files", format_args!("{}, {}", s.stats.blob_files, bytes(s.stats.blob_bytes)))?;
    out.field("log", log_text(s))?;
    out.field(
        "memtable",
        format_args!("{}, {} of records", count(s.stats.memtable_keys, "key"), bytes(s.stats.memtable_bytes)),
    )?;
    out.field("checkpoint", checkpoint_text(s.checkpoint.as_ref()))
}

fn identity_text(s: &Summary) -> String {
    match (s.identity, s.fork_pending) {
        (None, _) => "no identity yet (made before identities; the first writable open assigns one)".to_owned(),
        (Some(id), false) => id.to_string(),
        (Some(id), true) => {
            let generation = id.generation + 1;
            format!("{id} (a copy: opened for writing, it starts a timeline of its own, generation {generation})")
        }
    }
}

fn checkpoint_text(checkpoint: Option<&(CheckpointDescription, CheckpointState)>) -> String {
    match checkpoint {
        None => "no (a database, not a checkpoint)".to_owned(),
        Some((d, state)) => format!(
            "yes: of {}, taken at seqno {}, {}; {}, {}; {}",
            escape::path(&d.source),
            d.seqno,
            utc(d.created_unix_ms),
            files(d.table_files, d.blob_files, d.log_segments),
            bytes(d.bytes_total),
            state_text(d, state, true)
        ),
    }
}

fn log_text(s: &Summary) -> String {
    let total: u64 = s.segments.iter().map(|g| g.bytes).sum();
    match (s.segments.first(), s.segments.last()) {
        (Some(first), Some(last)) => format!(
            "replays from address {}; segments {}..={} ({}, {} on disk)",
            s.log_start,
            first.number,
            last.number,
            count(s.segments.len(), "file"),
            bytes(total)
        ),
        _ => format!("replays from address {}; no segments", s.log_start),
    }
}

fn to_json(s: &Summary) -> Value {
    let levels =
        s.stats.levels.iter().enumerate().map(|(n, l)| json!({"level": n, "tables": l.tables, "bytes": l.bytes}));
    let segments = s
        .segments
        .iter()
        .map(|g| json!({"number": g.number, "start_address": g.start.map(|a| a.get()), "bytes": g.bytes}));
    json!({
        "path": escape::path(&s.path),
        "database": s.identity.map(|id| id.to_string()),
        "fork_pending": s.fork_pending,
        "version_id": s.stats.version_id.get(),
        "seqno": s.stats.seqno.get(),
        "table_seqno": s.table_seqno,
        "levels": levels.collect::<Vec<_>>(),
        "blob_files": s.stats.blob_files,
        "blob_bytes": s.stats.blob_bytes,
        "log": json!({"start_address": s.log_start.get(), "segments": segments.collect::<Vec<_>>()}),
        "memtable_bytes": s.stats.memtable_bytes,
        "memtable_keys": s.stats.memtable_keys,
        "checkpoint": s.checkpoint.as_ref().map(|(d, state)| description_json(Map::new(), d, state)),
    })
}
