//! The real mounts `.ci/run` makes for tests (see `tests/fs_real_mounts.rs`).

use std::path::PathBuf;

/// The mount point in environment variable `var`. Without it the test
/// skips, saying why — except under CI, where a missing mount that the
/// machine did not refuse is a failure, so CI can never silently skip.
pub fn mount_from_env(var: &str) -> Option<PathBuf> {
    let refused = std::env::var("CAIRNDB_TEST_MOUNTS_REFUSED").ok();
    match std::env::var_os(var) {
        Some(path) => Some(PathBuf::from(path)),
        None if refused.is_none() && std::env::var_os("CI").is_some() => {
            panic!("{var} is unset under CI: .ci/run must create and mount it")
        }
        None => {
            #[expect(clippy::print_stderr, reason = "tell the person running tests why we skip")]
            {
                match refused {
                    Some(why) => eprintln!("skipping: {var} is unset because the machine refused: {why}"),
                    None => eprintln!(
                        "skipping: {var} is unset (run `bash .ci/run` as root to create the loop-mounted file systems)"
                    ),
                }
            }
            None
        }
    }
}
