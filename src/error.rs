//! The crate's one error type.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in cairndb.
///
/// Each variant carries enough structure for a program to act on it and a
/// `Display` a person can act on.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file-system operation failed.
    Io {
        /// The operation, e.g. `"open"`, `"rename"`, `"fsync"`.
        op: &'static str,
        /// The path the operation was applied to (the source for two-path operations).
        path: PathBuf,
        /// The second path of a two-path operation (rename, link, reflink, copy).
        dest: Option<PathBuf>,
        /// What the operating system (or the fault injector) reported.
        source: io::Error,
    },
    /// Bytes read from disk failed verification.
    Corruption {
        /// The file holding the bad bytes.
        file: PathBuf,
        /// Byte offset in that file where the bad region starts.
        offset: u64,
        /// What check failed.
        what: String,
    },
    /// The target of a create-only operation already exists.
    TargetExists {
        /// The existing path.
        path: PathBuf,
    },
    /// An argument is not acceptable; the message says which and why.
    InvalidArgument {
        /// What was wrong.
        what: String,
    },
    /// A directory is locked by another process or another open database.
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// A write to a database (or log) opened read-only: a put, delete or
    /// batch, a persist, flush or compaction, a checkpoint or backup of it.
    ReadOnly {
        /// The database (or log) directory.
        path: PathBuf,
    },
    /// An earlier fsync failed; the database refuses further writes until it
    /// is reopened, because the file system may already have dropped data.
    Poisoned {
        /// A description of the failure that poisoned it.
        cause: String,
    },
    /// Another writer committed a backup with the same id first (the
    /// create-only commit of its manifest lost the race). Nothing of this
    /// attempt is listed; its uploaded files are shared by content or left
    /// for garbage collection.
    BackupConflict {
        /// The backup store.
        store: String,
        /// The backup id both writers tried to commit.
        id: crate::BackupId,
    },
    /// The backup store is in use by a job this one must not overlap
    /// (garbage collection and backups exclude each other).
    StoreBusy {
        /// The backup store.
        store: String,
        /// Who holds it: the kind of job, its lease object and its age.
        holder: String,
    },
    /// The backup store holds backups of more than one database (or
    /// timeline of one), and the operation needs one chosen: "latest" of
    /// which? Choose with `BackupEngine::database` (`cairn backup ...
    /// --database ID`).
    AmbiguousDatabase {
        /// The backup store.
        store: String,
        /// The databases found, newest first.
        databases: Vec<crate::types::DatabaseSummary>,
    },
    /// Another archiver ships the same database timeline's log to the same
    /// backup store (it created the next chunk first), or the store's
    /// archive of it is not this database's history: this archive stopped
    /// and shipped nothing more. One archiver per timeline and store.
    ArchiveConflict {
        /// The backup store.
        store: String,
        /// The timeline.
        timeline: crate::types::DbIdentity,
        /// What was found.
        what: String,
    },
    /// The storage cannot do something cairndb needs for safety.
    Unsupported {
        /// What is missing, and where.
        what: String,
    },
    /// A read-only view needed a file of the version it was opened at, and
    /// the database's writer has removed it since. A view keeps at most
    /// `max_open_files` of its files open and opens the others again as it
    /// reads them; one the writer compacted away is gone. Open a new view.
    ViewOutdated {
        /// The file that is gone.
        path: PathBuf,
        /// What opening it reported.
        source: io::Error,
    },
}

impl From<crate::types::ParseIdentityError> for Error {
    fn from(e: crate::types::ParseIdentityError) -> Error {
        Error::invalid(e.to_string())
    }
}

