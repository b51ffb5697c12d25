use std::io::ErrorKind;
use std::path::Path;

use rustix::io::Errno;

use super::{DeviceOptions, MemFs};
use crate::Error;
use crate::fs::{FileKind, Fs, OpenOptions, read_to_vec};

fn p(s: &str) -> &Path {
    Path::new(s)
}

fn write(fs: &MemFs, path: &str, data: &[u8]) {
    let file = fs.open(p(path), OpenOptions::create_truncate()).unwrap();
    file.write_all_at(data, 0).unwrap();
}

fn read(fs: &MemFs, path: &str) -> Vec<u8> {
    read_to_vec(fs, p(path)).unwrap()
}

/// Asserts `result` is an `Error::Io` with errno `code` and operation `op`.
#[track_caller]
fn assert_errno<T: std::fmt::Debug>(result: crate::Result<T>, op: &str, code: Errno) {
    match result {
        Err(Error::Io { op: got, source, .. }) => {
            assert_eq!(got, op);
            assert_eq!(source.raw_os_error(), Some(code.raw_os_error()), "{source}");
            assert_eq!(source.kind(), std::io::Error::from_raw_os_error(code.raw_os_error()).kind());
        }
        other => panic!("expected {op} to fail with {code:?}, got {other:?}"),
    }
}

#[test]
fn open_follows_posix_options() {
    let fs = MemFs::new();
    assert_errno(fs.open(p("/f"), OpenOptions::read()), "open", Errno::NOENT);
    assert_errno(fs.open(p("/no/f"), OpenOptions::create_new()), "open", Errno::NOENT);
    write(&fs, "/f", b"hello");
    assert_errno(fs.open(p("/f"), OpenOptions::create_new()), "open", Errno::EXIST);
    assert_errno(fs.open(p("/f/g"), OpenOptions::create_new()), "open", Errno::NOTDIR);
    fs.create_dir(p("/d")).unwrap();
    assert_errno(fs.open(p("/d"), OpenOptions::read_write()), "open", Errno::ISDIR);
    assert_errno(fs.open(p("/"), OpenOptions::create_truncate()), "open", Errno::ISDIR);
    let dir = fs.open(p("/d"), OpenOptions::read()).unwrap();
    assert_errno(dir.read_at(&mut [0; 4], 0), "read", Errno::ISDIR);
    let none = OpenOptions::default();
    assert_eq!(fs.open(p("/f"), none).unwrap_err().io_kind(), Some(ErrorKind::InvalidInput));
    let file = fs.open(p("/f"), OpenOptions::create_truncate()).unwrap();
    assert_eq!(file.len().unwrap(), 0, "truncate on open");
}

#[test]
fn handles_respect_access_mode() {
    let fs = MemFs::new();
    write(&fs, "/f", b"abc");
    let ro = fs.open(p("/f"), OpenOptions::read()).unwrap();
    assert_errno(ro.write_at(b"x", 0), "write", Errno::BADF);
    assert_errno(ro.set_len(0), "truncate", Errno::INVAL);
    let wo = OpenOptions { write: true, ..OpenOptions::default() };
    let wo = fs.open(p("/f"), wo).unwrap();
    assert_errno(wo.read_at(&mut [0; 1], 0), "read", Errno::BADF);
}

#[test]
fn reads_writes_append_and_set_len() {
    let fs = MemFs::new();
    let file = fs.open(p("/f"), OpenOptions::create_new()).unwrap();
    file.write_all_at(b"abc", 2).unwrap();
    assert_eq!(read(&fs, "/f"), b"\0\0abc");
    let mut buf = [0u8; 8];
    assert_eq!(file.read_at(&mut buf, 3).unwrap(), 2);
    assert_eq!(&buf[..2], b"bc");
    assert_eq!(file.read_at(&mut buf, 99).unwrap(), 0);
    let append = OpenOptions { append: true, ..OpenOptions::default() };
    let log = fs.open(p("/f"), append).unwrap();
    log.write_all_at(b"XY", 0).unwrap();
    assert_eq!(read(&fs, "/f"), b"\0\0abcXY");
    file.set_len(3).unwrap();
    assert_eq!(read(&fs, "/f"), b"\0\0a");
    file.set_len(5).unwrap();
    assert_eq!(read(&fs, "/f"), b"\0\0a\0\0");
    assert!(!file.is_empty().unwrap());
    assert_errno(file.set_len(u64::MAX), "truncate", Errno::FBIG);
    assert_errno(file.write_at(b"z", u64::MAX), "write", Errno::FBIG);
}

