//! `cairn list DIR`: the checkpoints in a directory, newest first.

use std::process::ExitCode;

use cairndb::checkpoint::{CheckpointDescription, CheckpointListing, list};
use cairndb::fs::StdFs;

use crate::args::PathArgs;
use crate::failure::{At as _, Failure};
use crate::json::{Json, Object};
use crate::output::{Out, bytes, utc};

/// Prints one line (or one JSON object) per checkpoint.
pub fn run(args: &PathArgs) -> Result<ExitCode, Failure> {
    let found = list(&StdFs::new(), &args.path).at(&args.path)?;
    let mut out = Out::new();
    if args.json {
        out.json(&Json::array(found.iter().map(to_json)))?;
    } else if found.is_empty() {
        out.line(format_args!("no checkpoints in {}", args.path.display()))?;
    } else {
        out.line(format_args!("{:<23}  {:>12}  {:>6}  {:>11}  path", "created", "seqno", "files", "bytes"))?;
        for listing in &found {
            let d = &listing.description;
            let files = d.table_files + d.blob_files + d.log_segments;
            let (created, seqno, size) = (utc(d.created_unix_ms), d.seqno.get(), bytes(d.bytes_total));
            out.line(format_args!("{created:<23}  {seqno:>12}  {files:>6}  {size:>11}  {}", listing.path.display()))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn to_json(listing: &CheckpointListing) -> Json {
    description_json(Object::new().field("path", Json::path(&listing.path)), &listing.description)
}

/// The description's fields appended to `object`.
pub fn description_json(object: Object, d: &CheckpointDescription) -> Json {
    object
        .field("source", Json::path(&d.source))
        .field("database", d.database.map_or_else(Json::null, |id| Json::str(&id.to_string())))
        .field("seqno", Json::num(d.seqno.get()))
        .field("version_id", Json::num(d.version_id))
        .field("created_unix_ms", Json::num(d.created_unix_ms))
        .field("table_files", Json::num(d.table_files as u64))
        .field("blob_files", Json::num(d.blob_files as u64))
        .field("log_segments", Json::num(d.log_segments as u64))
        .field("bytes_total", Json::num(d.bytes_total))
        .field("format_version", Json::num(d.format_version))
        .build()
}