impl Error {
    /// An I/O error on one path.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io { op, path: path.into(), dest: None, source }
    }

    /// An I/O error on a two-path operation.
    pub fn io2(op: &'static str, path: impl Into<PathBuf>, dest: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io { op, path: path.into(), dest: Some(dest.into()), source }
    }

    /// A verification failure in `file` at `offset`.
    pub fn corruption(file: &Path, offset: u64, what: impl Into<String>) -> Self {
        Error::Corruption { file: file.to_path_buf(), offset, what: what.into() }
    }

    /// An invalid argument.
    pub fn invalid(what: impl Into<String>) -> Self {
        Error::InvalidArgument { what: what.into() }
    }

    /// A corruption error that also says the damaged database stopped
    /// `what` (e.g. "the backup was refused"); other errors as they are.
    pub(crate) fn refusing(self, what: &str) -> Self {
        match self {
            Error::Corruption { file, offset, what: found } => Error::Corruption {
                file,
                offset,
                what: format!("{found}; the database is damaged and {what} (`cairn verify` lists the damage)"),
            },
            e => e,
        }
    }

    /// The kind of the underlying I/O error, if this is an I/O error.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        self.io_source().map(io::Error::kind)
    }

    /// The raw OS error code of the underlying I/O error, if any.
    pub fn raw_os_error(&self) -> Option<i32> {
        self.io_source().and_then(io::Error::raw_os_error)
    }

    fn io_source(&self) -> Option<&io::Error> {
        match self {
            Error::Io { source, .. } | Error::ViewOutdated { source, .. } => Some(source),
            _ => None,
        }
    }

    /// True when the process or the system ran out of file descriptors
    /// (`EMFILE`, `ENFILE`): a shortage, not damage. A flush or compaction
    /// that runs out does not poison the database, and succeeds once
    /// descriptors are free (a log persist that runs out still poisons it).
    pub fn is_out_of_file_descriptors(&self) -> bool {
        self.raw_os_error().is_some_and(is_out_of_file_descriptors)
    }

    /// True for [`Error::Corruption`].
    pub fn is_corruption(&self) -> bool {
        matches!(self, Error::Corruption { .. })
    }

    /// True when the error says a path does not exist.
    pub fn is_not_found(&self) -> bool {
        self.io_kind() == Some(io::ErrorKind::NotFound)
    }

    /// True when a create-only operation found its target already there.
    pub fn is_already_exists(&self) -> bool {
        matches!(self, Error::TargetExists { .. }) || self.io_kind() == Some(io::ErrorKind::AlreadyExists)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { op, path, dest: None, source } => {
                write!(f, "cannot {op} {}: {source}", path.display())?;
                out_of_file_descriptors_hint(f, source)
            }
            Error::Io { op, path, dest: Some(dest), source } => {
                write!(f, "cannot {op} {} to {}: {source}", path.display(), dest.display())?;
                out_of_file_descriptors_hint(f, source)
            }
            Error::Corruption { file, offset, what } => {
                write!(f, "corruption in {} at offset {offset}: {what}", file.display())
            }
            Error::TargetExists { path } => write!(f, "{} already exists", path.display()),
            Error::InvalidArgument { what } => write!(f, "invalid argument: {what}"),
            Error::Locked { path } => {
                write!(f, "{} is locked: the database is open in another process or handle", path.display())
            }
            Error::ReadOnly { path } => write!(
                f,
                "{} is open read-only: writes, persists, flushes, compactions, checkpoints and backups need it \
                 opened for writing (without `Config::read_only`)",
                path.display()
            ),
            Error::Poisoned { cause } => {
                write!(f, "database is poisoned after a failed sync ({cause}); reopen it to recover from the log")
            }
            Error::BackupConflict { store, id } => write!(
                f,
                "backup {id} in {store} was committed by another writer first; this attempt committed nothing \
                 (run the backup again to commit it under a new id)"
            ),
            Error::StoreBusy { store, holder } => write!(
                f,
                "{store} is busy: {holder}; retry when it ends (a lease a crashed job left goes stale after the \
                 grace period)"
            ),
            Error::AmbiguousDatabase { store, databases } => {
                write!(f, "{store} holds backups of {} databases: ", databases.len())?;
                for (i, database) in databases.iter().enumerate() {
                    write!(f, "{}{database}", if i == 0 { "" } else { "; " })?;
                }
                write!(f, ". Choose one: BackupEngine::database(ID), or `--database ID` with `cairn backup`")
            }
            Error::ArchiveConflict { store, timeline, what } => write!(
                f,
                "the log archive of database {timeline} in {store}: {what}; this archive stopped (one archiver per \
                 database timeline and store)"
            ),
            Error::Unsupported { what } => write!(f, "not supported: {what}"),
            Error::ViewOutdated { path, source } => write!(
                f,
                "{} is gone ({source}): the database's writer removed it after this read-only view was opened; open \
                 a new view to read the database as it is now",
                path.display()
            ),
        }
    }
}

fn is_out_of_file_descriptors(errno: i32) -> bool {
    errno == rustix::io::Errno::MFILE.raw_os_error() || errno == rustix::io::Errno::NFILE.raw_os_error()
}

/// What to do about `EMFILE` and `ENFILE`, after the message that reports one.
fn out_of_file_descriptors_hint(f: &mut fmt::Formatter<'_>, source: &io::Error) -> fmt::Result {
    if !source.raw_os_error().is_some_and(is_out_of_file_descriptors) {
        return Ok(());
    }
    write!(
        f,
        " (out of file descriptors: open the database with a lower `Config::max_open_files`, or raise the \
         limit, `ulimit -n`)"
    )
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } | Error::ViewOutdated { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_paths_and_keeps_source() {
        let e = Error::io2("hard-link", "/a/src", "/b/dst", io::Error::from(io::ErrorKind::AlreadyExists));
        let text = e.to_string();
        assert!(text.contains("/a/src") && text.contains("/b/dst"), "{text}");
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(e.io_kind(), Some(io::ErrorKind::AlreadyExists));
        let c = Error::corruption(Path::new("t/1.sst"), 4096, "block checksum mismatch");
        assert!(c.is_corruption());
        assert_eq!(c.to_string(), "corruption in t/1.sst at offset 4096: block checksum mismatch");
        let r = Error::ReadOnly { path: "/db".into() };
        assert!(r.to_string().starts_with("/db is open read-only: "), "{r}");
    }

    #[test]
    fn out_of_file_descriptors_is_named_and_explained() {
        for errno in [rustix::io::Errno::MFILE, rustix::io::Errno::NFILE] {
            let e = Error::io("open", "/db/tables/7.sst", io::Error::from_raw_os_error(errno.raw_os_error()));
            assert!(e.is_out_of_file_descriptors());
            let text = e.to_string();
            assert!(text.starts_with("cannot open /db/tables/7.sst: ") && text.contains("max_open_files"), "{text}");
        }
        let other = Error::io("open", "/db/tables/7.sst", io::Error::from(io::ErrorKind::PermissionDenied));
        assert!(!other.is_out_of_file_descriptors() && !other.to_string().contains("max_open_files"));
        let gone = Error::ViewOutdated { path: "/db/tables/7.sst".into(), source: io::ErrorKind::NotFound.into() };
        assert!(gone.is_not_found() && gone.to_string().contains("/db/tables/7.sst"), "{gone}");
    }
}