#[test]
fn unlinked_handle_keeps_working() {
    let fs = MemFs::new();
    write(&fs, "/f", b"old");
    let file = fs.open(p("/f"), OpenOptions::read_write()).unwrap();
    fs.remove_file(p("/f")).unwrap();
    assert!(!fs.exists(p("/f")).unwrap());
    write(&fs, "/f", b"new");
    file.write_all_at(b"OLD!", 0).unwrap();
    let mut buf = [0u8; 4];
    file.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"OLD!");
    assert_eq!(read(&fs, "/f"), b"new");
}

#[test]
fn directories_create_list_remove() {
    let fs = MemFs::new();
    fs.create_dir(p("/b")).unwrap();
    assert_errno(fs.create_dir(p("/b")), "create directory", Errno::EXIST);
    assert_errno(fs.create_dir(p("/")), "create directory", Errno::EXIST);
    assert_errno(fs.create_dir(p("/x/y")), "create directory", Errno::NOENT);
    fs.create_dir_all(p("a/./c/d")).unwrap();
    fs.create_dir_all(p("/a/c")).unwrap();
    write(&fs, "/a/file", b"");
    assert_errno(fs.create_dir_all(p("/a/file")), "create directory", Errno::EXIST);
    assert_errno(fs.create_dir_all(p("/a/file/x")), "create directory", Errno::NOTDIR);
    let names: Vec<_> = fs.read_dir(p("/a")).unwrap().into_iter().map(|e| (e.name, e.kind)).collect();
    assert_eq!(names, [("c".into(), FileKind::Dir), ("file".into(), FileKind::File)]);
    assert_errno(fs.read_dir(p("/a/file")), "read directory", Errno::NOTDIR);
    assert_errno(fs.read_dir(p("/zz")), "read directory", Errno::NOENT);
    assert_errno(fs.remove_dir(p("/a/c")), "remove directory", Errno::NOTEMPTY);
    assert_errno(fs.remove_dir(p("/a/file")), "remove directory", Errno::NOTDIR);
    assert_errno(fs.remove_dir(p("/")), "remove directory", Errno::BUSY);
    assert_errno(fs.remove_file(p("/a/c")), "remove file", Errno::ISDIR);
    assert_errno(fs.remove_file(p("/a/nope")), "remove file", Errno::NOENT);
    fs.remove_dir(p("/a/c/d")).unwrap();
    assert_eq!(fs.metadata(p("/a")).unwrap().nlink, 3);
    assert_errno(fs.metadata(p("/a/../b")), "stat", Errno::INVAL);
}

#[test]
fn exists_is_false_for_any_missing_path() {
    let fs = MemFs::new();
    write(&fs, "/f", b"");
    assert!(fs.exists(p("/")).unwrap());
    assert!(fs.exists(p("f")).unwrap());
    assert!(!fs.exists(p("/g")).unwrap());
    assert!(!fs.exists(p("/f/g")).unwrap());
    assert!(!fs.exists(p("")).unwrap());
    assert_eq!(fs.exists(p("/..")).unwrap_err().io_kind(), Some(ErrorKind::InvalidInput));
}

