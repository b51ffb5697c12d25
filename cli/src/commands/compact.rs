//! `cairn compact DB`: a full manual compaction, and what it changed.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use cairndb::DbStats;
use serde_json::{Value, json};

use crate::args::DbArgs;
use crate::commands::open;
use crate::commands::stats::{levels_json, print_levels};
use crate::escape;
use crate::failure::{At as _, Failure};
use crate::output::{Out, bytes, count, ms};

/// Runs `Db::compact` (flush, then one sorted run at the deepest level in
/// use, then whatever became due) and prints the tables before and after.
pub fn run(args: &DbArgs) -> Result<ExitCode, Failure> {
    let db = open::writable(&args.db, false)?;
    let before = db.stats();
    let started = Instant::now();
    db.compact().at(&args.db)?;
    let took = started.elapsed();
    let after = db.stats();
    let mut out = Out::new();
    if args.json {
        out.json(&to_json(args, &before, &after, took))?;
    } else {
        out.field("compacted", escape::path(&args.db))?;
        out.field("before", shape(&before))?;
        out.field("after", shape(&after))?;
        print_levels(&mut out, &after.levels)?;
        out.field("took", ms(took))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `3 tables in levels 0, 1: 1.20 MiB; 0 blob files` (memtable included
/// before, since compaction flushes it).
fn shape(s: &DbStats) -> String {
    let populated: Vec<String> =
        s.levels.iter().enumerate().filter(|(_, l)| l.tables > 0).map(|(n, _)| n.to_string()).collect();
    let tables: usize = s.levels.iter().map(|l| l.tables).sum();
    let table_bytes: u64 = s.levels.iter().map(|l| l.bytes).sum();
    let place = match populated.len() {
        0 => String::new(),
        1 => format!(" in level {}", populated[0]),
        _ => format!(" in levels {}", populated.join(", ")),
    };
    format!("{}{place}: {}; {}", count(tables, "table"), bytes(table_bytes), count(s.blob_files, "blob file"))
}

fn side_json(s: &DbStats) -> Value {
    json!({
        "levels": levels_json(&s.levels),
        "blob_files": s.blob_files,
        "blob_bytes": s.blob_bytes,
    })
}

fn to_json(args: &DbArgs, before: &DbStats, after: &DbStats, took: Duration) -> Value {
    json!({
        "path": escape::path(&args.db),
        "before": side_json(before),
        "after": side_json(after),
        "compaction_bytes_read": after.compaction_bytes_read,
        "compaction_bytes_written": after.compaction_bytes_written,
        "duration_us": u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
    })
}
