//! Database identity and timelines (`docs/DESIGN.md`): every database gets
//! a random identity when created and keeps it; a checkpoint or a restored
//! backup reports its source's identity until it is opened for writing,
//! which starts a new timeline (a fresh id, generation + 1) durably before
//! the open returns; a read-only open changes nothing.

use std::path::Path;
use std::sync::Arc;

mod common;

use cairndb::backup::{BackupEngine, DirStore};
use cairndb::checkpoint::describe;
use cairndb::fs::MemFs;
use cairndb::{Config, Db, DbIdentity};

fn open(fs: &MemFs, path: &str, read_only: bool) -> Db {
    Config::new(path).fs(Arc::new(fs.clone())).read_only(read_only).background_threads(false).open().unwrap()
}

fn identity(fs: &MemFs, path: &str) -> DbIdentity {
    open(fs, path, true).identity().expect("an identity")
}

#[test]
fn a_database_keeps_its_identity_and_another_has_its_own() {
    let fs = MemFs::new();
    let db = open(&fs, "/a", false);
    let a = db.identity().unwrap();
    assert_eq!(a.generation, 1);
    db.put("k", "v").unwrap();
    db.compact().unwrap();
    assert_eq!(db.identity(), Some(a), "new versions keep it");
    drop(db);
    assert_eq!(open(&fs, "/a", false).identity(), Some(a));
    assert_eq!(identity(&fs, "/a"), a);
    let b = open(&fs, "/b", false).identity().unwrap();
    assert_ne!(a.id, b.id);
}

#[test]
fn a_checkpoint_opened_for_writing_starts_a_new_timeline() {
    let fs = MemFs::new();
    let db = open(&fs, "/db", false);
    let source = db.identity().unwrap();
    db.put("k", "v").unwrap();
    db.checkpoint("/cp").unwrap();
    assert_eq!(describe(&fs, Path::new("/cp")).unwrap().unwrap().database, Some(source));

    // Read-only: the source's identity, and nothing written.
    assert_eq!(identity(&fs, "/cp"), source);
    assert_eq!(identity(&fs, "/cp"), source);

    // Writable: the next generation, installed before the open returns.
    let cp = open(&fs, "/cp", false);
    let forked = cp.identity().unwrap();
    assert_eq!(forked.generation, source.generation + 1);
    assert_ne!(forked.id, source.id, "a timeline of its own");
    let after_crash = fs.crash_copy();
    std::mem::forget(cp);
    assert_eq!(identity(&after_crash, "/cp"), forked, "durable before the open returned");
    assert_eq!(open(&after_crash, "/cp", false).identity(), Some(forked), "forks once, not at every open");
    assert_eq!(db.identity(), Some(source), "the source is unchanged");

    // A checkpoint of the copy forks again from there.
    let copy = open(&after_crash, "/cp", false);
    copy.checkpoint("/cp2").unwrap();
    drop(copy);
    let again = open(&after_crash, "/cp2", false).identity().unwrap();
    assert_eq!(again.generation, forked.generation + 1);
    assert_ne!(again.id, forked.id);

    // Two checkpoints of one database, both opened for writing, are two
    // timelines, not one.
    db.checkpoint("/sibling").unwrap();
    let sibling = open(&fs, "/sibling", false).identity().unwrap();
    assert_eq!(sibling.generation, forked.generation);
    assert_ne!(sibling, forked);
}

#[test]
fn a_restored_backup_opened_for_writing_starts_a_new_timeline() {
    let fs = MemFs::new();
    let db = open(&fs, "/db", false);
    let source = db.identity().unwrap();
    db.put("k", "v").unwrap();
    let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::new(fs.clone()), "/store").unwrap()))
        .local_fs(Arc::new(fs.clone()));
    let info = engine.create_backup(&db).unwrap();
    engine.restore(info.id, Path::new("/restored")).unwrap();
    assert_eq!(identity(&fs, "/restored"), source);
    let restored = open(&fs, "/restored", false);
    let forked = restored.identity().unwrap();
    assert_eq!(forked.generation, source.generation + 1);
    assert_ne!(forked.id, source.id);
    assert_eq!(restored.get("k").unwrap().as_deref(), Some(&b"v"[..]));
    // Its own backups are of its own timeline.
    restored.put("k2", "v2").unwrap();
    let again = engine.create_backup(&restored).unwrap();
    assert_eq!(engine.manifest(again.id).unwrap().database, Some(forked));
    assert_eq!(engine.manifest(info.id).unwrap().database, Some(source));
}
