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
    for label in ["database", "version", "seqno", "levels", "blob files", "log"] {
        assert!(text.lines().any(|l| l.starts_with(label)), "{label} missing:\n{text}");
    }
    let identity = text.lines().find_map(|l| l.strip_prefix("database")).unwrap().trim().to_owned();
    assert!(identity.parse::<cairndb::DbIdentity>().is_ok_and(|i| i.generation == 1), "{text}");
    assert!(text.contains("seqno         2 "), "{text}");
    let json = ok([OsStr::new("info"), db.as_os_str(), OsStr::new("--json")]);
    assert_eq!(json.lines().count(), 1, "{json}");
    assert!(json.starts_with("{\"path\":") && json.trim_end().ends_with('}'), "{json}");
    assert!(json.contains("\"seqno\":2,"), "{json}");
    assert!(json.contains("\"levels\":[{\"level\":0,"), "{json}");
    assert!(json.contains(&format!("\"database\":\"{identity}\",\"fork_pending\":false,")), "{json}");
}

#[test]
fn json_strings_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let quoted = dir.path().join("a \"quoted\" \\ name");
    ok([OsStr::new("put"), quoted.as_os_str(), OsStr::new("k"), OsStr::new("v"), OsStr::new("--create")]);
    let json = ok([OsStr::new("info"), quoted.as_os_str(), OsStr::new("--json")]);
    // The path escaped as keys are (its backslash doubled), then as JSON.
    assert!(json.contains("a \\\"quoted\\\" \\\\\\\\ name\""), "{json}");
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
        ("checkpoint", vec![m, target.as_os_str()]),
        ("checkpoint", vec![m, target.as_os_str(), OsStr::new("--json")]),
        ("verify", vec![m]),
        ("verify", vec![m, OsStr::new("--json")]),
        ("list", vec![m]),
        ("list", vec![m, OsStr::new("--json")]),
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

/// A database with a table: a few hundred keys, flushed by a checkpoint.
fn checkpointed(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let db = dir.join("db");
    {
        let handle = cairndb::Db::open(&db).unwrap();
        for i in 0..500u32 {
            handle.put(format!("key{i:05}"), format!("value {i} {}", "x".repeat(40))).unwrap();
        }
    }
    let cp = dir.join("backups").join("first");
    ok([OsStr::new("checkpoint"), db.as_os_str(), cp.as_os_str()]);
    (db, cp)
}

#[test]
fn checkpoint_then_verify_then_info_then_list() {
    let dir = tempfile::tempdir().unwrap();
    let (db, cp) = checkpointed(dir.path());
    let verified = ok([OsStr::new("verify"), cp.as_os_str()]);
    assert!(verified.contains("result        ok"), "{verified}");
    assert!(verified.contains("1 table,"), "{verified}");
    let json = ok([OsStr::new("verify"), cp.as_os_str(), OsStr::new("--json")]);
    assert!(json.contains("\"ok\":true") && json.contains("\"problems\":[]"), "{json}");

    let info = ok([OsStr::new("info"), cp.as_os_str()]);
    assert!(info.contains("seqno         500 "), "{info}");
    assert!(info.contains("level 0       1 table,"), "{info}");
    let line = info.lines().find(|l| l.starts_with("checkpoint")).unwrap();
    assert!(line.contains("yes: of") && line.contains("at seqno 500"), "{line}");
    let line = info.lines().find(|l| l.starts_with("database")).unwrap();
    assert!(line.contains("-1 (a copy: opened for writing, it starts a timeline of its own, generation 2)"), "{line}");
    let info_db = ok([OsStr::new("info"), db.as_os_str(), OsStr::new("--json")]);
    assert!(info_db.contains("\"checkpoint\":null"), "the source is not a checkpoint: {info_db}");
    let info_cp = ok([OsStr::new("info"), cp.as_os_str(), OsStr::new("--json")]);
    assert!(info_cp.contains("\"checkpoint\":{\"source\":"), "{info_cp}");
    assert!(info_cp.contains("\"fork_pending\":true"), "{info_cp}");
    let source_identity = info_db.split("\"database\":\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(
        info_cp.contains(&format!("\"source\":\"{}\",\"database\":\"{source_identity}\"", db.display())),
        "{info_cp}"
    );

    // A second checkpoint, without a flush, then the listing: newest first.
    ok([OsStr::new("put"), db.as_os_str(), OsStr::new("later"), OsStr::new("write")]);
    let second = dir.path().join("backups").join("second");
    let json = ok([
        OsStr::new("checkpoint"),
        db.as_os_str(),
        second.as_os_str(),
        OsStr::new("--no-flush"),
        OsStr::new("--json"),
    ]);
    assert!(json.contains("\"seqno\":501,") && json.contains("\"log_segments\":"), "{json}");
    let listing = ok([OsStr::new("list"), dir.path().join("backups").as_os_str()]);
    let paths: Vec<&str> = listing.lines().skip(1).map(|l| l.rsplit("  ").next().unwrap()).collect();
    assert_eq!(paths, [second.to_str().unwrap(), cp.to_str().unwrap()], "{listing}");
    let json = ok([OsStr::new("list"), dir.path().join("backups").as_os_str(), OsStr::new("--json")]);
    assert!(json.starts_with("[{\"path\":") && json.matches("\"path\":").count() == 2, "{json}");
    // The checkpoint answers reads like a database.
    assert_eq!(ok([OsStr::new("get"), second.as_os_str(), OsStr::new("later")]), "write\n");
}

