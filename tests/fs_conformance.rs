//! The `Fs` contract (`cairndb::conformance::fs`, published for outside
//! implementations), run on every implementation: `StdFs` in a temporary
//! directory, `MemFs`, and `FaultFs` with no rules over each of them. One
//! test per check and implementation, so a failure names both.

use std::sync::Arc;

use cairndb::conformance::fs::{self as suite, Fixture};
use cairndb::fs::{FaultFs, Fs};

fn std_fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    Fixture::std_fs(tmp.path()).keeping(tmp)
}

fn mem_fixture() -> Fixture {
    Fixture::memfs()
}

fn fault_over(fixture: Fixture) -> Fixture {
    fixture.wrap(|fs| Arc::new(FaultFs::new(fs)) as Arc<dyn Fs>)
}

macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod std_fs {
            $( #[test] fn $test() { super::suite::$test(super::std_fixture()) } )*
        }
        mod mem_fs {
            $( #[test] fn $test() { super::suite::$test(super::mem_fixture()) } )*
        }
        mod fault_over_std_fs {
            $( #[test] fn $test() { super::suite::$test(super::fault_over(super::std_fixture())) } )*
        }
        mod fault_over_mem_fs {
            $( #[test] fn $test() { super::suite::$test(super::fault_over(super::mem_fixture())) } )*
        }

        /// The list above is the suite's: none forgotten.
        #[test]
        fn every_check_of_the_suite_runs_here() {
            let listed = [$(stringify!($test)),*];
            let published: Vec<&str> = suite::CHECKS.iter().map(|c| c.name).collect();
            assert_eq!(listed.as_slice(), published.as_slice());
        }
    };
}

conformance!(
    write_read_roundtrip,
    write_past_end_fills_zeros,
    set_len_truncates_and_extends,
    append_mode_appends,
    truncate_on_open,
    create_new_over_existing_names_path,
    open_missing_names_path,
    open_requires_access,
    directories,
    read_dir_sorted_with_kinds,
    remove_file_missing_names_path,
    rename_replaces_target,
    metadata_and_exists,
    canonicalize_resolves_links_dots_and_parents,
    symlinks_are_followed_except_where_posix_says,
    hard_link_shares_inode,
    reflink_is_independent_or_refused,
    unlinked_handle_keeps_working,
    sync_directory,
    device_ids,
    lock_is_exclusive,
    atomic_write_and_remove_dir_all,
    link_or_copy_same_device,
    link_or_copy_across_namespaces_copies,
);

#[test]
fn run_all_runs_the_suite_and_names_a_failing_check() {
    suite::run_all(Fixture::memfs);
    // A file system that is not empty where the suite expects it to be
    // fails checks, and run_all names them.
    let failed = std::panic::catch_unwind(|| {
        suite::run_all(|| {
            let f = Fixture::memfs();
            f.fs.open(&f.root.join("zz-stray"), cairndb::fs::OpenOptions::create_truncate()).unwrap();
            f
        })
    })
    .unwrap_err();
    let message = failed.downcast_ref::<String>().unwrap();
    assert!(message.contains("read_dir_sorted_with_kinds"), "{message}");
}
