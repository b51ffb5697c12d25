//! `cairn sst dump|verify FILE`: one table or blob file, on its own.

mod dump;
mod verify;

use std::path::Path;
use std::process::ExitCode;

use cairndb::fs::StdFs;
use cairndb::inspect::{BlobFile, TableFile};

use crate::args::{SstArgs, SstCommand, SstFileArgs, SstKind};
use crate::escape;
use crate::failure::Failure;

/// Runs one `cairn sst` subcommand.
pub fn run(args: &SstArgs) -> Result<ExitCode, Failure> {
    match &args.command {
        SstCommand::Dump(a) => dump::run(a),
        SstCommand::Verify(a) => verify::run(a),
    }
}

/// The subcommand's name for error lines.
pub fn name(args: &SstArgs) -> &'static str {
    match args.command {
        SstCommand::Dump(_) => "sst dump",
        SstCommand::Verify(_) => "sst verify",
    }
}

/// An open table or blob file.
enum SstFile {
    Table(TableFile),
    Blob(BlobFile),
}

/// What the file is: `--kind`, or what its name says; a usage error when
/// neither tells.
fn kind(args: &SstFileArgs) -> Result<SstKind, Failure> {
    let from_name = match args.file.extension().and_then(|e| e.to_str()) {
        Some("sst") => Some(SstKind::Table),
        Some("blob") => Some(SstKind::Blob),
        _ => None,
    };
    args.kind.or(from_name).ok_or_else(|| {
        Failure::usage(format!(
            "cannot tell from its name whether {} is a table (.sst) or a blob file (.blob): pass --kind table \
             or --kind blob",
            escape::path(&args.file)
        ))
    })
}

/// Opens the file as `kind`, which verifies its footer (and a table's
/// index, filter and meta block).
fn open(path: &Path, kind: SstKind) -> cairndb::Result<SstFile> {
    let fs = StdFs::new();
    match kind {
        SstKind::Table => TableFile::open(&fs, path).map(SstFile::Table),
        SstKind::Blob => BlobFile::open(&fs, path).map(SstFile::Blob),
    }
}
