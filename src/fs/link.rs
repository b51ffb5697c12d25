//! [`link_or_copy`]: give a file a second name as cheaply as the file
//! systems allow — reflink, then hard link, then a streamed copy.

use std::io;
use std::path::Path;

use rustix::io::Errno;

use super::{Fs, OpenOptions};
use crate::{Error, Result};

/// Size of the buffer a streamed copy moves at a time.
const COPY_CHUNK_BYTES: usize = 1 << 20;

/// How [`link_or_copy`] made the new file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkStrategy {
    /// A copy-on-write clone sharing the source's data blocks.
    Reflinked,
    /// A second directory entry for the same inode.
    HardLinked,
    /// A byte-for-byte streamed copy.
    Copied,
}

/// What [`link_or_copy`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkOutcome {
    /// Reflink, hard link or copy.
    pub strategy: LinkStrategy,
    /// The file's length in bytes.
    pub bytes: u64,
}

/// Makes `dst` (on `dst_fs`) hold the content of the immutable file `src`
/// (on `src_fs`), as cheaply as possible:
///
/// 1. a reflink, when both paths are on the same device and it supports
///    reflinks;
/// 2. else a hard link, when both paths are on the same device;
/// 3. else a streamed copy.
///
/// Whether two paths share a device is known before trying, from
/// [`Fs::device_id`]; two `Fs` instances that do not share a namespace are
/// never linked. A reflink or hard link the file system refuses
/// (`EOPNOTSUPP`, `EXDEV`, `EPERM`, `EMLINK`, ...) falls through to the next
/// strategy; any other error is returned. `dst` must not exist, and its
/// directory must.
///
/// With `sync`, a file created by reflink or copy is fsynced before
/// returning (a hard link shares the already durable inode). Making the new
/// directory entry durable is the caller's job: sync `dst`'s directory.
///
/// Only use this on files that are never modified in place: a hard link
/// shares the inode, so a later write to either name would change both.
pub fn link_or_copy(src_fs: &dyn Fs, src: &Path, dst_fs: &dyn Fs, dst: &Path, sync: bool) -> Result<LinkOutcome> {
    let src_meta = src_fs.metadata(src)?;
    if !src_meta.is_file() {
        return Err(Error::invalid(format!("{} is not a regular file", src.display())));
    }
    let bytes = src_meta.len;
    let dst_dir = parent_dir(dst);
    let same_device = src_meta.device == dst_fs.device_id(dst_dir)?;
    if same_device && dst_fs.supports_reflink(dst_dir)? {
        match dst_fs.reflink(src, dst) {
            Ok(()) => {
                if sync {
                    sync_new_file(dst_fs, dst)?;
                }
                return Ok(LinkOutcome { strategy: LinkStrategy::Reflinked, bytes });
            }
            Err(e) if is_refusal(&e) => {
                log::debug!("reflink refused, trying a hard link: {e}");
            }
            Err(e) => return Err(e),
        }
    }
    if same_device {
        match dst_fs.hard_link(src, dst) {
            Ok(()) => {
                return Ok(LinkOutcome { strategy: LinkStrategy::HardLinked, bytes });
            }
            Err(e) if is_refusal(&e) => log::debug!("hard link refused, copying: {e}"),
            Err(e) => return Err(e),
        }
    }
    let copied = copy_file(src_fs, src, dst_fs, dst, bytes, sync)?;
    Ok(LinkOutcome { strategy: LinkStrategy::Copied, bytes: copied })
}

/// Copies the first `len` bytes of `src` into a new file `dst`
/// (created exclusively), fsyncing it when `sync` is set. On any error the
/// partial `dst` is removed. Fails if `src` is shorter than `len`.
///
/// This is how a file that is still being appended (an active log segment)
/// is captured up to a known length.
pub fn copy_file(src_fs: &dyn Fs, src: &Path, dst_fs: &dyn Fs, dst: &Path, len: u64, sync: bool) -> Result<u64> {
    let reader = src_fs.open(src, OpenOptions::read())?;
    let writer = dst_fs.open(dst, OpenOptions::create_new())?;
    let copied = (|| {
        let mut buf = vec![0u8; COPY_CHUNK_BYTES.min(len as usize).max(1)];
        let mut offset = 0u64;
        while offset < len {
            let want = buf.len().min((len - offset) as usize);
            let n = read_some(&*reader, &mut buf[..want], offset)?;
            if n == 0 {
                return Err(Error::io(
                    "copy",
                    src,
                    io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("file ended at {offset} bytes, {len} expected"),
                    ),
                ));
            }
            writer.write_all_at(&buf[..n], offset)?;
            offset += n as u64;
        }
        if sync {
            writer.sync_all()?;
        }
        Ok(offset)
    })();
    drop(writer);
    if copied.is_err() {
        let _ = dst_fs.remove_file(dst);
    }
    copied
}

/// One read, retried when interrupted.
fn read_some(file: &dyn super::FsFile, buf: &mut [u8], offset: u64) -> Result<usize> {
    loop {
        match file.read_at(buf, offset) {
            Err(e) if e.io_kind() == Some(io::ErrorKind::Interrupted) => continue,
            other => return other,
        }
    }
}

fn sync_new_file(fs: &dyn Fs, path: &Path) -> Result<()> {
    fs.open(path, OpenOptions::read())?.sync_all()
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Errors that mean "this file system will not do that here", as opposed to
/// an I/O failure or a bad argument such as an existing destination.
fn is_refusal(error: &Error) -> bool {
    let Some(code) = error.raw_os_error() else {
        return false;
    };
    let errno = Errno::from_raw_os_error(code);
    matches!(
        errno,
        Errno::OPNOTSUPP | Errno::XDEV | Errno::PERM | Errno::MLINK | Errno::INVAL | Errno::NOTTY | Errno::NOSYS
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::StdFs;

    #[test]
    fn copy_file_fails_on_short_source_and_removes_partial() {
        let dir = tempfile::tempdir().unwrap();
        let fs = StdFs::new();
        let src = dir.path().join("src");
        let dst = dir.path().join("dst");
        std::fs::write(&src, b"abc").unwrap();
        let err = copy_file(&fs, &src, &fs, &dst, 10, true).unwrap_err();
        assert_eq!(err.io_kind(), Some(io::ErrorKind::UnexpectedEof), "{err}");
        assert!(!dst.exists());
        assert_eq!(copy_file(&fs, &src, &fs, &dst, 2, true).unwrap(), 2);
        assert_eq!(std::fs::read(&dst).unwrap(), b"ab");
    }
}
