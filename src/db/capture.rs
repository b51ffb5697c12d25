//! Capturing an exact cut of the database for a checkpoint or backup: a
//! version whose files, plus (without a flush) a range of the log, hold
//! every write up to a seqno and none after.
//!
//! [`Cut`] is the seam every copy of the database goes through
//! (checkpoints, backups): it holds the deletion pause and the capture for
//! as long as it lives, and lists the files of the cut once
//! ([`Capture::files`], a pure function) for each copy to consume.

use std::path::PathBuf;
use std::sync::Arc;

use super::flush::flush_oldest_locked;
use super::inner::{DbDeletionPause, Inner};
use crate::fs::{Fs, MemFs, copy_file, read_to_vec};
use crate::hlog::{HlogConfig, HybridLog, ReplayFrom};
use crate::version::{DbLayout, FileName, Version, as_copy, encode_version_file};
use crate::{Error, Result, SeqNo};

/// A log segment of a frozen memtable, up to a length. Frozen segments are
/// never appended again (new writes go to a new segment), and the capture
/// persists them first, so a checkpoint may link one whose file is exactly
/// this long; otherwise it copies this prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LogPiece {
    pub(crate) number: u64,
    pub(crate) path: PathBuf,
    pub(crate) len_bytes: u64,
}

/// An exact cut: opening `version` and replaying `log` (from
/// `version.log_start`) restores exactly the writes with seqno <= `seqno`.
#[derive(Debug)]
pub(crate) struct Capture {
    pub(crate) version: Arc<Version>,
    pub(crate) seqno: SeqNo,
    pub(crate) log: Vec<LogPiece>,
}

/// A cut held open: while it lives, no obsolete file of the database is
/// deleted (so every file the cut names stays on disk), and the capture is
/// the cut. The one way checkpoints and backups take a copy.
#[must_use = "deletions resume, and captured files may go, once the cut is dropped"]
pub(crate) struct Cut<'a> {
    capture: Capture,
    inner: &'a Inner,
    // Declared last: dropped after the capture, as a pause taken first is.
    _pause: DbDeletionPause<'a>,
}

impl Cut<'_> {
    /// What the cut holds.
    pub(crate) fn capture(&self) -> &Capture {
        &self.capture
    }

    /// The file system the database's files are on.
    pub(crate) fn fs(&self) -> &dyn Fs {
        &*self.inner.fs
    }

    /// Where the database's files are.
    pub(crate) fn layout(&self) -> &DbLayout {
        &self.inner.layout
    }

    /// Every file of the cut ([`Capture::files`]).
    pub(crate) fn files(&self) -> Vec<CutFile> {
        self.capture.files(&self.inner.layout)
    }

    /// Checks the version file `v{N}` of the cut on disk: it decodes (its
    /// checksum holds) and holds exactly the captured version. Damage is
    /// `Error::Corruption` naming the file. A file already gone is fine: the
    /// version was superseded, and its file deleted, just before the caller
    /// paused deletions; the cut copies the version from memory.
    pub(crate) fn verify_version_file(&self) -> Result<()> {
        let (fs, layout, version) = (self.fs(), self.layout(), &self.capture.version);
        let path = layout.version(version.id);
        let bytes = match read_to_vec(fs, &path) {
            Err(e) if e.is_not_found() => return Ok(()),
            other => other?,
        };
        crate::version::decode_version(&path, &bytes)?;
        if bytes != encode_version_file(version).0 {
            return Err(Error::corruption(&path, 0, "differs from the version the database holds in memory"));
        }
        Ok(())
    }

    /// Replays the captured log, as far as it is captured, on a copy in
    /// memory (every record's checksum and the chain of commit records
    /// checked by the recovery that opening the copy will run): it must
    /// reach exactly the cut's seqno. Damage is `Error::Corruption` naming
    /// the segment file.
    pub(crate) fn verify_log(&self) -> Result<()> {
        let (fs, layout, capture) = (self.fs(), self.layout(), &self.capture);
        let Some(last) = capture.log.last() else { return Ok(()) };
        let copy = MemFs::new();
        copy.create_dir_all(&layout.log_dir())?;
        for piece in &capture.log {
            copy_file(fs, &piece.path, &copy, &piece.path, piece.len_bytes, false)?;
        }
        let replay =
            ReplayFrom { address: capture.version.log_start, next_seqno: SeqNo(capture.version.last_seqno.0 + 1) };
        // The point index is sized from the memtable budget; a replay to
        // check needs none to speak of (the log grows it as it recovers).
        let config = HlogConfig {
            read_only: true,
            page_size_bytes: 4096,
            memtable_size_bytes: 1 << 20,
            ..HlogConfig::default()
        };
        let (_, report) = HybridLog::open(Arc::new(copy), &layout.log_dir(), config, replay)?;
        if report.last_seqno != capture.seqno || report.torn_at.is_some() {
            let torn = match report.torn_at {
                Some(at) => format!(", with a bad or missing record at log address {at}"),
                None => String::new(),
            };
            let what = format!(
                "the captured log replays to seqno {}{torn}, not to the cut's seqno {}",
                report.last_seqno, capture.seqno
            );
            return Err(Error::corruption(&last.path, 0, what));
        }
        Ok(())
    }
}

