//! Helpers shared by tests.
#![allow(dead_code, reason = "each test crate uses a different subset")]

pub mod archive;
pub mod backup;
pub mod batches;
pub mod crash_points;
pub mod dirs;
pub mod mounts;

use std::io;
use std::path::{Path, PathBuf};

use cairndb::fs::FsFile;
use cairndb::{Error, Result};

/// A read-only file held in memory, so sweeps can open thousands of
/// damaged copies of a file without touching the disk.
#[derive(Debug)]
pub struct MemFile {
    path: PathBuf,
    data: Vec<u8>,
}

impl MemFile {
    /// A file named `path` holding `data`.
    pub fn boxed(path: &str, data: Vec<u8>) -> Box<dyn FsFile> {
        Box::new(MemFile { path: PathBuf::from(path), data })
    }
}

impl FsFile for MemFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.data.len());
        let n = buf.len().min(self.data.len() - start);
        buf[..n].copy_from_slice(&self.data[start..start + n]);
        Ok(n)
    }

    fn write_at(&self, _buf: &[u8], _offset: u64) -> Result<usize> {
        Err(Error::io("write", &self.path, io::Error::from(io::ErrorKind::PermissionDenied)))
    }

    fn len(&self) -> Result<u64> {
        Ok(self.data.len() as u64)
    }

    fn set_len(&self, _len: u64) -> Result<()> {
        Err(Error::io("truncate", &self.path, io::Error::from(io::ErrorKind::PermissionDenied)))
    }

    fn sync_data(&self) -> Result<()> {
        Ok(())
    }

    fn sync_all(&self) -> Result<()> {
        Ok(())
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

/// A flip or truncation outcome: the error must be corruption or I/O.
pub fn assert_corruption_or_io(e: &Error, context: &str) {
    assert!(e.is_corruption() || matches!(e, Error::Io { .. }), "{context}: expected corruption, got {e}");
}

/// Bit positions to flip in a file of `len_bytes`: every bit of the byte
/// ranges in `full`, and about `budget` more spread evenly (odd stride, so
/// every bit position within a byte is hit) over the rest.
pub fn bits_to_flip(len_bytes: usize, full: &[std::ops::Range<usize>], budget: usize) -> Vec<usize> {
    let in_full = |bit: usize| full.iter().any(|r| r.contains(&(bit / 8)));
    let rest_bits = (0..len_bytes * 8).filter(|&b| !in_full(b)).count();
    let stride = (rest_bits / budget.max(1)).max(1) | 1;
    let mut bits: Vec<usize> = (0..len_bytes * 8).filter(|&b| in_full(b)).collect();
    bits.extend((0..len_bytes * 8).filter(|&b| !in_full(b)).step_by(stride));
    bits.sort_unstable();
    bits
}

/// A copy of `bytes` with bit `bit` flipped.
pub fn flipped(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[bit / 8] ^= 1 << (bit % 8);
    out
}
