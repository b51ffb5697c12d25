//! Ctrl-C (and `SIGTERM`, `SIGHUP`): an interrupted command removes what it
//! created, or says where it is, and exits with status 130.
//!
//! The signal is caught on a thread of its own (`ctrlc`). A command that
//! checks [`interrupted`] as it goes ([`cooperate`]: the demo, `dump`,
//! `load`) stops at its next check and cleans up on its own thread, where
//! nothing else is writing; if it has not exited within [`GRACE`], or at a
//! second signal, the handler does what every other command gets at once:
//! it removes the paths registered with [`remove_on_interrupt`], prints
//! one line (with the notes of [`say_on_interrupt`]: where a leftover is
//! and what removes it), and exits.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use cairndb::fs::{Fs as _, StdFs, remove_dir_all};

use crate::escape;
use crate::failure::Failure;

/// The exit status of an interrupted command (128 + SIGINT, as shells report it).
pub const EXIT_STATUS: u8 = 130;

/// How long a cooperating command has to stop after the first signal.
pub const GRACE: Duration = Duration::from_secs(10);

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// What the handler does when it ends the process itself.
struct Plan {
    command: &'static str,
    cooperating: usize,
    next_id: u64,
    removals: Vec<(u64, PathBuf)>,
    notes: Vec<(u64, String)>,
}

static PLAN: Mutex<Plan> =
    Mutex::new(Plan { command: "", cooperating: 0, next_id: 0, removals: Vec::new(), notes: Vec::new() });

fn plan() -> MutexGuard<'static, Plan> {
    PLAN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Catches the signals for `command` (its name in the line printed).
pub fn install(command: &'static str) {
    plan().command = command;
    if let Err(e) = ctrlc::set_handler(on_signal) {
        log::warn!("Ctrl-C will not clean up: cannot catch it ({e})");
    }
}

/// True once a signal arrived: a cooperating command stops and cleans up.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Acquire)
}

/// `Err` once a signal arrived, for a cooperating command to stop with `?`
/// between steps; its caller reports what it cleaned up.
pub fn check() -> Result<(), Failure> {
    match interrupted() {
        true => Err(Failure::interrupted("stopped")),
        false => Ok(()),
    }
}

fn on_signal() {
    let first = !INTERRUPTED.swap(true, Ordering::AcqRel);
    if first && plan().cooperating > 0 {
        thread::spawn(|| {
            thread::sleep(GRACE);
            end_now();
        });
        return;
    }
    end_now();
}

/// Removes what is registered, says what is left, and exits.
fn end_now() -> ! {
    let plan = plan();
    let mut said = Vec::new();
    for (_, path) in &plan.removals {
        match remove(path) {
            Ok(()) => said.push(format!("removed {}", escape::path(path))),
            Err(e) => said.push(format!("could not remove {} ({e}); it is still there", escape::path(path))),
        }
    }
    said.extend(plan.notes.iter().map(|(_, note)| note.clone()));
    let mut err = std::io::stderr().lock();
    if err.is_terminal() {
        // A progress bar may be drawn on this line.
        let _ = write!(err, "\r\x1b[2K");
    }
    let _ = match said.is_empty() {
        true => writeln!(err, "cairn {}: interrupted", plan.command),
        false => writeln!(err, "cairn {}: interrupted; {}", plan.command, said.join("; ")),
    };
    std::process::exit(i32::from(EXIT_STATUS));
}

fn remove(path: &Path) -> cairndb::Result<()> {
    let fs = StdFs::new();
    match fs.metadata(path) {
        Ok(meta) if meta.is_dir() => remove_dir_all(&fs, path),
        Ok(_) => fs.remove_file(path),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}

/// A registration, undone when dropped.
#[must_use = "the registration ends when this is dropped"]
pub struct Registration {
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut plan = plan();
        plan.removals.retain(|(id, _)| *id != self.id);
        plan.notes.retain(|(id, _)| *id != self.id);
    }
}

fn register(add: impl FnOnce(&mut Plan, u64)) -> Registration {
    let mut plan = plan();
    let id = plan.next_id;
    plan.next_id += 1;
    add(&mut plan, id);
    Registration { id }
}

/// While the registration lives, an interruption removes `path` (a file or
/// a directory this command created).
pub fn remove_on_interrupt(path: &Path) -> Registration {
    let path = path.to_path_buf();
    register(move |plan, id| plan.removals.push((id, path)))
}

/// While the registration lives, an interruption prints `note` (where
/// something is left, and what removes it).
pub fn say_on_interrupt(note: String) -> Registration {
    register(move |plan, id| plan.notes.push((id, note)))
}

/// While this lives, the command checks [`interrupted`] and cleans up
/// itself; the handler waits for it (up to [`GRACE`]).
#[must_use = "cooperation ends when this is dropped"]
pub struct Cooperation(());

/// The note for a command that builds `target` in a staging directory
/// beside it (a checkpoint, a restore): killed, it leaves that directory.
pub fn staging_note(target: &Path) -> Registration {
    let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let start = cairndb::checkpoint::staging_name_start(target.file_name().unwrap_or_default(), std::process::id());
    say_on_interrupt(format!(
        "nothing appeared at {}, but its staging directory may be left in {} as {}*: `cairn gc {}` \
         or the next checkpoint or restore there removes it",
        escape::path(target),
        escape::path(parent),
        escape::path(Path::new(&start)),
        escape::path(parent),
    ))
}

/// Declares that the command checks [`interrupted`] as it goes.
pub fn cooperate() -> Cooperation {
    plan().cooperating += 1;
    Cooperation(())
}

impl Drop for Cooperation {
    fn drop(&mut self) {
        plan().cooperating -= 1;
    }
}
