//! The command line, as `clap` parses it.

use std::ffi::OsStr;
use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use clap::{Arg, Args, Parser, Subcommand};

use crate::escape;

const KEYS_HELP: &str = "Keys and values are bytes: write a byte that is not printable as \\xNN \
                         (and a backslash as \\\\); output uses the same escapes.";

/// cairn: inspect and operate cairndb databases and checkpoints.
#[derive(Debug, Parser)]
#[command(name = "cairn", version, after_help = KEYS_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load keys while a background writer writes, checkpoint mid-load, then
    /// reopen, verify and check the checkpoint; print what it cost.
    Demo(DemoArgs),
    /// Take a checkpoint of the database DB into TARGET (which must not exist).
    Checkpoint(CheckpointArgs),
    /// Verify every checksum of a database or checkpoint.
    Verify(PathArgs),
    /// Show a database's version, seqno, levels, blob files and log.
    Info(PathArgs),
    /// List the checkpoints in a directory, newest first.
    List(PathArgs),
    /// Print the value of a key.
    Get(GetArgs),
    /// Set a key to a value (durable when the command returns).
    Put(PutArgs),
    /// Delete a key (durable when the command returns).
    Delete(GetArgs),
    /// Print keys and values in key order.
    Scan(ScanArgs),
}

/// `cairn demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Work in this directory (kept afterwards) instead of a temporary one
    /// (removed afterwards).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// How many keys to load.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub keys: u64,
    /// Bytes per value.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    pub value_bytes: u64,
}

/// `cairn checkpoint`.
#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// The database.
    pub db: PathBuf,
    /// Where the checkpoint appears (must not exist).
    pub target: PathBuf,
    /// Do not flush the memtable first: the checkpoint copies the log instead.
    #[arg(long)]
    pub no_flush: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// A command on one path, with optional JSON output.
#[derive(Debug, Args)]
pub struct PathArgs {
    /// The database, checkpoint or directory.
    pub path: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `cairn get` and `cairn delete`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The database.
    pub db: PathBuf,
    /// The key (\xNN escapes allowed).
    #[arg(value_parser = BytesParser)]
    pub key: Bytes,
}

/// `cairn put`.
#[derive(Debug, Args)]
pub struct PutArgs {
    /// The database.
    pub db: PathBuf,
    /// The key (\xNN escapes allowed).
    #[arg(value_parser = BytesParser)]
    pub key: Bytes,
    /// The value (\xNN escapes allowed).
    #[arg(value_parser = BytesParser)]
    pub value: Bytes,
    /// Create the database if it does not exist.
    #[arg(long)]
    pub create: bool,
}

/// `cairn scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The database.
    pub db: PathBuf,
    /// Only keys starting with this (\xNN escapes allowed).
    #[arg(long, value_name = "P", value_parser = BytesParser)]
    pub prefix: Option<Bytes>,
    /// Print at most N keys.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
}

/// A key, value or prefix: the bytes an argument stands for.
#[derive(Clone, Debug)]
pub struct Bytes(pub Vec<u8>);

/// Reads [`Bytes`] from an argument, undoing its escapes; a bad escape is a
/// usage error.
#[derive(Clone, Copy, Debug)]
pub struct BytesParser;

impl TypedValueParser for BytesParser {
    type Value = Bytes;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&Arg>, value: &OsStr) -> Result<Bytes, clap::Error> {
        escape::parse(value).map(Bytes).map_err(|what| {
            let name = arg.map(|a| a.to_string()).unwrap_or_else(|| "argument".to_owned());
            clap::Error::raw(ErrorKind::InvalidValue, format!("invalid value for {name}: {what}\n")).with_cmd(cmd)
        })
    }
}
