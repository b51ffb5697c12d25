//! The library's log on stderr.
//!
//! With `RUST_LOG` set, `env_logger` writes it as it comes. Without, the
//! library's warnings and errors are held until the command ends and then
//! printed as `cairn CMD: warning: ...` lines — after the failure line, if
//! the command failed, and leaving out those that only restate its cause
//! (a full disk poisons the database: the library logs that, and the
//! failure line says it again).

use std::io::Write as _;
use std::sync::Mutex;

use log::{Level, LevelFilter, Log, Metadata, Record};

/// Records held for the end of the command.
struct Held {
    messages: Mutex<Vec<String>>,
}

static HELD: Held = Held { messages: Mutex::new(Vec::new()) };

impl Log for Held {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= Level::Warn
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            let message = record.args().to_string().replace(char::is_control, " ");
            self.messages.lock().unwrap_or_else(|e| e.into_inner()).push(message);
        }
    }

    fn flush(&self) {}
}

/// Installs the logger: `env_logger` when `RUST_LOG` is set, else the held one.
pub fn init() {
    if std::env::var_os("RUST_LOG").is_some() {
        env_logger::Builder::from_env(env_logger::Env::default()).init();
    } else if log::set_logger(&HELD).is_ok() {
        log::set_max_level(LevelFilter::Warn);
    }
}

/// Prints what was held, as warnings of `command`, except what `failure`
/// (the failure line, if the command failed) already says.
pub fn print_held(command: &str, failure: Option<&str>) {
    let messages = std::mem::take(&mut *HELD.messages.lock().unwrap_or_else(|e| e.into_inner()));
    let mut err = std::io::stderr().lock();
    for message in messages.iter().filter(|m| failure.is_none_or(|line| !restates(m, line))) {
        let _ = writeln!(err, "cairn {command}: warning: {message}");
    }
}

/// Whether `message` only restates the cause `line` gives: the I/O error it
/// ends in (`cannot write F: No space left on device (os error 28)`) or,
/// without one, what follows its first `": "`, is in the line.
fn restates(message: &str, line: &str) -> bool {
    match message.rfind("cannot ") {
        Some(at) => {
            let cause = &message[at..];
            let cause = match cause.find("(os error ") {
                Some(os) => cause[os..].find(')').map_or(cause, |close| &cause[..os + close + 1]),
                None => cause,
            };
            line.contains(cause)
        }
        None => message.split_once(": ").is_some_and(|(_, rest)| line.contains(rest)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restated_cause_is_recognised() {
        let line = "cairn demo: cannot write /w/db/log/0.hlog: No space left on device (os error 28)";
        for message in [
            "database poisoned: cannot write /w/db/log/0.hlog: No space left on device (os error 28)",
            "persist at close failed: database is poisoned after a failed sync (cannot write /w/db/log/0.hlog: \
             No space left on device (os error 28)); reopen it to recover from the log",
        ] {
            assert!(restates(message, line), "{message}");
        }
        assert!(!restates("could not remove the partial restore /r/.staging: busy", line));
        assert!(!restates("could not delete obsolete file: cannot remove /w/db/tables/1.sst: busy", line));
    }
}
