//! Ctrl-C: a `cairn` command interrupted mid-work (SIGINT sent to the child
//! process, as a terminal does) removes what it created, or says where it
//! is, and exits with status 130.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Sends SIGINT to `child`.
fn interrupt(child: &Child) {
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("run kill");
    assert!(status.success());
}

/// Waits (up to a minute) for `child` to exit; its status code and stderr.
fn finish(mut child: Child) -> (Option<i32>, String) {
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the interrupted command did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    (status.code(), stderr)
}

/// Waits until `path` exists.
fn wait_for(path: &Path) {
    let started = Instant::now();
    while !path.exists() {
        assert!(started.elapsed() < Duration::from_secs(60), "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A demo big enough to be interrupted mid-load; returns it and its workplace.
fn demo(args: &[&str], tmpdir: &Path) -> (Child, PathBuf) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["demo", "--keys", "5000000"])
        .args(args)
        .env("TMPDIR", tmpdir)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let workplace = lines
        .find_map(|l| l.unwrap().strip_prefix("workplace").map(|p| PathBuf::from(p.trim())))
        .expect("the demo names its workplace");
    // Loading: the database's log is there.
    wait_for(&workplace.join("db").join("log"));
    std::thread::sleep(Duration::from_millis(200));
    (child, workplace)
}

#[test]
fn an_interrupted_demo_removes_its_temporary_workplace() {
    let tmp = tempfile::tempdir().unwrap();
    let (child, workplace) = demo(&[], tmp.path());
    interrupt(&child);
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(stderr, format!("cairn demo: interrupted; removed the workplace {}\n", workplace.display()));
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "nothing is left in $TMPDIR");
}

#[test]
fn an_interrupted_demo_in_a_given_directory_says_where_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    let place = tmp.path().join("kept");
    let (child, workplace) = demo(&["--dir", place.to_str().unwrap()], tmp.path());
    assert_eq!(workplace, place);
    interrupt(&child);
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(stderr, format!("cairn demo: interrupted; what the demo made so far is in {}\n", place.display()));
    // What is there opens as a database.
    let db = cairndb::Config::new(place.join("db")).read_only(true).open().unwrap();
    assert!(db.stats().seqno.get() > 0);
}
