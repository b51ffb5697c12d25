//! The [`Fs`] contract as a test suite: run it against an implementation
//! to check it behaves as cairndb expects (the names an error carries, the
//! POSIX rules for links, what `reflink`, `hard_link` and `lock` do).
//!
//! Each check takes a [`Fixture`] (the file system and an empty directory
//! on it) and panics on the first broken rule. [`CHECKS`] lists them all;
//! [`run_all`] runs each on a fresh fixture and reports every failure:
//!
//! ```
//! use cairndb::conformance::fs::{Fixture, run_all};
//!
//! run_all(Fixture::memfs);
//! ```
//!
//! cairndb's own tests run the suite on `StdFs` (in a temporary directory),
//! `MemFs`, and `FaultFs` over each.

use std::any::Any;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::Error;
use crate::fs::{
    FileKind, Fs, LinkStrategy, MemFs, OpenOptions, StdFs, link_or_copy, read_to_vec, remove_dir_all, write_file_atomic,
};

/// Makes a symbolic link at its second path pointing at its first.
type MakeSymlink = Box<dyn Fn(&Path, &Path) -> std::io::Result<()>>;

/// A file system under test and an empty directory on it.
pub struct Fixture {
    /// The file system under test.
    pub fs: Arc<dyn Fs>,
    /// An empty directory on it, which the check fills.
    pub root: PathBuf,
    /// How to make a symbolic link (cairndb reads links but never makes
    /// them, so `Fs` has no method for it); without one, the checks of
    /// links pass without running.
    symlink: Option<MakeSymlink>,
    /// Kept alive as long as the fixture (a temporary directory, say).
    _keep: Option<Box<dyn Any>>,
}

impl Fixture {
    /// `fs`, with `root` an existing empty directory on it.
    pub fn new(fs: Arc<dyn Fs>, root: impl Into<PathBuf>) -> Fixture {
        Fixture { fs, root: root.into(), symlink: None, _keep: None }
    }

    /// Makes symbolic links with `make(target, link)`.
    pub fn with_symlinks(mut self, make: impl Fn(&Path, &Path) -> std::io::Result<()> + 'static) -> Fixture {
        self.symlink = Some(Box::new(make));
        self
    }

    /// Keeps `guard` (e.g. a temporary directory) until the fixture is
    /// dropped.
    pub fn keeping(mut self, guard: impl Any) -> Fixture {
        self._keep = Some(Box::new(guard));
        self
    }

    /// A fresh [`MemFs`] with the directory `/root`.
    pub fn memfs() -> Fixture {
        let fs = MemFs::new();
        fs.create_dir(Path::new("/root")).expect("create /root on a fresh MemFs");
        let links = fs.clone();
        Fixture::new(Arc::new(fs), "/root").with_symlinks(move |target, link| {
            links.symlink(target, link).map_err(|e| std::io::Error::other(e.to_string()))
        })
    }

    /// [`StdFs`] in `dir` (an existing empty directory), with the
    /// operating system's symbolic links.
    pub fn std_fs(dir: impl Into<PathBuf>) -> Fixture {
        Fixture::new(Arc::new(StdFs::new()), dir).with_symlinks(|target, link| std::os::unix::fs::symlink(target, link))
    }

    /// The same directory through another file system (e.g. a fault
    /// injector over this one).
    pub fn wrap(self, wrap: impl FnOnce(Arc<dyn Fs>) -> Arc<dyn Fs>) -> Fixture {
        Fixture { fs: wrap(self.fs), ..self }
    }

