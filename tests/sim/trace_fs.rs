//! A debugging aid: an `Fs` that prints every operation that changes what
//! is stored (and every fsync) under a path prefix, then forwards it.
//! Turned on with `CAIRNDB_SIM_FSTRACE=<prefix>`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairndb::Result;
use cairndb::fs::{DeviceId, DirEntry, Fs, FsFile, FsLock, Metadata, OpenOptions};

#[derive(Debug)]
pub struct TraceFs {
    inner: Arc<dyn Fs>,
    prefix: PathBuf,
}

impl TraceFs {
    pub fn new(inner: Arc<dyn Fs>, prefix: PathBuf) -> TraceFs {
        TraceFs { inner, prefix }
    }

    fn note(&self, path: &Path, what: &str) {
        if path.starts_with(&self.prefix) {
            #[expect(clippy::print_stderr, reason = "a trace asked for")]
            {
                eprintln!("fs: {what} {}", path.display());
            }
        }
    }

    fn result<T>(&self, path: &Path, what: &str, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            self.note(path, &format!("{what} FAILED ({e})"));
        } else {
            self.note(path, what);
        }
        r
    }
}

#[derive(Debug)]
struct TraceFile {
    inner: Box<dyn FsFile>,
    traced: bool,
}

impl TraceFile {
    fn note(&self, what: String) {
        if self.traced {
            #[expect(clippy::print_stderr, reason = "a trace asked for")]
            {
                eprintln!("fs: {what} {}", self.inner.path().display());
            }
        }
    }
}

impl FsFile for TraceFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        self.inner.read_at(buf, offset)
    }
    fn write_at(&self, buf: &[u8], offset: u64) -> Result<usize> {
        let r = self.inner.write_at(buf, offset);
        self.note(format!("write {}@{offset} -> {:?}", buf.len(), r.as_ref().map_err(|e| e.to_string())));
        if self.traced && std::env::var_os("CAIRNDB_SIM_FSTRACE_BT").is_some() {
            #[expect(clippy::print_stderr, reason = "a trace asked for")]
            {
                eprintln!("{}", std::backtrace::Backtrace::force_capture());
            }
        }
        r
    }
    fn len(&self) -> Result<u64> {
        self.inner.len()
    }
    fn set_len(&self, len: u64) -> Result<()> {
        let r = self.inner.set_len(len);
        self.note(format!("set_len {len} -> {:?}", r.as_ref().map_err(|e| e.to_string())));
        r
    }
    fn sync_data(&self) -> Result<()> {
        let r = self.inner.sync_data();
        self.note(format!("sync_data -> {:?}", r.as_ref().map_err(|e| e.to_string())));
        r
    }
    fn sync_all(&self) -> Result<()> {
        let r = self.inner.sync_all();
        self.note(format!("sync_all -> {:?}", r.as_ref().map_err(|e| e.to_string())));
        r
    }
    fn path(&self) -> &Path {
        self.inner.path()
    }
}

impl Fs for TraceFs {
    fn open(&self, path: &Path, options: OpenOptions) -> Result<Box<dyn FsFile>> {
        let file = self.inner.open(path, options);
        if let Err(e) = &file {
            self.note(path, &format!("open FAILED ({e})"));
            if path.starts_with(&self.prefix) && std::env::var_os("CAIRNDB_SIM_FSTRACE_BT").is_some() {
                #[expect(clippy::print_stderr, reason = "a trace asked for")]
                {
                    eprintln!("{}", std::backtrace::Backtrace::force_capture());
                }
            }
        }
        let file = file?;
        let traced = path.starts_with(&self.prefix);
        if options.mutates() {
            self.note(path, "open for writing");
        }
        Ok(Box::new(TraceFile { inner: file, traced }))
    }
    fn create_dir(&self, path: &Path) -> Result<()> {
        let r = self.inner.create_dir(path);
        self.result(path, "create_dir", r)
    }
    fn create_dir_all(&self, path: &Path) -> Result<()> {
        self.inner.create_dir_all(path)
    }
    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>> {
        self.inner.read_dir(path)
    }
    fn remove_file(&self, path: &Path) -> Result<()> {
        let r = self.inner.remove_file(path);
        self.result(path, "remove_file", r)
    }
    fn remove_dir(&self, path: &Path) -> Result<()> {
        self.inner.remove_dir(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        let r = self.inner.rename(from, to);
        self.result(from, &format!("rename to {}", to.display()), r)
    }
    fn metadata(&self, path: &Path) -> Result<Metadata> {
        self.inner.metadata(path)
    }
    fn exists(&self, path: &Path) -> Result<bool> {
        self.inner.exists(path)
    }
    fn hard_link(&self, src: &Path, dst: &Path) -> Result<()> {
        let r = self.inner.hard_link(src, dst);
        self.result(src, &format!("hard_link to {}", dst.display()), r)
    }
    fn reflink(&self, src: &Path, dst: &Path) -> Result<()> {
        self.inner.reflink(src, dst)
    }
    fn sync_directory(&self, path: &Path) -> Result<()> {
        let r = self.inner.sync_directory(path);
        self.result(path, "sync_directory", r)
    }
    fn device_id(&self, path: &Path) -> Result<DeviceId> {
        self.inner.device_id(path)
    }
    fn canonicalize(&self, path: &Path) -> Result<PathBuf> {
        self.inner.canonicalize(path)
    }
    fn supports_reflink(&self, dir: &Path) -> Result<bool> {
        self.inner.supports_reflink(dir)
    }
    fn lock(&self, path: &Path) -> Result<Box<dyn FsLock>> {
        self.inner.lock(path)
    }

    fn unique_id(&self) -> Result<u128> {
        self.inner.unique_id()
    }
}
