//! The `cairn` binary, run as a user would: exit statuses, output and errors.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;
use std::process::{Command, Output};

fn cairn<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_cairn")).args(args).env_remove("RUST_LOG").output().expect("run cairn")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

/// Runs `cairn args` and asserts it succeeded; returns its stdout.
fn ok<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = cairn(args);
    assert!(out.status.success(), "status {:?}, stderr: {}", out.status, stderr(&out));
    stdout(&out)
}

/// Asserts `out` failed with status 1 and exactly one line on stderr naming `path`.
fn assert_one_line_failure(out: &Output, command: &str, path: &Path) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{command}: {err}");
    assert_eq!(err.lines().count(), 1, "{command}: one line expected: {err:?}");
    assert!(err.starts_with(&format!("cairn {command}: ")), "{command}: {err}");
    assert!(err.contains(&*path.to_string_lossy()), "{command}: the path is named: {err}");
}

fn db_with(dir: &Path, pairs: &[(&str, &str)]) -> std::path::PathBuf {
    let db = dir.join("db");
    for (i, (k, v)) in pairs.iter().enumerate() {
        let create = if i == 0 { vec!["--create"] } else { vec![] };
        ok([OsStr::new("put"), db.as_os_str(), OsStr::new(k), OsStr::new(v)]
            .into_iter()
            .chain(create.iter().map(OsStr::new)));
    }
    db
}

#[test]
fn put_get_scan_delete_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_with(dir.path(), &[("apple", "red"), ("pear", "green"), ("plum", "purple")]);
    assert_eq!(ok([OsStr::new("get"), db.as_os_str(), OsStr::new("pear")]), "green\n");
    assert_eq!(ok([OsStr::new("scan"), db.as_os_str()]), "apple\tred\npear\tgreen\nplum\tpurple\n");
    let scan = ok([
        OsStr::new("scan"),
        db.as_os_str(),
        OsStr::new("--prefix"),
        OsStr::new("p"),
        OsStr::new("--limit"),
        OsStr::new("1"),
    ]);
    assert_eq!(scan, "pear\tgreen\n");
    ok([OsStr::new("delete"), db.as_os_str(), OsStr::new("pear")]);
    assert_eq!(ok([OsStr::new("scan"), db.as_os_str()]), "apple\tred\nplum\tpurple\n");
}

#[test]
fn a_missing_key_fails_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_with(dir.path(), &[("a", "1")]);
    let out = cairn([OsStr::new("get"), db.as_os_str(), OsStr::new("b")]);
    assert_one_line_failure(&out, "get", &db);
    assert!(stderr(&out).contains("key \"b\" not found"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
}

#[test]
fn binary_keys_and_values_are_printed_escaped_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    // A raw non-UTF-8 argument, and escapes for a terminal control sequence.
    let key = OsStr::from_bytes(b"k\xff");
    let db = dir.path().join("db");
    ok([OsStr::new("put"), db.as_os_str(), key, OsStr::new("\\x1b[2J\\x00tab\there"), OsStr::new("--create")]);
    let scan = ok([OsStr::new("scan"), db.as_os_str()]);
    assert_eq!(scan, "k\\xff\t\\x1b[2J\\x00tab\\there\n");
    assert!(!scan.contains('\x1b'), "no raw control bytes reach the terminal");
    // What scan printed is accepted back as a key.
    assert_eq!(ok([OsStr::new("get"), db.as_os_str(), OsStr::new("k\\xff")]), "\\x1b[2J\\x00tab\\there\n");
}

#[test]
fn info_shows_version_seqno_levels_and_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_with(dir.path(), &[("a", "1"), ("b", "2")]);
    let text = ok([OsStr::new("info"), db.as_os_str()]);
    for label in ["version", "seqno", "levels", "blob files", "log"] {
        assert!(text.lines().any(|l| l.starts_with(label)), "{label} missing:\n{text}");
    }
    assert!(text.contains("seqno         2 "), "{text}");
    let json = ok([OsStr::new("info"), db.as_os_str(), OsStr::new("--json")]);
    assert_eq!(json.lines().count(), 1, "{json}");
    assert!(json.starts_with("{\"path\":") && json.trim_end().ends_with('}'), "{json}");
    assert!(json.contains("\"seqno\":2,"), "{json}");
    assert!(json.contains("\"levels\":[{\"level\":0,"), "{json}");
}

#[test]
fn json_strings_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let quoted = dir.path().join("a \"quoted\" \\ name");
    ok([OsStr::new("put"), quoted.as_os_str(), OsStr::new("k"), OsStr::new("v"), OsStr::new("--create")]);
    let json = ok([OsStr::new("info"), quoted.as_os_str(), OsStr::new("--json")]);
    assert!(json.contains("a \\\"quoted\\\" \\\\ name\""), "{json}");
}

#[test]
fn every_subcommand_on_a_missing_path_fails_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let m = missing.as_os_str();
    let target = dir.path().join("target");
    let cases: Vec<(&str, Vec<&OsStr>)> = vec![
        ("info", vec![m]),
        ("info", vec![m, OsStr::new("--json")]),
        ("get", vec![m, OsStr::new("k")]),
        ("put", vec![m, OsStr::new("k"), OsStr::new("v")]),
        ("delete", vec![m, OsStr::new("k")]),
        ("scan", vec![m]),
    ];
    for (command, rest) in cases {
        let out = cairn(std::iter::once(OsStr::new(command)).chain(rest));
        assert_one_line_failure(&out, command, &missing);
        assert!(out.stdout.is_empty(), "{command}: nothing on stdout");
    }
    assert!(!missing.exists() && !target.exists(), "nothing was created");
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().as_os_str();
    let cases: Vec<Vec<&OsStr>> = vec![
        vec![],
        vec![OsStr::new("frobnicate")],
        vec![OsStr::new("get"), d],
        vec![OsStr::new("get"), d, OsStr::new("bad\\q")],
        vec![OsStr::new("scan"), d, OsStr::new("--limit"), OsStr::new("many")],
        vec![OsStr::new("demo"), OsStr::new("--keys"), OsStr::new("0")],
    ];
    for args in cases {
        let out = cairn(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).is_empty(), "{args:?}: a usage error says why");
    }
}

#[test]
fn a_database_open_elsewhere_is_reported_locked_but_still_readable() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_with(dir.path(), &[("a", "1")]);
    let held = cairndb::Db::open(&db).unwrap();
    let out = cairn([OsStr::new("put"), db.as_os_str(), OsStr::new("b"), OsStr::new("2")]);
    assert_one_line_failure(&out, "put", &db);
    assert!(stderr(&out).contains("is locked"), "{}", stderr(&out));
    // Reads open without the lock.
    assert_eq!(ok([OsStr::new("get"), db.as_os_str(), OsStr::new("a")]), "1\n");
    drop(held);
    ok([OsStr::new("put"), db.as_os_str(), OsStr::new("b"), OsStr::new("2")]);
}
