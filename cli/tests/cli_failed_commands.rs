//! A `cairn` command that fails changes nothing: a directory that is
//! empty, that holds something else, or that is a backup store is left
//! exactly as it was by `put`, `delete`, `checkpoint` and `backup create`
//! aimed at it (the library's side: `tests/db_failed_open_leaves_no_trace.rs`).

#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use cairndb::Db;
use cairndb::fs::{Fs, StdFs};
use common::dirs::{listing, not_databases};

#[test]
fn failed_cairn_commands_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let fs: Arc<dyn Fs> = Arc::new(StdFs::new());
    let never = tmp.path().join("never");
    let never = never.to_str().unwrap();
    for dir in not_databases(&fs, tmp.path()) {
        let before = listing(&*fs, &dir);
        let mut commands =
            vec![vec!["put", "k", "v"], vec!["delete", "k"], vec!["checkpoint", never], vec!["backup", never]];
        if !before.is_empty() {
            commands.push(vec!["put", "k", "v", "--create"]);
        }
        for args in commands {
            let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
            match args[0] {
                // `cairn backup create DB STORE`.
                "backup" => command.args(["backup", "create"]).arg(&dir).args(&args[1..]),
                _ => command.arg(args[0]).arg(&dir).args(&args[1..]),
            };
            command.env_remove("RUST_LOG");
            let out = command.output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?} in {}: {stderr}", dir.display());
            assert_eq!(listing(&*fs, &dir), before, "{args:?} changed {}", dir.display());
        }
    }
    assert!(!Path::new(never).exists(), "no checkpoint or store was made");
    // The directory a failed command named is still usable as intended.
    let empty = tmp.path().join("empty");
    assert!(Db::open(&empty).is_ok(), "an empty directory can still become a database");
}