/// Where the bytes of a [`CutFile`] come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CutSource {
    /// A file of the database, at this path.
    Disk(PathBuf),
    /// Bytes made from the capture in memory (the version file, marked as
    /// a copy): there is nothing on disk to share.
    Memory(Vec<u8>),
}

/// How much of its source belongs to the cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Extent {
    /// All of it: the file is sealed and `len_bytes` long.
    Whole,
    /// Its first `len_bytes` (a log segment, up to the captured commit):
    /// the file may be longer.
    Prefix,
}

/// Whether a copy may share a file's bytes with the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sharing {
    /// Never changed again: a copy may link (reflink, hard link) it or
    /// store it by content. A [`Extent::Prefix`] file only when it is
    /// exactly `len_bytes` long ([`CutFile::may_link`]).
    Shared,
    /// Written anew by every copy.
    Copied,
}

/// One file of a cut, as a copy needs it: what it is and its name in the
/// copy's layout (`name`: table, blob file, log segment, version file),
/// where its bytes are, how many belong to the cut, and whether they may
/// be shared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CutFile {
    pub(crate) name: FileName,
    pub(crate) source: CutSource,
    pub(crate) len_bytes: u64,
    pub(crate) extent: Extent,
    pub(crate) sharing: Sharing,
}

impl CutFile {
    /// Its path in the copy laid out as `out`.
    pub(crate) fn destination(&self, out: &DbLayout) -> PathBuf {
        out.path_of(self.name)
    }

    /// Whether a copy may link it, given the length of its source file now.
    pub(crate) fn may_link(&self, file_len_bytes: u64) -> bool {
        self.sharing == Sharing::Shared && (self.extent == Extent::Whole || file_len_bytes == self.len_bytes)
    }
}

