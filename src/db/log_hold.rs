//! Holds on the log's segments ([`LogHolds`]): what each continuous
//! archive has shipped, so that segment removal keeps the rest — until an
//! archive falls more than its cap behind and is released
//! (`log_tap.rs` has the whole story).

use std::sync::{Arc, Mutex};

use crate::LogAddress;
use crate::sync::MutexExt;

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
    max_unshipped_bytes: u64,
}

#[derive(Debug)]
struct HoldState {
    /// Segments holding addresses at or above this stay.
    shipped: u64,
    released: Option<Released>,
}

impl LogHold {
    pub(crate) fn new(shipped: LogAddress, max_unshipped_bytes: u64) -> LogHold {
        LogHold { state: Mutex::new(HoldState { shipped: shipped.0, released: None }), max_unshipped_bytes }
    }

    /// Holds again from `address`, after a release.
    pub(crate) fn hold_again(&self, address: LogAddress) {
        let mut state = self.state.locked();
        state.shipped = address.0;
        state.released = None;
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
}

impl LogHolds {
    /// How many are attached.
    pub(crate) fn count(&self) -> usize {
        self.holds.locked().len()
    }

    /// The lowest address any hold keeps of a log whose durable part ends
    /// at `durable_end`, when removal would take everything below
    /// `log_start`; releases each hold that would keep more than its cap
    /// (saying so, for the database at `db`), and returns how many it
    /// released.
    pub(crate) fn keeps_from(&self, log_start: u64, durable_end: u64, db: &std::path::Path) -> (Option<u64>, u64) {
        let holds = self.holds.locked();
        let mut keeps: Option<u64> = None;
        let mut released = 0;
        for hold in holds.iter() {
            let mut state = hold.state.locked();
            if state.released.is_some() || state.shipped >= log_start {
                continue;
            }
            let unshipped_bytes = durable_end.saturating_sub(state.shipped);
            if unshipped_bytes > hold.max_unshipped_bytes {
                log::error!(
                    "the continuous log archive of {} fell {unshipped_bytes} bytes behind (more than its \
                     max_unshipped_bytes of {}): its log segments are released, and the archive has a gap \
                     from log address {}; restores cannot cross it, coverage resumes with the next base backup",
                    db.display(),
                    hold.max_unshipped_bytes,
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
