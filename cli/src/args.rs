//! The command line, as `clap` parses it.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::SystemTime;

use cairndb::{BackupId, DbIdentity};
use clap::builder::{OsStringValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};

use crate::failure::Failure;
use crate::notation::Notation;

const KEYS_HELP: &str = "Keys and values are bytes: write a byte that is not printable as \\xNN \
                         (and a backslash as \\\\); output uses the same escapes. With --hex, keys and \
                         values are hex instead (two digits a byte), in arguments and output.";

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
    /// List the checkpoints in a directory, newest first, marking the
    /// newest one that verifies.
    List(PathArgs),
    /// Remove what killed checkpoints and restores left in the folder DIR:
    /// their staging directories that no live process holds (never one in
    /// use), each named with its size. Store gc is `cairn backup gc`.
    Gc(GcArgs),
    /// Take a checkpoint of DB into the folder DIR every INTERVAL, keeping
    /// the newest N, until interrupted (Ctrl-C): a schedule without cron.
    Schedule(ScheduleArgs),
    /// Print the value of a key.
    Get(GetArgs),
    /// Set a key to a value (durable when the command returns).
    Put(PutArgs),
    /// Delete a key (durable when the command returns).
    Delete(KeyArgs),
    /// Print keys and values in key order.
    Scan(ScanArgs),
    /// Incremental backups to a directory or S3: create, list, verify,
    /// restore (to a backup or to any archived commit), archive, prune, gc.
    Backup(BackupArgs),
    /// Write every live key and value of a database or checkpoint, exact at
    /// one seqno, as a dump (a checksummed stream; docs/FORMAT.md) to FILE
    /// or stdout.
    Dump(DumpArgs),
    /// Read a dump from FILE or stdin into a database (empty, unless --force).
    Load(LoadArgs),
    /// Count the keys (all, or in a range).
    Count(CountArgs),
    /// Compact the whole database: flush, then merge every table into one
    /// sorted run, dropping deleted and overwritten data.
    Compact(DbArgs),
    /// Show the database's counters and sizes (the library's DbStats).
    Stats(DbArgs),
    /// Restore the newest state in STORE (the newest archived commit, else
    /// the newest intact backup; or the backup --id) into TARGET: a
    /// shortcut for `cairn backup restore`.
    #[command(after_help = STORE_HELP)]
    Restore(RestoreArgs),
    /// Dump or verify one table (.sst) or blob file (.blob) on its own.
    Sst(SstArgs),
    /// Print a completion script for a shell, e.g. `cairn completions bash
    /// > ~/.local/share/bash-completion/completions/cairn`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff): `cairn man > cairn.1`, or read it with
    /// `cairn man | man -l -`; `cairn man sst dump` for that command's.
    Man(ManArgs),
}

/// `cairn man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print, e.g. `sst dump` (default: cairn's own).
    pub command: Vec<String>,
}

/// `cairn completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
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
    /// List the backups in STORE, newest first, each with its database;
    /// then, per database, what its archived log makes restorable, and its gaps.
    List(BackupListArgs),
    /// Check that every file of a backup is in STORE with its size and checksum.
    Verify(BackupVerifyArgs),
    /// Restore a backup, or the state of any archived commit, into TARGET
    /// (which must not exist); it opens as a database.
    #[command(
        override_usage = "cairn backup restore [OPTIONS] STORE <ID|latest> TARGET\n       \
                          cairn backup restore [OPTIONS] STORE (--at-seqno N | --at-time RFC3339) TARGET",
        after_help = RESTORE_HELP
    )]
    Restore(BackupRestoreArgs),
    /// Ship the log of the database DB to STORE as it commits, until Ctrl-C
    /// (or with --once, until what is durable now is shipped); with base
    /// backups (`cairn backup create`), every commit becomes restorable.
    #[command(after_help = ARCHIVE_HELP)]
    Archive(BackupArchiveArgs),
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
        text => text.parse().map(DatabaseChoice::Known).map_err(|e: cairndb::ParseIdentityError| e.to_string()),
    }
}

