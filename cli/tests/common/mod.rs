//! Running the real `cairn` binary, shared by the tool's tests.
#![allow(dead_code, reason = "each test crate uses a different subset")]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `cairn ARGS` (with `RUST_LOG` unset) and returns what it did.
pub fn cairn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn")).args(args).env_remove("RUST_LOG").output().expect("run cairn")
}

/// Runs `cairn ARGS`, which must succeed; returns its stdout.
pub fn ok(args: &[&str]) -> String {
    let out = cairn(args);
    assert!(
        out.status.success(),
        "{args:?}: status {:?}, stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
