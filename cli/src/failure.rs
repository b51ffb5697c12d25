//! [`Failure`]: why a command stopped, as one line on stderr and exit status 1.

use std::fmt::Display;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A command that could not do its job.
#[derive(Debug)]
pub struct Failure {
    command: &'static str,
    path: Option<PathBuf>,
    detail: String,
    /// stdout was closed by its reader (`cairn scan DB | head`): stop without a word.
    quiet: bool,
}

impl Failure {
    /// `detail` went wrong while working on `path`.
    pub fn at(path: &Path, detail: impl Display) -> Failure {
        Failure { command: "", path: Some(path.to_path_buf()), detail: detail.to_string(), quiet: false }
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
        let path = self.path.as_ref().map(|p| one_line(&p.display().to_string())).filter(|p| !detail.contains(p));
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
        ExitCode::FAILURE
    }
}

/// Control characters (newlines above all) become spaces.
fn one_line(text: &str) -> String {
    text.replace(char::is_control, " ")
}

impl From<io::Error> for Failure {
    /// A failed write to stdout.
    fn from(e: io::Error) -> Failure {
        let quiet = e.kind() == io::ErrorKind::BrokenPipe;
        Failure { command: "", path: None, detail: format!("cannot write output: {e}"), quiet }
    }
}

/// Attaches the path a library call worked on to its error.
pub trait At<T> {
    /// The error, as a failure on `path`.
    fn at(self, path: &Path) -> Result<T, Failure>;
}

impl<T, E: Display> At<T> for Result<T, E> {
    fn at(self, path: &Path) -> Result<T, Failure> {
        self.map_err(|e| Failure::at(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_is_named_once() {
        let f = Failure::at(Path::new("/x/db"), "cannot open /x/db/CURRENT: gone").in_command("info");
        assert_eq!(f.line(), "cairn info: cannot open /x/db/CURRENT: gone");
        let f = Failure::at(Path::new("/x/db"), "invalid argument:\nkey too long").in_command("put");
        assert_eq!(f.line(), "cairn put: /x/db: invalid argument: key too long");
    }
}
