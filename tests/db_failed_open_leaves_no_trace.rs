//! A writable open that fails changes nothing: a directory that is empty,
//! that holds something else, or that is a backup store is left exactly
//! as it was (no `LOCK`, no folders). (`cli/tests/cli_failed_commands.rs`
//! checks the same through `cairn`.)

mod common;

use std::path::Path;
use std::sync::Arc;

use cairndb::Config;
use cairndb::fs::{Fs, MemFs, StdFs};
use common::dirs::{listing, not_databases};

fn failed_opens_change_nothing(fs: Arc<dyn Fs>, root: &Path) {
    for dir in not_databases(&fs, root) {
        let before = listing(&*fs, &dir);
        for create in [false, true] {
            if create && before.is_empty() {
                continue; // An empty directory may become a database.
            }
            let result = Config::new(&dir).fs(Arc::clone(&fs)).create_if_missing(create).open();
            assert!(result.is_err(), "{} (create: {create}) is no database", dir.display());
            assert_eq!(listing(&*fs, &dir), before, "{} (create: {create}) changed", dir.display());
        }
    }
    let missing = root.join("missing");
    assert!(Config::new(&missing).fs(Arc::clone(&fs)).create_if_missing(false).open().is_err());
    assert!(!fs.exists(&missing).unwrap());
}

#[test]
fn failed_opens_change_nothing_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    failed_opens_change_nothing(Arc::new(StdFs::new()), dir.path());
}

#[test]
fn failed_opens_change_nothing_on_memfs() {
    failed_opens_change_nothing(Arc::new(MemFs::new()), Path::new("/root"));
}
