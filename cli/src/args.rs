//! The command line, as `clap` parses it.

use std::ffi::OsStr;
use std::path::PathBuf;

use cairndb::DbIdentity;
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
    /// Incremental backups to a directory or S3: create, list, verify,
    /// restore, prune, gc.
    Backup(BackupArgs),
    /// Write every live key and value of a database or checkpoint, exact at
    /// one seqno, as a dump (a checksummed stream; docs/FORMAT.md) to FILE
    /// or stdout.
    Dump(DumpArgs),
    /// Read a dump from FILE or stdin into a database (empty, unless --force).
    Load(LoadArgs),
}

const STORE_HELP: &str = "STORE is a directory (on any file system) or, when cairn is built with the `s3` \
                          feature, s3://BUCKET/PREFIX (credentials, region and endpoint from the usual AWS_* \
                          variables, or --endpoint).";

/// `cairn backup`.
#[derive(Debug, Args)]
#[command(after_help = STORE_HELP)]
pub struct BackupArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: BackupCommand,
}

/// The `cairn backup` subcommands.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Back up the database DB into STORE, uploading only files the store
    /// does not hold yet.
    Create(BackupCreateArgs),
    /// List the backups in STORE, newest first, each with its database.
    List(BackupListArgs),
    /// Check that every file of a backup is in STORE with its size and checksum.
    Verify(BackupVerifyArgs),
    /// Restore a backup into TARGET (which must not exist); it opens as a database.
    Restore(BackupRestoreArgs),
    /// Remove all but the newest intact backups (their files stay until
    /// gc); damaged ones are named, neither counted nor removed.
    Prune(BackupPruneArgs),
    /// Remove one backup, damaged or not (its files stay until gc).
    Delete(BackupDeleteArgs),
    /// Remove files no backup uses, and what crashed backups left behind.
    Gc(BackupGcArgs),
}

/// Where the backups are.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The backup store: a directory, or s3://BUCKET/PREFIX.
    pub store: String,
    /// The S3 server's URL, http:// or https:// (for S3-compatible services;
    /// default: AWS, or AWS_ENDPOINT_URL). Plain http is used when the URL
    /// says so.
    #[arg(long, value_name = "URL", value_parser = parse_endpoint)]
    pub endpoint: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_endpoint(text: &str) -> Result<String, String> {
    let host = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://"));
    match host.map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default()) {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(text.to_owned()),
        _ => Err(format!("{text:?} is not a URL: write the scheme and host, e.g. http://127.0.0.1:9000")),
    }
}

/// Which database's backups: `--database ID`.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Only the backups of this database timeline: its identity as `cairn
    /// info` and `cairn backup list` show it, or `unknown` for backups
    /// made before identities. Needed for `latest` and `prune` when the
    /// store holds backups of more than one.
    #[arg(long, value_name = "ID", value_parser = parse_database)]
    pub database: Option<DatabaseChoice>,
}

/// A database chosen with `--database`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatabaseChoice {
    /// This identity.
    Known(DbIdentity),
    /// Backups made before identities.
    Unknown,
}

fn parse_database(text: &str) -> Result<DatabaseChoice, String> {
    match text {
        "unknown" => Ok(DatabaseChoice::Unknown),
        text => text.parse().map(DatabaseChoice::Known).map_err(|e: cairndb::Error| match e {
            cairndb::Error::InvalidArgument { what } => what,
            e => e.to_string(),
        }),
    }
}

/// `cairn backup list`.
#[derive(Debug, Args)]
pub struct BackupListArgs {
    /// Where the backups are.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Which database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// `cairn backup create`.
#[derive(Debug, Args)]
pub struct BackupCreateArgs {
    /// The database.
    pub db: PathBuf,
    /// Where the backups go.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Do not flush the memtable first: back up its log instead.
    #[arg(long)]
    pub no_flush: bool,
}

/// Which backup: an id, or `latest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupId {
    /// This id.
    Id(u64),
    /// The newest intact backup (`latest`).
    LatestValid,
}

fn parse_backup_id(text: &str) -> Result<BackupId, String> {
    match text {
        "latest" => Ok(BackupId::LatestValid),
        digits => digits
            .parse::<u64>()
            .ok()
            .filter(|&id| id > 0)
            .map(BackupId::Id)
            .ok_or_else(|| format!("{digits:?} is not a backup id (a number from 1, or `latest`)")),
    }
}

/// `cairn backup verify`.
#[derive(Debug, Args)]
pub struct BackupVerifyArgs {
    /// Where the backups are.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The backup: its id, or `latest` for the newest of the database.
    #[arg(value_parser = parse_backup_id)]
    pub id: BackupId,
    /// Which database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// `cairn backup restore`.
#[derive(Debug, Args)]
pub struct BackupRestoreArgs {
    /// Where the backups are.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The backup: its id, or `latest` for the newest intact one of the
    /// database (damaged newer ones are skipped, and named).
    #[arg(value_parser = parse_backup_id)]
    pub id: BackupId,
    /// Where the database appears (must not exist).
    pub target: PathBuf,
    /// Which database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// `cairn backup prune`.
#[derive(Debug, Args)]
pub struct BackupPruneArgs {
    /// Where the backups are.
    #[command(flatten)]
    pub store: StoreArgs,
    /// How many of the newest intact backups to keep.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub keep: u64,
    /// Which database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// `cairn backup delete`.
#[derive(Debug, Args)]
pub struct BackupDeleteArgs {
    /// Where the backups are.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The backup's id.
    #[arg(value_parser = clap::value_parser!(u64).range(1..))]
    pub id: u64,
}

/// `cairn backup gc`.
#[derive(Debug, Args)]
pub struct BackupGcArgs {
    /// Where the backups are.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Leases and temporary uploads untouched this long belong to crashed
    /// jobs and are removed.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub grace_secs: u64,
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

/// `cairn dump`.
#[derive(Debug, Args)]
pub struct DumpArgs {
    /// The database or checkpoint (opened read-only: it may be open elsewhere).
    pub db: PathBuf,
    /// Write the dump here (a new file: it must not exist); stdout when
    /// absent or `-`.
    pub file: Option<PathBuf>,
    /// Print what was dumped as JSON (needs FILE: stdout holds the dump otherwise).
    #[arg(long, requires = "file")]
    pub json: bool,
}

/// `cairn load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The database.
    pub db: PathBuf,
    /// Read the dump from here; stdin when absent or `-`.
    pub file: Option<PathBuf>,
    /// Create the database if it does not exist.
    #[arg(long)]
    pub create: bool,
    /// Load into a database that holds keys already: the dump's keys are
    /// set to its values, the others are left as they are.
    #[arg(long)]
    pub force: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `cairn checkpoint`.
#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// The database.
    pub db: PathBuf,
    /// Where the checkpoint appears (must not exist).
    pub target: PathBuf,
    /// Do not flush the memtable first: the checkpoint links its log instead
    /// (frozen and persisted, never appended again; a segment still being
    /// appended is copied up to the cut), which replays when it is opened.
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
