//! `cairn backup list STORE [--database ID]`: the backups, newest first,
//! each with the database it holds.

use std::collections::HashSet;
use std::path::Path;
use std::process::ExitCode;

use cairndb::backup::{BackupListing, Manifest};
use serde_json::{Map, Value, json};

use super::store::{self, database_json, database_text};
use crate::args::BackupListArgs;
use crate::failure::{At as _, Failure};
use crate::output::{Out, bytes, utc};

/// Prints one line (or one JSON object) per backup; damaged ones are
/// marked, and the newest intact backup of each database `(latest)`: the
/// one `backup restore STORE latest` restores.
pub fn run(args: &BackupListArgs) -> Result<ExitCode, Failure> {
    let at = Path::new(&args.store.store);
    let engine = store::scoped_engine(&args.store, &args.database)?;
    let listed = engine.list().at(at)?;
    let mut seen = HashSet::new();
    let latest: Vec<bool> = listed
        .iter()
        .map(|l| l.problem.is_none() && l.manifest.as_ref().is_some_and(|m| seen.insert(m.database)))
        .collect();
    let mut out = Out::new();
    if args.store.json {
        out.json(&listed.iter().zip(&latest).map(|(l, &latest)| to_json(l, latest)).collect::<Vec<_>>())?;
    } else if listed.is_empty() {
        out.line(format_args!("no backups in {}", args.store.store))?;
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
    out.flush()?;
    Ok(ExitCode::SUCCESS)
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
        m.source.replace(char::is_control, " ")
    )
}

fn to_json(listing: &BackupListing, latest: bool) -> Value {
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
        ("source", json!(m.source)),
        ("seqno", json!(m.seqno.get())),
        ("version_id", json!(m.version_id.get())),
        ("files", json!(m.files.len())),
        ("bytes_total", json!(m.bytes_total())),
    ];
    object.extend(fields.map(|(name, value)| (name.to_owned(), value)));
    Value::Object(object)
}