#[test]
fn rename_replaces_and_checks_kinds() {
    let fs = MemFs::new();
    write(&fs, "/a", b"A");
    write(&fs, "/b", b"B");
    fs.hard_link(p("/b"), p("/b2")).unwrap();
    fs.rename(p("/a"), p("/b")).unwrap();
    assert_eq!(read(&fs, "/b"), b"A");
    assert!(!fs.exists(p("/a")).unwrap());
    assert_eq!(fs.metadata(p("/b2")).unwrap().nlink, 1, "old target lost an entry");
    fs.rename(p("/b"), p("/b")).unwrap();
    fs.create_dir_all(p("/d/sub")).unwrap();
    fs.create_dir(p("/e")).unwrap();
    assert_errno(fs.rename(p("/b"), p("/d")), "rename", Errno::ISDIR);
    assert_errno(fs.rename(p("/e"), p("/b")), "rename", Errno::NOTDIR);
    assert_errno(fs.rename(p("/e"), p("/d")), "rename", Errno::NOTEMPTY);
    assert_errno(fs.rename(p("/d"), p("/d/sub/x")), "rename", Errno::INVAL);
    assert_errno(fs.rename(p("/nope"), p("/x")), "rename", Errno::NOENT);
    fs.rename(p("/d/sub"), p("/e")).unwrap();
    assert_eq!(fs.read_dir(p("/d")).unwrap(), []);
    assert!(fs.metadata(p("/e")).unwrap().is_dir());
}

#[test]
fn hard_links_share_an_inode() {
    let fs = MemFs::new();
    write(&fs, "/a", b"1");
    fs.hard_link(p("/a"), p("/b")).unwrap();
    assert_eq!(fs.metadata(p("/a")).unwrap().nlink, 2);
    write(&fs, "/b", b"22");
    assert_eq!(read(&fs, "/a"), b"22");
    assert_errno(fs.hard_link(p("/a"), p("/b")), "hard-link", Errno::EXIST);
    fs.create_dir(p("/d")).unwrap();
    assert_errno(fs.hard_link(p("/d"), p("/d2")), "hard-link", Errno::PERM);
    assert_errno(fs.hard_link(p("/zz"), p("/d2")), "hard-link", Errno::NOENT);
    fs.remove_file(p("/a")).unwrap();
    assert_eq!(fs.metadata(p("/b")).unwrap().nlink, 1);
}

#[test]
fn reflink_copies_and_stays_independent() {
    let plain = MemFs::new();
    write(&plain, "/a", b"data");
    assert!(!plain.supports_reflink(p("/")).unwrap());
    assert_errno(plain.reflink(p("/a"), p("/b")), "reflink", Errno::OPNOTSUPP);
    let fs = MemFs::with_reflink();
    assert!(fs.supports_reflink(p("/")).unwrap());
    write(&fs, "/a", b"data");
    fs.reflink(p("/a"), p("/b")).unwrap();
    write(&fs, "/a", b"changed");
    assert_eq!(read(&fs, "/b"), b"data");
    assert_eq!(fs.metadata(p("/b")).unwrap().nlink, 1);
    assert_errno(fs.reflink(p("/a"), p("/b")), "reflink", Errno::EXIST);
    fs.create_dir(p("/d")).unwrap();
    assert_errno(fs.reflink(p("/d"), p("/e")), "reflink", Errno::ISDIR);
}

#[test]
fn devices_refuse_cross_device_links() {
    let fs = MemFs::with_reflink();
    fs.create_dir(p("/disk2")).unwrap();
    write(&fs, "/a", b"x");
    let id = fs.mount(p("/disk2"), DeviceOptions { reflink: false }).unwrap();
    assert_eq!(id.namespace, fs.namespace());
    assert_ne!(id, fs.device_id(p("/")).unwrap());
    assert_ne!(fs.namespace(), MemFs::new().namespace());
    assert!(!fs.supports_reflink(p("/disk2")).unwrap());
    assert_errno(fs.hard_link(p("/a"), p("/disk2/a")), "hard-link", Errno::XDEV);
    assert_errno(fs.reflink(p("/a"), p("/disk2/a")), "reflink", Errno::XDEV);
    let err = fs.rename(p("/a"), p("/disk2/a")).unwrap_err();
    assert_eq!(err.io_kind(), Some(ErrorKind::CrossesDevices));
    write(&fs, "/disk2/b", b"y");
    assert_eq!(fs.metadata(p("/disk2/b")).unwrap().device, id);
    assert_errno(fs.remove_dir(p("/disk2")), "remove directory", Errno::BUSY);
    fs.create_dir(p("/full")).unwrap();
    write(&fs, "/full/f", b"");
    assert_errno(fs.mount(p("/full"), DeviceOptions::default()), "mount", Errno::NOTEMPTY);
    let copy = fs.crash_copy();
    assert_eq!(copy.device_id(p("/")).unwrap().device, 0);
    assert!(copy.supports_reflink(p("/")).unwrap());
}