/// `cairn backup list`.
#[derive(Debug, Args)]
pub struct BackupListArgs {
    /// Where the backups are.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Only the archive: per database, the restorable ranges, gaps and
    /// archived chunks (with --json, an array of databases instead of
    /// backups).
    #[arg(long)]
    pub archive: bool,
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
pub enum WhichBackup {
    /// This id.
    Id(BackupId),
    /// The newest intact backup (`latest`).
    LatestValid,
}

fn parse_backup_id(text: &str) -> Result<WhichBackup, String> {
    match text {
        "latest" => Ok(WhichBackup::LatestValid),
        digits => digits
            .parse::<u64>()
            .ok()
            .filter(|&id| id > 0)
            .map(|id| WhichBackup::Id(BackupId(id)))
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
    pub id: WhichBackup,
    /// Which database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

const RESTORE_HELP: &str = "A restore to a point (--at-seqno, --at-time, or `latest` when the store holds \
                            archived log of the database) lands on the newest commit at or before it: a \
                            commit is a sync write, a persist, or the database's background persist (every \
                            100 ms). It starts from the newest base backup at or before that commit and \
                            replays the archived log after it; no restore crosses a gap in the archive. \
                            The output names the base backup and the commit (seqno and time).";

const ARCHIVE_HELP: &str = "The database is opened for writing: this process holds its lock while it \
                            archives, so it is for a database no other process has open — a closed \
                            database's tail, or a demo. An application archives its own database with \
                            the library (BackupEngine::archive). One archiver per database and store: a \
                            second one stops with a conflict. Ctrl-C ships what is durable, stops and \
                            prints the summary (exit status 0).";

/// `cairn backup restore`.
#[derive(Debug, Args)]
#[command(allow_missing_positional = true)]
pub struct BackupRestoreArgs {
    /// Where the backups are.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The backup: its id, or `latest`: the newest archived commit of the
    /// database when the store holds its archived log, else its newest
    /// intact backup (damaged newer ones are skipped, and named).
    #[arg(value_name = "ID|latest", value_parser = parse_backup_id, required_unless_present_any = ["at_seqno", "at_time"], conflicts_with_all = ["at_seqno", "at_time"])]
    pub id: Option<WhichBackup>,
    /// Where the database appears (must not exist).
    pub target: PathBuf,
    /// Restore the newest commit at or before this seqno.
    #[arg(long, value_name = "N", conflicts_with = "at_time")]
    pub at_seqno: Option<u64>,
    /// Restore the newest commit made at or before this time, RFC 3339:
    /// 2025-06-01T12:00:00Z, 2025-06-01T14:00:00.250+02:00.
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub at_time: Option<SystemTime>,
    /// Which database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

fn parse_time(text: &str) -> Result<SystemTime, String> {
    crate::time::parse_rfc3339(text).map_err(|why| format!("{text:?} is not an RFC 3339 time ({why})"))
}

/// `cairn backup archive`.
#[derive(Debug, Args)]
pub struct BackupArchiveArgs {
    /// The database (opened for writing: no other process may have it open).
    pub db: PathBuf,
    /// Where the archived log goes.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Ship what became durable at most this long after it did.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub interval_ms: u64,
    /// How far (bytes of durable log) the archive may fall behind while
    /// the store is down before the database stops keeping the log for it
    /// and the archive records a gap.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_unshipped_bytes: u64,
    /// Ship what is durable now, then stop (for the tail of a closed database).
    #[arg(long)]
    pub once: bool,
}

/// `cairn restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Where the backups are.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Where the database appears (must not exist).
    pub target: PathBuf,
    /// The backup's id (default: the newest intact backup of the database;
    /// damaged newer ones are skipped, and named).
    #[arg(long, value_name = "ID", value_parser = clap::value_parser!(u64).range(1..).map(BackupId))]
    pub id: Option<BackupId>,
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
    #[arg(value_parser = clap::value_parser!(u64).range(1..).map(BackupId))]
    pub id: BackupId,
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

/// `cairn checkpoint`: take one (`cairn checkpoint DB TARGET`), or
/// `cairn checkpoint delete PATH`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct CheckpointArgs {
    /// Something else than taking a checkpoint.
    #[command(subcommand)]
    pub command: Option<CheckpointCommand>,
    /// The database.
    #[arg(required = true)]
    pub db: Option<PathBuf>,
    /// Where the checkpoint appears (must not exist). A path ending in `/`
    /// is a folder: the checkpoint appears inside it, named by its time and
    /// seqno (`20261201T212233123Z-4242`), and `--keep` prunes the folder.
    #[arg(required = true)]
    pub target: Option<PathBuf>,
    /// With a folder TARGET (ending in `/`): then keep only the newest N
    /// checkpoints in it (the others removed crash-safely).
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,
    /// Do not flush the memtable first: the checkpoint links its log instead
    /// (frozen and persisted, never appended again; a segment still being
    /// appended is copied up to the cut), which replays when it is opened.
    #[arg(long)]
    pub no_flush: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// The `cairn checkpoint` subcommands.
#[derive(Debug, Subcommand)]
pub enum CheckpointCommand {
    /// Delete the checkpoint PATH: refused unless PATH is a checkpoint
    /// (has a CHECKPOINT file) never opened for writing, open in no
    /// process, holding only what a checkpoint holds. The source database
    /// keeps every file it shares with it.
    Delete(PathArgs),
    /// Keep the newest N checkpoints in DIR (and, with --max-age, none
    /// older than that but the newest); remove the rest, each renamed away
    /// first so that a crash never leaves a half-removed one that looks
    /// whole; finish the leftovers of interrupted work.
    Prune(CheckpointPruneArgs),
}

/// `cairn checkpoint prune DIR --keep N`.
#[derive(Debug, Args)]
pub struct CheckpointPruneArgs {
    /// The folder of checkpoints.
    pub dir: PathBuf,
    /// How many to keep (at least 1).
    #[arg(long, value_name = "N")]
    pub keep: usize,
    /// Also remove those taken longer ago than this (`90s`, `30m`, `24h`,
    /// `7d`), except the newest.
    #[arg(long, value_name = "AGE", value_parser = crate::duration::parse)]
    pub max_age: Option<std::time::Duration>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `cairn gc DIR`.
#[derive(Debug, Args)]
pub struct GcArgs {
    /// The folder the checkpoints or restores were made in (the parent of
    /// their targets).
    pub dir: PathBuf,
    /// Say what would be removed, and remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `cairn schedule DB DIR --every 60s --keep 24`.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// The database (this process holds it while the schedule runs).
    pub db: PathBuf,
    /// The folder the checkpoints appear in, named by time and seqno.
    pub dir: PathBuf,
    /// How often (`100ms`, `60s`, `5m`, `1h`); a tick with nothing written
    /// since the newest checkpoint is skipped.
    #[arg(long, value_name = "INTERVAL", value_parser = crate::duration::parse)]
    pub every: std::time::Duration,
    /// How many checkpoints to keep (the folder never holds more).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub keep: usize,
    /// Also remove those taken longer ago than this, except the newest.
    #[arg(long, value_name = "AGE", value_parser = crate::duration::parse)]
    pub max_age: Option<std::time::Duration>,
    /// Do not flush before each checkpoint: link the log instead.
    #[arg(long)]
    pub no_flush: bool,
    /// Print one JSON object per event (checkpoint taken, tick skipped,
    /// failure) on its own line.
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

/// `--hex`: how keys and values are written in arguments and output.
#[derive(Clone, Copy, Debug, Args)]
pub struct NotationArgs {
    /// Keys and values are hex, two digits a byte (`00ff6b`), in arguments
    /// and output, instead of text with \xNN escapes.
    #[arg(long)]
    pub hex: bool,
}

impl NotationArgs {
    /// The notation chosen.
    pub fn notation(&self) -> Notation {
        Notation::hex_if(self.hex)
    }
}

/// `cairn delete`: a database and a key.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// The database.
    pub db: PathBuf,
    /// The key (\xNN escapes allowed, or hex with --hex).
    #[arg(value_parser = bytes_parser())]
    pub key: Bytes,
    /// How keys and values are written.
    #[command(flatten)]
    pub notation: NotationArgs,
}

/// `cairn get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The database and the key.
    #[command(flatten)]
    pub key: KeyArgs,
    /// Print the value's bytes as they are, with no newline after (for
    /// piping a binary value into a file or another program).
    #[arg(long)]
    pub raw: bool,
}

/// `cairn put`.
#[derive(Debug, Args)]
pub struct PutArgs {
    /// The database.
    pub db: PathBuf,
    /// The key (\xNN escapes allowed, or hex with --hex).
    #[arg(value_parser = bytes_parser())]
    pub key: Bytes,
    /// The value (\xNN escapes allowed, or hex with --hex).
    #[arg(value_parser = bytes_parser())]
    pub value: Bytes,
    /// Create the database if it does not exist.
    #[arg(long)]
    pub create: bool,
    /// How keys and values are written.
    #[command(flatten)]
    pub notation: NotationArgs,
}

/// Which keys: all, a prefix, or a range from a key (inclusive) to a key
/// (exclusive).
#[derive(Debug, Args)]
pub struct RangeArgs {
    /// Only keys starting with P.
    #[arg(long, value_name = "P", value_parser = bytes_parser(), conflicts_with_all = ["from", "to"])]
    pub prefix: Option<Bytes>,
    /// Only keys at or after K (inclusive: K itself is included).
    #[arg(long, value_name = "K", value_parser = bytes_parser())]
    pub from: Option<Bytes>,
    /// Only keys before K (exclusive: K itself is left out).
    #[arg(long, value_name = "K", value_parser = bytes_parser())]
    pub to: Option<Bytes>,
}

/// `cairn scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The database.
    pub db: PathBuf,
    /// Which keys.
    #[command(flatten)]
    pub range: RangeArgs,
    /// Print at most N keys.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Print keys only, one a line.
    #[arg(long)]
    pub no_value: bool,
    /// In descending key order (from the end of the range; --limit counts
    /// from there).
    #[arg(long)]
    pub reverse: bool,
    /// How keys and values are written.
    #[command(flatten)]
    pub notation: NotationArgs,
}

/// `cairn count`.
#[derive(Debug, Args)]
pub struct CountArgs {
    /// The database.
    pub db: PathBuf,
    /// Which keys.
    #[command(flatten)]
    pub range: RangeArgs,
    /// How keys are written.
    #[command(flatten)]
    pub notation: NotationArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// A command on one database, with optional JSON output.
#[derive(Debug, Args)]
pub struct DbArgs {
    /// The database.
    pub db: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `cairn sst`.
#[derive(Debug, Args)]
pub struct SstArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: SstCommand,
}

/// The `cairn sst` subcommands.
#[derive(Debug, Subcommand)]
pub enum SstCommand {
    /// Print what the file holds, then a table's entries as
    /// KEY<TAB>SEQNO<TAB>KIND<TAB>VALUE lines in table order (key
    /// ascending, newest first), or a blob file's records as
    /// KEY<TAB>SEQNO<TAB>OFFSET<TAB>VALUE lines in file order.
    Dump(SstDumpArgs),
    /// Check every block's (or record's) checksum and the file's own
    /// totals; damage is reported with its offset, and exits 1.
    Verify(SstVerifyArgs),
}

/// One table or blob file.
#[derive(Debug, Args)]
pub struct SstFileArgs {
    /// The file: a table (NAME.sst) or a blob file (NAME.blob).
    pub file: PathBuf,
    /// What the file is, when its name does not say (.sst or .blob).
    #[arg(long, value_enum)]
    pub kind: Option<SstKind>,
}

/// What kind of file `cairn sst` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SstKind {
    /// A table.
    Table,
    /// A blob file.
    Blob,
}

/// `cairn sst dump`.
#[derive(Debug, Args)]
pub struct SstDumpArgs {
    /// The file.
    #[command(flatten)]
    pub file: SstFileArgs,
    /// How keys and values are written.
    #[command(flatten)]
    pub notation: NotationArgs,
}

/// `cairn sst verify`.
#[derive(Debug, Args)]
pub struct SstVerifyArgs {
    /// The file.
    #[command(flatten)]
    pub file: SstFileArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// A key, value or prefix as given. What bytes it stands for depends on
/// `--hex`, so the command decodes it ([`Bytes::decode`]); a bad escape or
/// bad hex is a usage error then, before anything is opened.
#[derive(Clone, Debug)]
pub struct Bytes(pub OsString);

impl Bytes {
    /// The bytes, read in `notation`; `name` is the argument's, for the error.
    pub fn decode(&self, notation: Notation, name: &str) -> Result<Vec<u8>, Failure> {
        notation.parse(&self.0).map_err(|what| Failure::usage(format!("invalid value for {name}: {what}")))
    }
}

fn bytes_parser() -> impl TypedValueParser<Value = Bytes> {
    OsStringValueParser::new().map(Bytes)
}
