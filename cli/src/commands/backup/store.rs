//! Opening the backup store a command names: a directory, or `s3://...`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cairndb::backup::{BackupEngine, BackupProgress, BackupStore, DirStore};
use cairndb::fs::StdFs;
use indicatif::ProgressBar;
use serde_json::Value;

use crate::args::{DatabaseArgs, DatabaseChoice, StoreArgs};
use crate::failure::{At as _, Failure};
use crate::progress::{self, Unit};

pub use crate::output::rate;

/// How a command uses the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// It may create the store (a backup).
    Create,
    /// The store must exist already.
    Existing,
}

/// The engine over the store `args` names.
pub fn engine(args: &StoreArgs, access: Access) -> Result<BackupEngine, Failure> {
    Ok(BackupEngine::new(open(args, access)?))
}

/// The engine over the store `args` names, working on the database
/// `database` chose (all of them when none).
pub fn scoped_engine(args: &StoreArgs, database: &DatabaseArgs) -> Result<BackupEngine, Failure> {
    let engine = engine(args, Access::Existing)?;
    Ok(match database.database {
        None => engine,
        Some(DatabaseChoice::Known(identity)) => engine.database(identity),
        Some(DatabaseChoice::Unknown) => engine.unknown_database(),
    })
}

/// How a database identity reads in output: `unknown` for none.
pub fn database_text(database: Option<cairndb::DbIdentity>) -> String {
    database.map_or_else(|| "unknown".to_owned(), |d| d.to_string())
}

/// A database identity in JSON: a string, or null for none.
pub fn database_json(database: Option<cairndb::DbIdentity>) -> Value {
    database.map_or(Value::Null, |d| Value::String(d.to_string()))
}

/// The engine with a grace period for crashed jobs' leftovers.
pub fn engine_with_grace(args: &StoreArgs, grace: Duration) -> Result<BackupEngine, Failure> {
    Ok(engine(args, Access::Existing)?.grace(grace))
}

fn open(args: &StoreArgs, access: Access) -> Result<Arc<dyn BackupStore>, Failure> {
    let at = Path::new(&args.store);
    if args.store.starts_with("s3://") {
        return open_s3(args);
    }
    if args.endpoint.is_some() {
        return Err(Failure::at(at, "--endpoint is for s3:// stores"));
    }
    let fs = Arc::new(StdFs::new());
    match access {
        // Opening an existing store writes nothing: reading needs no write permission.
        Access::Existing if !at.is_dir() => Err(Failure::at(at, "no backup store here (not a directory)")),
        Access::Existing => Ok(Arc::new(DirStore::open_existing(fs, at).at(at)?)),
        Access::Create => Ok(Arc::new(DirStore::open(fs, at).at(at)?)),
    }
}

#[cfg(feature = "s3")]
fn open_s3(args: &StoreArgs) -> Result<Arc<dyn BackupStore>, Failure> {
    use cairndb::backup::{S3Config, S3Store};
    let at = Path::new(&args.store);
    let mut config = S3Config::from_url(&args.store).at(at)?;
    if let Some(endpoint) = &args.endpoint {
        config = config.endpoint(endpoint);
    }
    Ok(Arc::new(S3Store::open(config).at(at)?))
}

#[cfg(not(feature = "s3"))]
fn open_s3(args: &StoreArgs) -> Result<Arc<dyn BackupStore>, Failure> {
    Err(Failure::at(Path::new(&args.store), "this cairn was built without S3 support (rebuild with `--features s3`)"))
}

/// A bar over bytes, a spinner until the job knows its total.
pub fn bar(label: &'static str) -> ProgressBar {
    progress::pending(Unit::Bytes, label)
}

/// Moves `bar` to `p`.
pub fn advance(bar: &ProgressBar, p: BackupProgress) {
    progress::advance(bar, Unit::Bytes, p.bytes_done, Some(p.bytes_total));
}
