//! "Outside the database" is decided on real paths: a checkpoint or restore
//! target reached through a symbolic link (the database's, or a parent's)
//! that lands inside a database is refused; and whatever does end up inside
//! a database directory never stops it from opening.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::Arc;

use cairndb::backup::{BackupEngine, DirStore};
use cairndb::fs::StdFs;
use cairndb::{Config, Db, Error};

fn assert_inside(result: cairndb::Result<impl std::fmt::Debug>, what: &str) {
    match result {
        Err(e @ Error::InvalidArgument { .. }) => assert!(e.to_string().contains("inside"), "{what}: {e}"),
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
}

fn reopen_holds(path: &Path, key: &str) {
    let db = Db::open(path).unwrap_or_else(|e| panic!("the database must still open: {e}"));
    assert_eq!(db.get(key).unwrap().as_deref(), Some(&b"v"[..]));
}

#[test]
fn a_database_opened_through_a_symlink_refuses_its_real_path() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    Db::open(&real).unwrap().put("k", "v").unwrap();
    let link = dir.path().join("link");
    symlink(&real, &link).unwrap();
    let db = Db::open(&link).unwrap();
    assert_inside(db.checkpoint(real.join("v99")), "the real path of a database opened through a link");
    assert_inside(db.checkpoint(real.join("sub/cp")), "a missing folder inside it");
    assert!(!real.join("v99").exists() && !real.join("sub").exists(), "nothing was created inside");
    drop(db);
    reopen_holds(&link, "k");
}

#[test]
fn a_target_through_a_symlinked_parent_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("db");
    let db = Db::open(&db_path).unwrap();
    db.put("k", "v").unwrap();
    let alias = dir.path().join("alias");
    symlink(&db_path, &alias).unwrap();
    assert_inside(db.checkpoint(alias.join("v99")), "a parent that is a link to the database");
    let nested = dir.path().join("nested");
    std::fs::create_dir(&nested).unwrap();
    symlink(Path::new("../db/tables"), nested.join("up")).unwrap();
    assert_inside(db.checkpoint(nested.join("up/cp")), "a relative link leading into the database");
    // A link to somewhere else is followed, and the checkpoint opens.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    symlink(&elsewhere, dir.path().join("out")).unwrap();
    let info = db.checkpoint(dir.path().join("out/cp")).unwrap();
    assert_eq!(info.path, elsewhere.join("cp"), "the real path is reported");
    reopen_holds(&info.path, "k");
    drop(db);
    reopen_holds(&db_path, "k");
}

#[test]
fn a_restore_target_inside_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("db");
    let db = Db::open(&db_path).unwrap();
    db.put("k", "v").unwrap();
    let fs = Arc::new(StdFs::new());
    let engine = BackupEngine::new(Arc::new(DirStore::open(fs, dir.path().join("store")).unwrap()));
    let backup = engine.create_backup(&db).unwrap();
    drop(db);
    let alias = dir.path().join("alias");
    symlink(&db_path, &alias).unwrap();
    assert_inside(engine.restore(backup.id, &alias.join("v99")), "a restore through a link into a database");
    assert_inside(engine.restore(backup.id, &db_path.join("restored")), "a restore into a database");
    reopen_holds(&db_path, "k");
    let restored = engine.restore(backup.id, &dir.path().join("restored")).unwrap();
    reopen_holds(&restored.path, "k");
}

#[test]
fn open_leaves_alone_what_it_does_not_recognise_as_its_own_file() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("db");
    Db::open(&db_path).unwrap().put("k", "v").unwrap();
    // Names of files the database would remove as orphans, but of other kinds.
    std::fs::create_dir(db_path.join("v99")).unwrap();
    std::fs::create_dir(db_path.join("tables/77.sst")).unwrap();
    std::fs::create_dir(db_path.join("CURRENT.tmp")).unwrap();
    symlink(dir.path(), db_path.join("v98")).unwrap();
    symlink(dir.path().join("nowhere"), db_path.join("blobs/78.blob")).unwrap();
    let db = Config::new(&db_path).open().unwrap_or_else(|e| panic!("must open: {e}"));
    assert_eq!(db.get("k").unwrap().as_deref(), Some(&b"v"[..]));
    drop(db);
    for kept in ["v99", "tables/77.sst", "CURRENT.tmp", "v98", "blobs/78.blob"] {
        assert!(db_path.join(kept).symlink_metadata().is_ok(), "{kept} is not ours to remove");
    }
    assert!(dir.path().exists(), "a link is never followed");
}
