//! Keeping a folder of checkpoints from the tool: `cairn checkpoint DB DIR/
//! --keep N` (a time-named checkpoint inside DIR, then a prune), `cairn
//! checkpoint prune DIR --keep N`, `cairn list DIR` marking the newest
//! valid one, and `cairn schedule DB DIR --every 100ms --keep 3` running
//! until SIGINT with one JSON line per event.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cairndb::Config;

mod common;
use common::{cairn, ok, s};

#[test]
fn checkpoints_into_a_folder_are_time_named_pruned_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let (db, cps) = (dir.path().join("db"), dir.path().join("cps"));
    let folder = format!("{}/", s(&cps));
    drop(Config::new(&db).open().unwrap());
    for i in 0..4 {
        ok(&["put", s(&db), &format!("k{i}"), "v"]);
        let out = ok(&["checkpoint", s(&db), &folder, "--keep", "3", "--json"]);
        assert!(out.contains("\"pruned\""), "{out}");
        std::thread::sleep(Duration::from_millis(3));
    }
    let names: Vec<String> =
        std::fs::read_dir(&cps).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.iter().all(|n| n.len() > 20 && n.contains('T') && n.contains("Z-")), "{names:?}");
    let listed = ok(&["list", s(&cps)]);
    assert_eq!(listed.matches(", newest valid").count(), 1, "{listed}");
    let json = ok(&["list", s(&cps), "--json"]);
    assert_eq!(json.matches("\"newest_valid\":true").count(), 1, "{json}");
    let pruned = ok(&["checkpoint", "prune", s(&cps), "--keep", "1", "--json"]);
    assert_eq!(pruned.matches("\"seqno\"").count(), 2, "two removed: {pruned}");
    assert_eq!(std::fs::read_dir(&cps).unwrap().count(), 1);
    // Refused: --keep without a folder target, and keeping none.
    let bad = cairn(&["checkpoint", s(&db), s(&dir.path().join("x")), "--keep", "2"]);
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    let bad = cairn(&["checkpoint", "prune", s(&cps), "--keep", "0"]);
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
}

#[test]
fn schedule_runs_until_interrupted_and_keeps_its_count() {
    let dir = tempfile::tempdir().unwrap();
    let (db, cps) = (dir.path().join("db"), dir.path().join("cps"));
    drop(Config::new(&db).open().unwrap());
    ok(&["put", s(&db), "k", "v"]);
    let child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["schedule", s(&db), s(&cps), "--every", "100ms", "--keep", "3", "--json"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::fs::read_dir(&cps).map_or(0, |d| d.count()) == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "no checkpoint appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(400));
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout.matches("\"event\":\"checkpoint\"").count(), 1, "one write, one checkpoint: {stdout}");
    assert!(stdout.contains("\"event\":\"skipped\""), "{stdout}");
    assert!(stdout.trim_end().ends_with('}') && stdout.contains("\"event\":\"stopped\""), "{stdout}");
    assert!(std::fs::read_dir(&cps).unwrap().count() <= 3);
    // The checkpoint holds the write.
    let only = std::fs::read_dir(&cps).unwrap().next().unwrap().unwrap().path();
    let copy = Config::new(&only).read_only(true).open().unwrap();
    assert_eq!(copy.get("k").unwrap().as_deref(), Some(&b"v"[..]));
}
