//! A full disk, as `cairn` reports it: one line naming what could not be
//! written — the store a backup fills, the disk a restore fills, the
//! database a demo fills — never the path of something else the command
//! was also working on.
//!
//! Each test mounts a small tmpfs of its own (root only; they skip, saying
//! why, elsewhere), as `/work/shared/TOOLING.md`'s full-disk recipe does.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A tmpfs of `size` mounted on a fresh directory, unmounted when dropped.
struct FullDisk {
    dir: tempfile::TempDir,
}

impl FullDisk {
    fn mount(size: &str) -> Option<FullDisk> {
        let dir = tempfile::tempdir().unwrap();
        let options = format!("size={size}");
        match Command::new("mount").args(["-t", "tmpfs", "-o", &options, "tmpfs"]).arg(dir.path()).output() {
            Ok(o) if o.status.success() => Some(FullDisk { dir }),
            Ok(o) => skip(&String::from_utf8_lossy(&o.stderr)),
            Err(e) => skip(&e.to_string()),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn skip(why: &str) -> Option<FullDisk> {
    #[expect(clippy::print_stderr, reason = "tell the person running tests why we skip")]
    {
        eprintln!("SKIPPED: cannot mount a small tmpfs (root only): {}", why.trim());
    }
    None
}

impl Drop for FullDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn cairn(args: &[&Path], tmpdir: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
    command.args(args).env_remove("RUST_LOG");
    if let Some(tmp) = tmpdir {
        command.env("TMPDIR", tmp);
    }
    command.output().expect("run cairn")
}

fn p(s: &str) -> &Path {
    Path::new(s)
}

/// A database of ~6 MiB (a table and some log), made by the demo.
fn database(dir: &Path) -> PathBuf {
    let place = dir.join("demo");
    let out = cairn(&[p("demo"), p("--dir"), &place, p("--keys"), p("50000")], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    place.join("db")
}

/// Asserts one line on stderr, status 1, naming `names` and not `not`.
fn assert_blames(out: &Output, command: &str, names: &Path, not: &Path) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with(&format!("cairn {command}: ")), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains(names.to_str().unwrap()), "names {}: {err}", names.display());
    assert!(!err.contains(not.to_str().unwrap()), "does not blame {}: {err}", not.display());
}

#[test]
fn a_backup_onto_a_full_store_names_the_store() {
    let Some(disk) = FullDisk::mount("2m") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path());
    let store = disk.path().join("store");
    let out = cairn(&[p("backup"), p("create"), &db, &store], None);
    assert_blames(&out, "backup create", &store, &db);
}

#[test]
fn a_restore_onto_a_full_disk_names_the_disk_not_the_store() {
    let Some(disk) = FullDisk::mount("2m") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path());
    let store = dir.path().join("store");
    assert!(cairn(&[p("backup"), p("create"), &db, &store], None).status.success());
    let target = disk.path().join("restored");
    let out = cairn(&[p("backup"), p("restore"), &store, p("latest"), &target], None);
    assert_blames(&out, "backup restore", disk.path(), &store);
    assert!(!target.exists(), "nothing appears at the target");
}

#[test]
fn a_demo_on_a_full_disk_prints_one_line_naming_the_database() {
    let Some(disk) = FullDisk::mount("6m") else { return };
    let out = cairn(&[p("demo"), p("--keys"), p("200000")], Some(disk.path()));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_blames(&out, "demo", disk.path(), p("/checkpoint"));
    assert!(err.contains("/db/"), "a file of the database could not be written: {err}");
    assert_eq!(std::fs::read_dir(disk.path()).unwrap().count(), 0, "the temporary workplace is removed");
}
