//! Holds on the log's segments ([`LogHolds`]): what each continuous
//! archive has shipped, so that segment removal keeps the rest — until an
//! archive falls more than its cap behind and is released
//! (`log_tap.rs` has the whole story).
//!
//! A hold outlives the process: before a removal takes segments an archive
//! has not shipped past the log start, the lowest held address is written
//! to [`HOLD_FILE`] (replaced atomically), and an open that finds it keeps
//! the segments from there as a *dormant* hold, which the next archive
//! attached takes over (or the cap releases). A crash between a flush and
//! its shipping then costs no gap.

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::fs::{Fs, read_to_vec, write_file_atomic};
use crate::sync::MutexExt;
use crate::wire::checksum;
use crate::{LogAddress, Result};

/// The file in the database root that keeps a hold across restarts.
pub(crate) const HOLD_FILE: &str = "ARCHIVE_HOLD";
const HOLD_MAGIC: &[u8; 8] = b"CAIRNHLD";
const HOLD_BYTES: usize = 32;

/// `ARCHIVE_HOLD`: magic, the lowest held address, the hold's cap, xxh3-64
/// of the 24 bytes before.
fn encode_hold(address: u64, max_unshipped_bytes: u64) -> Vec<u8> {
    let mut out = HOLD_MAGIC.to_vec();
    out.extend_from_slice(&address.to_le_bytes());
    out.extend_from_slice(&max_unshipped_bytes.to_le_bytes());
    let sum = checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

fn decode_hold(bytes: &[u8]) -> Option<(u64, u64)> {
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    (bytes.len() == HOLD_BYTES && &bytes[..8] == HOLD_MAGIC && checksum(&bytes[..24]) == word(24))
        .then(|| (word(8), word(16)))
}

/// What a hold lost when it was released past its cap: the archive cannot
/// continue from where it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Released {
    /// The address it had shipped up to.
    pub(crate) shipped: LogAddress,
    /// Bytes it held back when released.
    pub(crate) unshipped_bytes: u64,
}

/// One archive's claim on the log's segments.
#[derive(Debug)]
pub(crate) struct LogHold {
    state: Mutex<HoldState>,
}

#[derive(Debug)]
struct HoldState {
    /// Segments holding addresses at or above this stay.
    shipped: u64,
    released: Option<Released>,
    /// How far behind it may fall before a removal releases it.
    cap: u64,
}

impl LogHold {
    pub(crate) fn new(shipped: LogAddress, max_unshipped_bytes: u64) -> LogHold {
        LogHold { state: Mutex::new(HoldState { shipped: shipped.0, released: None, cap: max_unshipped_bytes }) }
    }

    /// Holds again from `address`, after a release.
    pub(crate) fn hold_again(&self, address: LogAddress) {
        let mut state = self.state.locked();
        state.shipped = address.0;
        state.released = None;
    }

    /// Sets the cap (an archive taking over a dormant hold).
    pub(crate) fn set_cap(&self, max_unshipped_bytes: u64) {
        self.state.locked().cap = max_unshipped_bytes;
    }

    /// The address it has shipped up to.
    pub(crate) fn shipped(&self) -> u64 {
        self.state.locked().shipped
    }

    /// Marks the hold released again without counting a new gap.
    pub(crate) fn let_go(&self) {
        let mut state = self.state.locked();
        let shipped = LogAddress(state.shipped);
        state.released = Some(Released { shipped, unshipped_bytes: 0 });
    }

    /// What the hold lost, if it was released.
    pub(crate) fn released(&self) -> Option<Released> {
        self.state.locked().released
    }

    /// Everything below `address` is shipped.
    pub(crate) fn shipped_to(&self, address: LogAddress) {
        let mut state = self.state.locked();
        if state.released.is_none() {
            state.shipped = state.shipped.max(address.0);
        }
    }
}

/// Every hold attached to one database's log.
#[derive(Debug, Default)]
pub(crate) struct LogHolds {
    pub(crate) holds: Mutex<Vec<Arc<LogHold>>>,
    /// A hold read from [`HOLD_FILE`] at open (also in `holds`), until an
    /// archive takes it over.
    pub(crate) dormant: Mutex<Option<Arc<LogHold>>>,
    /// The address [`HOLD_FILE`] holds now, if it exists.
    persisted: Mutex<Option<u64>>,
}

