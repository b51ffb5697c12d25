//! Read-only views of a database another process may be writing.
//!
//! A read-only open reads `CURRENT`, then the version it names, then the
//! log from that version's start, and the tables and blob files the
//! version lists, while the owner goes on flushing (a new version, then
//! the log below its start removed) and compacting (a new version, then
//! the old tables removed). Read piece by piece like that, a view could
//! take an old version's tables with a newer log — a flushed memtable's
//! writes missing while later ones are there — or name files already gone.
//!
//! So a view is opened as an attempt that is kept only when nothing it
//! read changed under it: `CURRENT` is the same before and after the whole
//! open, which includes opening every table and blob file of the version
//! once (each checked, then kept open or closed again within the bound on
//! open files). Every version installs a new `CURRENT` before its files
//! go, so an unchanged `CURRENT` proves the version's tables and the log
//! from its start were all there while they were read, and the log read is
//! a prefix of commits: a cut. A file the view holds open stays readable
//! when the owner deletes it; one it closed and needs again may be gone,
//! and the read fails with [`Error::ViewOutdated`]: a view never reads
//! another version's files.
//! An attempt that failed counts as the database's answer only when
//! neither `CURRENT` nor the log's files changed during it (a failure
//! beside a live writer, such as a persist half-seen, is retried); else
//! the view tries again, a bounded number of times.

use std::ffi::OsString;
use std::sync::Arc;
use std::time::Duration;

use super::config::Config;
use super::inner::Inner;
use crate::fs::{Fs, read_to_vec};
use crate::version::DbLayout;
use crate::{Error, Result};

/// Attempts before a view gives up on a database that changes under each.
const VIEW_ATTEMPTS: u32 = 100;
/// The longest pause between attempts (they start at 1 ms and double).
const VIEW_PAUSE_MAX: Duration = Duration::from_millis(50);

/// What a view's open depends on, read before and after it.
#[derive(Debug, PartialEq, Eq)]
struct Marks {
    /// `CURRENT`'s bytes, if it could be read.
    current: Option<Vec<u8>>,
    /// The log's files and their lengths.
    log: Vec<(OsString, u64)>,
}

impl Marks {
    fn read(fs: &dyn Fs, layout: &DbLayout) -> Marks {
        let current = read_to_vec(fs, &layout.current()).ok();
        let mut log: Vec<(OsString, u64)> = fs
            .read_dir(&layout.log_dir())
            .unwrap_or_default()
            .into_iter()
            .map(|entry| {
                let len = fs.metadata(&layout.log_dir().join(&entry.name)).map_or(u64::MAX, |m| m.len);
                (entry.name, len)
            })
            .collect();
        log.sort();
        Marks { current, log }
    }
}

impl Inner {
    /// Opens a read-only view (`config.read_only`): a consistent cut of
    /// the database, or an error, never a mix of two versions.
    pub(crate) fn open_view(config: Config) -> Result<Arc<Inner>> {
        let fs = Arc::clone(&config.fs);
        let layout = DbLayout::new(&config.path);
        let mut pause = Duration::from_millis(1);
        for attempt in 1..=VIEW_ATTEMPTS {
            let before = Marks::read(&*fs, &layout);
            match Inner::open_once(config.clone()) {
                // The version and the log from its start are one cut when
                // no newer version came meanwhile; then the version's
                // files, whose opening fails only if a newer version
                // removed them (once open, they stay readable).
                Ok(inner) if read_to_vec(&*fs, &layout.current()).ok() == before.current => {
                    match inner.check_every_file() {
                        Ok(()) => {
                            inner.readers.set_view_opened();
                            return Ok(inner);
                        }
                        Err(e) if read_to_vec(&*fs, &layout.current()).ok() == before.current => return Err(e),
                        Err(e) => log::debug!("attempt {attempt} at a view of {}: {e}", layout.root().display()),
                    }
                }
                Ok(_) => log::debug!("attempt {attempt} at a view of {}: CURRENT changed", layout.root().display()),
                Err(e) if Marks::read(&*fs, &layout) == before => return Err(e),
                Err(e) => {
                    log::debug!("attempt {attempt} at a view of {} failed as it changed: {e}", layout.root().display())
                }
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(VIEW_PAUSE_MAX);
        }
        Err(Error::invalid(format!(
            "{}: the database changed under each of {VIEW_ATTEMPTS} attempts to open a consistent read-only view \
             of it (its writer installs new versions faster than the view could read one); try again",
            layout.root().display()
        )))
    }

    /// Opens the reader of every table and blob file of the current
    /// version, each checked (footer, index, filter), at most
    /// `max_open_files` of them kept open: the version is whole on disk.
    fn check_every_file(&self) -> Result<()> {
        let version = self.current_version();
        for file in version.levels.iter().flatten() {
            self.table(file)?;
        }
        for &id in version.blob_files.keys() {
            self.blob_file(&version, id)?;
        }
        Ok(())
    }
}
