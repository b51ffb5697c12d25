//! `cairn gc DIR`: the leftovers of killed checkpoints and restores.
//!
//! A child process (this test binary again, running the helper below)
//! takes a checkpoint that copies every file, as across devices, and
//! stops for good in the middle of the copy; one such child is killed with
//! SIGKILL, another stays alive. `cairn list` mentions both staging
//! directories; `cairn gc --dry-run` reports them and removes nothing;
//! `cairn gc` removes the killed one, with its size, and never the live
//! one (its `LOCK` is held), nor a directory that only looks like one; once
//! the second child is killed too, `cairn gc` removes its leftover as well.

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cairndb::checkpoint::is_staging_name;
use cairndb::fs::{DeviceId, DirEntry, Fs, FsFile, FsLock, Metadata, OpenOptions, StdFs};
use cairndb::{Config, Error, Result};
use common::{cairn, ok, s};
use indicatif::BinaryBytes;
use serde_json::Value;

/// Set in the child: `DB` and `TARGET`, a newline between them.
const HELPER_ENV: &str = "CAIRN_GC_TEST_CHECKPOINT";
/// Files the child copies into its staging directory before it stalls.
const FILES_BEFORE_STALL: u64 = 3;

/// The real file system, but a hard link is refused as across devices
/// (so a checkpoint copies every file), and the file created after
/// `FILES_BEFORE_STALL` in a staging directory is never made: the process
/// says so on stdout and sleeps until it is killed.
#[derive(Debug, Default)]
struct StallingFs {
    inner: StdFs,
    created_in_staging: AtomicU64,
}

impl Fs for StallingFs {
    fn open(&self, path: &Path, options: OpenOptions) -> Result<Box<dyn FsFile>> {
        let in_staging = path.components().any(|c| is_staging_name(c.as_os_str()));
        if options.create_new
            && in_staging
            && self.created_in_staging.fetch_add(1, Ordering::SeqCst) == FILES_BEFORE_STALL
        {
            let staging = path.ancestors().find(|a| a.file_name().is_some_and(is_staging_name)).unwrap();
            println!("stalled in {}", staging.display());
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        self.inner.open(path, options)
    }
    fn create_dir(&self, path: &Path) -> Result<()> {
        self.inner.create_dir(path)
    }
    fn create_dir_all(&self, path: &Path) -> Result<()> {
        self.inner.create_dir_all(path)
    }
    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>> {
        self.inner.read_dir(path)
    }
    fn remove_file(&self, path: &Path) -> Result<()> {
        self.inner.remove_file(path)
    }
    fn remove_dir(&self, path: &Path) -> Result<()> {
        self.inner.remove_dir(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        self.inner.rename(from, to)
    }
    fn metadata(&self, path: &Path) -> Result<Metadata> {
        self.inner.metadata(path)
    }
    fn exists(&self, path: &Path) -> Result<bool> {
        self.inner.exists(path)
    }
    fn hard_link(&self, src: &Path, dst: &Path) -> Result<()> {
        Err(Error::io2("hard-link", src, dst, std::io::Error::from_raw_os_error(18))) // EXDEV
    }
    fn reflink(&self, src: &Path, dst: &Path) -> Result<()> {
        self.inner.reflink(src, dst)
    }
    fn sync_directory(&self, path: &Path) -> Result<()> {
        self.inner.sync_directory(path)
    }
    fn device_id(&self, path: &Path) -> Result<DeviceId> {
        self.inner.device_id(path)
    }
    fn canonicalize(&self, path: &Path) -> Result<PathBuf> {
        self.inner.canonicalize(path)
    }
    fn supports_reflink(&self, _dir: &Path) -> Result<bool> {
        Ok(false)
    }
    fn lock(&self, path: &Path) -> Result<Box<dyn FsLock>> {
        self.inner.lock(path)
    }
}

/// Not a test of its own: the child process's work, a checkpoint through
/// `StallingFs` that never ends (run with `--ignored` by `Stalled::start`).
#[test]
#[ignore = "the child process of gc_removes_what_a_killed_checkpoint_left_and_never_one_in_use"]
fn helper_a_checkpoint_that_stalls_mid_copy() {
    let spec = std::env::var(HELPER_ENV).expect("run by Stalled::start, which sets it");
    let (db, target) = spec.split_once('\n').unwrap();
    let db = Config::new(db).fs(Arc::new(StallingFs::default())).open().unwrap();
    let outcome = db.checkpoint(target);
    panic!("the checkpoint was to stall, and returned {outcome:?}");
}

/// A child checkpointing `db` into `target`, stalled mid-copy in the
/// staging directory it names; killed (SIGKILL) when dropped.
struct Stalled {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    staging: PathBuf,
}

impl Stalled {
    fn start(db: &Path, target: &Path) -> Stalled {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "helper_a_checkpoint_that_stalls_mid_copy", "--nocapture"])
            .env(HELPER_ENV, format!("{}\n{}", db.display(), target.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let staging = loop {
            line.clear();
            assert!(stdout.read_line(&mut line).unwrap() > 0, "the helper ended without stalling");
            if let Some(path) = line.trim_end().strip_prefix("stalled in ") {
                break PathBuf::from(path);
            }
        };
        Stalled { child, _stdout: stdout, staging }
    }

    fn kill(mut self) -> PathBuf {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.staging.clone()
    }
}

impl Drop for Stalled {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A database of several tables and blob files, closed.
fn database(path: &Path) {
    let db = Config::new(path)
        .memtable_size_bytes(64 << 10)
        .table_target_bytes(16 << 10)
        .blob_threshold_bytes(2000)
        .open()
        .unwrap();
    for i in 0..3000u32 {
        let value = if i % 50 == 0 { vec![i as u8; 5000] } else { vec![b'v'; 200] };
        db.put(format!("k{i:05}"), value).unwrap();
    }
    db.flush().unwrap();
}

/// Files below `dir` and their bytes, as `du --apparent-size` counts them.
fn usage(dir: &Path) -> (u64, u64) {
    let (mut files, mut bytes) = (0, 0);
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            let (f, b) = usage(&entry.path());
            (files, bytes) = (files + f, bytes + b);
        } else {
            (files, bytes) = (files + 1, bytes + entry.metadata().unwrap().len());
        }
    }
    (files, bytes)
}

fn gc_json(dir: &Path, dry_run: bool) -> Value {
    let mut args = vec!["gc", s(dir), "--json"];
    if dry_run {
        args.push("--dry-run");
    }
    serde_json::from_str(&ok(&args)).unwrap()
}

/// The leftover at `path` in a `gc --json` report.
fn entry<'a>(report: &'a Value, path: &Path) -> &'a Value {
    let leftovers = report["leftovers"].as_array().unwrap();
    leftovers.iter().find(|l| l["path"] == s(path)).unwrap_or_else(|| panic!("{} not in {report}", path.display()))
}

