//! `cairn checkpoint DB TARGET`: take a checkpoint and say what it cost.

use std::process::ExitCode;

use cairndb::CheckpointInfo;
use cairndb::checkpoint::{self, CheckpointOptions, CheckpointPrune};
use cairndb::fs::StdFs;
use serde_json::{Value, json};

use crate::args::{CheckpointArgs, CheckpointPruneArgs};
use crate::commands::open;
use crate::escape;
use crate::failure::{At as _, Failure};
use crate::interrupt;
use crate::output::{Out, bytes, files, ms};

/// Takes the checkpoint (flushing first unless `--no-flush`) and prints its `CheckpointInfo`.
pub fn run(args: &CheckpointArgs) -> Result<ExitCode, Failure> {
    let (Some(db_path), Some(target)) = (&args.db, &args.target) else {
        unreachable!("clap requires DB and TARGET unless a subcommand is given");
    };
    let into_folder = target.as_os_str().as_encoded_bytes().ends_with(b"/");
    if args.keep.is_some() && !into_folder {
        return Err(Failure::usage(format!(
            "--keep prunes a folder of checkpoints: give TARGET as a folder, ending in '/' (got {})",
            escape::path(target)
        )));
    }
    let db = open::writable(db_path, false)?;
    let options = CheckpointOptions::default().flush(!args.no_flush);
    let note = interrupt::staging_note(target);
    let info = match into_folder {
        true => db.checkpoint_into(target, options).at(db_path)?,
        false => db.checkpoint_with(target, options).at(db_path)?,
    };
    drop(note);
    let pruned = match args.keep {
        Some(keep) => Some(checkpoint::prune(&StdFs::new(), target, keep, None).at(target)?),
        None => None,
    };
    let mut out = Out::new();
    if args.json {
        let mut value = to_json(&info);
        if let Some(pruned) = &pruned {
            value["pruned"] = prune_json(pruned);
        }
        out.json(&value)?;
    } else {
        print_text(&mut out, &info)?;
        if let Some(pruned) = &pruned {
            print_prune(&mut out, pruned)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `cairn checkpoint prune DIR --keep N [--max-age AGE]`.
pub fn prune(args: &CheckpointPruneArgs) -> Result<ExitCode, Failure> {
    if args.keep == 0 {
        return Err(Failure::usage("--keep must be at least 1: prune never removes the newest checkpoint"));
    }
    let pruned = checkpoint::prune(&StdFs::new(), &args.dir, args.keep, args.max_age).at(&args.dir)?;
    let mut out = Out::new();
    if args.json {
        out.json(&prune_json(&pruned))?;
    } else {
        print_prune(&mut out, &pruned)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn print_prune(out: &mut Out, pruned: &CheckpointPrune) -> std::io::Result<()> {
    for removed in &pruned.removed {
        out.field("removed", format_args!("{} (seqno {})", escape::path(&removed.path), removed.description.seqno))?;
    }
    for refused in &pruned.refused {
        out.field("left alone", format_args!("{}: {}", escape::path(&refused.path), refused.reason))?;
    }
    out.field("kept", pruned.kept.len())?;
    if pruned.leftovers_removed > 0 {
        out.field("leftovers", format_args!("{} finished (interrupted work)", pruned.leftovers_removed))?;
    }
    Ok(())
}

fn prune_json(pruned: &CheckpointPrune) -> Value {
    json!({
        "removed": pruned.removed.iter().map(|r| json!({
            "path": escape::path(&r.path),
            "seqno": r.description.seqno.get(),
            "files": r.files,
            "bytes": r.bytes,
        })).collect::<Vec<_>>(),
        "kept": pruned.kept.iter().map(|p| escape::path(p)).collect::<Vec<_>>(),
        "refused": pruned.refused.iter().map(|r| json!({"path": escape::path(&r.path), "reason": r.reason})).collect::<Vec<_>>(),
        "leftovers_removed": pruned.leftovers_removed,
    })
}

/// The fields of `info`, one per line.
pub fn print_text(out: &mut Out, info: &CheckpointInfo) -> std::io::Result<()> {
    out.field("checkpoint", escape::path(&info.path))?;
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
        "path": escape::path(&info.path),
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
