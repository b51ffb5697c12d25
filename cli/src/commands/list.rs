//! `cairn list DIR`: the checkpoints in a directory, newest first.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use cairndb::checkpoint::{
    CheckpointDescription, CheckpointListing, CheckpointState, latest_valid, leftovers, list, state,
};
use cairndb::fs::{Fs, StdFs};
use serde_json::{Map, Value, json};

use crate::args::PathArgs;
use crate::commands::gc::staging_dirs;
use crate::escape;
use crate::failure::{At as _, Failure};
use crate::output::{Out, bytes, utc};

/// Prints one line (or one JSON object) per checkpoint.
pub fn run(args: &PathArgs) -> Result<ExitCode, Failure> {
    let fs: Arc<dyn Fs> = Arc::new(StdFs::new());
    let found = list(&*fs, &args.path).at(&args.path)?;
    let mut states = Vec::with_capacity(found.len());
    for listing in &found {
        states.push(state(Arc::clone(&fs), &listing.path, &listing.description).at(&listing.path)?);
    }
    // The newest one that verifies: what to open after a disaster.
    let valid = if found.is_empty() { None } else { latest_valid(&fs, &args.path).at(&args.path)?.found };
    let is_valid = |l: &CheckpointListing| valid.as_ref().is_some_and(|v| v.path == l.path);
    let mut out = Out::new();
    if args.json {
        let rows = found.iter().zip(&states).map(|(l, state)| {
            let mut row = to_json(l, state);
            row["newest_valid"] = json!(is_valid(l));
            row
        });
        out.json(&rows.collect::<Vec<_>>())?;
    } else if found.is_empty() {
        out.line(format_args!("no checkpoints in {}", escape::path(&args.path)))?;
    } else {
        out.line(format_args!(
            "{:<23}  {:>12}  {:>6}  {:>11}  {:<26}  path",
            "created", "seqno", "files", "bytes", "state"
        ))?;
        for (listing, state) in found.iter().zip(&states) {
            let d = &listing.description;
            let files = d.table_files + d.blob_files + d.log_segments;
            let (created, seqno, size) = (utc(d.created_unix_ms), d.seqno.get(), bytes(d.bytes_total));
            let mut state = state_text(d, state, false);
            if is_valid(listing) {
                state.push_str(", newest valid");
            }
            out.line(format_args!(
                "{created:<23}  {seqno:>12}  {files:>6}  {size:>11}  {state:<26}  {}",
                escape::path(&listing.path)
            ))?;
        }
        if valid.is_none() {
            out.line("none of them verifies: `cairn verify PATH` says what is wrong with each")?;
        }
    }
    if !args.json {
        mention_leftovers(&mut out, &*fs, &args.path)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// One line on the staging directories in `dir`, if any: the leftovers of
/// killed checkpoints and restores (or ones under way), for `cairn gc`.
/// Looking locks nothing; a folder that cannot be looked into says nothing.
fn mention_leftovers(out: &mut Out, fs: &dyn Fs, dir: &Path) -> std::io::Result<()> {
    let found = match leftovers(fs, dir) {
        Ok(found) => found,
        Err(e) => {
            log::warn!("could not look for staging leftovers in {}: {e}", escape::path(dir));
            return Ok(());
        }
    };
    if found.is_empty() {
        return Ok(());
    }
    let total: u64 = found.iter().map(|l| l.bytes).sum();
    out.field(
        "staging",
        format_args!(
            "{}, {}: leftovers of killed checkpoints or restores, or ones under way; `cairn gc {}` removes \
             those no process holds",
            staging_dirs(found.len()),
            bytes(total),
            escape::path(dir)
        ),
    )
}

fn to_json(listing: &CheckpointListing, state: &CheckpointState) -> Value {
    let mut object = Map::new();
    object.insert("path".to_owned(), json!(escape::path(&listing.path)));
    description_json(object, &listing.description, state)
}

/// Whether a checkpoint was written since it was taken; `long` names the
/// database it continued as.
pub fn state_text(d: &CheckpointDescription, state: &CheckpointState, long: bool) -> String {
    let CheckpointState::Continued { seqno, database } = state else { return "as taken".to_owned() };
    let what = match state.written_since(d) {
        0 => "opened for writing since (nothing written yet)".to_owned(),
        _ if long => format!("written since: at seqno {seqno}"),
        _ => format!("written since (at seqno {seqno})"),
    };
    match long {
        true => {
            let database = database.map_or_else(|| "unknown".to_owned(), |id| id.to_string());
            format!("{what} as database {database} (a timeline of its own)")
        }
        false => what,
    }
}

fn state_json(d: &CheckpointDescription, state: &CheckpointState) -> Value {
    let (opened, seqno, database) = match state {
        CheckpointState::AsTaken => (false, d.seqno, d.database),
        CheckpointState::Continued { seqno, database } => (true, *seqno, *database),
    };
    json!({
        "opened_for_writing": opened,
        "written_since": state.written_since(d) > 0,
        "seqno": seqno.get(),
        "database": database.map(|id| id.to_string()),
    })
}

/// The description's fields and the checkpoint's state appended to `object`.
pub fn description_json(mut object: Map<String, Value>, d: &CheckpointDescription, state: &CheckpointState) -> Value {
    let fields = [
        ("source", json!(escape::path(&d.source))),
        ("database", json!(d.database.map(|id| id.to_string()))),
        ("seqno", json!(d.seqno.get())),
        ("version_id", json!(d.version_id.get())),
        ("created_unix_ms", json!(d.created_unix_ms)),
        ("table_files", json!(d.table_files)),
        ("blob_files", json!(d.blob_files)),
        ("log_segments", json!(d.log_segments)),
        ("bytes_total", json!(d.bytes_total)),
        ("format_version", json!(d.format_version)),
        ("state", state_json(d, state)),
    ];
    object.extend(fields.map(|(name, value)| (name.to_owned(), value)));
    Value::Object(object)
}
