//! `cairn`: the cairndb command-line tool.
//!
//! `cairn demo` shows the whole idea on the local disk; the other commands
//! inspect and operate real databases and checkpoints. Exit status: 0 on
//! success, 1 when something failed (one line on stderr says what, and on
//! which path), 2 for a usage error.

mod args;
mod commands;
mod duration;
mod escape;
mod failure;
mod hex;
mod interrupt;
mod logger;
mod notation;
mod output;
mod progress;
mod time;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    logger::init();
    // Usage errors print clap's message and exit with status 2.
    let cli = args::Cli::parse();
    let name = commands::name(&cli.command);
    interrupt::install(name);
    match commands::run(cli.command) {
        Ok(code) => {
            logger::print_held(name, None);
            code
        }
        Err(failure) => {
            let line = failure.line();
            let code = failure.report();
            logger::print_held(name, Some(&line));
            code
        }
    }
}
