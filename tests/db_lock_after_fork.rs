//! The database lock belongs to the process that opened the database, not
//! to every child it forks. A child started while a database is open holds
//! a copy of each descriptor until it execs (or for its life, if it never
//! does); with a lock tied to the descriptor (`flock`), closing the
//! database left it locked until that child got there, so another process
//! — or this one — opening it right after the close was refused. Seen as a
//! rare "LOCK is locked" in tests that run commands in parallel threads.

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use cairndb::{Db, Error};

const CHILD: &str = "CAIRNDB_LOCK_CHILD_DB";

#[test]
fn a_closed_database_reopens_while_a_child_forked_during_its_life_has_not_exec_d() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path()).unwrap();
    db.put("k", "v").unwrap();
    // A child forked now sits between fork and exec for a second: the way
    // a spawn from another thread looks on a loaded machine.
    let child = std::thread::spawn(|| {
        let mut command = Command::new("true");
        // A child that has forked but not exec'd can only be made with
        // `pre_exec`. SAFETY: the hook only sleeps, which is
        // async-signal-safe.
        #[allow(unsafe_code)]
        unsafe {
            command.pre_exec(|| {
                std::thread::sleep(Duration::from_secs(1));
                Ok(())
            });
        }
        command.status().unwrap()
    });
    std::thread::sleep(Duration::from_millis(200));
    drop(db);
    let again = Db::open(dir.path()).expect("the closed database reopens at once");
    assert_eq!(again.get("k").unwrap().as_deref(), Some(&b"v"[..]));
    assert!(child.join().unwrap().success());
}

#[test]
fn another_process_is_refused_while_the_database_is_open_and_admitted_after() {
    if let Some(path) = std::env::var_os(CHILD) {
        match Db::open(&path) {
            Err(Error::Locked { .. }) => std::process::exit(3),
            Ok(_) => std::process::exit(0),
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let name = "another_process_is_refused_while_the_database_is_open_and_admitted_after";
    let try_open = || {
        let out = Command::new(&exe)
            .args(["--exact", name, "--nocapture", "--test-threads=1"])
            .env(CHILD, dir.path())
            .output()
            .expect("run the child");
        out.status.code()
    };
    let db = Db::open(dir.path()).unwrap();
    assert_eq!(try_open(), Some(3), "a second process is refused while the first holds the database");
    // Within one process too: a second handle is refused.
    assert!(matches!(Db::open(dir.path()), Err(Error::Locked { .. })));
    drop(db);
    assert_eq!(try_open(), Some(0), "admitted once the first closed it");
}
