//! `cairn backup archive` and point-in-time restores, run as a user would:
//! a database with a base backup and writes after it; `backup archive`
//! runs as a child process (holding the database: a `put` meanwhile is
//! refused) until SIGINT, then ships what is durable and prints its
//! summary (exit 0); `--once` ships a closed database's tail; restores
//! `--at-seqno`, `--at-time` and `latest` land on the commits they name;
//! `backup list` shows the restorable range; bad points are refused in one
//! line.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cairndb::backup::{BackupEngine, DirStore};
use cairndb::fs::StdFs;
use cairndb::{Config, SeqNo};

mod common;
use common::{cairn, ok, s};

/// What the writes before archiving left: the commits, and a time between two.
struct History {
    db: PathBuf,
    store: PathBuf,
    /// The base backup's seqno (k0..k2).
    base: SeqNo,
    /// k3's commit; `between` lies after it and before k4's.
    k3: SeqNo,
    between: SystemTime,
    /// The last commit (k5).
    last: SeqNo,
}

/// k0..k2, a base backup, then k3, k4 and k5, each persisted (a commit).
fn history(dir: &Path) -> History {
    let (db_path, store) = (dir.join("db"), dir.join("store"));
    let db = Config::new(&db_path).open().unwrap();
    for i in 0..3 {
        db.put(format!("k{i}"), format!("v{i}")).unwrap();
    }
    let base = db.persist().unwrap();
    let fs = std::sync::Arc::new(StdFs::new());
    let engine = BackupEngine::new(std::sync::Arc::new(DirStore::open(fs, &store).unwrap()));
    engine.create_backup(&db).unwrap();
    db.put("k3", "v3").unwrap();
    let k3 = db.persist().unwrap();
    std::thread::sleep(Duration::from_millis(60));
    let between = SystemTime::now();
    std::thread::sleep(Duration::from_millis(60));
    db.put("k4", "v4").unwrap();
    db.persist().unwrap();
    db.put("k5", "v5").unwrap();
    let last = db.persist().unwrap();
    drop(db);
    History { db: db_path, store, base, k3, between, last }
}

