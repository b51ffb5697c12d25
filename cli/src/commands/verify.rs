//! `cairn verify PATH`: every checksum of a database or checkpoint.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use cairndb::checkpoint::{Problem, VerifyReport, verify_with_progress};
use cairndb::fs::{Fs, StdFs};
use serde_json::{Value, json};

use crate::args::PathArgs;
use crate::escape;
use crate::failure::{At as _, Failure};
use crate::output::{Out, bytes, count, files};
use crate::progress::{self, Unit};

/// Verifies with a progress bar over bytes; damage is listed on stdout and
/// fails the command.
pub fn run(args: &PathArgs) -> Result<ExitCode, Failure> {
    let report = check(&args.path)?;
    let mut out = Out::new();
    if args.json {
        out.json(&to_json(&args.path, &report))?;
    } else {
        print_text(&mut out, &args.path, &report)?;
    }
    out.flush()?;
    match report.problems.len() {
        0 => Ok(ExitCode::SUCCESS),
        n => Err(Failure::at(&args.path, format!("damaged: {} found", count(n, "problem")))),
    }
}

/// Runs the verification, drawing a bar while it reads.
pub fn check(path: &Path) -> Result<VerifyReport, Failure> {
    let fs: Arc<dyn Fs> = Arc::new(StdFs::new());
    let bar = progress::pending(Unit::Bytes, "verifying");
    let report = verify_with_progress(&fs, path, &mut |p| {
        progress::advance(&bar, Unit::Bytes, p.bytes_done, Some(p.bytes_total))
    });
    bar.finish_and_clear();
    report.at(path)
}

fn print_text(out: &mut Out, path: &Path, report: &VerifyReport) -> std::io::Result<()> {
    out.field("verified", escape::path(path))?;
    out.field("version", format_args!("v{}, seqno {}", report.version_id, report.seqno))?;
    out.field("checked", checked(report))?;
    if report.is_ok() {
        return out.field("result", "ok: every checksum matches");
    }
    out.field("result", format_args!("DAMAGED: {}", count(report.problems.len(), "problem")))?;
    for problem in &report.problems {
        out.line(format_args!("  {}", describe(problem)))?;
    }
    Ok(())
}

/// `12 tables, 0 blob files, 1 log segment: 58.00 MiB`.
pub fn checked(report: &VerifyReport) -> String {
    format!("{}: {}", files(report.tables, report.blob_files, report.log_segments), bytes(report.bytes_checked))
}

/// The problem on one line, naming its file once.
fn describe(problem: &Problem) -> String {
    let file = escape::path(&problem.file);
    let what = problem.what.replace(char::is_control, " ");
    if what.contains(&file) { what } else { format!("{file}: {what}") }
}

fn to_json(path: &Path, report: &VerifyReport) -> Value {
    let problems = report.problems.iter().map(|p| json!({"file": escape::path(&p.file), "what": &p.what}));
    json!({
        "path": escape::path(path),
        "ok": report.is_ok(),
        "version_id": report.version_id.get(),
        "seqno": report.seqno.get(),
        "tables": report.tables,
        "blob_files": report.blob_files,
        "log_segments": report.log_segments,
        "bytes_checked": report.bytes_checked,
        "problems": problems.collect::<Vec<_>>(),
    })
}
