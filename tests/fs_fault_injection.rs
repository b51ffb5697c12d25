//! `FaultFs`: rules fail the chosen operations with clear errors, never a
//! panic, and the write-sync-rename protocol stays atomic under every fault
//! and every power cut.

use std::io::ErrorKind;
use std::path::Path;
use std::sync::Arc;

use cairndb::fs::{
    FaultFs, FaultKind, FaultRule, Fs, LinkStrategy, MemFs, OpKind, OpenOptions, link_or_copy, read_to_vec,
    write_file_atomic,
};

const DIR: &str = "/db";
const FILE: &str = "/db/CURRENT";

fn setup() -> (MemFs, FaultFs) {
    let mem = MemFs::new();
    mem.create_dir(Path::new(DIR)).unwrap();
    mem.sync_directory(Path::new("/")).unwrap();
    write_file_atomic(&mem, Path::new(FILE), b"old").unwrap();
    let fault = FaultFs::new(Arc::new(mem.clone()));
    (mem, fault)
}

/// Ops the protocol takes without faults, so the sweeps know where to stop.
fn protocol_ops() -> u64 {
    let (_, fault) = setup();
    write_file_atomic(&fault, Path::new(FILE), b"new").unwrap();
    fault.op_count()
}

#[test]
fn every_failing_op_is_an_error_and_never_half_applied() {
    let total = protocol_ops();
    assert!(total >= 5, "open, write, sync, rename, dir sync: {total}");
    for kind in [FaultKind::IO, FaultKind::NO_SPACE, FaultKind::TornWrite] {
        for n in 0..total {
            let (mem, fault) = setup();
            fault.add_rule(FaultRule::Nth { n, kind });
            let result = write_file_atomic(&fault, Path::new(FILE), b"new");
            assert!(result.is_err(), "op {n} of {total} failed with {kind:?}, yet Ok");
            let err = result.unwrap_err();
            assert!(err.to_string().contains("/db"), "error names the path: {err}");
            let content = read_to_vec(&mem, Path::new(FILE)).unwrap();
            assert!(content == b"old" || content == b"new", "op {n}: {content:?}");
        }
    }
}

#[test]
fn power_cut_at_every_op_leaves_old_or_new() {
    let total = protocol_ops();
    let mut cuts = 0;
    for n in 0..=total {
        let (mem, fault) = setup();
        fault.add_rule(FaultRule::From { n, kind: FaultKind::IO });
        let acknowledged = write_file_atomic(&fault, Path::new(FILE), b"new").is_ok();
        assert_eq!(acknowledged, n == total, "only a run with no fault succeeds (n = {n})");
        for crashed in [mem.crash_copy(), mem.crash_copy_torn(n)] {
            let content = read_to_vec(&crashed, Path::new(FILE)).unwrap();
            if acknowledged {
                assert_eq!(content, b"new", "an acknowledged write survives");
            } else {
                assert!(content == b"old" || content == b"new", "cut at {n}: {content:?}");
            }
            cuts += 1;
        }
    }
    assert!(cuts > 10);
}

#[test]
fn short_writes_are_completed_by_write_all_at() {
    let (mem, fault) = setup();
    fault.add_rule(FaultRule::Kind { op: OpKind::Write, kind: FaultKind::ShortWrite });
    let file = fault.open(Path::new("/db/f"), OpenOptions::create_new()).unwrap();
    file.write_all_at(b"0123456789", 0).unwrap();
    assert!(fault.op_count_of(OpKind::Write) >= 4, "several short writes were needed");
    assert_eq!(read_to_vec(&mem, Path::new("/db/f")).unwrap(), b"0123456789");
}

#[test]
fn torn_write_leaves_a_prefix_and_fails() {
    let (mem, fault) = setup();
    fault.add_rule(FaultRule::NthOfKind { op: OpKind::Write, nth: 0, kind: FaultKind::TornWrite });
    let file = fault.open(Path::new("/db/f"), OpenOptions::create_new()).unwrap();
    let err = file.write_all_at(b"0123456789", 0).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(5), "EIO: {err}");
    assert_eq!(read_to_vec(&mem, Path::new("/db/f")).unwrap(), b"01234");
}

#[test]
fn errno_rules_keep_their_kind() {
    let (_, fault) = setup();
    fault.add_rule(FaultRule::Kind { op: OpKind::SyncFile, kind: FaultKind::NO_SPACE });
    let err = write_file_atomic(&fault, Path::new(FILE), b"x").unwrap_err();
    assert_eq!(err.io_kind(), Some(ErrorKind::StorageFull), "{err}");
    assert_eq!(fault.injected_count(), 1);
    fault.clear_rules();
    write_file_atomic(&fault, Path::new(FILE), b"x").unwrap();
}

#[test]
fn link_or_copy_falls_back_when_links_are_refused() {
    let mem = MemFs::with_reflink();
    mem.create_dir(Path::new("/d")).unwrap();
    write_file_atomic(&mem, Path::new("/d/src"), b"table bytes").unwrap();
    let fault = FaultFs::new(Arc::new(mem.clone()));
    let linked = |dst: &str| link_or_copy(&fault, Path::new("/d/src"), &fault, Path::new(dst), true);

    assert_eq!(linked("/d/a").unwrap().strategy, LinkStrategy::Reflinked);
    fault.add_rule(FaultRule::Kind { op: OpKind::Reflink, kind: FaultKind::UNSUPPORTED });
    assert_eq!(linked("/d/b").unwrap().strategy, LinkStrategy::HardLinked);
    fault.add_rule(FaultRule::Kind { op: OpKind::HardLink, kind: FaultKind::NOT_PERMITTED });
    assert_eq!(linked("/d/c").unwrap().strategy, LinkStrategy::Copied);
    for name in ["/d/a", "/d/b", "/d/c"] {
        assert_eq!(read_to_vec(&mem, Path::new(name)).unwrap(), b"table bytes");
    }
    fault.clear_rules();
    fault.add_rule(FaultRule::Kind { op: OpKind::HardLink, kind: FaultKind::IO });
    fault.add_rule(FaultRule::Kind { op: OpKind::Reflink, kind: FaultKind::UNSUPPORTED });
    let err = linked("/d/e").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(5), "a real I/O error is not masked by a copy: {err}");
    assert!(!mem.exists(Path::new("/d/e")).unwrap());
}

#[test]
fn failed_copy_leaves_no_partial_file() {
    let mem = MemFs::new();
    mem.create_dir(Path::new("/d")).unwrap();
    write_file_atomic(&mem, Path::new("/d/src"), &[7u8; 5000]).unwrap();
    let other = MemFs::new();
    let fault = FaultFs::new(Arc::new(other.clone()));
    fault.add_rule(FaultRule::Kind { op: OpKind::SyncFile, kind: FaultKind::IO });
    let err = link_or_copy(&mem, Path::new("/d/src"), &fault, Path::new("/copy"), true).unwrap_err();
    assert!(err.to_string().contains("/copy"), "{err}");
    assert!(!other.exists(Path::new("/copy")).unwrap(), "partial copy removed");
}

#[test]
fn reads_are_not_counted_as_mutations() {
    let (_, fault) = setup();
    fault.reset_counts();
    read_to_vec(&fault, Path::new(FILE)).unwrap();
    fault.read_dir(Path::new(DIR)).unwrap();
    fault.metadata(Path::new(FILE)).unwrap();
    assert!(fault.op_count() >= 4);
    assert_eq!(fault.mutating_op_count(), 0);
    fault.open(Path::new("/db/new"), OpenOptions::create_new()).unwrap();
    assert_eq!(fault.mutating_op_count(), 1);
}