/// `t` as RFC 3339 (UTC, milliseconds), as a user would type it.
fn rfc3339(t: SystemTime) -> String {
    let ms = t.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    let at = format!("@{}.{:03}", ms / 1000, ms % 1000);
    let out = Command::new("date").args(["-u", "-d", &at, "+%Y-%m-%dT%H:%M:%S.%3NZ"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `cairn backup archive ARGS` as a child process, its output piped.
fn start_archive(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["backup", "archive"])
        .args(args)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `dir` holds a file (an archived chunk).
fn wait_for_chunk(dir: &Path) {
    let started = Instant::now();
    while std::fs::read_dir(dir).map_or(0, |d| d.count()) == 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "nothing was archived into {}", dir.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn interrupt(child: &Child) {
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

/// A JSON number field of a one-line object.
fn number(json: &str, field: &str) -> u64 {
    let at = json.find(&format!("\"{field}\":")).unwrap_or_else(|| panic!("no {field} in {json}"));
    let rest = &json[at + field.len() + 3..];
    rest[..rest.find([',', '}']).unwrap()].parse().unwrap_or_else(|_| panic!("{field} in {json}"))
}

#[test]
fn archive_until_interrupted_then_restore_any_commit() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(dir.path());
    let (db, store) = (s(&h.db), s(&h.store));

    let child = start_archive(&[db, store, "--interval-ms", "50", "--json"]);
    let timeline_dir = h.store.join("archive");
    wait_for_chunk(&timeline_dir);
    // The archiver holds the database: no other process may write to it.
    let refused = cairn(&["put", db, "k9", "v9"]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    interrupt(&child);
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "stdout: {stdout} stderr: {stderr}");
    assert!(stdout.starts_with("{\"database\":\""), "{stdout}");
    assert_eq!(number(&stdout, "shipped_seqno"), h.last.get(), "{stdout}");
    assert_eq!(number(&stdout, "unshipped_bytes"), 0, "{stdout}");
    assert!(number(&stdout, "chunks_shipped") >= 1 && stdout.contains("\"gaps\":[]"), "{stdout}");

    // A closed database's tail: --once ships it and returns.
    ok(&["put", db, "k6", "v6"]);
    let once = ok(&["backup", "archive", db, store, "--once"]);
    assert!(once.contains(&format!("every commit up to seqno {}", h.last.get() + 1)), "{once}");

    let at_k3 = dir.path().join("at-k3");
    let out = ok(&["backup", "restore", store, "--at-seqno", &h.k3.get().to_string(), s(&at_k3)]);
    assert!(out.contains(&format!("restored      commit {}, made ", h.k3)), "{out}");
    assert!(out.contains("from          backup 1 and 1 chunk"), "{out}");
    assert_eq!(ok(&["scan", s(&at_k3)]), "k0\tv0\nk1\tv1\nk2\tv2\nk3\tv3\n");

    // A seqno between commits lands on the one before: k4's commit holds
    // only k4 (one write, one seqno), so asking for k5's seqno minus one
    // is k4's commit.
    let at_k4 = dir.path().join("at-k4");
    let json = ok(&["backup", "restore", store, "--at-seqno", &(h.last.get() - 1).to_string(), s(&at_k4), "--json"]);
    assert_eq!(number(&json, "seqno"), h.last.get() - 1, "{json}");
    assert_eq!(ok(&["get", s(&at_k4), "k4"]), "v4\n");
    assert_eq!(cairn(&["get", s(&at_k4), "k5"]).status.code(), Some(1));

    let by_time = dir.path().join("by-time");
    let json = ok(&["backup", "restore", store, "--at-time", &rfc3339(h.between), s(&by_time), "--json"]);
    assert_eq!(number(&json, "seqno"), h.k3.get(), "{json}");
    assert!(json.contains("\"commit_time\":\"") && json.contains("\"log_chunks\":"), "{json}");
    assert_eq!(ok(&["scan", s(&by_time), "--no-value"]), "k0\nk1\nk2\nk3\n");

    // `latest` is the newest archived commit, newer than the only backup.
    let latest = dir.path().join("latest");
    let out = ok(&["backup", "restore", store, "latest", s(&latest)]);
    assert!(out.contains(&format!("restored      commit {}", h.last.get() + 1)), "{out}");
    assert_eq!(ok(&["get", s(&latest), "k6"]), "v6\n");
    // The backup itself still restores by id, as it was taken.
    let backup = dir.path().join("backup");
    let out = ok(&["backup", "restore", store, "1", s(&backup)]);
    assert!(out.contains("restored      backup 1 into"), "{out}");
    assert_eq!(ok(&["scan", s(&backup), "--no-value"]), "k0\nk1\nk2\n");

    let listed = ok(&["backup", "list", store]);
    let range = format!("restorable  seqno {} (", h.base);
    assert!(listed.contains(&range) && listed.contains(&format!(") to {} (", h.last.get() + 1)), "{listed}");
    assert!(!listed.contains("GAP"), "{listed}");
    let json = ok(&["backup", "list", store, "--json"]);
    assert!(json.starts_with("[{\"id\":1,\"ok\":true,"), "{json}");
    assert!(json.contains(&format!("\"restorable\":{{\"base\":1,\"first_seqno\":{},", h.base)), "{json}");
    let archive = ok(&["backup", "list", store, "--archive", "--json"]);
    assert!(archive.starts_with("[{\"database\":\"") && archive.contains("\"gaps\":[]"), "{archive}");
    assert_eq!(number(&archive, "archived_to"), h.last.get() + 1, "{archive}");
    assert!(number(&archive, "chunks") >= 2, "{archive}");
}

#[test]
fn points_nothing_restores_are_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let h = history(dir.path());
    let store = s(&h.store);
    ok(&["backup", "archive", s(&h.db), store, "--once"]);
    let target = dir.path().join("target");

    let before_base = cairn(&["backup", "restore", store, "--at-seqno", "1", s(&target)]);
    let stderr = String::from_utf8_lossy(&before_base.stderr);
    assert_eq!(before_base.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("cairn backup restore: ") && stderr.contains("no base backup"), "{stderr}");
    assert!(!target.exists());

    let long_ago = cairn(&["backup", "restore", store, "--at-time", "2001-01-01T00:00:00Z", s(&target)]);
    let stderr = String::from_utf8_lossy(&long_ago.stderr);
    assert_eq!(long_ago.status.code(), Some(1), "{stderr}");
    assert!(stderr.lines().count() == 1 && stderr.contains("nothing restorable"), "{stderr}");

    // Usage errors (exit 2, as for every bad argument): a time that is not
    // RFC 3339 names the rule it breaks; a backup and a point at once.
    for (time, why) in [("2025-06-01 12:00", "`:` after the minute"), ("2025-06-01T12:00:00", "`Z` or an offset")] {
        let bad = cairn(&["backup", "restore", store, "--at-time", time, s(&target)]);
        let stderr = String::from_utf8_lossy(&bad.stderr);
        assert_eq!(bad.status.code(), Some(2), "{stderr}");
        let first = stderr.lines().next().unwrap();
        assert!(first.contains("is not an RFC 3339 time") && first.contains(why), "{stderr}");
    }
    let both = cairn(&["backup", "restore", store, "1", s(&target), "--at-seqno", "4"]);
    assert_eq!(both.status.code(), Some(2));
    assert!(!target.exists());
}
