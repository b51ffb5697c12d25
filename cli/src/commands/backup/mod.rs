//! `cairn backup ...`: incremental backups to a directory or to S3.

mod archive;
mod create;
mod delete;
mod gc;
mod list;
mod prune;
mod restore;
mod store;
mod verify;

use std::process::ExitCode;

use crate::args::{BackupArgs, BackupCommand, BackupRestoreArgs, RestoreArgs, WhichBackup};
use crate::failure::Failure;

/// Runs one `cairn backup` subcommand.
pub fn run(args: BackupArgs) -> Result<ExitCode, Failure> {
    match args.command {
        BackupCommand::Create(a) => create::run(&a),
        BackupCommand::List(a) => list::run(&a),
        BackupCommand::Verify(a) => verify::run(&a),
        BackupCommand::Restore(a) => restore::run(&a),
        BackupCommand::Prune(a) => prune::run(&a),
        BackupCommand::Delete(a) => delete::run(&a),
        BackupCommand::Gc(a) => gc::run(&a),
        BackupCommand::Archive(a) => archive::run(&a),
    }
}

/// `cairn restore`: `backup restore` with the id an option, `latest` by default.
pub fn restore(args: RestoreArgs) -> Result<ExitCode, Failure> {
    let id = args.id.map_or(WhichBackup::LatestValid, WhichBackup::Id);
    restore::run(&BackupRestoreArgs {
        store: args.store,
        id: Some(id),
        target: args.target,
        at_seqno: None,
        at_time: None,
        database: args.database,
    })
}

/// The subcommand's name for error lines: `backup create`, ...
pub fn name(args: &BackupArgs) -> &'static str {
    match args.command {
        BackupCommand::Create(_) => "backup create",
        BackupCommand::List(_) => "backup list",
        BackupCommand::Verify(_) => "backup verify",
        BackupCommand::Restore(_) => "backup restore",
        BackupCommand::Prune(_) => "backup prune",
        BackupCommand::Delete(_) => "backup delete",
        BackupCommand::Gc(_) => "backup gc",
        BackupCommand::Archive(_) => "backup archive",
    }
}
