//! One module per subcommand; [`run`] dispatches.

mod backup;
mod checkpoint;
mod checkpoint_delete;
mod compact;
mod completions;
mod demo;
mod dump;
mod gc;
mod info;
mod list;
mod load;
mod man;
mod open;
mod read;
mod schedule;
mod sst;
mod stats;
mod verify;
mod write;

use std::process::ExitCode;

use crate::args::{CheckpointCommand, Command};
use crate::failure::Failure;

/// Runs `command`; the exit status on success, or why it failed.
pub fn run(command: Command) -> Result<ExitCode, Failure> {
    let name = name(&command);
    dispatch(command).map_err(|f| f.in_command(name))
}

fn dispatch(command: Command) -> Result<ExitCode, Failure> {
    match command {
        Command::Info(a) => info::run(&a),
        Command::Get(a) => read::get(&a),
        Command::Scan(a) => read::scan(&a),
        Command::Put(a) => write::put(&a),
        Command::Delete(a) => write::delete(&a),
        Command::Demo(a) => demo::run(&a),
        Command::Checkpoint(a) => match &a.command {
            Some(CheckpointCommand::Delete(d)) => checkpoint_delete::run(d),
            Some(CheckpointCommand::Prune(p)) => checkpoint::prune(p),
            None => checkpoint::run(&a),
        },
        Command::Verify(a) => verify::run(&a),
        Command::List(a) => list::run(&a),
        Command::Gc(a) => gc::run(&a),
        Command::Schedule(a) => schedule::run(&a),
        Command::Backup(a) => backup::run(a),
        Command::Dump(a) => dump::run(&a),
        Command::Load(a) => load::run(&a),
        Command::Count(a) => read::count(&a),
        Command::Compact(a) => compact::run(&a),
        Command::Stats(a) => stats::run(&a),
        Command::Restore(a) => backup::restore(a),
        Command::Sst(a) => sst::run(&a),
        Command::Completions(a) => completions::run(&a),
        Command::Man(a) => man::run(&a),
    }
}

/// The subcommand's name, as error lines give it: `info`, `backup create`, ...
pub fn name(command: &Command) -> &'static str {
    match command {
        Command::Demo(_) => "demo",
        Command::Checkpoint(a) => match a.command {
            Some(CheckpointCommand::Delete(_)) => "checkpoint delete",
            Some(CheckpointCommand::Prune(_)) => "checkpoint prune",
            None => "checkpoint",
        },
        Command::Verify(_) => "verify",
        Command::Info(_) => "info",
        Command::List(_) => "list",
        Command::Gc(_) => "gc",
        Command::Schedule(_) => "schedule",
        Command::Get(_) => "get",
        Command::Put(_) => "put",
        Command::Delete(_) => "delete",
        Command::Scan(_) => "scan",
        Command::Backup(a) => backup::name(a),
        Command::Dump(_) => "dump",
        Command::Load(_) => "load",
        Command::Count(_) => "count",
        Command::Compact(_) => "compact",
        Command::Stats(_) => "stats",
        Command::Restore(_) => "restore",
        Command::Sst(a) => sst::name(a),
        Command::Completions(_) => "completions",
        Command::Man(_) => "man",
    }
}