    fn has_symlinks(&self) -> bool {
        self.symlink.is_some()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn write(&self, rel: &str, data: &[u8]) -> PathBuf {
        let path = self.path(rel);
        let file = self.fs.open(&path, OpenOptions::create_truncate()).unwrap();
        file.write_all_at(data, 0).unwrap();
        path
    }

    fn read(&self, path: &Path) -> Vec<u8> {
        read_to_vec(&*self.fs, path).unwrap()
    }

    /// Makes `rel` a symbolic link to `target`.
    fn symlink(&self, target: impl AsRef<Path>, rel: &str) -> PathBuf {
        let link = self.path(rel);
        let make = self.symlink.as_ref().expect("the fixture makes symbolic links");
        make(target.as_ref(), &link).unwrap();
        link
    }
}

/// One check of the suite.
#[derive(Clone, Copy, Debug)]
pub struct Check {
    /// The check's name (its function's).
    pub name: &'static str,
    /// Runs it; panics on the first broken rule.
    pub run: fn(Fixture),
}

/// Every check, in the order [`run_all`] runs them.
pub const CHECKS: &[Check] = &[
    Check { name: "write_read_roundtrip", run: write_read_roundtrip },
    Check { name: "write_past_end_fills_zeros", run: write_past_end_fills_zeros },
    Check { name: "set_len_truncates_and_extends", run: set_len_truncates_and_extends },
    Check { name: "append_mode_appends", run: append_mode_appends },
    Check { name: "truncate_on_open", run: truncate_on_open },
    Check { name: "create_new_over_existing_names_path", run: create_new_over_existing_names_path },
    Check { name: "open_missing_names_path", run: open_missing_names_path },
    Check { name: "open_requires_access", run: open_requires_access },
    Check { name: "directories", run: directories },
    Check { name: "read_dir_sorted_with_kinds", run: read_dir_sorted_with_kinds },
    Check { name: "remove_file_missing_names_path", run: remove_file_missing_names_path },
    Check { name: "rename_replaces_target", run: rename_replaces_target },
    Check { name: "metadata_and_exists", run: metadata_and_exists },
    Check { name: "canonicalize_resolves_links_dots_and_parents", run: canonicalize_resolves_links_dots_and_parents },
    Check { name: "symlinks_are_followed_except_where_posix_says", run: symlinks_are_followed_except_where_posix_says },
    Check { name: "hard_link_shares_inode", run: hard_link_shares_inode },
    Check { name: "reflink_is_independent_or_refused", run: reflink_is_independent_or_refused },
    Check { name: "unlinked_handle_keeps_working", run: unlinked_handle_keeps_working },
    Check { name: "sync_directory", run: sync_directory },
    Check { name: "device_ids", run: device_ids },
    Check { name: "lock_is_exclusive", run: lock_is_exclusive },
    Check { name: "atomic_write_and_remove_dir_all", run: atomic_write_and_remove_dir_all },
    Check { name: "link_or_copy_same_device", run: link_or_copy_same_device },
    Check { name: "link_or_copy_across_namespaces_copies", run: link_or_copy_across_namespaces_copies },
];

/// Runs every check, each on a fresh fixture from `make`, and panics
/// naming every check that failed (with its message).
pub fn run_all(mut make: impl FnMut() -> Fixture) {
    let failed: Vec<String> = CHECKS
        .iter()
        .filter_map(|check| {
            let fixture = make();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (check.run)(fixture)));
            outcome.err().map(|e| {
                let message = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                format!("{}: {message}", check.name)
            })
        })
        .collect();
    assert!(failed.is_empty(), "{} of {} Fs checks failed:\n{}", failed.len(), CHECKS.len(), failed.join("\n"));
}

/// Asserts `err` is an I/O error of `kind` whose message names `path`.
fn assert_io_error(err: &Error, kind: ErrorKind, path: &Path) {
    assert_eq!(err.io_kind(), Some(kind), "wrong kind: {err}");
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "error does not name {}: {text}", path.display());
}

/// Positioned reads and writes, reads at and past the end, short reads, syncs, `path`.
pub fn write_read_roundtrip(f: Fixture) {
    let path = f.write("a", b"hello world");
    let file = f.fs.open(&path, OpenOptions::read_write()).unwrap();
    assert_eq!(file.len().unwrap(), 11);
    file.write_all_at(b"WORLD", 6).unwrap();
    let mut buf = [0u8; 11];
    file.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"hello WORLD");
    assert_eq!(file.read_at(&mut buf, 11).unwrap(), 0, "read at end returns 0");
    assert_eq!(file.read_at(&mut buf, 100).unwrap(), 0, "read past end returns 0");
    let err = file.read_exact_at(&mut buf, 5).unwrap_err();
    assert_eq!(err.io_kind(), Some(ErrorKind::UnexpectedEof));
    file.sync_data().unwrap();
    file.sync_all().unwrap();
    assert_eq!(file.path(), path.as_path());
}

/// A write past the end fills the gap with zeros.
pub fn write_past_end_fills_zeros(f: Fixture) {
    let path = f.write("a", b"ab");
    let file = f.fs.open(&path, OpenOptions::read_write()).unwrap();
    file.write_all_at(b"z", 5).unwrap();
    assert_eq!(f.read(&path), b"ab\0\0\0z");
}

