//! [`Error`]: what can stop a benchmark run.

use std::fmt;
use std::path::PathBuf;

/// A failed engine call, file operation, command or check.
#[derive(Debug)]
pub enum Error {
    /// An engine returned an error.
    Engine { engine: &'static str, op: &'static str, source: Box<dyn std::error::Error + Send + Sync> },
    /// A file-system operation of the benchmark itself failed.
    Io { op: &'static str, path: PathBuf, source: std::io::Error },
    /// An external command (`cp`, `sync`) failed.
    Command { command: String, status: String },
    /// The command line asks for something the benchmark cannot do.
    Usage(String),
    /// The chart could not be drawn (plotters' errors are not `Send`).
    Chart { path: PathBuf, source: String },
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Engine { engine, op, source } => write!(f, "{engine}: {op} failed: {source}"),
            Error::Io { op, path, source } => write!(f, "could not {op} {}: {source}", path.display()),
            Error::Command { command, status } => write!(f, "`{command}` failed: {status}"),
            Error::Usage(message) => write!(f, "{message} (see --help)"),
            Error::Chart { path, source } => write!(f, "could not draw {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Engine { source, .. } => Some(source.as_ref()),
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Names the engine and the operation of an engine's error.
pub trait EngineContext<T> {
    /// Wraps the error as [`Error::Engine`].
    fn during(self, engine: &'static str, op: &'static str) -> Result<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> EngineContext<T> for std::result::Result<T, E> {
    fn during(self, engine: &'static str, op: &'static str) -> Result<T> {
        self.map_err(|e| Error::Engine { engine, op, source: Box::new(e) })
    }
}

/// Names the operation and path of an I/O error.
pub trait IoContext<T> {
    /// Wraps the error as [`Error::Io`].
    fn io(self, op: &'static str, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn io(self, op: &'static str, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| Error::Io { op, path: path.into(), source })
    }
}
