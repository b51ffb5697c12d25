//! Shared by the fuzz targets: a read-only file held in memory.

use std::io;
use std::path::{Path, PathBuf};

use cairndb::fs::FsFile;
use cairndb::{Error, Result};

/// The fuzzer's bytes, seen as a file.
#[derive(Debug)]
pub struct MemFile {
    path: PathBuf,
    data: Vec<u8>,
}

impl MemFile {
    /// A file named `path` holding `data`.
    pub fn boxed(path: &str, data: &[u8]) -> Box<dyn FsFile> {
        Box::new(MemFile { path: PathBuf::from(path), data: data.to_vec() })
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

/// Every error a decoder returns on bad bytes must be corruption (or I/O).
pub fn check_error(e: &Error) {
    assert!(e.is_corruption() || matches!(e, Error::Io { .. }), "unexpected error kind: {e}");
}
