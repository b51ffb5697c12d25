//! `cairn completions SHELL`: a completion script, made by clap_complete
//! from the same definition the command line is parsed with.

use std::process::ExitCode;

use clap::CommandFactory as _;

use crate::args::{Cli, CompletionsArgs};
use crate::failure::Failure;
use crate::output::Out;

/// Prints the script for `args.shell`.
pub fn run(args: &CompletionsArgs) -> Result<ExitCode, Failure> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "cairn", &mut script);
    let mut out = Out::new();
    out.bytes(&script)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