impl Inner {
    /// Pauses deletions, then captures ([`capture`](Self::capture)): the
    /// cut, held until the guard drops.
    pub(crate) fn cut(&self, flush: bool) -> Result<Cut<'_>> {
        let pause = self.pause_deletions();
        let capture = self.capture(flush)?;
        Ok(Cut { capture, inner: self, _pause: pause })
    }

    /// Cuts the database at the newest write. With `flush`, the memtable is
    /// frozen and flushed and the cut is a version alone; without, it is
    /// frozen and persisted, and the cut is the current version plus the
    /// log of every unflushed memtable up to the frozen one's commit.
    ///
    /// Writers continue throughout: they move to a fresh memtable, whose
    /// writes (all with higher seqnos) are outside the cut. The flush lock
    /// is held until the cut is taken, so no later memtable's flush can
    /// slip into the captured version; compactions may run, but they only
    /// rearrange data at or below the cut.
    pub(crate) fn capture(&self, flush: bool) -> Result<Capture> {
        self.check_writable()?;
        let result = if flush {
            let _flushes = self.work.flush_lock();
            let frozen = self.freeze_now(true);
            self.capture_flushed(frozen)
        } else {
            self.freeze_now(true);
            self.capture_with_log()
        };
        self.work.notify_all();
        result
    }

    /// Flushes frozen memtables up to the cut — the one just frozen, or
    /// the newest already frozen — and no further: writers may freeze more
    /// meanwhile, and chasing them could go on for ever.
    fn capture_flushed(&self, frozen: Option<Arc<crate::hlog::FrozenLog>>) -> Result<Capture> {
        let Some(cut) = frozen.or_else(|| self.memtables().frozen.last().cloned()) else {
            let version = self.current_version();
            return Ok(Capture { seqno: version.last_seqno, version, log: Vec::new() });
        };
        let seqno = cut.seqno_cut();
        while self.memtables().frozen.iter().any(|f| Arc::ptr_eq(f, &cut)) {
            flush_oldest_locked(self)?;
        }
        let version = self.current_version();
        debug_assert_eq!(version.last_seqno.max(seqno), version.last_seqno, "the cut is in the tables");
        Ok(Capture { seqno, version, log: Vec::new() })
    }

    /// The version and every frozen memtable, read together: the cut is the
    /// newest frozen memtable's. No flush lock is needed: a flush swaps a
    /// frozen memtable for its tables in one step under the same lock, and
    /// the caller's deletion pause keeps the captured log segments on disk.
    fn capture_with_log(&self) -> Result<Capture> {
        let (version, newest) = {
            let s = self.memtables();
            (Arc::clone(&s.version), s.frozen.last().cloned())
        };
        let Some(newest) = newest else {
            // Everything frozen is already in tables: the version is the cut.
            return Ok(Capture { seqno: version.last_seqno, version, log: Vec::new() });
        };
        newest.persist()?;
        let end = newest.address_range().end;
        let log = self
            .hlog
            .segments()
            .into_iter()
            .filter(|s| s.start < end && s.durable_end > version.log_start && s.durable_len_bytes > 0)
            .map(|s| LogPiece { number: s.number, path: s.path, len_bytes: s.durable_len_bytes })
            .collect();
        Ok(Capture { seqno: newest.seqno_cut(), version, log })
    }
}

