//! `cairn checkpoint delete PATH`: remove a checkpoint, and only a checkpoint.

use std::process::ExitCode;

use cairndb::checkpoint::{CheckpointState, DeletedCheckpoint, delete};
use cairndb::fs::StdFs;
use serde_json::{Map, Value, json};

use crate::args::PathArgs;
use crate::commands::list::description_json;
use crate::escape;
use crate::failure::{At as _, Failure};
use crate::output::{Out, bytes, count, utc};

/// Deletes through `checkpoint::delete`, which refuses a database, a
/// checkpoint in use or written to, and one holding foreign files.
pub fn run(args: &PathArgs) -> Result<ExitCode, Failure> {
    let deleted = delete(&StdFs::new(), &args.path).at(&args.path)?;
    let mut out = Out::new();
    if args.json {
        out.json(&to_json(&deleted))?;
    } else {
        let d = &deleted.description;
        out.field(
            "deleted",
            format_args!(
                "checkpoint {} (of {} at seqno {}, taken {})",
                escape::path(&deleted.path),
                escape::path(&d.source),
                d.seqno,
                utc(d.created_unix_ms)
            ),
        )?;
        out.field("removed", format_args!("{}, {}", count(deleted.files, "file"), bytes(deleted.bytes)))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn to_json(deleted: &DeletedCheckpoint) -> Value {
    json!({
        "path": escape::path(&deleted.path),
        "seqno": deleted.description.seqno.get(),
        "files": deleted.files,
        "bytes": deleted.bytes,
        // `checkpoint::delete` removes only checkpoints never opened for writing.
        "checkpoint": description_json(Map::new(), &deleted.description, &CheckpointState::AsTaken),
    })
}