#[test]
fn gc_removes_what_a_killed_checkpoint_left_and_never_one_in_use() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, other, dir) = (tmp.path().join("db"), tmp.path().join("other"), tmp.path().join("cps"));
    database(&db);
    database(&other);
    std::fs::create_dir(&dir).unwrap();
    // The live one first: a checkpoint starting into the folder removes
    // the leftovers there, so the killed one's would not survive it.
    let live = Stalled::start(&other, &dir.join("live"));
    let killed = Stalled::start(&db, &dir.join("killed")).kill();
    // Named like a staging directory, but no LOCK and a file of someone else's.
    let foreign = dir.join(".cairn-staging.notes");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    for staging in [&killed, &live.staging] {
        assert!(staging.join("LOCK").exists() && staging.parent() == Some(dir.as_path()), "{}", staging.display());
    }

    let listed = ok(&["list", s(&dir)]);
    assert!(listed.contains("no checkpoints in"), "{listed}");
    assert!(listed.contains("3 staging directories") && listed.contains(&format!("cairn gc {}", s(&dir))), "{listed}");

    let dry = gc_json(&dir, true);
    assert_eq!(dry["dry_run"], true);
    let (k, l, f) = (entry(&dry, &killed), entry(&dry, &live.staging), entry(&dry, &foreign));
    assert_eq!(
        (&k["state"], &l["state"], &f["state"]),
        (&"abandoned".into(), &"in_use".into(), &"unrecognized".into())
    );
    let (files, bytes) = usage(&killed);
    assert!(files > FILES_BEFORE_STALL && bytes > 0, "LOCK and the files copied before the kill: {files}, {bytes}");
    assert_eq!((k["files"].as_u64(), k["bytes"].as_u64()), (Some(files), Some(bytes)), "{k}");
    assert!([k, l, f].iter().all(|e| e["removed"] == false) && dry["removed"] == 0, "{dry}");
    assert!(killed.exists(), "a dry run removes nothing");

    let text = ok(&["gc", s(&dir)]);
    assert!(text.contains(&format!("removed       {}: ", killed.display())), "{text}");
    assert!(text.contains(&format!("in use        {}: ", live.staging.display())), "{text}");
    assert!(text.contains(&format!("left alone    {}: ", foreign.display())), "{text}");
    assert!(text.ends_with(&format!("total         removed 1 staging directory, {}\n", BinaryBytes(bytes))), "{text}");
    assert!(!killed.exists(), "the killed checkpoint's leftover is gone");
    assert!(live.staging.join("LOCK").exists(), "the live one is untouched");
    assert!(foreign.join("notes.txt").exists());

    let again = gc_json(&dir, false);
    assert_eq!(again["removed"], 0, "{again}");
    assert_eq!(entry(&again, &live.staging)["state"], "in_use");

    let live = live.kill();
    let last = gc_json(&dir, false);
    assert_eq!((&last["removed"], &entry(&last, &live)["removed"]), (&1.into(), &true.into()), "{last}");
    assert!(!live.exists());
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, [foreign.file_name().unwrap()]);
    // The source never noticed: it opens, and a checkpoint lands beside.
    ok(&["checkpoint", s(&db), s(&dir.join("after"))]);
    let listed = ok(&["list", s(&dir)]);
    assert!(listed.contains("after") && listed.contains("1 staging directory"), "{listed}");
}

#[test]
fn gc_of_a_folder_without_leftovers_says_so_and_of_a_missing_one_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let text = ok(&["gc", s(tmp.path())]);
    assert_eq!(text, format!("no staging leftovers in {}\n", tmp.path().display()));
    let missing = cairn(&["gc", s(&tmp.path().join("missing"))]);
    assert_eq!(missing.status.code(), Some(1));
    let stderr = String::from_utf8(missing.stderr).unwrap();
    assert!(stderr.starts_with("cairn gc: ") && stderr.contains("missing"), "{stderr}");
}