impl Capture {
    /// Every file of the cut, for the database laid out as `layout`: its
    /// tables, its blob files, the captured log segments (each up to its
    /// captured length), then its version file, marked as a copy (so the
    /// copy's first writable open starts a new timeline). A pure function
    /// of the capture: nothing is read.
    pub(crate) fn files(&self, layout: &DbLayout) -> Vec<CutFile> {
        let version = &self.version;
        let sealed = |name: FileName, len_bytes: u64| CutFile {
            name,
            source: CutSource::Disk(layout.path_of(name)),
            len_bytes,
            extent: Extent::Whole,
            sharing: Sharing::Shared,
        };
        let tables = version.tables().map(|(_, t)| sealed(FileName::Table(t.info.id), t.info.size_bytes));
        let blobs = version.blob_files.values().map(|b| sealed(FileName::Blob(b.info.id), b.info.size_bytes));
        // Captured segments belong to frozen memtables, persisted by the
        // capture: never appended again.
        let log = self.log.iter().map(|piece| CutFile {
            name: FileName::LogSegment(piece.number),
            source: CutSource::Disk(piece.path.clone()),
            len_bytes: piece.len_bytes,
            extent: Extent::Prefix,
            sharing: Sharing::Shared,
        });
        let (bytes, _) = encode_version_file(&as_copy(version));
        let version_file = CutFile {
            name: FileName::Version(version.id),
            len_bytes: bytes.len() as u64,
            source: CutSource::Memory(bytes),
            extent: Extent::Whole,
            sharing: Sharing::Copied,
        };
        tables.chain(blobs).chain(log).chain([version_file]).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::version::{BlobFile, BlobFileInfo, TableFile, TableInfo, decode_version};
    use crate::{BlobFileId, TableId};

    fn table(id: u64, size_bytes: u64) -> Arc<TableFile> {
        TableFile::detached(TableInfo {
            id: TableId(id),
            size_bytes,
            entry_count: 1,
            smallest_key: b"a".to_vec(),
            largest_key: b"b".to_vec(),
            smallest_seqno: SeqNo(1),
            largest_seqno: SeqNo(1),
            blob_refs: vec![(BlobFileId(9), 10)],
        })
    }

    fn capture(log: Vec<LogPiece>) -> Capture {
        let mut version = Version::empty();
        version.levels[0] = vec![table(4, 400)];
        version.levels[2] = vec![table(3, 300)];
        let info = BlobFileInfo { id: BlobFileId(9), size_bytes: 900, value_count: 1, value_bytes: 10 };
        version.blob_files.insert(BlobFileId(9), BlobFile::detached(info));
        version.last_seqno = SeqNo(7);
        version.next_file_id = 10;
        Capture { seqno: SeqNo(7), version: Arc::new(version), log }
    }

    #[test]
    fn a_cut_lists_tables_blobs_log_then_its_version_file() {
        let layout = DbLayout::new("/db");
        let piece = LogPiece { number: 5, path: layout.log_segment(5), len_bytes: 123 };
        let cut = capture(vec![piece]);
        let files = cut.files(&layout);
        let names: Vec<FileName> = files.iter().map(|f| f.name).collect();
        let expected = [
            FileName::Table(TableId(4)),
            FileName::Table(TableId(3)),
            FileName::Blob(BlobFileId(9)),
            FileName::LogSegment(5),
            FileName::Version(cut.version.id),
        ];
        assert_eq!(names, expected);
        let lens: Vec<u64> = files.iter().map(|f| f.len_bytes).collect();
        assert_eq!(&lens[..4], [400, 300, 900, 123], "lengths from the version and the capture");
        assert_eq!(files[0].source, CutSource::Disk(PathBuf::from("/db/tables/4.sst")));
        assert_eq!(files[2].source, CutSource::Disk(PathBuf::from("/db/blobs/9.blob")));
        assert_eq!(files[3].source, CutSource::Disk(PathBuf::from("/db/log/5.hlog")));
        for file in &files[..3] {
            assert_eq!((file.extent, file.sharing), (Extent::Whole, Sharing::Shared), "{:?}", file.name);
        }
        assert_eq!((files[3].extent, files[3].sharing), (Extent::Prefix, Sharing::Shared));
        assert_eq!((files[4].extent, files[4].sharing), (Extent::Whole, Sharing::Copied));
        let out = DbLayout::new("/copy");
        assert_eq!(files[3].destination(&out), Path::new("/copy/log/5.hlog"));
        assert_eq!(files[4].destination(&out), out.version(cut.version.id));
    }

    #[test]
    fn the_version_file_is_the_captured_version_marked_as_a_copy() {
        let layout = DbLayout::new("/db");
        let cut = capture(Vec::new());
        let files = cut.files(&layout);
        assert_eq!(files.len(), 4, "no log without one captured");
        let version_file = files.last().unwrap();
        let CutSource::Memory(bytes) = &version_file.source else { panic!("{:?}", version_file.source) };
        assert_eq!(version_file.len_bytes, bytes.len() as u64);
        let record = decode_version(&layout.version(cut.version.id), bytes).unwrap();
        assert!(record.fork_pending, "a copy's first writable open starts a new timeline");
        assert!(!cut.version.fork_pending, "the database's own version is untouched");
        assert_eq!(record.last_seqno, SeqNo(7));
    }

    #[test]
    fn only_sealed_files_and_exact_log_prefixes_may_be_linked() {
        let layout = DbLayout::new("/db");
        let piece = LogPiece { number: 5, path: layout.log_segment(5), len_bytes: 123 };
        let files = capture(vec![piece]).files(&layout);
        assert!(files[0].may_link(400) && files[0].may_link(0), "a sealed file whatever its length now");
        assert!(files[3].may_link(123), "a segment exactly as long as its captured prefix");
        assert!(!files[3].may_link(124), "a longer one is copied up to the prefix");
        assert!(!files[4].may_link(files[4].len_bytes), "the version file is written anew");
    }
}
