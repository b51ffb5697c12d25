//! `cairn backup verify STORE ID|latest [--database ID]`: every file of a
//! backup, read and checked.

use std::path::Path;
use std::process::ExitCode;

use cairndb::backup::BackupVerifyReport;
use serde_json::{Value, json};

use super::store::{self, advance};
use crate::args::{BackupVerifyArgs, WhichBackup};
use crate::escape;
use crate::failure::{At as _, Failure};
use crate::output::{Out, bytes, count};

/// Verifies with a progress bar; damage is listed and fails the command.
pub fn run(args: &BackupVerifyArgs) -> Result<ExitCode, Failure> {
    let at = Path::new(&args.store.store);
    let engine = store::scoped_engine(&args.store, &args.database)?;
    let id = match args.id {
        WhichBackup::Id(id) => id,
        WhichBackup::LatestValid => {
            engine.latest().at(at)?.ok_or_else(|| Failure::at(at, "there are no backups of the database"))?
        }
    };
    let bar = store::bar("verifying");
    let report = engine.verify_with_progress(id, &mut |p| advance(&bar, p));
    bar.finish_and_clear();
    let report = report.at(at)?;
    let mut out = Out::new();
    if args.store.json {
        out.json(&to_json(&report))?;
    } else {
        out.field("verified", format_args!("backup {id} in {}", escape::show(args.store.store.as_bytes())))?;
        out.field("checked", format_args!("{}: {}", count(report.files_checked, "file"), bytes(report.bytes_checked)))?;
        if report.is_ok() {
            out.field("result", "ok: every file is there with its checksum")?;
        } else {
            out.field("result", format_args!("DAMAGED: {}", count(report.problems.len(), "problem")))?;
            for p in &report.problems {
                out.line(format_args!("  {}: {} ({})", p.name, p.what, p.location))?;
            }
        }
    }
    out.flush()?;
    match report.problems.len() {
        0 => Ok(ExitCode::SUCCESS),
        n => Err(Failure::at(at, format!("backup {id} is damaged: {} found", count(n, "problem")))),
    }
}

fn to_json(report: &BackupVerifyReport) -> Value {
    let problems = report.problems.iter().map(|p| json!({"name": &p.name, "location": &p.location, "what": &p.what}));
    json!({
        "id": report.id.get(),
        "ok": report.is_ok(),
        "files_checked": report.files_checked,
        "bytes_checked": report.bytes_checked,
        "problems": problems.collect::<Vec<_>>(),
    })
}
