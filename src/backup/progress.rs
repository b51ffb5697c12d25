//! [`BackupProgress`]: how far a backup, restore or verification has got.

/// Files and bytes done out of the total, reported through a callback as a
/// backup, restore or verification goes (after each file, and after each
/// chunk of a file that is transferred or read).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BackupProgress {
    /// Files handled so far (uploaded, skipped as already stored, restored
    /// or checked).
    pub files_done: usize,
    /// Files in all.
    pub files_total: usize,
    /// Bytes handled so far.
    pub bytes_done: u64,
    /// Bytes in all.
    pub bytes_total: u64,
}

impl BackupProgress {
    /// The start of a job over `files_total` files of `bytes_total` bytes.
    pub fn start(files_total: usize, bytes_total: u64) -> BackupProgress {
        BackupProgress { files_done: 0, files_total, bytes_done: 0, bytes_total }
    }

    /// Counts `bytes` more done (never past the total).
    pub fn add_bytes(&mut self, bytes: u64) {
        self.bytes_done = (self.bytes_done + bytes).min(self.bytes_total);
    }
}