#[test]
fn lock_is_exclusive_until_dropped() {
    let fs = MemFs::new();
    fs.create_dir(p("/db")).unwrap();
    let guard = fs.lock(p("/db/LOCK")).unwrap();
    assert!(fs.metadata(p("/db/LOCK")).unwrap().is_file());
    let other = fs.clone();
    assert!(matches!(other.lock(p("/db/LOCK")), Err(Error::Locked { .. })));
    assert!(MemFs::new().create_dir(p("/db")).is_ok(), "another namespace is independent");
    drop(guard);
    let _again = other.lock(p("/db/LOCK")).unwrap();
    assert_errno(fs.lock(p("/nodir/LOCK")), "open lock file", Errno::NOENT);
    assert!(fs.crash_copy().lock(p("/db/LOCK")).is_err(), "lock file not durable");
}

#[test]
fn crash_keeps_only_synced_data_and_entries() {
    let fs = MemFs::new();
    fs.create_dir(p("/d")).unwrap();
    write(&fs, "/d/f", b"abc");
    assert!(!fs.crash_copy().exists(p("/d")).unwrap());
    fs.sync_directory(p("/")).unwrap();
    assert_eq!(fs.crash_copy().read_dir(p("/d")).unwrap(), []);
    fs.sync_directory(p("/d")).unwrap();
    assert_eq!(read(&fs.crash_copy(), "/d/f"), b"");
    fs.open(p("/d/f"), OpenOptions::read()).unwrap().sync_data().unwrap();
    assert_eq!(read(&fs.crash_copy(), "/d/f"), b"abc");
    fs.remove_file(p("/d/f")).unwrap();
    assert_eq!(read(&fs.crash_copy(), "/d/f"), b"abc", "unlink not synced");
    fs.sync_directory(p("/d")).unwrap();
    assert!(!fs.crash_copy().exists(p("/d/f")).unwrap());
}

#[test]
fn crash_keeps_hard_links_shared_and_reflinks_unsynced() {
    let fs = MemFs::with_reflink();
    write(&fs, "/a", b"xy");
    fs.open(p("/a"), OpenOptions::read()).unwrap().sync_all().unwrap();
    fs.hard_link(p("/a"), p("/b")).unwrap();
    fs.reflink(p("/a"), p("/c")).unwrap();
    fs.sync_directory(p("/")).unwrap();
    let copy = fs.crash_copy();
    assert_eq!(copy.metadata(p("/b")).unwrap().nlink, 2);
    write(&copy, "/a", b"z");
    assert_eq!(read(&copy, "/b"), b"z");
    assert_eq!(read(&copy, "/c"), b"", "a clone's data is durable only once synced");
    fs.open(p("/c"), OpenOptions::read()).unwrap().sync_data().unwrap();
    assert_eq!(read(&fs.crash_copy(), "/c"), b"xy");
}

#[test]
fn directory_handle_sync_syncs_entries() {
    let fs = MemFs::new();
    write(&fs, "/f", b"");
    fs.open(p("/"), OpenOptions::read()).unwrap().sync_all().unwrap();
    assert!(fs.crash_copy().exists(p("/f")).unwrap());
}

#[test]
fn torn_crash_keeps_a_prefix_of_writes() {
    let fs = MemFs::new();
    let file = fs.open(p("/log"), OpenOptions::create_new()).unwrap();
    file.sync_all().unwrap();
    fs.sync_directory(p("/")).unwrap();
    file.write_all_at(b"aaaa", 0).unwrap();
    file.write_all_at(b"bbbb", 4).unwrap();
    let full = b"aaaabbbb";
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..200 {
        let got = read(&fs.crash_copy_torn(seed), "/log");
        assert!(full.starts_with(&got), "{got:?}");
        assert_eq!(got, read(&fs.crash_copy_torn(seed), "/log"), "deterministic");
        seen.insert(got.len());
    }
    assert_eq!(seen.len(), 9, "every cut point occurs: {seen:?}");
}

