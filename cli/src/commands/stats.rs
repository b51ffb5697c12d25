//! `cairn stats DB`: the library's `DbStats`, every figure.

use std::process::ExitCode;

use cairndb::{DbStats, LevelStats};

use crate::args::DbArgs;
use crate::commands::open;
use crate::failure::Failure;
use crate::json::{Json, Object};
use crate::output::{Out, bytes, count};

/// Opens the database read-only and prints its stats.
pub fn run(args: &DbArgs) -> Result<ExitCode, Failure> {
    let stats = open::read_only(&args.db)?.stats();
    let mut out = Out::new();
    if args.json {
        out.json(&stats_json(Object::new().field("path", Json::path(&args.db)), &stats))?;
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
pub fn levels_json(levels: &[LevelStats]) -> Json {
    Json::array(levels.iter().enumerate().map(|(n, l)| {
        Object::new()
            .field("level", Json::num(n as u64))
            .field("tables", Json::num(l.tables as u64))
            .field("bytes", Json::num(l.bytes))
            .build()
    }))
}

/// The fields of `s` appended to `object`, named as in `DbStats`.
fn stats_json(object: Object, s: &DbStats) -> Json {
    object
        .field("seqno", Json::num(s.seqno.get()))
        .field("version_id", Json::num(s.version_id))
        .field("memtable_bytes", Json::num(s.memtable_bytes))
        .field("memtable_keys", Json::num(s.memtable_keys as u64))
        .field("frozen_memtables", Json::num(s.frozen_memtables as u64))
        .field("levels", levels_json(&s.levels))
        .field("blob_files", Json::num(s.blob_files as u64))
        .field("blob_bytes", Json::num(s.blob_bytes))
        .field("flushes", Json::num(s.flushes))
        .field("flush_bytes_written", Json::num(s.flush_bytes_written))
        .field("compactions", Json::num(s.compactions))
        .field("compaction_bytes_read", Json::num(s.compaction_bytes_read))
        .field("compaction_bytes_written", Json::num(s.compaction_bytes_written))
        .field("write_stalls", Json::num(s.write_stalls))
        .field("write_stall_micros", Json::num(s.write_stall_micros))
        .field("in_place_updates", Json::num(s.in_place_updates))
        .field("live_snapshots", Json::num(s.live_snapshots as u64))
        .field("files_deleted", Json::num(s.files_deleted))
        .field("poisoned", s.poisoned.as_deref().map_or_else(Json::null, Json::str))
        .build()
}
