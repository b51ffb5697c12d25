//! `cairn checkpoint delete PATH` and the `cairn restore STORE TARGET`
//! shortcut, run as a user would.

use std::path::{Path, PathBuf};

mod common;
use common::{cairn, ok, s};

/// Asserts `args` fails with status 1 and one line on stderr holding `why`.
fn fails(args: &[&str], why: &str) {
    let out = cairn(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
    let command = if args[0] == "checkpoint" { "checkpoint delete" } else { args[0] };
    assert!(err.starts_with(&format!("cairn {command}: ")) && err.contains(why), "{args:?}: {err}");
}

fn db_with_keys(dir: &Path) -> PathBuf {
    let db = dir.join("db");
    ok(&["put", s(&db), "a", "1", "--create"]);
    ok(&["put", s(&db), "b", "2"]);
    db
}

#[test]
fn checkpoint_delete_removes_a_checkpoint_and_refuses_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_with_keys(dir.path());
    let cps = dir.path().join("cps");
    let (first, second) = (cps.join("first"), cps.join("second"));
    ok(&["checkpoint", s(&db), s(&first)]);
    ok(&["checkpoint", s(&db), s(&second)]);

    let text = ok(&["checkpoint", "delete", s(&first)]);
    assert!(text.starts_with(&format!("deleted       checkpoint {} ", s(&first))), "{text}");
    assert!(text.contains("of ") && text.contains("at seqno 2"), "{text}");
    assert!(!first.exists());
    let listed = ok(&["list", s(&cps)]);
    assert!(!listed.contains(s(&first)) && listed.contains(s(&second)), "{listed}");
    assert_eq!(ok(&["scan", s(&db)]), "a\t1\nb\t2\n", "the source keeps every key");
    let json = ok(&["checkpoint", "delete", s(&second), "--json"]);
    assert!(json.starts_with(&format!("{{\"path\":\"{}\",\"seqno\":2,\"files\":", s(&second))), "{json}");
    assert!(json.contains("\"bytes\":") && json.contains("\"source\":"), "{json}");
    assert!(std::fs::read_dir(&cps).unwrap().next().is_none(), "nothing left in {}", cps.display());

    fails(&["checkpoint", "delete", s(&db)], "is not a checkpoint");
    fails(&["checkpoint", "delete", s(&first)], "No such file");
    assert_eq!(ok(&["get", s(&db), "a"]), "1\n", "the database is untouched");
    // Written to since it was taken: a database of its own now.
    let third = cps.join("third");
    ok(&["checkpoint", s(&db), s(&third)]);
    ok(&["put", s(&third), "c", "3"]);
    fails(&["checkpoint", "delete", s(&third)], "opened for writing since it was taken");
    assert_eq!(ok(&["get", s(&third), "c"]), "3\n");
    // Taking a checkpoint still works as before, --help names both forms.
    let help = ok(&["checkpoint", "--help"]);
    assert!(help.contains("delete") && help.contains("TARGET"), "{help}");
}

#[test]
fn restore_restores_the_latest_backup_or_the_one_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_with_keys(dir.path());
    let store = dir.path().join("store");
    ok(&["backup", "create", s(&db), s(&store)]);
    ok(&["put", s(&db), "c", "3"]);
    ok(&["backup", "create", s(&db), s(&store)]);

    let latest = dir.path().join("latest");
    let text = ok(&["restore", s(&store), s(&latest)]);
    assert!(text.contains("restored      backup 2 into"), "{text}");
    assert_eq!(ok(&["scan", s(&latest)]), "a\t1\nb\t2\nc\t3\n");

    let first = dir.path().join("first");
    let json = ok(&["restore", s(&store), s(&first), "--id", "1", "--json"]);
    assert!(json.starts_with("{\"id\":1,"), "{json}");
    assert_eq!(ok(&["scan", s(&first)]), "a\t1\nb\t2\n");

    fails(&["restore", s(&store), s(&first)], "already exists");
    let out = cairn(&["restore", s(&store), s(&dir.path().join("x")), "--id", "0"]);
    assert_eq!(out.status.code(), Some(2), "a bad id is a usage error");
}
