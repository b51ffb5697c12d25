//! `cairn backup restore STORE ID|latest TARGET [--database ID]`: a backup,
//! back as a database.

use std::path::Path;
use std::process::ExitCode;

use cairndb::backup::{Recovery, RestoreInfo};
use serde_json::{Value, json};

use super::store::{self, advance, database_json, database_text, rate};
use crate::args::{BackupRestoreArgs, WhichBackup};
use crate::failure::{At as _, Failure};
use crate::interrupt;
use crate::output::{Out, bytes, count, ms};

/// Restores with a progress bar; with `latest`, first finds the newest
/// intact backup and says which newer ones it skipped.
pub fn run(args: &BackupRestoreArgs) -> Result<ExitCode, Failure> {
    let at = Path::new(&args.store.store);
    let engine = store::scoped_engine(&args.store, &args.database)?;
    let (id, recovery) = match args.id {
        WhichBackup::Id(id) => (id, None),
        WhichBackup::LatestValid => {
            let recovery = engine.recover_latest_valid().at(at)?;
            let id = recovery.id.ok_or_else(|| {
                Failure::at(at, format!("no intact backup ({} damaged)", count(recovery.skipped.len(), "backup")))
            })?;
            (id, Some(recovery))
        }
    };
    let bar = store::bar("restoring");
    let note = interrupt::staging_note(&args.target);
    let info = engine.restore_with_progress(id, &args.target, &mut |p| advance(&bar, p));
    drop(note);
    bar.finish_and_clear();
    let info = info.at(at)?;
    let mut out = Out::new();
    if args.store.json {
        out.json(&to_json(&info, recovery.as_ref()))?;
    } else {
        for skipped in recovery.iter().flat_map(|r| &r.skipped) {
            out.field(
                "skipped",
                format_args!("backup {}: {}", skipped.id, skipped.reason.replace(char::is_control, " ")),
            )?;
        }
        out.field("restored", format_args!("backup {} into {}", info.id, info.path.display()))?;
        out.field(
            "database",
            format_args!("{} (opened for writing, it continues as a new timeline)", database_text(info.database)),
        )?;
        out.field("seqno", format_args!("{} (every write up to it, none after)", info.seqno))?;
        out.field("files", format_args!("{}: {}, every checksum verified", info.files, bytes(info.bytes)))?;
        out.field("took", format_args!("{} ({})", ms(info.duration), rate(info.bytes, info.duration)))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn to_json(info: &RestoreInfo, recovery: Option<&Recovery>) -> Value {
    let skipped = recovery.iter().flat_map(|r| &r.skipped).map(|s| json!({"id": s.id.get(), "reason": &s.reason}));
    json!({
        "id": info.id.get(),
        "database": database_json(info.database),
        "path": info.path.to_string_lossy(),
        "seqno": info.seqno.get(),
        "files": info.files,
        "bytes": info.bytes,
        "skipped": skipped.collect::<Vec<_>>(),
        "duration_us": u64::try_from(info.duration.as_micros()).unwrap_or(u64::MAX),
    })
}
