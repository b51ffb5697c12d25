//! What `--help` says is what the commands do.

use std::process::Command;

fn cairn(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_cairn")).args(args).env_remove("RUST_LOG").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn checkpoint_no_flush_links_the_log_as_its_help_says() {
    let help = cairn(&["checkpoint", "--help"]);
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(help.contains("--no-flush Do not flush the memtable first: the checkpoint links its log"), "{help}");
    assert!(!help.contains("copies the log"), "{help}");

    // A persisted log (the memtable of a closed database) is linked, not copied.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let s = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    cairn(&["put", &s(&db), "k", "v", "--create"]);
    let json = cairn(&["checkpoint", &s(&db), &s(&dir.path().join("cp")), "--no-flush", "--json"]);
    assert!(json.contains("\"table_files\":0,") && json.contains("\"log_segments\":1,"), "{json}");
    assert!(json.contains("\"bytes_copied\":0,") && json.contains("\"copied\":0,"), "{json}");
}