impl LogHolds {
    /// The holds of a database opening in `root`: a dormant one if the
    /// last run left [`HOLD_FILE`] (a damaged one is logged and ignored:
    /// its archive may then find a gap, which it records).
    pub(crate) fn open(fs: &dyn Fs, root: &Path) -> Result<LogHolds> {
        let holds = LogHolds::default();
        let path = root.join(HOLD_FILE);
        if !fs.exists(&path)? {
            return Ok(holds);
        }
        match decode_hold(&read_to_vec(fs, &path)?) {
            Some((address, max_unshipped_bytes)) => {
                let hold = Arc::new(LogHold::new(LogAddress(address), max_unshipped_bytes));
                holds.holds.locked().push(Arc::clone(&hold));
                *holds.dormant.locked() = Some(hold);
                *holds.persisted.locked() = Some(address);
            }
            None => log::warn!("ignoring {}: it is damaged", path.display()),
        }
        Ok(holds)
    }

    /// The dormant hold's address, if one waits for an archive.
    pub(crate) fn dormant_from(&self) -> Option<u64> {
        let dormant = self.dormant.locked();
        let state = dormant.as_ref()?.state.locked();
        state.released.is_none().then_some(state.shipped)
    }

    /// The lowest address a hold not released keeps below `log_start`.
    pub(crate) fn lowest_below(&self, log_start: u64) -> Option<u64> {
        let holds = self.holds.locked();
        let shipped = holds.iter().filter_map(|h| {
            let state = h.state.locked();
            (state.released.is_none() && state.shipped < log_start).then_some(state.shipped)
        });
        shipped.min()
    }

    /// Makes [`HOLD_FILE`] say `keeps` (the lowest held address below the
    /// log start) before segments below the log start are removed; removes
    /// it when nothing is held there.
    pub(crate) fn persist(&self, fs: &dyn Fs, root: &Path, keeps: Option<u64>) -> Result<()> {
        let mut persisted = self.persisted.locked();
        if *persisted == keeps {
            return Ok(());
        }
        let path = root.join(HOLD_FILE);
        match keeps {
            Some(address) => {
                let cap = self.holds.locked().iter().map(|h| h.state.locked().cap).max().unwrap_or(u64::MAX);
                write_file_atomic(fs, &path, &encode_hold(address, cap))?;
            }
            None => match fs.remove_file(&path) {
                Err(e) if !e.is_not_found() => return Err(e),
                _ => {}
            },
        }
        *persisted = keeps;
        Ok(())
    }

    /// How many are attached.
    pub(crate) fn count(&self) -> usize {
        self.holds.locked().len()
    }

    /// The lowest address any hold keeps of a log whose durable part ends
    /// at `durable_end`, when removal would take everything below
    /// `log_start`; releases each hold that would keep more than its cap
    /// (saying so, for the database at `db`), and returns how many it
    /// released.
    pub(crate) fn keeps_from(&self, log_start: u64, durable_end: u64, db: &Path) -> (Option<u64>, u64) {
        let holds = self.holds.locked();
        let mut keeps: Option<u64> = None;
        let mut released = 0;
        for hold in holds.iter() {
            let mut state = hold.state.locked();
            if state.released.is_some() || state.shipped >= log_start {
                continue;
            }
            let unshipped_bytes = durable_end.saturating_sub(state.shipped);
            if unshipped_bytes > state.cap {
                log::error!(
                    "the continuous log archive of {} fell {unshipped_bytes} bytes behind (more than its \
                     max_unshipped_bytes of {}): its log segments are released, and the archive has a gap \
                     from log address {}; restores cannot cross it, coverage resumes with the next base backup",
                    db.display(),
                    state.cap,
                    state.shipped
                );
                state.released = Some(Released { shipped: LogAddress(state.shipped), unshipped_bytes });
                released += 1;
                continue;
            }
            keeps = Some(keeps.map_or(state.shipped, |k| k.min(state.shipped)));
        }
        (keeps, released)
    }
}
