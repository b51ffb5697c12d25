//! `link_or_copy` on real file systems: hard links on the project's ext4
//! disk, reflinks on a reflink-capable XFS image, and a streamed copy across
//! two real mounts.
//!
//! The XFS and second ext4 mounts are loop devices that `.ci/run` creates
//! (it needs root) and passes in `CAIRNDB_TEST_XFS` and `CAIRNDB_TEST_EXT4`.
//! Without them these tests print why they skip — except under CI, where a
//! missing mount is a failure, so CI can never silently skip them.

use std::path::Path;
use std::process::Command;

mod common;

use cairndb::fs::{Fs, LinkStrategy, OpenOptions, StdFs, link_or_copy, read_to_vec};
use common::mounts::mount_from_env;

fn write(path: &Path, data: &[u8]) {
    let file = StdFs::new().open(path, OpenOptions::create_new()).unwrap();
    file.write_all_at(data, 0).unwrap();
    file.sync_all().unwrap();
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

/// `filefrag -v` flags every extent of a reflinked file as shared.
fn extents_shared(path: &Path) -> bool {
    let out = Command::new("filefrag").arg("-v").arg(path).output().expect("filefrag runs");
    assert!(out.status.success(), "filefrag failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).contains("shared")
}

#[test]
fn project_disk_hard_links() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let fs = StdFs::new();
    let src = dir.path().join("table.sst");
    let dst = dir.path().join("link.sst");
    write(&src, &payload(100_000));
    let outcome = link_or_copy(&fs, &src, &fs, &dst, true).unwrap();
    if fs.supports_reflink(dir.path()).unwrap() {
        assert_eq!(outcome.strategy, LinkStrategy::Reflinked, "this disk can reflink");
    } else {
        assert_eq!(outcome.strategy, LinkStrategy::HardLinked);
        assert_eq!(fs.metadata(&dst).unwrap().nlink, 2, "a hard link: link count 2");
    }
    assert_eq!(outcome.bytes, 100_000);
    assert_eq!(read_to_vec(&fs, &dst).unwrap(), payload(100_000));
}

#[test]
fn xfs_reflinks_share_extents_and_stay_independent() {
    let Some(mount) = mount_from_env("CAIRNDB_TEST_XFS") else {
        return;
    };
    let dir = tempfile::tempdir_in(&mount).unwrap();
    let fs = StdFs::new();
    assert!(fs.supports_reflink(dir.path()).unwrap(), "XFS with reflink=1 supports reflink");
    let src = dir.path().join("table.sst");
    let dst = dir.path().join("clone.sst");
    write(&src, &payload(1 << 20));
    assert!(!extents_shared(&src), "a freshly written file shares nothing");
    let outcome = link_or_copy(&fs, &src, &fs, &dst, true).unwrap();
    assert_eq!(outcome.strategy, LinkStrategy::Reflinked);
    assert_eq!(outcome.bytes, 1 << 20);
    assert_eq!(fs.metadata(&dst).unwrap().nlink, 1, "a reflink is a new inode");
    assert!(extents_shared(&dst), "the clone's extents are shared with the source");
    assert_eq!(read_to_vec(&fs, &dst).unwrap(), payload(1 << 20));
    let clone = fs.open(&dst, OpenOptions::read_write()).unwrap();
    clone.write_all_at(b"changed", 0).unwrap();
    clone.sync_all().unwrap();
    assert_eq!(read_to_vec(&fs, &src).unwrap(), payload(1 << 20), "source unchanged");
}

#[test]
fn cross_device_falls_back_to_copy() {
    let Some(xfs) = mount_from_env("CAIRNDB_TEST_XFS") else {
        return;
    };
    let Some(ext4) = mount_from_env("CAIRNDB_TEST_EXT4") else {
        return;
    };
    let fs = StdFs::new();
    let root_dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let xfs_dir = tempfile::tempdir_in(&xfs).unwrap();
    let ext4_dir = tempfile::tempdir_in(&ext4).unwrap();
    let hops =
        [(root_dir.path(), xfs_dir.path()), (xfs_dir.path(), ext4_dir.path()), (ext4_dir.path(), root_dir.path())];
    for (i, (from, to)) in hops.into_iter().enumerate() {
        let src = from.join(format!("src-{i}"));
        let dst = to.join(format!("dst-{i}"));
        let data = payload(3 << 20 | i);
        write(&src, &data);
        assert_ne!(fs.device_id(from).unwrap(), fs.device_id(to).unwrap(), "two real mounts");
        let direct = fs.hard_link(&src, &dst).unwrap_err();
        assert_eq!(direct.io_kind(), Some(std::io::ErrorKind::CrossesDevices), "{direct}");
        let outcome = link_or_copy(&fs, &src, &fs, &dst, true).unwrap();
        assert_eq!(outcome.strategy, LinkStrategy::Copied, "{} -> {}", from.display(), to.display());
        assert_eq!(outcome.bytes, data.len() as u64);
        assert_eq!(read_to_vec(&fs, &dst).unwrap(), data, "identical bytes");
        assert_eq!(fs.metadata(&src).unwrap().nlink, 1);
    }
}

#[test]
fn second_ext4_mount_hard_links_within_itself() {
    let Some(ext4) = mount_from_env("CAIRNDB_TEST_EXT4") else {
        return;
    };
    let dir = tempfile::tempdir_in(&ext4).unwrap();
    let fs = StdFs::new();
    assert!(!fs.supports_reflink(dir.path()).unwrap(), "ext4 cannot reflink");
    let src = dir.path().join("a");
    write(&src, b"data");
    let outcome = link_or_copy(&fs, &src, &fs, &dir.path().join("b"), true).unwrap();
    assert_eq!(outcome.strategy, LinkStrategy::HardLinked);
    assert_eq!(fs.metadata(&src).unwrap().nlink, 2);
}
