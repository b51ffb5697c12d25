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
use super::log_hold::{LogHold, Released};
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
    /// The oldest log address still on disk for an archive (at most
    /// `address`: a hold the last run left may keep older segments).
    pub(crate) retained: LogAddress,
}

/// The archive's view of one open database's log. Keeps the database open
/// (its lock held) for as long as it lives; dropping it detaches the hold.
#[derive(Debug)]
pub(crate) struct LogTap {
    inner: Arc<Inner>,
    hold: Arc<LogHold>,
}

impl Inner {
    /// Where the current version's log begins.
    fn log_start(&self) -> LogStart {
        let version = self.current_version();
        LogStart { address: version.log_start, seqno: version.last_seqno, retained: version.log_start }
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
        let mut holds = inner.log_holds.holds.locked();
        let start = inner.log_start();
        // A hold the last run left (the segments from there are still on
        // disk) is taken over; else a new one at the log start.
        let dormant = inner.log_holds.dormant.locked().take();
        let hold = match dormant {
            Some(hold) if hold.released().is_none() => {
                hold.set_cap(max_unshipped_bytes);
                hold
            }
            _ => {
                let hold = Arc::new(LogHold::new(start.address, max_unshipped_bytes));
                holds.push(Arc::clone(&hold));
                hold
            }
        };
        let retained = LogAddress(hold.shipped().min(start.address.0));
        drop(holds);
        drop(removal);
        Ok((LogTap { inner: Arc::clone(inner), hold }, LogStart { retained, ..start }))
    }

    /// After a release: holds the log again from the current version's log
    /// start, and returns it.
    pub(crate) fn hold_again(&self) -> LogStart {
        let removal = self.inner.hlog.segment_removal();
        let _holds = self.inner.log_holds.holds.locked();
        let start = self.inner.log_start();
        self.hold.hold_again(start.address);
        drop(removal);
        start
    }

    /// What the hold lost, if it was released.
    pub(crate) fn released(&self) -> Option<Released> {
        self.hold.released()
    }

    /// Releases the hold again, quietly (it was held again only to record
    /// a gap, which failed): the outage is still the one gap.
    pub(crate) fn let_go(&self) {
        self.hold.let_go();
    }

    /// Everything below `address` is shipped: its segments may go (at the
    /// next removal, or now).
    pub(crate) fn shipped_to(&self, address: LogAddress) {
        self.hold.shipped_to(address);
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

    /// Reads the durable bytes of `segment` from log address `from` into `out`.
    pub(crate) fn read_into(&self, segment: &SegmentInfo, from: u64, out: &mut [u8]) -> Result<()> {
        let to = from.saturating_add(out.len() as u64);
        if from < segment.start.0 || to > segment.durable_end.0 {
            return Err(Error::invalid(format!(
                "log addresses {from}..{to} are not durable in segment {} ({}..{})",
                segment.number, segment.start, segment.durable_end
            )));
        }
        let fs: &dyn Fs = &*self.inner.fs;
        let file = fs.open(&segment.path, OpenOptions::read())?;
        file.read_exact_at(out, segment::HEADER_BYTES as u64 + (from - segment.start.0))?;
        Ok(())
    }
}

impl LogTap {
    /// Lets go of the log (an archive that stopped keeps nothing on disk).
    /// Dropping the tap does it too; a second call does nothing.
    pub(crate) fn detach(&self) {
        let removed = {
            let mut holds = self.inner.log_holds.holds.locked();
            let before = holds.len();
            holds.retain(|h| !Arc::ptr_eq(h, &self.hold));
            holds.len() != before
        };
        if removed && let Err(e) = self.inner.remove_obsolete_log() {
            log::warn!("could not remove log segments an archive held: {e}");
        }
    }
}

impl Drop for LogTap {
    fn drop(&mut self) {
        self.detach();
    }
}
