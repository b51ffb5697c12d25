//! The real mounts and servers `.ci/run` makes for tests (see
//! `tests/fs_real_mounts.rs` and `tests/backup_s3.rs`).

use std::path::PathBuf;

/// The mount point in environment variable `var`. Without it the test
/// skips, saying why — except under CI, where a missing mount that the
/// machine did not refuse is a failure, so CI can never silently skip.
pub fn mount_from_env(var: &str) -> Option<PathBuf> {
    required_env(
        var,
        "CAIRNDB_TEST_MOUNTS_REFUSED",
        "run `bash .ci/run` as root to create the loop-mounted file systems",
    )
    .map(PathBuf::from)
}

/// The value of `var`, which `.ci/run` sets. Unset, the test skips and says
/// why: the reason `.ci/run` left in `refused_var`, or `how` to set it up.
/// Under CI (`CI` set) an unset `var` without a reason is a failure.
pub fn required_env(var: &str, refused_var: &str, how: &str) -> Option<String> {
    let refused = std::env::var(refused_var).ok();
    match std::env::var(var) {
        Ok(value) => Some(value),
        Err(_) if refused.is_none() && std::env::var_os("CI").is_some() => {
            panic!("{var} is unset under CI: .ci/run must set it (or say why in {refused_var})")
        }
        Err(_) => {
            #[expect(clippy::print_stderr, reason = "tell the person running tests why we skip")]
            {
                match refused {
                    Some(why) => eprintln!("skipping: {var} is unset because the machine refused: {why}"),
                    None => eprintln!("skipping: {var} is unset ({how})"),
                }
            }
            None
        }
    }
}
