//! `cairn backup ...` run as a user would: create (incremental), list,
//! verify (damage named, exit 1), restore (by id and `latest`, which skips a
//! damaged backup and says so), prune and gc; with the `s3` feature, the
//! same against the S3 server `.ci/run` starts.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

#[path = "../../tests/common/mod.rs"]
mod common;

fn cairn<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .env_remove("RUST_LOG")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .output()
        .expect("run cairn")
}

fn ok<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = cairn(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "status {:?}, stderr: {stderr}", out.status);
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A database with `n` keys written through the tool.
fn db_with(dir: &Path, n: usize) -> std::path::PathBuf {
    let db = dir.join("db");
    ok(["put", s(&db), "k0", "v0", "--create"]);
    for i in 1..n {
        ok(["put", s(&db), &format!("k{i}"), &format!("v{i}")]);
    }
    db
}

/// The whole backup cycle against `store` (a directory or an s3:// URL,
/// with `extra` options such as --endpoint); `damage` breaks a file only
/// the newest backup holds, given its store key.
fn cycle(dir: &Path, store: &str, extra: &[&str], damage: &dyn Fn(&str)) {
    let with = |args: &[&str]| -> Vec<String> { args.iter().chain(extra).map(|a| a.to_string()).collect() };
    let db = db_with(dir, 3);
    let first = ok(with(&["backup", "create", s(&db), store, "--json"]));
    assert!(first.contains("\"id\":1,") && first.contains("\"files_skipped\":0,"), "{first}");
    ok(["put", s(&db), "k-new", "v-new"]);
    let second = ok(with(&["backup", "create", s(&db), store]));
    assert!(second.contains("backup        2 in") && second.contains("1 already stored"), "{second}");

    let listed = ok(with(&["backup", "list", store, "--json"]));
    assert!(listed.starts_with("[{\"id\":2,\"ok\":true,") && listed.contains("{\"id\":1,\"ok\":true,"), "{listed}");
    let verified = ok(with(&["backup", "verify", store, "2"]));
    assert!(verified.contains("ok: every file"), "{verified}");

    let restored = dir.join("restored");
    let out = ok(with(&["backup", "restore", store, "2", s(&restored)]));
    assert!(out.contains("every checksum verified"), "{out}");
    assert_eq!(ok(["scan", s(&restored)]), "k-new\tv-new\nk0\tv0\nk1\tv1\nk2\tv2\n");
    let again = cairn(with(&["backup", "restore", store, "2", s(&restored)]));
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    // Damage the newest backup: verify names the file and fails; `latest`
    // restores the one before and says what it skipped.
    damage(store);
    // The listing marks it, and `latest` is the one before.
    let listed = ok(with(&["backup", "list", store]));
    let line = |id: &str| listed.lines().find(|l| l.trim_start().starts_with(id)).unwrap_or_default().to_owned();
    assert!(line("2 ").contains("DAMAGED: not in the store: ") && !line("2 ").contains("(latest)"), "{listed}");
    assert!(line("1 ").ends_with("(latest)"), "{listed}");
    let listed = ok(with(&["backup", "list", store, "--json"]));
    assert!(listed.starts_with("[{\"id\":2,\"ok\":false,\"problem\":\"not in the store: "), "{listed}");
    assert!(listed.contains(",\"database\":") && listed.contains("{\"id\":1,\"ok\":true,\"database\":"), "{listed}");
    let out = cairn(with(&["backup", "verify", store, "2"]));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout} {stderr}");
    assert!(stdout.contains("DAMAGED: 1 problem") && stdout.contains("missing"), "{stdout}");
    assert!(stderr.starts_with("cairn backup verify: ") && stderr.contains("backup 2 is damaged"), "{stderr}");
    let older = dir.join("older");
    let out = ok(with(&["backup", "restore", store, "latest", s(&older)]));
    assert!(out.contains("skipped       backup 2:") && out.contains("restored      backup 1"), "{out}");
    assert_eq!(ok(["scan", s(&older)]), "k0\tv0\nk1\tv1\nk2\tv2\n");

    // Backup 2 is damaged: it is not one of the kept, and stays.
    let pruned = ok(with(&["backup", "prune", store, "--keep", "1", "--json"]));
    assert!(pruned.starts_with("{\"removed\":[],\"kept\":[1],\"damaged\":[{\"id\":2,\"reason\":"), "{pruned}");
    let pruned = ok(with(&["backup", "prune", store, "--keep", "1"]));
    assert!(pruned.contains("damaged       backup 2: ") && pruned.contains("cairn backup delete"), "{pruned}");
    let deleted = ok(with(&["backup", "delete", store, "2"]));
    assert!(deleted.contains("deleted       backup 2"), "{deleted}");
    let listed = ok(with(&["backup", "list", store, "--json"]));
    assert!(listed.starts_with("[{\"id\":1,") && !listed.contains("\"id\":2,"), "{listed}");
    let missing = cairn(with(&["backup", "delete", store, "2"]));
    assert_eq!(missing.status.code(), Some(1));
    let gc = ok(with(&["backup", "gc", store, "--json"]));
    assert!(gc.starts_with("{\"files_removed\":"), "{gc}");
    let usage = cairn(with(&["backup", "prune", store, "--keep", "0"]));
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn backup_cycle_with_a_directory_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let damage = |store: &str| {
        // The version file of backup 2 is its own: delete it.
        let files = std::fs::read_dir(Path::new(store).join("files")).unwrap();
        let versions: Vec<_> =
            files.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "version")).collect();
        let manifest = std::fs::read_to_string(Path::new(store).join("manifests/manifest-000002.json")).unwrap();
        let own = versions.iter().find(|p| manifest.contains(p.file_name().unwrap().to_str().unwrap())).unwrap();
        std::fs::remove_file(own).unwrap();
    };
    cycle(dir.path(), s(&store), &[], &damage);
    let out = cairn(["backup", "list", s(&dir.path().join("nowhere"))]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no backup store here"));
}

