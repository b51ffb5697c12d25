//! Removing the segments of a flushed memtable can fail (an I/O error on
//! the unlink); the log must then leave them alone rather than write their
//! unpersisted tail into them later. (Found by the simulator, seed
//! 5593795768305522291: the next persist tried to create the segment anew
//! and failed with "File exists", poisoning the database.)

use std::path::Path;
use std::sync::Arc;

use cairndb::fs::{FaultFs, FaultKind, FaultRule, MemFs, OpKind};
use cairndb::internals::hlog::{HlogConfig, HybridLog, ReplayFrom};
use cairndb::{LogAddress, SeqNo};

fn config() -> HlogConfig {
    HlogConfig {
        page_size_bytes: 4096,
        segment_size_bytes: 1 << 20,
        memtable_size_bytes: 1 << 20,
        persist_interval_ms: 0,
        read_only: false,
    }
}

#[test]
fn a_failed_removal_of_a_flushed_segment_does_not_break_the_next_persist() {
    let mem = MemFs::new();
    let fault = FaultFs::new(Arc::new(mem.clone()));
    let from = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
    let (log, _) = HybridLog::open(Arc::new(fault.clone()), Path::new("/log"), config(), from).unwrap();
    log.put(b"a", b"persisted").unwrap();
    log.persist().unwrap();
    log.put(b"b", b"flushed, never persisted").unwrap();
    let frozen = log.freeze();
    log.put(b"c", b"in the next memtable").unwrap();
    // The frozen memtable went to tables; its segment is obsolete.
    let flushed_to = frozen.address_range().end;
    drop(frozen);
    fault.add_rule(FaultRule::Kind { op: OpKind::RemoveFile, kind: FaultKind::IO });
    assert!(log.remove_segments_below(flushed_to).is_err());
    fault.clear_rules();
    log.persist().unwrap_or_else(|e| panic!("the persist after a failed removal: {e}"));
    // The next attempt removes it.
    assert_eq!(log.remove_segments_below(flushed_to).unwrap().len(), 1);
    drop(log);
    let from = ReplayFrom { address: flushed_to, next_seqno: SeqNo(3) };
    let (log, _) = HybridLog::open(Arc::new(mem.crash_copy()), Path::new("/log"), config(), from).unwrap();
    assert_eq!(log.get(b"c", None).and_then(|l| l.value().map(<[u8]>::to_vec)), Some(b"in the next memtable".to_vec()));
}
