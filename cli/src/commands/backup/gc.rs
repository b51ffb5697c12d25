//! `cairn backup gc STORE`: remove what no backup uses.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::json;

use super::store;
use crate::args::BackupGcArgs;
use crate::failure::{At as _, Failure};
use crate::output::{Out, bytes, count};

/// Collects garbage and says what went.
pub fn run(args: &BackupGcArgs) -> Result<ExitCode, Failure> {
    let at = Path::new(&args.store.store);
    let engine = store::engine_with_grace(&args.store, Duration::from_secs(args.grace_secs))?;
    let report = engine.gc().at(at)?;
    let mut out = Out::new();
    if args.store.json {
        out.json(&json!({
            "files_removed": report.files_removed,
            "bytes_removed": report.bytes_removed,
            "files_kept": report.files_kept,
            "uploads_removed": report.uploads_removed,
            "leases_removed": report.leases_removed,
        }))?;
    } else {
        out.field(
            "removed",
            format_args!("{} ({})", count(report.files_removed, "file"), bytes(report.bytes_removed)),
        )?;
        out.field("kept", count(report.files_kept, "file"))?;
        out.field(
            "leftovers",
            format_args!(
                "{} and {} of crashed jobs removed",
                count(report.uploads_removed, "temporary upload"),
                count(report.leases_removed, "lease")
            ),
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