#[test]
fn checkpoint_into_an_existing_target_fails_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (db, cp) = checkpointed(dir.path());
    let out = cairn([OsStr::new("checkpoint"), db.as_os_str(), cp.as_os_str()]);
    assert_one_line_failure(&out, "checkpoint", &cp);
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
}

#[test]
fn verify_names_the_file_with_a_flipped_byte_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, cp) = checkpointed(dir.path());
    let table = std::fs::read_dir(cp.join("tables")).unwrap().next().unwrap().unwrap().path();
    // The checkpoint shares the file with the source (hard link or reflink):
    // write a copy in its place so only the checkpoint is damaged.
    let mut bytes = std::fs::read(&table).unwrap();
    std::fs::remove_file(&table).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(&table, &bytes).unwrap();

    let out = cairn([OsStr::new("verify"), cp.as_os_str()]);
    assert_one_line_failure(&out, "verify", &cp);
    assert!(stderr(&out).contains("damaged: 1 problem"), "{}", stderr(&out));
    let report = stdout(&out);
    assert!(report.contains("DAMAGED"), "{report}");
    let name = table.to_str().unwrap();
    assert!(report.lines().any(|l| l.starts_with("  ") && l.contains(name)), "the file is named:\n{report}");

    let out = cairn([OsStr::new("verify"), cp.as_os_str(), OsStr::new("--json")]);
    assert_eq!(out.status.code(), Some(1));
    let json = stdout(&out);
    assert!(json.contains("\"ok\":false") && json.contains(&format!("\"file\":\"{name}\"")), "{json}");
}

#[test]
fn demo_passes_every_check_and_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["demo", "--keys", "3000", "--value-bytes", "64"])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    for label in ["loaded", "meanwhile", "on disk", "checkpoint", "plain copy", "reopened", "verified", "exact"] {
        assert!(text.lines().any(|l| l.starts_with(label)), "{label} missing:\n{text}");
    }
    assert!(text.lines().any(|l| l.starts_with("verified") && l.ends_with(": ok")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("exact") && l.ends_with(": ok")), "{text}");
    assert!(text.contains("result        every check passed"), "{text}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "the temporary workplace is removed");
}