/// `set_len` truncates and extends (with zeros).
pub fn set_len_truncates_and_extends(f: Fixture) {
    let path = f.write("a", b"abcdef");
    let file = f.fs.open(&path, OpenOptions::read_write()).unwrap();
    file.set_len(3).unwrap();
    assert_eq!(f.read(&path), b"abc");
    file.set_len(5).unwrap();
    assert_eq!(f.read(&path), b"abc\0\0");
    assert!(!file.is_empty().unwrap());
}

/// An append-mode handle writes at the end whatever the offset.
pub fn append_mode_appends(f: Fixture) {
    let path = f.write("a", b"one");
    let options = OpenOptions { append: true, ..OpenOptions::default() };
    let file = f.fs.open(&path, options).unwrap();
    file.write_all_at(b"two", 0).unwrap();
    file.write_all_at(b"three", 0).unwrap();
    assert_eq!(f.read(&path), b"onetwothree");
}

/// `create_truncate` empties an existing file.
pub fn truncate_on_open(f: Fixture) {
    let path = f.write("a", b"old content");
    f.fs.open(&path, OpenOptions::create_truncate()).unwrap();
    assert_eq!(f.read(&path), b"");
}

/// `create_new` over an existing file fails with `AlreadyExists`, naming the path, and leaves it alone.
pub fn create_new_over_existing_names_path(f: Fixture) {
    let path = f.write("a", b"x");
    let err = f.fs.open(&path, OpenOptions::create_new()).unwrap_err();
    assert_io_error(&err, ErrorKind::AlreadyExists, &path);
    assert_eq!(f.read(&path), b"x", "existing file untouched");
}

/// Opening a missing file (or one under a missing directory) fails with `NotFound`, naming the path.
pub fn open_missing_names_path(f: Fixture) {
    let path = f.path("missing");
    let err = f.fs.open(&path, OpenOptions::read()).unwrap_err();
    assert_io_error(&err, ErrorKind::NotFound, &path);
    assert!(err.is_not_found());
    let nested = f.path("no/such/dir/file");
    let err = f.fs.open(&nested, OpenOptions::create_new()).unwrap_err();
    assert_io_error(&err, ErrorKind::NotFound, &nested);
}

/// Creating without write access fails and creates nothing.
pub fn open_requires_access(f: Fixture) {
    let path = f.path("a");
    let options = OpenOptions { create: true, ..OpenOptions::default() };
    assert!(f.fs.open(&path, options).is_err(), "create without write access");
    assert!(!f.fs.exists(&path).unwrap());
}

/// `create_dir`, `create_dir_all` (idempotent, refused over a file), `remove_dir` (refused when not empty).
pub fn directories(f: Fixture) {
    let dir = f.path("d");
    f.fs.create_dir(&dir).unwrap();
    let err = f.fs.create_dir(&dir).unwrap_err();
    assert_io_error(&err, ErrorKind::AlreadyExists, &dir);
    let deep = f.path("x/y/z");
    f.fs.create_dir_all(&deep).unwrap();
    f.fs.create_dir_all(&deep).unwrap();
    assert!(f.fs.metadata(&deep).unwrap().is_dir());
    let file = f.write("plain", b"");
    assert!(f.fs.create_dir_all(&file).is_err(), "create_dir_all over a file");
    f.write("d/f", b"1");
    let err = f.fs.remove_dir(&dir).unwrap_err();
    assert_io_error(&err, ErrorKind::DirectoryNotEmpty, &dir);
    f.fs.remove_file(&dir.join("f")).unwrap();
    f.fs.remove_dir(&dir).unwrap();
    assert!(!f.fs.exists(&dir).unwrap());
}

