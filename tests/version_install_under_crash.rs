//! Version changes are atomic under power cuts and faults: after a crash at
//! any operation of `install`, the database opens at the old or the new
//! version, never anything else; obsolete files are deleted only when no
//! version holds them and no deletion pause is active.

#[path = "common/crash_points.rs"]
mod crash_points;

use std::path::Path;
use std::sync::Arc;

use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs, OpenOptions};
use cairndb::internals::version::{DbLayout, Deleter, TableInfo, VersionEdit, VersionSet};
use cairndb::{Error, SeqNo, TableId};

fn table(id: u64, key: &str) -> TableInfo {
    TableInfo {
        id: TableId(id),
        size_bytes: 100,
        entry_count: 1,
        smallest_key: key.as_bytes().to_vec(),
        largest_key: key.as_bytes().to_vec(),
        smallest_seqno: SeqNo(id),
        largest_seqno: SeqNo(id),
        blob_refs: Vec::new(),
    }
}

fn open(fs: Arc<dyn Fs>, create: bool) -> cairndb::Result<VersionSet> {
    let deleter = Deleter::new(Arc::clone(&fs), true);
    VersionSet::open(fs, DbLayout::new("/db"), deleter, create)
}

fn touch(fs: &dyn Fs, path: &Path) {
    let file = fs.open(path, OpenOptions::create_new()).unwrap();
    file.sync_all().unwrap();
}

/// A database with table 1 at level 0, ready for the edit under test.
fn base() -> MemFs {
    let mem = MemFs::new();
    let set = open(Arc::new(mem.clone()), true).unwrap();
    touch(&mem, &set.layout().table(TableId(1)));
    mem.sync_directory(&set.layout().tables_dir()).unwrap();
    set.install(&VersionEdit { add_tables: vec![(0, table(1, "a"))], ..VersionEdit::default() }).unwrap();
    mem
}

fn compaction_edit() -> VersionEdit {
    VersionEdit {
        add_tables: vec![(1, table(2, "a"))],
        remove_tables: vec![TableId(1)],
        last_seqno: Some(SeqNo(2)),
        ..VersionEdit::default()
    }
}

#[test]
fn install_is_atomic_under_power_cut_at_every_op() {
    let ops = {
        let mem = base();
        let fault = FaultFs::new(Arc::new(mem.clone()));
        let set = open(Arc::new(fault.clone()), false).unwrap();
        fault.reset_counts();
        set.install(&compaction_edit()).unwrap();
        fault.op_count()
    };
    let mut outcomes = [0usize; 2];
    for n in 0..=ops {
        let mem = base();
        let fault = FaultFs::new(Arc::new(mem.clone()));
        let set = open(Arc::new(fault.clone()), false).unwrap();
        fault.reset_counts();
        fault.add_rule(FaultRule::From { n, kind: FaultKind::IO });
        let installed = set.install(&compaction_edit()).is_ok();
        if !installed {
            let again = set.install(&compaction_edit());
            assert!(matches!(again, Err(Error::Poisoned { .. })), "a failed install poisons: {again:?}");
        }
        for crashed in [mem.crash_copy(), mem.crash_copy_torn(n)] {
            let reopened = open(Arc::new(crashed), false).unwrap();
            let v = reopened.current();
            let ids: Vec<(usize, u64)> = v.tables().map(|(l, t)| (l, t.info.id.0)).collect();
            if ids == [(1, 2)] {
                outcomes[1] += 1;
                assert_eq!(v.last_seqno, SeqNo(2));
            } else {
                assert!(!installed, "cut at {n}: an acknowledged install was lost");
                assert_eq!(ids, [(0, 1)], "cut at {n}: neither old nor new");
                outcomes[0] += 1;
            }
        }
    }
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "both outcomes seen: {outcomes:?}");
    let explored = (outcomes[0] + outcomes[1]) as u64;
    crash_points::record("version_install_under_crash", explored, 0, explored);
}

#[test]
fn obsolete_files_wait_for_readers_and_pauses() {
    let mem = base();
    let set = open(Arc::new(mem.clone()), false).unwrap();
    let t1 = set.layout().table(TableId(1));
    touch(&mem, &set.layout().table(TableId(2)));
    let reader = set.current();
    let pause = set.deleter().pause();
    set.install(&compaction_edit()).unwrap();
    drop(reader);
    assert!(mem.exists(&t1).unwrap(), "paused: kept");
    drop(pause);
    assert!(!mem.exists(&t1).unwrap(), "deleted once the pause ends");

    let reader = set.current();
    let edit = VersionEdit { remove_tables: vec![TableId(2)], ..VersionEdit::default() };
    set.install(&edit).unwrap();
    assert!(mem.exists(&set.layout().table(TableId(2))).unwrap(), "a reader still holds it");
    drop(reader);
    assert!(!mem.exists(&set.layout().table(TableId(2))).unwrap());
}

#[test]
fn orphans_are_removed_and_unknown_files_kept() {
    let mem = base();
    let set = open(Arc::new(mem.clone()), false).unwrap();
    for name in ["/db/tables/9.sst", "/db/blobs/4.blob", "/db/v1", "/db/CURRENT.tmp", "/db/notes.txt"] {
        if !mem.exists(Path::new(name)).unwrap() {
            touch(&mem, Path::new(name));
        }
    }
    let removed = set.remove_orphans().unwrap();
    assert_eq!(removed, 4);
    assert!(mem.exists(Path::new("/db/notes.txt")).unwrap());
    assert!(mem.exists(&set.layout().table(TableId(1))).unwrap(), "live table kept");
    assert!(open(Arc::new(mem.clone()), false).is_ok());
}

#[test]
fn open_refuses_foreign_or_damaged_directories() {
    let mem = MemFs::new();
    mem.create_dir(Path::new("/db")).unwrap();
    touch(&mem, Path::new("/db/data.bin"));
    let err = open(Arc::new(mem.clone()), true).unwrap_err();
    assert!(err.to_string().contains("not a cairndb database"), "{err}");
    let err = open(Arc::new(MemFs::new()), false).unwrap_err();
    assert!(err.is_not_found(), "{err}");

    let mem = base();
    let current = mem.open(Path::new("/db/CURRENT"), OpenOptions::read_write()).unwrap();
    current.write_all_at(b"X", 12).unwrap();
    let err = open(Arc::new(mem.clone()), false).unwrap_err();
    assert!(err.is_corruption(), "{err}");
    assert!(err.to_string().contains("CURRENT"), "{err}");
}