#[test]
fn torn_crash_never_splits_a_rename_in_one_directory() {
    let fs = MemFs::new();
    write(&fs, "/tmp", b"");
    fs.sync_directory(p("/")).unwrap();
    fs.rename(p("/tmp"), p("/CURRENT")).unwrap();
    for seed in 0..50 {
        let copy = fs.crash_copy_torn(seed);
        assert!(copy.exists(p("/tmp")).unwrap() != copy.exists(p("/CURRENT")).unwrap());
    }
}

#[test]
fn garbage_is_collected_but_durable_inodes_survive() {
    let fs = MemFs::new();
    fs.create_dir(p("/d")).unwrap();
    write(&fs, "/d/keep", b"k");
    fs.open(p("/d/keep"), OpenOptions::read()).unwrap().sync_data().unwrap();
    fs.sync_directory(p("/d")).unwrap();
    fs.remove_file(p("/d/keep")).unwrap();
    for i in 0..500 {
        let name = format!("/t{i}");
        write(&fs, &name, &[1; 100]);
        fs.remove_file(p(&name)).unwrap();
        // Until `/` is synced a torn crash may still keep the entry.
        fs.sync_directory(p("/")).unwrap();
    }
    assert!(fs.state().inodes.len() < 200, "{}", fs.state().inodes.len());
    assert_eq!(read(&fs.crash_copy(), "/d/keep"), b"k");
}

#[test]
fn crash_copy_handles_deep_trees() {
    let fs = MemFs::new();
    let depth = 1000;
    let mut path = std::path::PathBuf::from("/");
    for _ in 0..depth {
        path.push("x");
        fs.create_dir(&path).unwrap();
        // Syncing through a directory handle: each level's entry is durable.
        fs.open(path.parent().unwrap(), OpenOptions::read()).unwrap().sync_all().unwrap();
    }
    let copy = fs.crash_copy();
    assert!(copy.metadata(&path).unwrap().is_dir());
}

#[test]
fn clones_share_one_namespace_across_threads() {
    let fs = MemFs::new();
    let engine: std::sync::Arc<dyn Fs> = std::sync::Arc::new(fs.clone());
    let writers: Vec<_> = (0..4)
        .map(|i| {
            let engine = std::sync::Arc::clone(&engine);
            std::thread::spawn(move || {
                let path = format!("/f{i}");
                let file = engine.open(Path::new(&path), OpenOptions::create_new()).unwrap();
                for n in 0..100u64 {
                    file.write_all_at(&[i as u8], n).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    for i in 0..4u8 {
        assert_eq!(read(&fs, &format!("/f{i}")), vec![i; 100]);
    }
}

#[test]
fn symlinks_survive_a_crash_with_their_entry() {
    let fs = MemFs::new();
    fs.create_dir(p("/d")).unwrap();
    fs.symlink(p("/d"), p("/kept")).unwrap();
    fs.sync_directory(p("/")).unwrap();
    fs.symlink(p("d"), p("/lost")).unwrap();
    assert_errno(fs.symlink(p("/d"), p("/kept")), "symlink", Errno::EXIST);
    assert_errno(fs.symlink(p(""), p("/empty")), "symlink", Errno::NOENT);
    let after = fs.crash_copy();
    assert_eq!(after.metadata(p("/kept")).unwrap().kind, FileKind::Symlink);
    assert_eq!(after.canonicalize(p("/kept")).unwrap(), p("/d"));
    assert!(!after.exists(p("/lost")).unwrap(), "the entry was not synced");
}

#[test]
fn renaming_a_directory_below_itself_through_a_link_is_refused() {
    let fs = MemFs::new();
    fs.create_dir_all(p("/a/b")).unwrap();
    fs.symlink(p("/a/b"), p("/into")).unwrap();
    assert_errno(fs.rename(p("/a"), p("/into/a2")), "rename", Errno::INVAL);
    fs.rename(p("/into"), p("/still-a-link")).unwrap();
    assert_eq!(fs.canonicalize(p("/still-a-link")).unwrap(), p("/a/b"));
}