/// The identity `cairn info` shows for the database at `db`.
fn identity_of(db: &Path) -> String {
    let info = ok(["info", s(db)]);
    info.lines().find_map(|l| l.strip_prefix("database")).unwrap().trim().to_owned()
}

#[test]
fn two_databases_in_one_store_need_the_database_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store = s(&store);
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for (db, value) in [(&a, "from a"), (&b, "from b")] {
        ok(["put", s(db), "k", value, "--create"]);
        ok(["backup", "create", s(db), store]);
    }
    let (ida, idb) = (identity_of(&a), identity_of(&b));
    assert_ne!(ida, idb);

    // The listing shows each backup's database, and the latest of each.
    let listed = ok(["backup", "list", store]);
    assert!(listed.lines().next().unwrap().contains("database"), "{listed}");
    let line_of = |id: &str| listed.lines().find(|l| l.trim_start().starts_with(id)).unwrap().to_owned();
    assert!(line_of("1 ").contains(&ida) && line_of("1 ").ends_with("(latest)"), "{listed}");
    assert!(line_of("2 ").contains(&idb) && line_of("2 ").ends_with("(latest)"), "{listed}");
    let json = ok(["backup", "list", store, "--json"]);
    assert!(json.contains(&format!("{{\"id\":1,\"ok\":true,\"database\":\"{ida}\",\"latest\":true,")), "{json}");
    let only_a = ok(["backup", "list", store, "--database", &ida, "--json"]);
    assert!(only_a.starts_with("[{\"id\":1,") && !only_a.contains("\"id\":2"), "{only_a}");

    // `latest` and prune refuse to guess, and say how to choose.
    for args in [
        vec!["backup", "restore", store, "latest", s(&dir.path().join("r"))],
        vec!["backup", "verify", store, "latest"],
        vec!["backup", "prune", store, "--keep", "1"],
    ] {
        let out = cairn(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(&ida) && stderr.contains(&idb) && stderr.contains("--database ID"), "{stderr}");
    }
    assert!(!dir.path().join("r").exists());

    // Chosen, they work on that database only.
    let restored = dir.path().join("restored-a");
    let out = ok(["backup", "restore", store, "latest", s(&restored), "--database", &ida]);
    assert!(out.contains("restored      backup 1") && out.contains(&ida), "{out}");
    assert_eq!(ok(["get", s(&restored), "k"]), "from a\n");
    assert!(ok(["backup", "verify", store, "latest", "--database", &idb]).contains("backup 2"));
    let pruned = ok(["backup", "prune", store, "--keep", "1", "--database", &idb, "--json"]);
    assert_eq!(pruned, "{\"removed\":[],\"kept\":[2],\"damaged\":[]}\n");
    let wrong = cairn(["backup", "restore", store, "2", s(&dir.path().join("x")), "--database", &ida]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("not of the chosen database"));
    let usage = cairn(["backup", "list", store, "--database", "not-an-identity"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[cfg(feature = "s3")]
#[test]
fn backup_cycle_with_an_s3_store() {
    let Some(endpoint) = common::backup::s3_endpoint() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bucket = common::backup::s3_bucket();
    let prefix = common::backup::unique_name("cli");
    let store = format!("s3://{bucket}/{prefix}");
    let damage = |_: &str| {
        let s3 = common::backup::s3_store_at(&endpoint, &prefix, None);
        let engine = cairndb::backup::BackupEngine::new(std::sync::Arc::new(s3));
        let (m1, m2) = (engine.manifest(cairndb::BackupId(1)).unwrap(), engine.manifest(cairndb::BackupId(2)).unwrap());
        let own = m2.files.iter().find(|f| !m1.files.iter().any(|g| g.content == f.content)).unwrap();
        engine.store().delete(&own.content.key()).unwrap();
    };
    cycle(dir.path(), &store, &["--endpoint", &endpoint], &damage);
}

#[test]
fn read_only_commands_leave_a_directory_store_unchanged() {
    use cairndb::fs::StdFs;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let db = db_with(dir.path(), 2);
    ok(["backup", "create", s(&db), s(&store)]);
    // As a store copied from elsewhere, or written by a tool that cleans up.
    std::fs::remove_dir(store.join(".uploads")).unwrap();
    let before = common::dirs::listing(&StdFs::new(), &store);
    ok(["backup", "list", s(&store)]);
    ok(["backup", "verify", s(&store), "latest"]);
    ok(["backup", "restore", s(&store), "1", s(&dir.path().join("restored"))]);
    assert_eq!(common::dirs::listing(&StdFs::new(), &store), before, "reading the store wrote to it");
}

#[test]
fn a_restore_onto_a_non_empty_target_names_the_target_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let db = db_with(dir.path(), 2);
    ok(["backup", "create", s(&db), s(&store)]);
    let target = dir.path().join("occupied");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("notes.txt"), b"mine").unwrap();
    let out = cairn(["backup", "restore", s(&store), "latest", s(&target)]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), format!("cairn backup restore: {} already exists\n", s(&target)));
}
