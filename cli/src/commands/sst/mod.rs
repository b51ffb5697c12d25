//! `cairn sst dump|verify FILE`: one table or blob file, on its own.

mod dump;
mod verify;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use cairndb::TableId;
use cairndb::blob::BlobFile;
use cairndb::fs::StdFs;
use cairndb::table::{BlockCache, Table};
use cairndb::version::FileName;

use crate::args::{SstArgs, SstCommand, SstFileArgs, SstKind};
use crate::failure::Failure;

/// Blocks are read once each: the cache only has to hold the one in use.
const BLOCK_CACHE_BYTES: usize = 1 << 20;

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
    Table(Table),
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
            args.file.display()
        ))
    })
}

/// Opens the file as `kind`, which verifies its footer (and a table's
/// index, filter and meta block).
fn open(path: &Path, kind: SstKind) -> cairndb::Result<SstFile> {
    let fs = StdFs::new();
    match kind {
        SstKind::Table => {
            Table::open(&fs, path, table_id(path), Arc::new(BlockCache::new(BLOCK_CACHE_BYTES))).map(SstFile::Table)
        }
        SstKind::Blob => BlobFile::open_as_found(&fs, path).map(SstFile::Blob),
    }
}

/// The id a database's name for the table gives, or 0 for another name
/// (a table does not record its own id).
fn table_id(path: &Path) -> TableId {
    match path.file_name().and_then(|n| n.to_str()).and_then(FileName::parse_table) {
        Some(FileName::Table(id)) => id,
        _ => TableId(0),
    }
}