#[test]
fn demo_in_a_given_directory_keeps_an_openable_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let place = dir.path().join("demo");
    ok([OsStr::new("demo"), OsStr::new("--dir"), place.as_os_str(), OsStr::new("--keys"), OsStr::new("2000")]);
    let checkpoint = place.join("checkpoint");
    assert!(ok([OsStr::new("verify"), checkpoint.as_os_str()]).contains("result        ok"));
    assert!(ok([OsStr::new("info"), checkpoint.as_os_str()]).contains("yes: of"));
    // A directory that holds something is refused, not reused.
    let out =
        cairn([OsStr::new("demo"), OsStr::new("--dir"), place.as_os_str(), OsStr::new("--keys"), OsStr::new("10")]);
    assert_one_line_failure(&out, "demo", &place);
    assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
}

#[test]
fn demo_in_a_directory_that_cannot_be_made_fails_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let under = file.join("demo");
    let out =
        cairn([OsStr::new("demo"), OsStr::new("--dir"), under.as_os_str(), OsStr::new("--keys"), OsStr::new("10")]);
    assert_one_line_failure(&out, "demo", &under);
}

#[test]
fn a_missing_database_or_a_file_is_named_alike_by_reads_and_writes() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a database").unwrap();
    let (m, f) = (missing.as_os_str(), file.as_os_str());
    let k = OsStr::new("k");
    for (path, why) in [(m, "no database here (no such directory)"), (f, "not a database (a file, not a directory)")] {
        let cases: Vec<(&str, Vec<&OsStr>)> = vec![
            ("get", vec![path, k]),
            ("scan", vec![path]),
            ("info", vec![path]),
            ("put", vec![path, k, k]),
            ("delete", vec![path, k]),
            ("checkpoint", vec![path, OsStr::new("/nonexistent/target")]),
        ];
        for (command, rest) in cases {
            let out = cairn(std::iter::once(OsStr::new(command)).chain(rest));
            let expected = format!("cairn {command}: cannot open database {}: {why}\n", Path::new(path).display());
            assert_eq!(stderr(&out), expected, "{command}");
            assert_eq!(out.status.code(), Some(1));
        }
    }
    // Even asked to create one, a file is not a place for a database.
    let out = cairn([OsStr::new("put"), f, k, k, OsStr::new("--create")]);
    assert_eq!(
        stderr(&out),
        format!("cairn put: cannot open database {}: not a database (a file, not a directory)\n", file.display())
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"not a database");
}

#[test]
fn scan_from_inclusive_to_exclusive_reverse_and_keys_only() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5")];
    let db = db_with(dir.path(), &pairs);
    let scan =
        |extra: &[&str]| ok([OsStr::new("scan"), db.as_os_str()].into_iter().chain(extra.iter().map(OsStr::new)));
    assert_eq!(scan(&["--from", "b", "--to", "d"]), "b\t2\nc\t3\n", "from inclusive, to exclusive");
    assert_eq!(scan(&["--from", "bb"]), "c\t3\nd\t4\ne\t5\n");
    assert_eq!(scan(&["--to", "b"]), "a\t1\n");
    assert_eq!(scan(&["--reverse"]), "e\t5\nd\t4\nc\t3\nb\t2\na\t1\n");
    assert_eq!(scan(&["--from", "b", "--to", "e", "--reverse", "--limit", "2"]), "d\t4\nc\t3\n");
    assert_eq!(scan(&["--no-value", "--from", "c"]), "c\nd\ne\n");
    assert_eq!(scan(&["--no-value", "--reverse", "--prefix", "a"]), "a\n");
    assert_eq!(scan(&["--from", "d", "--to", "b"]), "", "an empty range");
    // The same range, flushed into a table and read from it.
    cairndb::Db::open(&db).unwrap().flush().unwrap();
    assert_eq!(scan(&["--from", "b", "--to", "d", "--reverse"]), "c\t3\nb\t2\n");
    let help = ok(["scan", "--help"]);
    assert!(help.contains("inclusive") && help.contains("exclusive"), "{help}");
    // A prefix and a range together are a usage error.
    let out = cairn([
        OsStr::new("scan"),
        db.as_os_str(),
        OsStr::new("--prefix"),
        OsStr::new("a"),
        OsStr::new("--to"),
        OsStr::new("b"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
