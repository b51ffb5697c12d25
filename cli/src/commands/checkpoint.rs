//! `cairn checkpoint DB TARGET`: take a checkpoint and say what it cost.

use std::process::ExitCode;

use cairndb::CheckpointInfo;
use cairndb::checkpoint::CheckpointOptions;
use serde_json::{Value, json};

use crate::args::CheckpointArgs;
use crate::commands::open;
use crate::failure::{At as _, Failure};
use crate::interrupt;
use crate::output::{Out, bytes, files, ms};

/// Takes the checkpoint (flushing first unless `--no-flush`) and prints its `CheckpointInfo`.
pub fn run(args: &CheckpointArgs) -> Result<ExitCode, Failure> {
    let (Some(db_path), Some(target)) = (&args.db, &args.target) else {
        unreachable!("clap requires DB and TARGET unless a subcommand is given");
    };
    let db = open::writable(db_path, false)?;
    let options = CheckpointOptions::default().flush(!args.no_flush);
    let note = interrupt::staging_note(target);
    let info = db.checkpoint_with(target, options).at(db_path)?;
    drop(note);
    let mut out = Out::new();
    if args.json {
        out.json(&to_json(&info))?;
    } else {
        print_text(&mut out, &info)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The fields of `info`, one per line.
pub fn print_text(out: &mut Out, info: &CheckpointInfo) -> std::io::Result<()> {
    out.field("checkpoint", info.path.display())?;
    out.field("seqno", format_args!("{} (every write up to it, none after)", info.seqno))?;
    out.field("version", format_args!("v{}", info.version_id))?;
    out.field("files", files(info.table_files, info.blob_files, info.log_segments))?;
    out.field("bytes", format_args!("{} ({} copied)", bytes(info.bytes_total), bytes(info.bytes_copied)))?;
    out.field("made by", how(info))?;
    out.field("took", ms(info.duration))
}

/// `3 reflinked, 0 hard-linked, 1 copied`.
pub fn how(info: &CheckpointInfo) -> String {
    format!("{} reflinked, {} hard-linked, {} copied", info.reflinked, info.hard_linked, info.copied)
}

fn to_json(info: &CheckpointInfo) -> Value {
    json!({
        "path": info.path.to_string_lossy(),
        "seqno": info.seqno.get(),
        "version_id": info.version_id.get(),
        "table_files": info.table_files,
        "blob_files": info.blob_files,
        "log_segments": info.log_segments,
        "bytes_total": info.bytes_total,
        "bytes_copied": info.bytes_copied,
        "reflinked": info.reflinked,
        "hard_linked": info.hard_linked,
        "copied": info.copied,
        "duration_us": u64::try_from(info.duration.as_micros()).unwrap_or(u64::MAX),
    })
}
