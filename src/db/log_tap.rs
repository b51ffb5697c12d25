//! The log as a continuous archive reads it ([`LogTap`]), and the holds
//! that keep its segments on disk until they are shipped ([`LogHold`]).
//!
//! While a hold is attached, the obsolete log segments a flush leaves are
//! removed only below the address the hold has shipped up to, and a flush
//! persists the frozen log before it installs its tables (a frozen log
//! flushed before any persist reached it would otherwise never be written
//! to the log at all). Writers never wait for an archive: once the bytes a
//! hold keeps back pass its `max_unshipped_bytes`, the next removal
//! releases it — the archive then has a gap, which it records — and
//! removes the segments as if it were not there.

use std::path::PathBuf;
use std::sync::Arc;

use super::inner::Inner;
use crate::fs::{Fs, OpenOptions};
use crate::hlog::{PersistPoint, SegmentInfo, segment};
use crate::sync::MutexExt;
use crate::{Error, LogAddress, Result, SeqNo};

/// Where the log of a version begins: every record at or above `address`
/// has a seqno above `seqno`, every write up to `seqno` is in tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LogStart {
    pub(crate) address: LogAddress,
    pub(crate) seqno: SeqNo,
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
    state: std::sync::Mutex<HoldState>,
    max_unshipped_bytes: u64,
}

#[derive(Debug)]
struct HoldState {
    /// Segments holding addresses at or above this stay.
    shipped: u64,
    released: Option<Released>,
}

/// The archive's view of one open database's log. Keeps the database open
/// (its lock held) for as long as it lives; dropping it detaches the hold.
#[derive(Debug)]
pub(crate) struct LogTap {
    inner: Arc<Inner>,
    hold: Arc<LogHold>,
}

impl Inner {
    /// The lowest address any attached hold keeps, releasing (and saying
    /// so) each hold that would keep more than its cap below `log_start`.
    pub(crate) fn archive_keeps_from(&self, log_start: u64) -> Option<u64> {
        let holds = self.log_holds.locked();
        if holds.is_empty() {
            return None;
        }
        let durable_end = self.hlog.durable_point().end.0;
        let mut keeps: Option<u64> = None;
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
                    self.layout.root().display(),
                    hold.max_unshipped_bytes,
                    state.shipped
                );
                state.released = Some(Released { shipped: LogAddress(state.shipped), unshipped_bytes });
                self.counters.archive_gaps.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                continue;
            }
            keeps = Some(keeps.map_or(state.shipped, |k| k.min(state.shipped)));
        }
        keeps
    }

    /// True while an archive holds the log.
    pub(crate) fn has_log_holds(&self) -> bool {
        !self.log_holds.locked().is_empty()
    }

    /// Where the current version's log begins.
    fn log_start(&self) -> LogStart {
        let version = self.current_version();
        LogStart { address: version.log_start, seqno: version.last_seqno }
    }
}

impl LogTap {
    /// Attaches a hold to `inner`'s log at the current version's log start
    /// (nothing from there on is removed until shipped); returns the tap
    /// and that start. A read-only database has no log to hold.
    pub(crate) fn attach(inner: &Arc<Inner>, max_unshipped_bytes: u64) -> Result<(LogTap, LogStart)> {
        inner.check_writable()?;
        // Under the removal's own order (the log's io lock, then the
        // holds), so no removal runs between reading the start and holding it.
        let removal = inner.hlog.segment_removal();
        let mut holds = inner.log_holds.locked();
        let start = inner.log_start();
        let hold = Arc::new(LogHold {
            state: std::sync::Mutex::new(HoldState { shipped: start.address.0, released: None }),
            max_unshipped_bytes,
        });
        holds.push(Arc::clone(&hold));
        drop(holds);
        drop(removal);
        Ok((LogTap { inner: Arc::clone(inner), hold }, start))
    }

    /// After a release: holds the log again from the current version's log
    /// start, and returns it.
    pub(crate) fn hold_again(&self) -> LogStart {
        let removal = self.inner.hlog.segment_removal();
        let _holds = self.inner.log_holds.locked();
        let start = self.inner.log_start();
        let mut state = self.hold.state.locked();
        state.shipped = start.address.0;
        state.released = None;
        drop(removal);
        start
    }

    /// What the hold lost, if it was released.
    pub(crate) fn released(&self) -> Option<Released> {
        self.hold.state.locked().released
    }

    /// Everything below `address` is shipped: its segments may go (at the
    /// next removal, or now).
    pub(crate) fn shipped_to(&self, address: LogAddress) {
        {
            let mut state = self.hold.state.locked();
            if state.released.is_none() {
                state.shipped = state.shipped.max(address.0);
            }
        }
        if let Err(e) = self.inner.remove_obsolete_log() {
            log::warn!("could not remove shipped log segments: {e}");
        }
    }

    /// The database directory.
    pub(crate) fn path(&self) -> PathBuf {
        self.inner.layout.root().to_path_buf()
    }

    /// The newest durable commit and the segments holding the log.
    pub(crate) fn durable_log(&self) -> (PersistPoint, Vec<SegmentInfo>) {
        self.inner.hlog.durable_log()
    }

    /// The page size of the log.
    pub(crate) fn page_size_bytes(&self) -> u64 {
        self.inner.hlog.page_size_bytes()
    }

    /// Reads the durable bytes of `segment` at log addresses `from..to`.
    pub(crate) fn read(&self, segment: &SegmentInfo, from: u64, to: u64) -> Result<Vec<u8>> {
        if from < segment.start.0 || to > segment.durable_end.0 || from > to {
            return Err(Error::invalid(format!(
                "log addresses {from}..{to} are not durable in segment {} ({}..{})",
                segment.number, segment.start, segment.durable_end
            )));
        }
        let fs: &dyn Fs = &*self.inner.fs;
        let file = fs.open(&segment.path, OpenOptions::read())?;
        let mut bytes = vec![0u8; usize::try_from(to - from).map_err(|_| Error::invalid("a log range too large"))?];
        file.read_exact_at(&mut bytes, segment::HEADER_BYTES as u64 + (from - segment.start.0))?;
        Ok(bytes)
    }
}

impl Drop for LogTap {
    fn drop(&mut self) {
        self.inner.log_holds.locked().retain(|h| !Arc::ptr_eq(h, &self.hold));
        if let Err(e) = self.inner.remove_obsolete_log() {
            log::warn!("could not remove log segments an archive held: {e}");
        }
    }
}