/// `read_dir` lists names sorted, with their kinds; a missing directory is `NotFound`.
pub fn read_dir_sorted_with_kinds(f: Fixture) {
    f.write("b", b"");
    f.write("a", b"");
    f.fs.create_dir(&f.path("c")).unwrap();
    let entries = f.fs.read_dir(&f.root).unwrap();
    let names: Vec<_> = entries.iter().map(|e| e.name.to_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(entries[0].kind, FileKind::File);
    assert_eq!(entries[2].kind, FileKind::Dir);
    let missing = f.path("nope");
    assert_io_error(&f.fs.read_dir(&missing).unwrap_err(), ErrorKind::NotFound, &missing);
}

/// Removing a missing file fails with `NotFound`, naming the path.
pub fn remove_file_missing_names_path(f: Fixture) {
    let path = f.path("missing");
    assert_io_error(&f.fs.remove_file(&path).unwrap_err(), ErrorKind::NotFound, &path);
}

/// `rename` replaces its target, moves directories, and names a missing source.
pub fn rename_replaces_target(f: Fixture) {
    let a = f.write("a", b"new");
    let b = f.write("b", b"old");
    f.fs.rename(&a, &b).unwrap();
    assert!(!f.fs.exists(&a).unwrap());
    assert_eq!(f.read(&b), b"new");
    let missing = f.path("missing");
    let err = f.fs.rename(&missing, &a).unwrap_err();
    assert_io_error(&err, ErrorKind::NotFound, &missing);
    f.fs.create_dir(&f.path("d1")).unwrap();
    f.write("d1/x", b"x");
    f.fs.rename(&f.path("d1"), &f.path("d2")).unwrap();
    assert_eq!(f.read(&f.path("d2/x")), b"x");
}

/// `metadata` (kind, length, link count) and `exists`, also under a file.
pub fn metadata_and_exists(f: Fixture) {
    let path = f.write("a", b"12345");
    let meta = f.fs.metadata(&path).unwrap();
    assert!(meta.is_file());
    assert_eq!(meta.len, 5);
    assert_eq!(meta.nlink, 1);
    assert!(f.fs.exists(&path).unwrap());
    assert!(!f.fs.exists(&f.path("missing")).unwrap());
    assert!(!f.fs.exists(&path.join("under-a-file")).unwrap());
    let missing = f.path("missing");
    assert_io_error(&f.fs.metadata(&missing).unwrap_err(), ErrorKind::NotFound, &missing);
}

/// `canonicalize` resolves `.`, relative, absolute and chained links, `..` physically, and reports dangling links and loops (needs symbolic links).
pub fn canonicalize_resolves_links_dots_and_parents(f: Fixture) {
    if !f.has_symlinks() {
        return;
    }
    let real = f.fs.canonicalize(&f.root).unwrap();
    assert!(real.is_absolute());
    f.fs.create_dir_all(&f.path("a/b")).unwrap();
    f.write("a/b/file", b"x");
    assert_eq!(f.fs.canonicalize(&f.path("a/./b/file")).unwrap(), real.join("a/b/file"));
    f.symlink("a/b", "relative");
    assert_eq!(f.fs.canonicalize(&f.path("relative/file")).unwrap(), real.join("a/b/file"));
    f.symlink(real.join("a"), "absolute");
    assert_eq!(f.fs.canonicalize(&f.path("absolute/b")).unwrap(), real.join("a/b"));
    f.symlink("../..", "a/b/up");
    assert_eq!(f.fs.canonicalize(&f.path("a/b/up/a")).unwrap(), real.join("a"), "`..` in a link is physical");
    f.symlink("relative", "chain");
    assert_eq!(f.fs.canonicalize(&f.path("chain")).unwrap(), real.join("a/b"), "a final link is followed");
    let missing = f.path("a/missing");
    assert_io_error(&f.fs.canonicalize(&missing).unwrap_err(), ErrorKind::NotFound, &missing);
    let dangling = f.symlink("nowhere", "dangling");
    assert_io_error(&f.fs.canonicalize(&dangling).unwrap_err(), ErrorKind::NotFound, &dangling);
    let looping = f.symlink("loop", "loop");
    let err = f.fs.canonicalize(&looping).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(rustix::io::Errno::LOOP.raw_os_error()), "{err}");
}

