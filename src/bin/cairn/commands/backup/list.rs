//! `cairn backup list STORE`: the backups, newest first.

use std::path::Path;
use std::process::ExitCode;

use cairndb::backup::{BackupListing, Manifest};

use super::store::{self, Access};
use crate::args::StoreArgs;
use crate::failure::{At as _, Failure};
use crate::json::{Json, Object};
use crate::output::{Out, bytes, utc};

/// Prints one line (or one JSON object) per backup.
pub fn run(args: &StoreArgs) -> Result<ExitCode, Failure> {
    let at = Path::new(&args.store);
    let engine = store::engine(args, Access::Existing)?;
    let listed = engine.list().at(at)?;
    let latest = engine.latest().ok().flatten();
    let mut out = Out::new();
    if args.json {
        out.json(&Json::array(listed.iter().map(to_json)))?;
    } else if listed.is_empty() {
        out.line(format_args!("no backups in {}", args.store))?;
    } else {
        out.line(format_args!(
            "{:>6}  {:<23}  {:>12}  {:>6}  {:>11}  source",
            "id", "created", "seqno", "files", "bytes"
        ))?;
        for listing in &listed {
            let mark = if Some(listing.id) == latest { " (latest)" } else { "" };
            match (&listing.manifest, &listing.problem) {
                (Some(m), _) => out.line(format_args!("{}{mark}", row(m)))?,
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
        "{:>6}  {:<23}  {:>12}  {:>6}  {:>11}  {}",
        m.id,
        utc(m.created_unix_ms),
        m.seqno.get(),
        m.files.len(),
        bytes(m.bytes_total()),
        m.source.replace(char::is_control, " ")
    )
}

fn to_json(listing: &BackupListing) -> Json {
    let object = Object::new().field("id", Json::num(listing.id));
    match (&listing.manifest, &listing.problem) {
        (Some(m), _) => object
            .field("ok", Json::bool(true))
            .field("created_unix_ms", Json::num(m.created_unix_ms))
            .field("source", Json::str(&m.source))
            .field("seqno", Json::num(m.seqno.get()))
            .field("version_id", Json::num(m.version_id))
            .field("files", Json::num(m.files.len() as u64))
            .field("bytes_total", Json::num(m.bytes_total()))
            .build(),
        (None, problem) => object
            .field("ok", Json::bool(false))
            .field("problem", Json::str(problem.as_deref().unwrap_or("unreadable")))
            .build(),
    }
}
