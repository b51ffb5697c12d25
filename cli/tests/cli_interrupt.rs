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

/// A database of `mib` MiB of incompressible values (1 MiB each, random
/// bytes that differ in their first eight), written through the library.
fn database_of(path: &Path, mib: u64) {
    let db = cairndb::Config::new(path).open().unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut value = Vec::with_capacity(1 << 20);
    while value.len() < 1 << 20 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        value.extend_from_slice(&state.to_le_bytes());
    }
    for i in 0..mib {
        value[..8].copy_from_slice(&i.to_le_bytes());
        db.put(format!("k{i:06}"), &value).unwrap();
    }
    db.flush().unwrap();
}

/// Entries of `dir` whose names start with the staging prefix.
fn staging_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(cairndb::checkpoint::STAGING_PREFIX))
        .collect()
}

#[test]
fn an_interrupted_restore_says_where_its_staging_directory_is_and_the_next_restore_removes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, store, parent) = (tmp.path().join("db"), tmp.path().join("store"), tmp.path().join("restores"));
    // Restoring it takes long enough (~0.1 s) to be interrupted.
    database_of(&db, 24);
    let cairn = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
        c.env_remove("RUST_LOG").stdout(Stdio::null()).stderr(Stdio::piped());
        c
    };
    assert!(cairn().args(["backup", "create"]).args([&db, &store]).status().unwrap().success());
    std::fs::create_dir(&parent).unwrap();
    let target = parent.join("restored");
    let child = cairn().args(["backup", "restore"]).arg(&store).arg("1").arg(&target).spawn().unwrap();
    let started = Instant::now();
    while staging_in(&parent).is_empty() {
        assert!(started.elapsed() < Duration::from_secs(60), "no staging directory appeared");
        std::thread::sleep(Duration::from_millis(1));
    }
    interrupt(&child);
    let pid = child.id();
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "cairn backup restore: interrupted; nothing appeared at {}, but its staging directory may be left \
             in {} as .cairn-staging.restored.{pid}.*: `cairn gc {}` or the next checkpoint or restore there \
             removes it\n",
            target.display(),
            parent.display(),
            parent.display()
        )
    );
    assert!(!target.exists());
    let left = staging_in(&parent);
    assert!(left.iter().all(|n| n.starts_with(&format!(".cairn-staging.restored.{pid}."))), "{left:?}");

    let again = cairn().args(["backup", "restore"]).arg(&store).arg("1").arg(&target).output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(staging_in(&parent), Vec::<String>::new(), "the next restore removed the leftover");
}

#[test]
fn an_interrupted_dump_removes_its_unfinished_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, file) = (tmp.path().join("db"), tmp.path().join("db.dump"));
    database_of(&db, 24);
    let child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["dump"])
        .args([&db, &file])
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Dumping: the first records are in the file.
    let started = Instant::now();
    while std::fs::metadata(&file).map_or(true, |m| m.len() < 1 << 20) {
        assert!(started.elapsed() < Duration::from_secs(60), "the dump never started writing");
        std::thread::sleep(Duration::from_millis(1));
    }
    interrupt(&child);
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(stderr, format!("cairn dump: interrupted; removed the unfinished dump {}\n", file.display()));
    assert!(!file.exists());
}
