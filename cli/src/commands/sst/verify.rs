//! `cairn sst verify FILE`: every checksum of one table or blob file.

use std::path::Path;
use std::process::ExitCode;

use serde_json::{Value, json};

use super::{SstFile, kind, open};
use crate::args::{SstKind, SstVerifyArgs};
use crate::escape;
use crate::failure::Failure;
use crate::output::{Out, count};

/// What verifying found.
struct Report {
    kind: SstKind,
    /// Entries (of a table) or records (of a blob file); `None` when the
    /// file could not be opened.
    entries: Option<u64>,
    /// Data blocks of a table.
    blocks: Option<u64>,
    /// The first damage, as (offset, what).
    damage: Option<(u64, String)>,
}

/// Opens and verifies the file; damage is reported on stdout and fails the
/// command with the library's line naming file and offset.
pub fn run(args: &SstVerifyArgs) -> Result<ExitCode, Failure> {
    let path = &args.file.file;
    let kind = kind(&args.file)?;
    let (report, error) = check(path, kind)?;
    let mut out = Out::new();
    if args.json {
        out.json(&to_json(path, &report))?;
    } else {
        print_text(&mut out, path, &report)?;
    }
    out.flush()?;
    match error {
        None => Ok(ExitCode::SUCCESS),
        Some(e) => Err(Failure::of(path, &e)),
    }
}

/// The report, and the corruption error when the file is damaged; any
/// other error (the file cannot be read at all) fails at once.
fn check(path: &Path, kind: SstKind) -> Result<(Report, Option<cairndb::Error>), Failure> {
    let mut report = Report { kind, entries: None, blocks: None, damage: None };
    let verified = open(path, kind).and_then(|file| match &file {
        SstFile::Table(table) => {
            report.entries = Some(table.meta().entry_count);
            report.blocks = Some(table.meta().data_block_count);
            table.verify()
        }
        SstFile::Blob(blobs) => {
            report.entries = Some(blobs.meta().record_count);
            blobs.verify()
        }
    });
    match verified {
        Ok(()) => Ok((report, None)),
        Err(e @ cairndb::Error::Corruption { .. }) => {
            if let cairndb::Error::Corruption { offset, what, .. } = &e {
                report.damage = Some((*offset, what.clone()));
            }
            Ok((report, Some(e)))
        }
        Err(e) => Err(Failure::of(path, &e)),
    }
}

fn print_text(out: &mut Out, path: &Path, r: &Report) -> std::io::Result<()> {
    out.field("verified", escape::path(path))?;
    let what = match (r.kind, r.entries, r.blocks) {
        (SstKind::Table, Some(n), Some(blocks)) => {
            let entries = if n == 1 { "entry" } else { "entries" };
            format!("table, {n} {entries} in {}", count(blocks as usize, "data block"))
        }
        (SstKind::Blob, Some(n), _) => format!("blob file, {}", count(n as usize, "record")),
        (SstKind::Table, ..) => "table (could not be opened)".to_owned(),
        (SstKind::Blob, ..) => "blob file (could not be opened)".to_owned(),
    };
    out.field("kind", what)?;
    match &r.damage {
        None => out.field("result", "ok: every checksum matches"),
        Some((offset, what)) => {
            out.field("result", format_args!("DAMAGED at offset {offset}: {}", what.replace(char::is_control, " ")))
        }
    }
}

fn to_json(path: &Path, r: &Report) -> Value {
    let kind = match r.kind {
        SstKind::Table => "table",
        SstKind::Blob => "blob",
    };
    let damage = r.damage.as_ref().map(|(offset, what)| json!({"offset": *offset, "what": what}));
    json!({
        "path": escape::path(path),
        "kind": kind,
        "ok": r.damage.is_none(),
        "entries": r.entries,
        "data_blocks": r.blocks,
        "damage": damage,
    })
}