/// Symbolic links are followed as POSIX says: by open and `read_dir`, not by `metadata`, `rmdir`, `link`, `rename`, `unlink` or `remove_dir_all` (needs symbolic links).
pub fn symlinks_are_followed_except_where_posix_says(f: Fixture) {
    if !f.has_symlinks() {
        return;
    }
    f.write("file", b"content");
    let link = f.symlink("file", "link");
    assert!(f.fs.exists(&link).unwrap());
    let meta = f.fs.metadata(&link).unwrap();
    assert_eq!((meta.kind, meta.len), (FileKind::Symlink, 4), "lstat: the link itself, its length the target's");
    assert_eq!(f.read(&link), b"content", "open follows");
    assert_io_error(&f.fs.open(&link, OpenOptions::create_new()).unwrap_err(), ErrorKind::AlreadyExists, &link);
    assert_io_error(&f.fs.create_dir(&link).unwrap_err(), ErrorKind::AlreadyExists, &link);
    let dangling = f.symlink("gone", "dangling");
    assert!(f.fs.exists(&dangling).unwrap(), "a dangling link exists");
    assert_eq!(f.fs.metadata(&dangling).unwrap().kind, FileKind::Symlink);
    assert_io_error(&f.fs.open(&dangling, OpenOptions::read()).unwrap_err(), ErrorKind::NotFound, &dangling);
    f.fs.open(&dangling, OpenOptions::create_truncate()).unwrap().write_all_at(b"new", 0).unwrap();
    assert_eq!(f.read(&f.path("gone")), b"new", "creating through a dangling link creates its target");
    f.fs.create_dir(&f.path("dir")).unwrap();
    let dir_link = f.symlink("dir", "dir-link");
    f.fs.create_dir_all(&dir_link.join("sub")).unwrap();
    f.fs.create_dir_all(&dir_link).unwrap();
    f.write("dir-link/f", b"through");
    let names: Vec<_> = f.fs.read_dir(&dir_link).unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["f", "sub"], "read_dir follows");
    let kinds: Vec<_> = f.fs.read_dir(&f.root).unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.iter().filter(|&&k| k == FileKind::Symlink).count(), 3, "listed as links: {kinds:?}");
    assert!(f.fs.remove_dir(&dir_link).is_err(), "rmdir does not follow");
    f.fs.hard_link(&link, &f.path("link2")).unwrap();
    assert_eq!(f.fs.metadata(&f.path("link2")).unwrap().kind, FileKind::Symlink, "link(2) links the link");
    f.fs.rename(&dir_link, &f.path("moved")).unwrap();
    assert_eq!(f.fs.metadata(&f.path("moved")).unwrap().kind, FileKind::Symlink, "rename moves the link");
    f.fs.remove_file(&link).unwrap();
    assert_eq!(f.read(&f.path("file")), b"content", "unlink removes the link, not its target");
    f.fs.create_dir(&f.path("tree")).unwrap();
    f.symlink("../dir", "tree/into-dir");
    remove_dir_all(&*f.fs, &f.path("tree")).unwrap();
    assert_eq!(f.read(&f.path("dir/f")), b"through", "remove_dir_all never follows a link");
}

/// A hard link shares content and counts in `nlink`; linking over an existing name fails.
pub fn hard_link_shares_inode(f: Fixture) {
    let a = f.write("a", b"shared");
    let b = f.path("b");
    f.fs.hard_link(&a, &b).unwrap();
    assert_eq!(f.fs.metadata(&a).unwrap().nlink, 2);
    assert_eq!(f.read(&b), b"shared");
    let file = f.fs.open(&b, OpenOptions::read_write()).unwrap();
    file.write_all_at(b"SH", 0).unwrap();
    assert_eq!(f.read(&a), b"SHared", "a hard link shares content");
    let c = f.write("c", b"other");
    let err = f.fs.hard_link(&a, &c).unwrap_err();
    assert_io_error(&err, ErrorKind::AlreadyExists, &c);
    f.fs.remove_file(&a).unwrap();
    assert_eq!(f.fs.metadata(&b).unwrap().nlink, 1);
}

/// A reflink is an independent copy, or (where unsupported) refused leaving no file.
pub fn reflink_is_independent_or_refused(f: Fixture) {
    let a = f.write("a", b"original");
    let b = f.path("b");
    if f.fs.supports_reflink(&f.root).unwrap() {
        f.fs.reflink(&a, &b).unwrap();
        let file = f.fs.open(&b, OpenOptions::read_write()).unwrap();
        file.write_all_at(b"CHANGED!", 0).unwrap();
        assert_eq!(f.read(&a), b"original", "a reflink is an independent copy");
        assert_eq!(f.fs.metadata(&a).unwrap().nlink, 1);
        let err = f.fs.reflink(&a, &b).unwrap_err();
        assert_io_error(&err, ErrorKind::AlreadyExists, &b);
    } else {
        let err = f.fs.reflink(&a, &b).unwrap_err();
        assert!(err.to_string().contains(&b.display().to_string()), "{err}");
        assert!(!f.fs.exists(&b).unwrap(), "a refused reflink leaves no file");
    }
}

