//! `cairn man [COMMAND...]`: a manual page, rendered by clap_mangen from
//! the command line's own definition.
//!
//! A command rather than a build script: the page is always that of the
//! binary that prints it, a build script would have to compile the
//! command-line definition a second time (with its dependencies) on every
//! build, and `cargo install` would not install what it wrote anyway.

use std::process::ExitCode;

use clap::CommandFactory as _;

use crate::args::{Cli, ManArgs};
use crate::failure::Failure;
use crate::output::Out;

/// Prints `cairn.1`, or the page of the subcommand named (`cairn-sst-dump.1`).
pub fn run(args: &ManArgs) -> Result<ExitCode, Failure> {
    let mut command = Cli::command().disable_help_subcommand(true);
    // Gives each subcommand its page name (`cairn-sst-dump`).
    command.build();
    for name in &args.command {
        command = command.find_subcommand(name).cloned().ok_or_else(|| {
            Failure::usage(format!("no command `{}` has a page (see `cairn --help`)", args.command.join(" ")))
        })?;
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page)?;
    let mut out = Out::new();
    out.bytes(&page)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
