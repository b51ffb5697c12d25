//! `cairn backup restore STORE ID|latest TARGET` and `cairn backup restore
//! STORE --at-seqno N|--at-time RFC3339 TARGET [--database ID]`: a backup,
//! or the state of one archived commit, back as a database.

use std::path::Path;
use std::process::ExitCode;

use cairndb::SeqNo;
use cairndb::backup::{BackupEngine, Recovery, RestoreInfo, RestorePoint};
use serde_json::{Value, json};

use super::store::{self, advance, database_json, database_text, rate};
use crate::args::{BackupRestoreArgs, WhichBackup};
use crate::escape;
use crate::failure::{At as _, Failure};
use crate::interrupt;
use crate::output::{Out, bytes, count, ms};
use crate::time;

/// What a restore restores.
enum Wanted {
    /// A backup, as it was taken.
    Backup(WhichBackup),
    /// The newest commit at or before a point, from a base backup and the
    /// archived log after it.
    Point(RestorePoint),
}

/// Restores with a progress bar. `latest` is the newest archived commit
/// when the store holds the database's archived log (at least as new as
/// its newest backup), else the newest intact backup, saying which newer
/// ones it skipped.
pub fn run(args: &BackupRestoreArgs) -> Result<ExitCode, Failure> {
    let at = Path::new(&args.store.store);
    let engine = store::scoped_engine(&args.store, &args.database)?;
    let wanted = match (args.id, args.at_seqno, args.at_time) {
        (_, Some(seqno), _) => Wanted::Point(RestorePoint::Seqno(SeqNo(seqno))),
        (_, _, Some(time)) => Wanted::Point(RestorePoint::Time(time)),
        (Some(WhichBackup::LatestValid), None, None) if holds_archive(&engine).at(at)? => {
            Wanted::Point(RestorePoint::Latest)
        }
        (Some(which), None, None) => Wanted::Backup(which),
        (None, None, None) => return Err(Failure::usage("name a backup (ID or `latest`), --at-seqno or --at-time")),
    };
    match wanted {
        Wanted::Backup(which) => restore_backup(args, &engine, which),
        Wanted::Point(point) => restore_point(args, &engine, point),
    }
}

/// Whether the store holds archived log of the database (of any, when
/// none is chosen).
fn holds_archive(engine: &BackupEngine) -> cairndb::Result<bool> {
    Ok(engine.restorable()?.iter().any(|t| t.chunks > 0))
}

fn restore_backup(args: &BackupRestoreArgs, engine: &BackupEngine, which: WhichBackup) -> Result<ExitCode, Failure> {
    let at = Path::new(&args.store.store);
    let (id, recovery) = match which {
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
        out.json(&to_json(&info, recovery.as_ref(), None))?;
    } else {
        for skipped in recovery.iter().flat_map(|r| &r.skipped) {
            out.field(
                "skipped",
                format_args!("backup {}: {}", skipped.id, skipped.reason.replace(char::is_control, " ")),
            )?;
        }
        out.field("restored", format_args!("backup {} into {}", info.id, escape::path(&info.path)))?;
        common_fields(&mut out, &info)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn restore_point(args: &BackupRestoreArgs, engine: &BackupEngine, point: RestorePoint) -> Result<ExitCode, Failure> {
    let at = Path::new(&args.store.store);
    let bar = store::bar("restoring");
    let note = interrupt::staging_note(&args.target);
    let info = engine.restore_to_with_progress(point, &args.target, &mut |p| advance(&bar, p));
    drop(note);
    bar.finish_and_clear();
    let info = info.at(at)?;
    let mut out = Out::new();
    if args.store.json {
        out.json(&to_json(&info, None, Some(point)))?;
    } else {
        let made = info.commit_time.map_or_else(String::new, |t| format!(", made {}", time::rfc3339(t)));
        out.field("restored", format_args!("commit {}{made} into {}", info.seqno, escape::path(&info.path)))?;
        out.field("asked for", point_text(point))?;
        out.field(
            "from",
            format_args!(
                "backup {} and {} of archived log ({}) replayed after it",
                info.id,
                count(info.log_chunks, "chunk"),
                bytes(info.log_bytes)
            ),
        )?;
        common_fields(&mut out, &info)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn common_fields(out: &mut Out, info: &RestoreInfo) -> std::io::Result<()> {
    out.field(
        "database",
        format_args!("{} (opened for writing, it continues as a new timeline)", database_text(info.database)),
    )?;
    out.field("seqno", format_args!("{} (every write up to it, none after)", info.seqno))?;
    out.field("files", format_args!("{}: {}, every checksum verified", info.files, bytes(info.bytes)))?;
    out.field("took", format_args!("{} ({})", ms(info.duration), rate(info.bytes, info.duration)))
}

fn point_text(point: RestorePoint) -> String {
    match point {
        RestorePoint::Seqno(seqno) => format!("the newest commit at or before seqno {seqno}"),
        RestorePoint::Time(t) => format!("the newest commit made at or before {}", time::rfc3339(t)),
        RestorePoint::Latest => "the newest archived commit (latest)".to_owned(),
    }
}

fn point_json(point: RestorePoint) -> Value {
    match point {
        RestorePoint::Seqno(seqno) => json!({"seqno": seqno.get()}),
        RestorePoint::Time(t) => json!({"time": time::rfc3339(t)}),
        RestorePoint::Latest => json!("latest"),
    }
}

fn to_json(info: &RestoreInfo, recovery: Option<&Recovery>, point: Option<RestorePoint>) -> Value {
    let skipped = recovery.iter().flat_map(|r| &r.skipped).map(|s| json!({"id": s.id.get(), "reason": &s.reason}));
    json!({
        "id": info.id.get(),
        "database": database_json(info.database),
        "path": escape::path(&info.path),
        "seqno": info.seqno.get(),
        "files": info.files,
        "bytes": info.bytes,
        "skipped": skipped.collect::<Vec<_>>(),
        "duration_us": u64::try_from(info.duration.as_micros()).unwrap_or(u64::MAX),
        "point": point.map_or(Value::Null, point_json),
        "commit_time": info.commit_time.map_or(Value::Null, time::json),
        "log_chunks": info.log_chunks,
        "log_bytes": info.log_bytes,
    })
}
