//! `cairn stats DB`: the library's `DbStats`, every figure.

use std::path::Path;
use std::process::ExitCode;

use cairndb::{DbStats, LevelStats};
use serde_json::{Value, json};

use crate::args::DbArgs;
use crate::commands::open;
use crate::escape;
use crate::failure::Failure;
use crate::output::{Out, bytes, count};

/// Opens the database read-only and prints its stats.
pub fn run(args: &DbArgs) -> Result<ExitCode, Failure> {
    let stats = open::read_only(&args.db)?.stats();
    let mut out = Out::new();
    if args.json {
        out.json(&stats_json(&args.db, &stats))?;
    } else {
        print_text(&mut out, &stats)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn print_text(out: &mut Out, s: &DbStats) -> std::io::Result<()> {
    out.field("seqno", s.seqno)?;
    out.field("version", format_args!("v{}", s.version_id))?;
    out.field(
        "memtable",
        format_args!(
            "{}, {} of records; {} waiting to be flushed",
            count(s.memtable_keys, "key"),
            bytes(s.memtable_bytes),
            count(s.frozen_memtables, "frozen memtable")
        ),
    )?;
    print_levels(out, &s.levels)?;
    out.field("blob files", format_args!("{}, {}", s.blob_files, bytes(s.blob_bytes)))?;
    out.field("open files", format_args!("{} tables and blob files, at most {}", s.open_files, s.max_open_files))?;
    out.line("since open (this process's work; a read-only open does none):")?;
    out.field("flushes", format_args!("{}, {} written", s.flushes, bytes(s.flush_bytes_written)))?;
    out.field(
        "compactions",
        format_args!(
            "{}, {} read, {} written",
            s.compactions,
            bytes(s.compaction_bytes_read),
            bytes(s.compaction_bytes_written)
        ),
    )?;
    out.field("write stalls", format_args!("{}, {} µs stalled", s.write_stalls, s.write_stall_micros))?;
    out.field("in place", format_args!("{} overwrites done in the memtable", s.in_place_updates))?;
    out.field("snapshots", format_args!("{} live", s.live_snapshots))?;
    out.field("deleted", count(s.files_deleted as usize, "obsolete file"))?;
    out.field("poisoned", s.poisoned.as_deref().unwrap_or("no (writes are accepted)"))
}

/// `level N   T tables, B` for each level holding tables, or `no tables`.
pub fn print_levels(out: &mut Out, levels: &[LevelStats]) -> std::io::Result<()> {
    let mut populated = levels.iter().enumerate().filter(|(_, l)| l.tables > 0).peekable();
    if populated.peek().is_none() {
        return out.field("levels", "no tables");
    }
    for (n, level) in populated {
        out.field(&format!("level {n}"), format_args!("{}, {}", count(level.tables, "table"), bytes(level.bytes)))?;
    }
    Ok(())
}

/// Every level, from 0, as `[{"level", "tables", "bytes"}]`.
pub fn levels_json(levels: &[LevelStats]) -> Value {
    let levels = levels.iter().enumerate();
    Value::Array(levels.map(|(n, l)| json!({"level": n, "tables": l.tables, "bytes": l.bytes})).collect())
}

/// The database at `path` and the fields of `s`, named as in `DbStats`.
fn stats_json(path: &Path, s: &DbStats) -> Value {
    json!({
        "path": escape::path(path),
        "seqno": s.seqno.get(),
        "version_id": s.version_id.get(),
        "memtable_bytes": s.memtable_bytes,
        "memtable_keys": s.memtable_keys,
        "frozen_memtables": s.frozen_memtables,
        "levels": levels_json(&s.levels),
        "blob_files": s.blob_files,
        "blob_bytes": s.blob_bytes,
        "open_files": s.open_files,
        "max_open_files": s.max_open_files,
        "flushes": s.flushes,
        "flush_bytes_written": s.flush_bytes_written,
        "compactions": s.compactions,
        "compaction_bytes_read": s.compaction_bytes_read,
        "compaction_bytes_written": s.compaction_bytes_written,
        "write_stalls": s.write_stalls,
        "write_stall_micros": s.write_stall_micros,
        "in_place_updates": s.in_place_updates,
        "live_snapshots": s.live_snapshots,
        "files_deleted": s.files_deleted,
        "poisoned": s.poisoned.as_deref(),
    })
}
