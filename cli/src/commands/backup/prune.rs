//! `cairn backup prune STORE --keep N [--database ID]`: keep the newest intact
//! backups of a database only.

use std::path::Path;
use std::process::ExitCode;

use cairndb::BackupId;
use serde_json::json;

use super::store;
use crate::args::BackupPruneArgs;
use crate::failure::{At as _, Failure};
use crate::output::Out;

/// Removes the older intact backups' manifests, says which went, and names
/// the damaged backups it neither counted nor removed.
pub fn run(args: &BackupPruneArgs) -> Result<ExitCode, Failure> {
    let at = Path::new(&args.store.store);
    let engine = store::scoped_engine(&args.store, &args.database)?;
    let keep = usize::try_from(args.keep).unwrap_or(usize::MAX);
    let report = engine.prune(keep).at(at)?;
    let mut out = Out::new();
    let ids = |ids: &[BackupId]| ids.iter().map(BackupId::to_string).collect::<Vec<_>>().join(", ");
    if args.store.json {
        let list = |ids: &[BackupId]| ids.iter().map(|id| id.get()).collect::<Vec<_>>();
        let damaged = report.damaged.iter().map(|d| json!({"id": d.id.get(), "reason": &d.reason}));
        out.json(&json!({
            "removed": list(&report.removed),
            "kept": list(&report.kept),
            "damaged": damaged.collect::<Vec<_>>(),
        }))?;
    } else {
        out.field("removed", if report.removed.is_empty() { "none".to_owned() } else { ids(&report.removed) })?;
        out.field("kept", if report.kept.is_empty() { "none".to_owned() } else { ids(&report.kept) })?;
        for damaged in &report.damaged {
            out.field(
                "damaged",
                format_args!("backup {}: {}", damaged.id, damaged.reason.replace(char::is_control, " ")),
            )?;
        }
        if !report.damaged.is_empty() {
            out.line(
                "damaged backups are neither counted nor removed: verify them; `cairn backup delete STORE ID` \
                 removes one that cannot be repaired",
            )?;
        }
        if !report.removed.is_empty() {
            out.line("their files stay until `cairn backup gc` finds no backup uses them")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