/// An open handle keeps working after its name is removed.
pub fn unlinked_handle_keeps_working(f: Fixture) {
    let path = f.write("a", b"data");
    let file = f.fs.open(&path, OpenOptions::read_write()).unwrap();
    f.fs.remove_file(&path).unwrap();
    file.write_all_at(b"more", 4).unwrap();
    let mut buf = [0u8; 8];
    file.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"datamore");
    assert!(!f.fs.exists(&path).unwrap());
}

/// `sync_directory` works on a directory and names a missing one.
pub fn sync_directory(f: Fixture) {
    f.fs.sync_directory(&f.root).unwrap();
    let missing = f.path("missing");
    assert_io_error(&f.fs.sync_directory(&missing).unwrap_err(), ErrorKind::NotFound, &missing);
}

/// Files and directories of one device share its id.
pub fn device_ids(f: Fixture) {
    let a = f.write("a", b"");
    f.fs.create_dir(&f.path("d")).unwrap();
    let root = f.fs.device_id(&f.root).unwrap();
    assert_eq!(f.fs.device_id(&a).unwrap(), root);
    assert_eq!(f.fs.device_id(&f.path("d")).unwrap(), root);
    assert_eq!(f.fs.metadata(&a).unwrap().device, root);
    assert!(f.fs.device_id(&f.path("missing")).is_err());
}

/// A second `lock` of one path fails with `Locked` until the first is dropped.
pub fn lock_is_exclusive(f: Fixture) {
    let path = f.path("LOCK");
    let guard = f.fs.lock(&path).unwrap();
    match f.fs.lock(&path) {
        Err(Error::Locked { path: locked }) => assert_eq!(locked, path),
        other => panic!("second lock should fail with Locked, got {other:?}"),
    }
    drop(guard);
    let _again = f.fs.lock(&path).unwrap();
}

/// `write_file_atomic` replaces a file leaving no temporary behind; `remove_dir_all` removes a tree.
pub fn atomic_write_and_remove_dir_all(f: Fixture) {
    let path = f.path("CURRENT");
    write_file_atomic(&*f.fs, &path, b"one").unwrap();
    write_file_atomic(&*f.fs, &path, b"two").unwrap();
    assert_eq!(f.read(&path), b"two");
    let names: Vec<_> = f.fs.read_dir(&f.root).unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["CURRENT"], "no temporary file left behind");
    f.fs.create_dir_all(&f.path("t/u")).unwrap();
    f.write("t/u/v", b"v");
    f.write("t/w", b"w");
    remove_dir_all(&*f.fs, &f.path("t")).unwrap();
    assert!(!f.fs.exists(&f.path("t")).unwrap());
}

/// `link_or_copy` on one device reflinks or hard-links, and refuses an existing target.
pub fn link_or_copy_same_device(f: Fixture) {
    let a = f.write("a", b"immutable table");
    let b = f.path("b");
    let outcome = link_or_copy(&*f.fs, &a, &*f.fs, &b, true).unwrap();
    assert_eq!(outcome.bytes, 15);
    assert_eq!(f.read(&b), b"immutable table");
    let expected =
        if f.fs.supports_reflink(&f.root).unwrap() { LinkStrategy::Reflinked } else { LinkStrategy::HardLinked };
    assert_eq!(outcome.strategy, expected);
    let err = link_or_copy(&*f.fs, &a, &*f.fs, &b, true).unwrap_err();
    assert_io_error(&err, ErrorKind::AlreadyExists, &b);
}

/// `link_or_copy` between two file systems copies, both ways.
pub fn link_or_copy_across_namespaces_copies(f: Fixture) {
    let other = MemFs::new();
    let a = f.write("a", b"bytes to carry over");
    let outcome = link_or_copy(&*f.fs, &a, &other, Path::new("/copy"), true).unwrap();
    assert_eq!(outcome.strategy, LinkStrategy::Copied);
    assert_eq!(outcome.bytes, 19);
    assert_eq!(read_to_vec(&other, Path::new("/copy")).unwrap(), b"bytes to carry over");
    let back = f.path("back");
    let outcome = link_or_copy(&other, Path::new("/copy"), &*f.fs, &back, true).unwrap();
    assert_eq!(outcome.strategy, LinkStrategy::Copied);
    assert_eq!(f.read(&back), b"bytes to carry over");
}
