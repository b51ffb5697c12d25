//! `cairn backup prune STORE --keep N`: keep the newest backups only.

use std::path::Path;
use std::process::ExitCode;

use super::store::{self, Access};
use crate::args::BackupPruneArgs;
use crate::failure::{At as _, Failure};
use crate::json::{Json, Object};
use crate::output::Out;

/// Removes the older backups' manifests and says which went.
pub fn run(args: &BackupPruneArgs) -> Result<ExitCode, Failure> {
    let at = Path::new(&args.store.store);
    let engine = store::engine(&args.store, Access::Existing)?;
    let keep = usize::try_from(args.keep).unwrap_or(usize::MAX);
    let report = engine.prune(keep).at(at)?;
    let mut out = Out::new();
    let ids = |ids: &[u64]| ids.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    if args.store.json {
        let list = |ids: &[u64]| Json::array(ids.iter().map(|&id| Json::num(id)));
        out.json(&Object::new().field("removed", list(&report.removed)).field("kept", list(&report.kept)).build())?;
    } else {
        out.field("removed", if report.removed.is_empty() { "none".to_owned() } else { ids(&report.removed) })?;
        out.field("kept", ids(&report.kept))?;
        if !report.removed.is_empty() {
            out.line("their files stay until `cairn backup gc` finds no backup uses them")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
