//! `cairn backup delete STORE ID`: remove one backup (its manifest), damaged
//! or not.

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use super::store::{self, Access};
use crate::args::BackupDeleteArgs;
use crate::failure::{At as _, Failure};
use crate::output::Out;

/// Removes the manifest; the files stay until gc.
pub fn run(args: &BackupDeleteArgs) -> Result<ExitCode, Failure> {
    let at = Path::new(&args.store.store);
    let engine = store::engine(&args.store, Access::Existing)?;
    engine.delete(args.id).at(at)?;
    let mut out = Out::new();
    if args.store.json {
        out.json(&json!({"deleted": args.id.get()}))?;
    } else {
        out.field("deleted", format_args!("backup {}", args.id))?;
        out.line("its files stay until `cairn backup gc` finds no backup uses them")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
