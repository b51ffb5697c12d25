//! `cairn backup create DB STORE`: back a database up, uploading only new files.

use std::process::ExitCode;

use cairndb::backup::{BackupInfo, BackupOptions};
use serde_json::{Value, json};

use super::store::{self, Access, advance, rate};
use crate::args::BackupCreateArgs;
use crate::commands::open;
use crate::escape;
use crate::failure::{At as _, Failure};
use crate::interrupt;
use crate::output::{Out, bytes, ms};

/// Takes the backup with a progress bar and prints what it moved.
pub fn run(args: &BackupCreateArgs) -> Result<ExitCode, Failure> {
    let db = open::writable(&args.db, false)?;
    let engine = store::engine(&args.store, Access::Create)?;
    let bar = store::bar("uploading");
    let options = BackupOptions::default().flush(!args.no_flush);
    let note = interrupt::say_on_interrupt(format!(
        "unless `cairn backup list {0}` shows it, the backup was not committed: what it uploaded and its \
         lease are removed by `cairn backup gc {0}` once the lease is older than the grace period (an hour by \
         default)",
        escape::show(args.store.store.as_bytes())
    ));
    let info = engine.create_backup_with(&db, options, &mut |p| advance(&bar, p));
    drop(note);
    bar.finish_and_clear();
    let info = info.at(&args.db)?;
    let mut out = Out::new();
    if args.store.json {
        out.json(&to_json(&info))?;
    } else {
        out.field("backup", format_args!("{} in {}", info.id, escape::show(args.store.store.as_bytes())))?;
        out.field("database", store::database_text(info.database))?;
        out.field("seqno", format_args!("{} (every write up to it, none after)", info.seqno))?;
        out.field("version", format_args!("v{}", info.version_id))?;
        out.field(
            "files",
            format_args!(
                "{} ({} uploaded, {} already stored)",
                info.files_total, info.files_uploaded, info.files_skipped
            ),
        )?;
        out.field(
            "bytes",
            format_args!(
                "{} ({} uploaded, {} already stored)",
                bytes(info.bytes_total),
                bytes(info.bytes_uploaded),
                bytes(info.bytes_skipped)
            ),
        )?;
        out.field(
            "took",
            format_args!("{} ({} uploaded)", ms(info.duration), rate(info.bytes_uploaded, info.duration)),
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn to_json(info: &BackupInfo) -> Value {
    json!({
        "id": info.id.get(),
        "database": store::database_json(info.database),
        "seqno": info.seqno.get(),
        "version_id": info.version_id.get(),
        "files_total": info.files_total,
        "bytes_total": info.bytes_total,
        "files_uploaded": info.files_uploaded,
        "bytes_uploaded": info.bytes_uploaded,
        "files_skipped": info.files_skipped,
        "bytes_skipped": info.bytes_skipped,
        "duration_us": u64::try_from(info.duration.as_micros()).unwrap_or(u64::MAX),
    })
}
