//! [`Failure`]: why a command stopped, as one line on stderr and exit status 1.

use std::fmt::Display;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::escape;
use crate::interrupt;

/// The exit status of a usage error, as clap gives it.
const USAGE_STATUS: u8 = 2;

/// A command that could not do its job.
#[derive(Debug)]
pub struct Failure {
    command: &'static str,
    path: Option<PathBuf>,
    detail: String,
    /// stdout was closed by its reader (`cairn scan DB | head`): stop without a word.
    quiet: bool,
    /// The exit status: 1, [`USAGE_STATUS`] or [`interrupt::EXIT_STATUS`].
    status: u8,
}

impl Failure {
    /// `detail` went wrong while working on `path`.
    pub fn at(path: &Path, detail: impl Display) -> Failure {
        Failure { command: "", path: Some(path.to_path_buf()), detail: detail.to_string(), quiet: false, status: 1 }
    }

    /// The command line asks for something that cannot be: a usage
    /// error (exit status 2), found after parsing (bad hex in a key).
    pub fn usage(detail: impl Display) -> Failure {
        Failure { command: "", path: None, detail: detail.to_string(), quiet: false, status: USAGE_STATUS }
    }

    /// The command stopped at a signal; `detail` says what it cleaned up
    /// or where what it made is.
    pub fn interrupted(detail: impl Display) -> Failure {
        let detail = format!("interrupted; {detail}");
        Failure { command: "", path: None, detail, quiet: false, status: interrupt::EXIT_STATUS }
    }

    /// The library failed while the command worked on `path`. An error that
    /// names its own subject (the file that could not be written, the
    /// target that exists, the store that is busy) is shown alone: `path`
    /// is only what the command was about, and prefixing it would blame
    /// the wrong thing (a full store blamed on the database being backed
    /// up). Other errors (an invalid argument, a poisoned database) are
    /// about `path`.
    pub fn of(path: &Path, e: &cairndb::Error) -> Failure {
        let path = (!names_its_subject(e)).then(|| path.to_path_buf());
        Failure { command: "", path, detail: e.to_string(), quiet: false, status: 1 }
    }

    /// Adds what the command did about the failure (`removed ...`).
    pub fn and(mut self, note: impl Display) -> Failure {
        self.detail = format!("{}; {note}", self.detail);
        self
    }

    /// Names the subcommand that failed.
    pub fn in_command(mut self, command: &'static str) -> Failure {
        self.command = command;
        self
    }

    /// The one line a person reads: the command, the path unless the detail
    /// already names it, and what went wrong.
    pub fn line(&self) -> String {
        let detail = one_line(&self.detail);
        let path = self.path.as_ref().map(|p| escape::path(p)).filter(|p| !detail.contains(p));
        match path {
            Some(path) => format!("cairn {}: {path}: {detail}", self.command),
            None => format!("cairn {}: {detail}", self.command),
        }
    }

    /// Prints the line (unless quiet) and gives the exit status.
    pub fn report(self) -> ExitCode {
        if self.quiet {
            return ExitCode::SUCCESS;
        }
        let _ = writeln!(io::stderr().lock(), "{}", self.line());
        ExitCode::from(self.status)
    }
}

/// Errors whose message names the file, target, lock or store they are about.
fn names_its_subject(e: &cairndb::Error) -> bool {
    use cairndb::Error;
    matches!(
        e,
        Error::Io { .. }
            | Error::Corruption { .. }
            | Error::TargetExists { .. }
            | Error::Locked { .. }
            | Error::BackupConflict { .. }
            | Error::ArchiveConflict { .. }
            | Error::StoreBusy { .. }
            | Error::AmbiguousDatabase { .. }
            | Error::ViewOutdated { .. }
    )
}

/// Control characters (newlines above all) become spaces.
fn one_line(text: &str) -> String {
    text.replace(char::is_control, " ")
}

impl From<io::Error> for Failure {
    /// A failed write to stdout.
    fn from(e: io::Error) -> Failure {
        let quiet = e.kind() == io::ErrorKind::BrokenPipe;
        Failure { command: "", path: None, detail: format!("cannot write output: {e}"), quiet, status: 1 }
    }
}

/// Attaches the path a library call worked on to its error.
pub trait At<T> {
    /// The error, as a failure on `path`.
    fn at(self, path: &Path) -> Result<T, Failure>;
}

impl<T> At<T> for cairndb::Result<T> {
    fn at(self, path: &Path) -> Result<T, Failure> {
        self.map_err(|e| Failure::of(path, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_naming_its_own_file_is_not_blamed_on_the_command_path() {
        let full = cairndb::Error::io("write", "/store/.uploads/1", io::Error::from_raw_os_error(28));
        let f = Failure::of(Path::new("/data/db"), &full).in_command("backup create");
        assert!(f.line().starts_with("cairn backup create: cannot write /store/.uploads/1: "), "{}", f.line());
        let poisoned = cairndb::Error::Poisoned { cause: "disk full".into() };
        let f = Failure::of(Path::new("/data/db"), &poisoned).in_command("put");
        assert!(f.line().starts_with("cairn put: /data/db: "), "{}", f.line());
    }

    #[test]
    fn the_path_is_named_once() {
        let f = Failure::at(Path::new("/x/db"), "cannot open /x/db/CURRENT: gone").in_command("info");
        assert_eq!(f.line(), "cairn info: cannot open /x/db/CURRENT: gone");
        let f = Failure::at(Path::new("/x/db"), "invalid argument:\nkey too long").in_command("put");
        assert_eq!(f.line(), "cairn put: /x/db: invalid argument: key too long");
    }
}
