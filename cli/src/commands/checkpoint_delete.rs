//! `cairn checkpoint delete PATH`: remove a checkpoint, and only a checkpoint.

use std::process::ExitCode;

use cairndb::checkpoint::{CheckpointState, DeletedCheckpoint, delete};
use cairndb::fs::StdFs;

use crate::args::PathArgs;
use crate::commands::list::description_json;
use crate::failure::{At as _, Failure};
use crate::json::{Json, Object};
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
                deleted.path.display(),
                d.source.display(),
                d.seqno,
                utc(d.created_unix_ms)
            ),
        )?;
        out.field("removed", format_args!("{}, {}", count(deleted.files, "file"), bytes(deleted.bytes)))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn to_json(deleted: &DeletedCheckpoint) -> Json {
    Object::new()
        .field("path", Json::path(&deleted.path))
        .field("seqno", Json::num(deleted.description.seqno.get()))
        .field("files", Json::num(deleted.files as u64))
        .field("bytes", Json::num(deleted.bytes))
        // `checkpoint::delete` removes only checkpoints never opened for writing.
        .field("checkpoint", description_json(Object::new(), &deleted.description, &CheckpointState::AsTaken))
        .build()
}
