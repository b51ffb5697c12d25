//! Checkpoints (and restores) into one parent folder, from many threads and
//! from several processes at once, all succeed: no call takes another's
//! staging directory for a leftover. Each opens holding exactly its seqno.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;

use cairndb::checkpoint::STAGING_PREFIX;
use cairndb::fs::{Fs, MemFs, StdFs};
use cairndb::{CheckpointInfo, Config, Db};

const THREADS: usize = 4;
const ROUNDS: usize = 12;

/// Each thread writes its own key, then checkpoints into its own target in
/// `parent`; returns every checkpoint with the value its thread had written
/// last before it.
fn checkpoint_from_threads(db: &Db, parent: &Path) -> Vec<(CheckpointInfo, usize, usize)> {
    thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                s.spawn(move || {
                    (0..ROUNDS)
                        .map(|round| {
                            db.put(format!("thread{t}"), round.to_string()).unwrap();
                            let target = parent.join(format!("cp-{t}-{round}"));
                            let info =
                                db.checkpoint(&target).unwrap_or_else(|e| panic!("thread {t}, round {round}: {e}"));
                            (info, t, round)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    })
}

/// Every checkpoint opens at its seqno, holding at least its own thread's
/// write; the parent holds the checkpoints and no staging directory.
fn check(fs: &Arc<dyn Fs>, parent: &Path, made: &[(CheckpointInfo, usize, usize)]) {
    for (info, t, round) in made {
        let cp = Config::new(&info.path).fs(Arc::clone(fs)).read_only(true).open().unwrap();
        assert_eq!(cp.stats().seqno, info.seqno, "{}", info.path.display());
        let own: usize = String::from_utf8(cp.get(format!("thread{t}")).unwrap().unwrap()).unwrap().parse().unwrap();
        assert!(own >= *round, "{}: its own write is in it", info.path.display());
    }
    let names: Vec<String> =
        fs.read_dir(parent).unwrap().into_iter().map(|e| e.name.to_string_lossy().into_owned()).collect();
    assert_eq!(names.len(), made.len(), "{names:?}");
    assert!(names.iter().all(|n| !n.starts_with(STAGING_PREFIX)), "{names:?}");
}

#[test]
fn threads_checkpoint_into_one_folder_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let db = Config::new(dir.path().join("db")).background_threads(false).open().unwrap();
    let parent = dir.path().join("cps");
    let made = checkpoint_from_threads(&db, &parent);
    check(&(Arc::new(StdFs::new()) as Arc<dyn Fs>), &parent, &made);
}

#[test]
fn threads_checkpoint_into_one_folder_on_memfs() {
    let fs: Arc<dyn Fs> = Arc::new(MemFs::new());
    let db = Config::new("/db").fs(Arc::clone(&fs)).background_threads(false).open().unwrap();
    let made = checkpoint_from_threads(&db, Path::new("/cps"));
    check(&fs, Path::new("/cps"), &made);
}

const CHILD_ENV: &str = "CAIRNDB_TEST_CHECKPOINT_CHILD";

/// Run in a child process (see below): its own database, checkpoints into
/// the shared folder.
#[test]
fn child_process_checkpoints() {
    let Ok(spec) = std::env::var(CHILD_ENV) else { return };
    let (dir, id) = spec.split_once('|').unwrap();
    let dir = PathBuf::from(dir);
    let db = Config::new(dir.join(format!("db{id}"))).open().unwrap();
    for round in 0..ROUNDS {
        db.put("round", round.to_string()).unwrap();
        db.checkpoint(dir.join("cps").join(format!("p{id}-{round}")))
            .unwrap_or_else(|e| panic!("process {id}, round {round}: {e}"));
    }
}

#[test]
fn processes_checkpoint_into_one_folder() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..3)
        .map(|id| {
            Command::new(&exe)
                .args(["--exact", "child_process_checkpoints", "--nocapture", "--test-threads=1"])
                .env(CHILD_ENV, format!("{}|{id}", dir.path().display()))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (id, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "process {id}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let fs: Arc<dyn Fs> = Arc::new(StdFs::new());
    let parent = dir.path().join("cps");
    for id in 0..3 {
        for round in 0..ROUNDS {
            let cp = Config::new(parent.join(format!("p{id}-{round}"))).read_only(true).open().unwrap();
            assert_eq!(cp.get("round").unwrap().as_deref(), Some(round.to_string().as_bytes()));
        }
    }
    let names = fs.read_dir(&parent).unwrap();
    assert_eq!(names.len(), 3 * ROUNDS, "{names:?}");
}

#[test]
fn restores_and_checkpoints_share_one_folder() {
    use cairndb::backup::{BackupEngine, DirStore};
    let dir = tempfile::tempdir().unwrap();
    let fs: Arc<dyn Fs> = Arc::new(StdFs::new());
    let db = Config::new(dir.path().join("db")).background_threads(false).open().unwrap();
    db.put("k", "v").unwrap();
    let store = DirStore::open(Arc::clone(&fs), dir.path().join("store")).unwrap();
    let engine = BackupEngine::new(Arc::new(store));
    let backup = engine.create_backup(&db).unwrap();
    let parent = &dir.path().join("out");
    thread::scope(|s| {
        for t in 0..THREADS {
            let (db, engine) = (&db, &engine);
            s.spawn(move || {
                for round in 0..ROUNDS {
                    let target = parent.join(format!("{t}-{round}"));
                    let made = if t % 2 == 0 {
                        engine.restore(backup.id, &target).map(|_| ())
                    } else {
                        db.checkpoint(&target).map(|_| ())
                    };
                    made.unwrap_or_else(|e| panic!("thread {t}, round {round}: {e}"));
                }
            });
        }
    });
    let names = fs.read_dir(parent).unwrap();
    assert_eq!(names.len(), THREADS * ROUNDS, "{names:?}");
    for entry in names {
        let opened = Config::new(parent.join(&entry.name)).fs(Arc::clone(&fs)).read_only(true).open().unwrap();
        assert_eq!(opened.get("k").unwrap().as_deref(), Some(&b"v"[..]));
    }
}
