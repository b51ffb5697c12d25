//! `cairn backup list STORE [--database ID] [--archive]`: the backups,
//! newest first, each with the database it holds; then, per database with
//! archived log, what it makes restorable and its gaps.

use std::collections::HashSet;
use std::path::Path;
use std::process::ExitCode;

use cairndb::BackupId;
use cairndb::backup::{BackupListing, Manifest, RestorableRange, RestorableTimeline};
use serde_json::{Map, Value, json};

use super::store::{self, database_json, database_text};
use crate::args::BackupListArgs;
use crate::escape;
use crate::failure::{At as _, Failure};
use crate::output::{Out, bytes, count, utc};
use crate::time;

/// Prints one line (or one JSON object) per backup; damaged ones are
/// marked, and the newest intact backup of each database `(latest)`: the
/// one `backup restore STORE latest` restores.
pub fn run(args: &BackupListArgs) -> Result<ExitCode, Failure> {
    let at = Path::new(&args.store.store);
    let engine = store::scoped_engine(&args.store, &args.database)?;
    if args.archive {
        let timelines = engine.restorable().at(at)?;
        return list_archive(args, &timelines);
    }
    let listed = engine.list().at(at)?;
    // Read after the backups, so a damaged archive still lets them be listed.
    let timelines = engine.restorable();
    let mut seen = HashSet::new();
    let latest: Vec<bool> = listed
        .iter()
        .map(|l| l.problem.is_none() && l.manifest.as_ref().is_some_and(|m| seen.insert(m.database)))
        .collect();
    let mut out = Out::new();
    let ranges: Vec<&RestorableRange> = timelines.iter().flatten().flat_map(|t| &t.ranges).collect();
    if args.store.json {
        let json = listed.iter().zip(&latest).map(|(l, &latest)| to_json(l, latest, &ranges));
        out.json(&json.collect::<Vec<_>>())?;
    } else if listed.is_empty() {
        out.line(format_args!("no backups in {}", escape::show(args.store.store.as_bytes())))?;
    } else {
        out.line(format_args!(
            "{:>6}  {:<23}  {:>12}  {:>6}  {:>11}  {:<34}  source",
            "id", "created", "seqno", "files", "bytes", "database"
        ))?;
        for (listing, &latest) in listed.iter().zip(&latest) {
            let mark = if latest { " (latest)" } else { "" };
            match (&listing.manifest, &listing.problem) {
                (Some(m), None) => out.line(format_args!("{}{mark}", row(m)))?,
                (Some(m), Some(problem)) => {
                    out.line(format_args!("{}  DAMAGED: {}", row(m), problem.replace(char::is_control, " ")))?
                }
                (None, problem) => out.line(format_args!(
                    "{:>6}  DAMAGED: {}",
                    listing.id,
                    problem.as_deref().unwrap_or("unreadable").replace(char::is_control, " ")
                ))?,
            }
        }
    }
    let timelines = timelines.at(at)?;
    if !args.store.json {
        for timeline in timelines.iter().filter(|t| t.chunks > 0 || !t.gaps.is_empty()) {
            out.line("")?;
            timeline_text(&mut out, timeline)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `--archive`: the timelines alone.
fn list_archive(args: &BackupListArgs, timelines: &[RestorableTimeline]) -> Result<ExitCode, Failure> {
    let mut out = Out::new();
    if args.store.json {
        out.json(&timelines.iter().map(timeline_json).collect::<Vec<_>>())?;
    } else if timelines.is_empty() {
        out.line(format_args!("no backups or archived log in {}", escape::show(args.store.store.as_bytes())))?;
    } else {
        for (i, timeline) in timelines.iter().enumerate() {
            if i > 0 {
                out.line("")?;
            }
            timeline_text(&mut out, timeline)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A timeline's archive: a heading, its restorable ranges, and its gaps (loudly).
fn timeline_text(out: &mut Out, t: &RestorableTimeline) -> std::io::Result<()> {
    let archived = t.archived_to.map_or_else(String::new, |s| format!(", archived to seqno {s}"));
    out.line(format_args!(
        "database {}: {} of archived log ({}){archived}",
        t.timeline,
        count(t.chunks, "chunk"),
        bytes(t.chunk_bytes)
    ))?;
    for r in &t.ranges {
        out.line(format_args!(
            "  restorable  seqno {} ({}) to {} ({}), from backup {}{}",
            r.first_seqno,
            time::rfc3339(r.first_time),
            r.last_seqno,
            time::rfc3339(r.last_time),
            r.base,
            match r.bases.len() {
                1 => String::new(),
                _ => format!(" (bases {})", r.bases.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
            }
        ))?;
    }
    if t.ranges.is_empty() {
        out.line("  restorable  NOTHING: no base backup of this database; take one with `cairn backup create`")?;
    }
    for g in &t.gaps {
        out.line(format_args!(
            "  GAP         the writes after seqno {} up to {} are not archived: no restore crosses them",
            g.after, g.resume
        ))?;
    }
    Ok(())
}

fn range_json(r: &RestorableRange) -> Value {
    json!({
        "base": r.base.get(),
        "first_seqno": r.first_seqno.get(),
        "first_time": time::rfc3339(r.first_time),
        "last_seqno": r.last_seqno.get(),
        "last_time": time::rfc3339(r.last_time),
        "bases": r.bases.iter().map(|b| b.get()).collect::<Vec<_>>(),
    })
}

fn timeline_json(t: &RestorableTimeline) -> Value {
    json!({
        "database": t.timeline.to_string(),
        "ranges": t.ranges.iter().map(range_json).collect::<Vec<_>>(),
        "gaps": t.gaps.iter().map(|g| json!({"after": g.after.get(), "resume": g.resume.get()})).collect::<Vec<_>>(),
        "archived_to": t.archived_to.map(|s| s.get()),
        "chunks": t.chunks,
        "chunk_bytes": t.chunk_bytes,
    })
}

/// The range a backup is a base of, if any.
fn range_of<'a>(id: BackupId, ranges: &[&'a RestorableRange]) -> Option<&'a RestorableRange> {
    ranges.iter().copied().find(|r| r.bases.contains(&id))
}

fn row(m: &Manifest) -> String {
    format!(
        "{:>6}  {:<23}  {:>12}  {:>6}  {:>11}  {:<34}  {}",
        m.id,
        utc(m.created_unix_ms),
        m.seqno.get(),
        m.files.len(),
        bytes(m.bytes_total()),
        database_text(m.database),
        escape::show(m.source.as_bytes())
    )
}

fn to_json(listing: &BackupListing, latest: bool, ranges: &[&RestorableRange]) -> Value {
    let Some(m) = &listing.manifest else {
        let problem = listing.problem.as_deref().unwrap_or("unreadable");
        return json!({"id": listing.id.get(), "ok": false, "problem": problem});
    };
    let mut object = Map::new();
    object.insert("id".to_owned(), json!(listing.id.get()));
    object.insert("ok".to_owned(), json!(listing.problem.is_none()));
    if let Some(problem) = &listing.problem {
        object.insert("problem".to_owned(), json!(problem));
    }
    let fields = [
        ("database", database_json(m.database)),
        ("latest", json!(latest)),
        ("created_unix_ms", json!(m.created_unix_ms)),
        ("source", json!(escape::show(m.source.as_bytes()))),
        ("seqno", json!(m.seqno.get())),
        ("version_id", json!(m.version_id.get())),
        ("files", json!(m.files.len())),
        ("bytes_total", json!(m.bytes_total())),
        ("restorable", range_of(m.id, ranges).map_or(Value::Null, range_json)),
    ];
    object.extend(fields.map(|(name, value)| (name.to_owned(), value)));
    Value::Object(object)
}
