//! The simulated world: one database on a `MemFs` behind a `FaultFs`, its
//! checkpoints (on the same device and on another), a backup store, and
//! the model everything is checked against. One thread drives it all, so a
//! run depends only on its actions.
//!
//! Checks read through the bare `MemFs` (no faults), so a fault armed by
//! an action never lands in a check.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cairndb::backup::{BackupEngine, BackupId, BackupOptions, DirStore};
use cairndb::checkpoint;
use cairndb::fs::{DeviceOptions, FaultFs, FaultKind, FaultRule, FileKind, Fs, MemFs, OpKind, remove_dir_all};
use cairndb::{CheckpointOptions, Config, Db, DbIter, Snapshot, WriteBatch};

use super::model::{Model, State};
use super::plan::{Action, FaultChoice};
use super::tap::{Tap, TapState};
use super::trace_fs::TraceFs;

const DB: &str = "/db";
const STORE: &str = "/store";
const RESTORES: &str = "/restores";
const CHECKS: &str = "/checks";
const OTHER_DEVICE: &str = "/other";
/// Checkpoints kept at most; the oldest is removed (outside the plan).
const CHECKPOINTS_MAX: usize = 4;
/// Backups kept at most (pruned outside the plan).
const BACKUPS_MAX: usize = 4;

/// What the simulation did, for the crash-point count.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    pub actions: u64,
    pub power_cuts: u64,
    pub faults: u64,
    pub recoveries: u64,
    pub checkpoints_checked: u64,
    pub backups_checked: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.actions += o.actions;
        self.power_cuts += o.power_cuts;
        self.faults += o.faults;
        self.recoveries += o.recoveries;
        self.checkpoints_checked += o.checkpoints_checked;
        self.backups_checked += o.backups_checked;
    }
}

/// What a checkpoint must open to.
#[derive(Clone, Debug)]
enum Expected {
    /// The source's state at this seqno.
    At(u64),
    /// One of these (a write into it was cut by a power cut).
    AnyOf(Vec<State>),
}

#[derive(Debug)]
struct KnownCheckpoint {
    path: PathBuf,
    expected: Expected,
}

struct OpenIter {
    iter: DbIter,
    seqno: u64,
    seen: Vec<(Vec<u8>, Vec<u8>)>,
}

/// A cut or a fault waiting for the operation it is armed at.
#[derive(Clone, Copy, Debug)]
struct Armed {
    rule: FaultRule,
    cut: Option<(Option<u64>, Option<u16>)>,
    injected_before: u64,
}

pub struct World {
    mem: MemFs,
    fault: FaultFs,
    db: Option<Db>,
    model: Model,
    snapshots: Vec<(Snapshot, u64)>,
    iters: Vec<OpenIter>,
    checkpoints: Vec<KnownCheckpoint>,
    /// Backups a prune reported removed: never listed again.
    pruned: Vec<BackupId>,
    armed: Option<Armed>,
    names: u64,
    tap: Arc<TapState>,
    pub counts: Counts,
}

fn try_contents(db: &Db) -> cairndb::Result<State> {
    db.iter().collect()
}

fn contents(db: &Db) -> State {
    db.iter().map(|kv| kv.unwrap_or_else(|e| panic!("scan: {e}"))).collect()
}

fn value(len: u16, fill: u8, seqno_hint: u64) -> Vec<u8> {
    let mut v = vec![fill; len as usize];
    // Distinct values for equal fills, so a stale version is told apart.
    for (i, b) in seqno_hint.to_le_bytes().iter().enumerate().take(v.len()) {
        v[i] = *b;
    }
    v
}

fn key_bytes(key: u16) -> Vec<u8> {
    format!("key{key:04}").into_bytes()
}

fn db_config(fs: Arc<dyn Fs>, path: &Path) -> Config {
    Config::new(path)
        .fs(fs)
        .memtable_size_bytes(16 << 10)
        .blob_threshold_bytes(256)
        .table_target_bytes(4 << 10)
        .level0_trigger(2)
        .level1_target_bytes(16 << 10)
        .block_cache_bytes(64 << 10)
        .background_threads(false)
        .background_persist_interval(None)
}

/// A compact description of how two states differ.
fn diff(actual: &State, expected: &State) -> String {
    let missing: Vec<_> = expected.keys().filter(|k| !actual.contains_key(*k)).take(3).collect();
    let extra: Vec<_> = actual.keys().filter(|k| !expected.contains_key(*k)).take(3).collect();
    let changed: Vec<_> =
        expected.iter().filter(|(k, v)| actual.get(*k).is_some_and(|a| a != *v)).map(|(k, _)| k).take(3).collect();
    let show = |ks: Vec<&Vec<u8>>| ks.iter().map(|k| String::from_utf8_lossy(k).into_owned()).collect::<Vec<_>>();
    format!(
        "{} keys vs {} expected; missing {:?}, extra {:?}, changed {:?}",
        actual.len(),
        expected.len(),
        show(missing),
        show(extra),
        show(changed)
    )
}

/// The file system the database and the actions use: the `MemFs` behind a
/// `FaultFs` (and a tracer, when `CAIRNDB_SIM_FSTRACE` names a prefix).
fn faulty(mem: &MemFs, tap: &Arc<TapState>) -> FaultFs {
    let tapped: Arc<dyn Fs> = Arc::new(Tap::new(mem.clone(), Arc::clone(tap)));
    match std::env::var_os("CAIRNDB_SIM_FSTRACE") {
        Some(prefix) => FaultFs::new(Arc::new(TraceFs::new(tapped, prefix.into()))),
        None => FaultFs::new(tapped),
    }
}

/// Prints the log segments' headers and lengths (debugging aid).
fn dump_log(mem: &MemFs) {
    let dir = Path::new(DB).join("log");
    for number in cairndb::internals::hlog::segment::list(mem, &dir).unwrap_or_default() {
        let bytes = cairndb::fs::read_to_vec(mem, &cairndb::internals::hlog::segment::path(&dir, number)).unwrap();
        let header = cairndb::internals::hlog::segment::SegmentHeader::decode(&bytes);
        #[expect(clippy::print_stderr, reason = "a dump asked for")]
        {
            eprintln!("segment {number}: {} bytes, {header:?}", bytes.len());
        }
    }
}

impl World {
    pub fn new() -> World {
        // Ids from a fixed sequence: every run of the same actions is the same.
        let mem = MemFs::new().with_unique_ids(0x5eed);
        mem.create_dir(Path::new(OTHER_DEVICE)).unwrap();
        mem.sync_directory(Path::new("/")).unwrap();
        mem.mount(Path::new(OTHER_DEVICE), DeviceOptions::default()).unwrap();
        let tap = Arc::new(TapState::default());
        let fault = faulty(&mem, &tap);
        let db = db_config(Arc::new(fault.clone()), Path::new(DB)).open().unwrap();
        World {
            mem,
            fault,
            db: Some(db),
            model: Model::default(),
            snapshots: Vec::new(),
            iters: Vec::new(),
            checkpoints: Vec::new(),
            pruned: Vec::new(),
            armed: None,
            names: 0,
            tap,
            counts: Counts::default(),
        }
    }

    fn db(&self) -> &Db {
        self.db.as_ref().expect("the database is open between actions")
    }

    fn bare(&self) -> Arc<dyn Fs> {
        Arc::new(self.mem.clone())
    }

    /// The backup engine over the store, through `fs`.
    fn engine(&self, fs: Arc<dyn Fs>) -> cairndb::Result<BackupEngine> {
        let store = DirStore::open(Arc::clone(&fs), STORE)?;
        Ok(BackupEngine::new(Arc::new(store)).local_fs(fs).grace(Duration::ZERO))
    }

    /// The backup engine for checks: no faults.
    fn bare_engine(&self) -> BackupEngine {
        self.engine(self.bare()).unwrap_or_else(|e| panic!("open the backup store: {e}"))
    }

    fn faulty_engine(&self) -> cairndb::Result<BackupEngine> {
        self.engine(Arc::new(self.fault.clone()))
    }

    /// Removes a directory the simulation made, durably (else a power cut
    /// brings back part of it).
    fn remove_durably(&self, path: &Path) {
        remove_dir_all(&self.mem, path).unwrap_or_else(|e| panic!("remove {path:?}: {e}"));
        self.mem.sync_directory(path.parent().expect("not the root")).unwrap();
    }

    fn name(&mut self, prefix: &str) -> String {
        self.names += 1;
        format!("{prefix}-{}", self.names)
    }

    /// Runs one action, then handles a cut or fault that fired in it.
    pub fn step(&mut self, action: &Action) {
        self.counts.actions += 1;
        if std::env::var_os("CAIRNDB_SIM_TRACE").is_some() {
            #[expect(clippy::print_stderr, reason = "a trace asked for")]
            {
                eprintln!("sim: {:5} ops  {action:?}", self.fault.op_count());
            }
        }
        let result = self.run(action);
        if std::env::var_os("CAIRNDB_SIM_TRACE").is_some() {
            #[expect(clippy::print_stderr, reason = "a trace asked for")]
            {
                eprintln!(
                    "sim:   -> {:?} (injected {}, armed {:?})",
                    result.as_ref().map_err(|e| e.to_string()),
                    self.fault.injected_count(),
                    self.armed
                );
            }
        }
        if std::env::var_os("CAIRNDB_SIM_DUMP").is_some() {
            dump_log(&self.mem);
        }
        let Some(armed) = self.armed else {
            if let Err(e) = result {
                panic!("{action:?} failed with no fault injected: {e}");
            }
            return;
        };
        if self.fault.injected_count() == armed.injected_before {
            // Not reached yet: an error now is the engine's own.
            if let Err(e) = result {
                panic!("{action:?} failed before the armed fault: {e}");
            }
            return;
        }
        self.armed = None;
        self.fault.clear_rules();
        match armed.cut {
            Some((torn, again)) => self.power_cut(torn, again),
            None => self.after_fault(action, result),
        }
    }

    fn run(&mut self, action: &Action) -> cairndb::Result<()> {
        match action {
            Action::Put { key, len, fill } => {
                let v = value(*len, *fill, self.model.last());
                self.write(vec![(key_bytes(*key), Some(v))])
            }
            Action::Delete { key } => self.write(vec![(key_bytes(*key), None)]),
            Action::Batch { ops } => {
                let hint = self.model.last();
                let ops =
                    ops.iter().map(|(k, v)| (key_bytes(*k), v.map(|(len, fill)| value(len, fill, hint)))).collect();
                self.write(ops)
            }
            Action::Hot { key, times } => {
                for i in 0..*times {
                    self.write(vec![(format!("hot{key}").into_bytes(), Some(value(8, i, self.model.last())))])?;
                }
                Ok(())
            }
            Action::SyncPut { key, len, fill } => {
                let v = value(*len, *fill, self.model.last());
                self.write(vec![(key_bytes(*key), Some(v))])?;
                self.persist()
            }
            Action::Persist => self.persist(),
            Action::Get { key } => {
                let got = self.db().get(key_bytes(*key))?;
                let last = self.model.last();
                let expected = self.model.state_at(last).get(&key_bytes(*key)).cloned();
                assert_eq!(got, expected, "get of key {key}");
                Ok(())
            }
            Action::Scan { from, to } => {
                let (a, b) = (key_bytes(*from), key_bytes(*to));
                let got: State = self.db().range(a.clone()..b.clone()).collect::<cairndb::Result<_>>()?;
                let last = self.model.last();
                let expected: State =
                    self.model.state_at(last).range(a..b).map(|(k, v)| (k.clone(), v.clone())).collect();
                assert!(got == expected, "scan {from}..{to}: {}", diff(&got, &expected));
                Ok(())
            }
            Action::TakeSnapshot => {
                let snap = self.db().snapshot();
                let seqno = snap.seqno().0;
                assert_eq!(seqno, self.model.last(), "a snapshot sees every acknowledged write");
                self.snapshots.push((snap, seqno));
                Ok(())
            }
            Action::ReadSnapshot { pick } => {
                if self.snapshots.is_empty() {
                    return Ok(());
                }
                let i = *pick as usize % self.snapshots.len();
                let seqno = self.snapshots[i].1;
                let got: State = self.snapshots[i].0.iter().collect::<cairndb::Result<_>>()?;
                let expected = self.model.state_at(seqno);
                assert!(got == expected, "snapshot at {seqno}: {}", diff(&got, &expected));
                Ok(())
            }
            Action::DropSnapshot { pick } => {
                if !self.snapshots.is_empty() {
                    let i = *pick as usize % self.snapshots.len();
                    self.snapshots.remove(i);
                }
                Ok(())
            }
            Action::OpenIter { first } => {
                let mut iter = self.db().iter();
                let seqno = iter.seqno().0;
                let mut seen = Vec::new();
                for _ in 0..*first {
                    match iter.next() {
                        Some(kv) => seen.push(kv?),
                        None => break,
                    }
                }
                self.iters.push(OpenIter { iter, seqno, seen });
                Ok(())
            }
            Action::FinishIter { pick } => {
                if self.iters.is_empty() {
                    return Ok(());
                }
                let i = *pick as usize % self.iters.len();
                let mut open = self.iters.remove(i);
                for kv in open.iter.by_ref() {
                    open.seen.push(kv?);
                }
                let got: State = open.seen.into_iter().collect();
                let expected = self.model.state_at(open.seqno);
                assert!(got == expected, "iterator at {}: {}", open.seqno, diff(&got, &expected));
                Ok(())
            }
            Action::Flush => self.db().flush(),
            Action::Compact => self.db().compact(),
            Action::Checkpoint { parent, flush } => self.checkpoint(*parent, *flush),
            Action::OpenCheckpoint { pick, write } => self.open_checkpoint(*pick, *write),
            Action::DeleteCheckpoint { pick } => {
                if !self.checkpoints.is_empty() {
                    let i = *pick as usize % self.checkpoints.len();
                    let gone = self.checkpoints.remove(i);
                    self.remove_durably(&gone.path);
                }
                Ok(())
            }
            Action::Backup { flush } => self.backup(*flush),
            Action::Prune { keep } => {
                let report = self.faulty_engine()?.prune(*keep as usize)?;
                self.pruned.extend(report.removed);
                Ok(())
            }
            Action::Gc => {
                self.faulty_engine()?.gc()?;
                Ok(())
            }
            Action::Restore { pick } => self.restore(*pick),
            Action::VerifyBackup { pick } => {
                let engine = self.faulty_engine()?;
                let ids = engine.ids()?;
                if let Some(&id) = ids.get(*pick as usize % ids.len().max(1)) {
                    let report = engine.verify(id)?;
                    assert!(report.is_ok(), "backup {id} does not verify: {report:?}");
                }
                Ok(())
            }
            Action::Reopen => self.reopen(),
            Action::Sweep { action, seed } => self.sweep(action, *seed),
            Action::PowerCut { in_ops, torn, again } => {
                self.arm(FaultRule::From { n: self.fault.op_count() + u64::from(*in_ops), kind: FaultKind::IO }, {
                    Some((*torn, *again))
                });
                Ok(())
            }
            Action::Fault { in_ops, kind } => {
                let n = self.fault.op_count() + u64::from(*in_ops);
                let rule = match kind {
                    FaultChoice::Io => FaultRule::Nth { n, kind: FaultKind::IO },
                    FaultChoice::NoSpace => FaultRule::Nth { n, kind: FaultKind::NO_SPACE },
                    FaultChoice::TornWrite => FaultRule::Nth { n, kind: FaultKind::TornWrite },
                    FaultChoice::Sync => FaultRule::NthOfKind {
                        op: OpKind::SyncFile,
                        nth: self.fault.op_count_of(OpKind::SyncFile) + u64::from(*in_ops % 8),
                        kind: FaultKind::IO,
                    },
                };
                self.arm(rule, None);
                Ok(())
            }
        }
    }

    /// Runs `action` with the disk tapped, then recovers and checks the
    /// crash state before each of its steps (no armed fault lands in it).
    fn sweep(&mut self, action: &Action, seed: u64) -> cairndb::Result<()> {
        let durable = self.model.durable;
        let names = self.names;
        self.tap.arm(seed);
        let result = self.unfaulted(|world| world.run(action));
        let states = self.tap.disarm();
        result?;
        for (step, state) in states.into_iter().enumerate() {
            self.check_crash_state(&state, action, durable, names)
                .unwrap_or_else(|what| panic!("power cut before step {step} of {action:?}: {what}"));
        }
        Ok(())
    }

    /// What a power cut during `action` left: a database that recovers to
    /// a prefix holding every write durable before it, and the action's
    /// own target (checkpoint, restore, backups) whole or absent.
    fn check_crash_state(&mut self, mem: &MemFs, action: &Action, durable: u64, names: u64) -> Result<(), String> {
        self.counts.power_cuts += 1;
        self.counts.recoveries += 1;
        let fs: Arc<dyn Fs> = Arc::new(mem.clone());
        let db = db_config(Arc::clone(&fs), Path::new(DB)).open().map_err(|e| format!("recovery: {e}"))?;
        let seqno = db.stats().seqno.0;
        if seqno < durable || seqno > self.model.last() || !self.model.is_boundary(seqno) {
            return Err(format!("recovered to seqno {seqno}, durable {durable}, last write {}", self.model.last()));
        }
        let state = try_contents(&db).map_err(|e| format!("scan: {e}"))?;
        let expected = self.model.state_at(seqno);
        if state != expected {
            return Err(format!("recovered state at {seqno}: {}", diff(&state, &expected)));
        }
        let report = checkpoint::verify(&fs, Path::new(DB)).map_err(|e| e.to_string())?;
        if !report.is_ok() {
            return Err(format!("the database does not verify: {:?}", report.problems));
        }
        drop(db);
        let next = names + 1;
        match action {
            Action::Checkpoint { parent, .. } => {
                let path = Self::checkpoint_parent(*parent).join(format!("cp-{next}"));
                if mem.exists(&path).unwrap() {
                    let report = checkpoint::verify(&fs, &path).map_err(|e| e.to_string())?;
                    if !report.is_ok() {
                        return Err(format!("the checkpoint is visible but does not verify: {:?}", report.problems));
                    }
                    let description = checkpoint::describe(mem, &path).map_err(|e| e.to_string())?;
                    let seqno = description.ok_or("a visible checkpoint without CHECKPOINT")?.seqno.0;
                    let cp = db_config(Arc::clone(&fs), &path).read_only(true).open().map_err(|e| e.to_string())?;
                    let state = try_contents(&cp).map_err(|e| e.to_string())?;
                    let expected = self.model.state_at(seqno);
                    if state != expected {
                        return Err(format!("the visible checkpoint at {seqno}: {}", diff(&state, &expected)));
                    }
                }
            }
            Action::Restore { .. } => {
                let path = Path::new(RESTORES).join(format!("restore-{next}"));
                if mem.exists(&path).unwrap() {
                    let restored =
                        db_config(Arc::clone(&fs), &path).read_only(true).open().map_err(|e| e.to_string())?;
                    let seqno = restored.stats().seqno.0;
                    let state = try_contents(&restored).map_err(|e| e.to_string())?;
                    if state != self.model.state_at(seqno) {
                        return Err(format!("the visible restore holds another state than at its seqno {seqno}"));
                    }
                }
            }
            Action::Backup { .. } | Action::Prune { .. } | Action::Gc => {
                let engine = self.engine(Arc::clone(&fs)).map_err(|e| e.to_string())?;
                for listing in engine.list().map_err(|e| e.to_string())? {
                    if listing.manifest.is_none() {
                        return Err(format!("backup {} listed but damaged: {:?}", listing.id, listing.problem));
                    }
                    let report = engine.verify(listing.id).map_err(|e| e.to_string())?;
                    if !report.is_ok() {
                        return Err(format!("backup {} listed but does not verify: {:?}", listing.id, report.problems));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn arm(&mut self, rule: FaultRule, cut: Option<(Option<u64>, Option<u16>)>) {
        if self.armed.is_some() {
            return; // one at a time
        }
        self.fault.add_rule(rule);
        self.armed = Some(Armed { rule, cut, injected_before: self.fault.injected_count() });
    }

    /// Runs `check` with the armed fault held back (a check is no place
    /// for it), then arms it again as many operations ahead as it was.
    fn unfaulted<T>(&mut self, check: impl FnOnce(&mut World) -> T) -> T {
        let Some(armed) = self.armed.take() else { return check(self) };
        let (ops, syncs) = (self.fault.op_count(), self.fault.op_count_of(OpKind::SyncFile));
        self.fault.clear_rules();
        let out = check(self);
        let (ran, synced) = (self.fault.op_count() - ops, self.fault.op_count_of(OpKind::SyncFile) - syncs);
        let rule = match armed.rule {
            FaultRule::Nth { n, kind } => FaultRule::Nth { n: n + ran, kind },
            FaultRule::From { n, kind } => FaultRule::From { n: n + ran, kind },
            FaultRule::NthOfKind { op, nth, kind } => FaultRule::NthOfKind { op, nth: nth + synced, kind },
            other => other,
        };
        self.fault.add_rule(rule);
        self.armed = Some(Armed { rule, ..armed });
        out
    }

    fn write(&mut self, ops: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> cairndb::Result<()> {
        let db = self.db();
        let result = if ops.len() == 1 {
            match &ops[0] {
                (k, Some(v)) => db.put(k, v),
                (k, None) => db.delete(k),
            }
        } else {
            let mut batch = WriteBatch::new();
            for (k, v) in &ops {
                batch = match v {
                    Some(v) => batch.put(k, v),
                    None => batch.delete(k),
                };
            }
            db.write(batch)
        };
        match result {
            Ok(seqno) => {
                self.model.push(seqno.0, ops);
                Ok(())
            }
            Err(e) => {
                // Applied but not acknowledged (the flush after it failed):
                // it is in the log like any unpersisted write.
                let visible = self.db().stats().seqno.0;
                if visible > self.model.last() {
                    self.model.push(visible, ops);
                }
                Err(e)
            }
        }
    }

    fn persist(&mut self) -> cairndb::Result<()> {
        let seqno = self.db().persist()?.0;
        assert!(seqno >= self.model.last(), "persist covers every acknowledged write");
        self.model.durable = self.model.durable.max(self.model.last());
        Ok(())
    }

    fn checkpoint_parent(parent: u8) -> PathBuf {
        match parent {
            2 => Path::new(OTHER_DEVICE).join("cps"),
            p => PathBuf::from(format!("/cps{p}")),
        }
    }

    fn checkpoint(&mut self, parent: u8, flush: bool) -> cairndb::Result<()> {
        if self.checkpoints.len() >= CHECKPOINTS_MAX {
            let oldest = self.checkpoints.remove(0);
            self.remove_durably(&oldest.path);
        }
        let path = Self::checkpoint_parent(parent).join(self.name("cp"));
        match self.db().checkpoint_with(&path, CheckpointOptions::default().flush(flush)) {
            Ok(info) => {
                assert_eq!(info.seqno.0, self.model.last(), "a checkpoint holds every acknowledged write");
                // Flushed or persisted: the cut is durable.
                self.model.durable = self.model.durable.max(info.seqno.0);
                self.checkpoints.push(KnownCheckpoint { path, expected: Expected::At(info.seqno.0) });
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn open_checkpoint(&mut self, pick: u8, write: bool) -> cairndb::Result<()> {
        if self.checkpoints.is_empty() {
            return Ok(());
        }
        let i = pick as usize % self.checkpoints.len();
        let path = self.checkpoints[i].path.clone();
        let before = self.expected_states(i);
        let fs: Arc<dyn Fs> = Arc::new(self.fault.clone());
        let db = db_config(Arc::clone(&fs), &path).read_only(!write).open()?;
        let state = try_contents(&db)?;
        assert!(before.contains(&state), "checkpoint {path:?} opened to another state: {}", diff(&state, &before[0]));
        if !write {
            return Ok(());
        }
        // Written to, it becomes a database of its own: expect the write
        // (or, if a cut lands before it is durable, not).
        let mut after = state.clone();
        after.insert(b"checkpoint-write".to_vec(), path.to_string_lossy().into_owned().into_bytes());
        self.checkpoints[i].expected = Expected::AnyOf(vec![state, after.clone()]);
        db.put(b"checkpoint-write", path.to_string_lossy().as_bytes())?;
        db.persist()?;
        drop(db);
        self.checkpoints[i].expected = Expected::AnyOf(vec![after]);
        Ok(())
    }

    fn expected_states(&mut self, i: usize) -> Vec<State> {
        match self.checkpoints[i].expected.clone() {
            Expected::At(seqno) => vec![self.model.state_at(seqno)],
            Expected::AnyOf(states) => states,
        }
    }

    fn backup(&mut self, flush: bool) -> cairndb::Result<()> {
        let bare = self.bare_engine();
        if bare.ids().unwrap().len() >= BACKUPS_MAX {
            bare.prune(BACKUPS_MAX - 1).unwrap();
        }
        let engine = self.faulty_engine()?;
        let info = engine.create_backup_with(self.db(), BackupOptions::default().flush(flush), &mut |_| {})?;
        assert_eq!(info.seqno.0, self.model.last(), "a backup holds every acknowledged write");
        self.pruned.retain(|&id| id != info.id);
        self.model.durable = self.model.durable.max(info.seqno.0);
        Ok(())
    }

    fn restore(&mut self, pick: u8) -> cairndb::Result<()> {
        let engine = self.faulty_engine()?;
        let ids = engine.ids()?;
        let Some(&id) = ids.get(pick as usize % ids.len().max(1)) else { return Ok(()) };
        let target = Path::new(RESTORES).join(self.name("restore"));
        let info = engine.restore(id, &target)?;
        let restored = db_config(self.bare(), &target).read_only(true).open().unwrap();
        let expected = self.model.state_at(info.seqno.0);
        let state = contents(&restored);
        assert!(state == expected, "restore of backup {id} at {}: {}", info.seqno, diff(&state, &expected));
        drop(restored);
        self.remove_durably(&target);
        Ok(())
    }

    fn reopen(&mut self) -> cairndb::Result<()> {
        self.snapshots.clear();
        self.iters.clear();
        let db = self.db.take().expect("open");
        let poisoned = db.stats().poisoned.is_some();
        drop(db);
        let before = self.fault.injected_count();
        match db_config(Arc::new(self.fault.clone()), Path::new(DB)).open() {
            Ok(db) => self.db = Some(db),
            Err(e) => {
                // Only an injected fault may fail the open: reopen unfaulted.
                self.reopen_after_failed_open(e);
            }
        }
        let clean = !poisoned && self.fault.injected_count() == self.armed_before();
        // A fault in the open itself may leave a leftover it could not remove.
        let faulted_open = self.fault.injected_count() > before;
        self.unfaulted(|world| world.check_recovered(clean, faulted_open));
        Ok(())
    }

    fn armed_before(&self) -> u64 {
        self.armed.map_or(self.fault.injected_count(), |a| a.injected_before)
    }

    fn reopen_after_failed_open(&mut self, error: cairndb::Error) {
        assert!(
            self.armed.is_some() && self.fault.injected_count() > self.armed_before(),
            "reopening failed with no fault injected: {error}"
        );
        self.fault.clear_rules();
        let armed = self.armed.take().expect("checked");
        if let Some((torn, again)) = armed.cut {
            self.power_cut(torn, again);
            return;
        }
        self.counts.faults += 1;
        let db = db_config(Arc::new(self.fault.clone()), Path::new(DB))
            .open()
            .unwrap_or_else(|e| panic!("reopen after a failed open: {e}"));
        self.db = Some(db);
    }

    /// The process died: what the disk keeps is all there is.
    fn power_cut(&mut self, torn: Option<u64>, again: Option<u16>) {
        self.counts.power_cuts += 1;
        self.snapshots.clear();
        self.iters.clear();
        if std::env::var_os("CAIRNDB_SIM_DUMP").is_some() {
            dump_log(&self.mem);
        }
        let crashed = match torn {
            Some(seed) => self.mem.crash_copy_torn(seed),
            None => self.mem.crash_copy(),
        };
        // The dead process's handles go; its faulted disk accepts nothing.
        drop(self.db.take());
        self.mem = crashed;
        self.fault = faulty(&self.mem, &self.tap);
        if let Some(in_ops) = again {
            // A second cut while recovering from the first.
            self.fault.add_rule(FaultRule::From { n: u64::from(in_ops), kind: FaultKind::IO });
            let opened = db_config(Arc::new(self.fault.clone()), Path::new(DB)).open();
            if self.fault.injected_count() > 0 {
                drop(opened);
                self.power_cut(torn.map(|s| s.rotate_left(17)), None);
                return;
            }
            self.fault.clear_rules();
            self.db = Some(opened.unwrap_or_else(|e| panic!("recovery after a power cut: {e}")));
        } else {
            let db = db_config(Arc::new(self.fault.clone()), Path::new(DB)).open();
            if db.is_err() && std::env::var_os("CAIRNDB_SIM_DUMP").is_some() {
                dump_log(&self.mem);
            }
            self.db = Some(db.unwrap_or_else(|e| panic!("recovery after a power cut: {e}")));
        }
        self.check_recovered(false, false);
        // Recovered from a crash copy: everything it holds is on disk.
        let recovered = self.db().stats().seqno.0;
        self.model.durable = recovered;
        self.check_world();
    }

    fn after_fault(&mut self, action: &Action, result: cairndb::Result<()>) {
        self.counts.faults += 1;
        let Err(error) = result else {
            return; // the engine worked around it (a best-effort step failed)
        };
        let _ = error;
        // Nothing half-made is left where the failed call was to create it.
        self.check_no_partial_targets(action);
        if self.db().stats().poisoned.is_some() {
            // The application restarts the database (no power cut).
            self.snapshots.clear();
            self.iters.clear();
            drop(self.db.take());
            let before = self.fault.injected_count();
            let db = db_config(Arc::new(self.fault.clone()), Path::new(DB)).open();
            self.db = Some(db.unwrap_or_else(|e| panic!("reopen after a failed fsync or write: {e}")));
            let faulted_open = self.fault.injected_count() > before;
            self.check_recovered(false, faulted_open);
        } else {
            let last = self.model.last();
            let expected = self.model.state_at(last);
            let state = contents(self.db());
            assert!(state == expected, "after a failed {action:?}: {}", diff(&state, &expected));
        }
    }

    /// After a failed checkpoint or restore: no target, no staging.
    fn check_no_partial_targets(&self, action: &Action) {
        let parent = match action {
            Action::Checkpoint { parent, .. } => Self::checkpoint_parent(*parent),
            Action::Restore { .. } => PathBuf::from(RESTORES),
            _ => return,
        };
        let name = format!("{}-{}", if parent.as_os_str() == RESTORES { "restore" } else { "cp" }, self.names);
        let target = parent.join(&name);
        assert!(!self.mem.exists(&target).unwrap(), "a failed {action:?} left {target:?}");
        // Its own staging directory (named after its target); leftovers of
        // earlier crashes may remain until a call gets as far as removing them.
        let own = format!("{}{name}.", checkpoint::STAGING_PREFIX);
        for entry in self.mem.read_dir(&parent).unwrap_or_default() {
            let entry = entry.name.to_string_lossy();
            assert!(!entry.starts_with(&own), "a failed {action:?} left {parent:?}/{entry}");
        }
    }

    /// The reopened database holds a prefix of the writes that includes
    /// every durable one, splits no batch, and leaks no file (unless a
    /// fault in the open kept it from removing one: it logs and goes on).
    fn check_recovered(&mut self, clean: bool, faulted_open: bool) {
        self.counts.recoveries += 1;
        let db = self.db.as_ref().expect("open");
        let seqno = db.stats().seqno.0;
        assert!(seqno >= self.model.durable, "lost durable writes: recovered to {seqno} < {}", self.model.durable);
        assert!(seqno <= self.model.last(), "recovered seqno {seqno} beyond the last write {}", self.model.last());
        assert!(self.model.is_boundary(seqno), "recovery at seqno {seqno} splits a batch");
        if clean {
            assert_eq!(seqno, self.model.last(), "a clean close and open lost writes");
        }
        let state = contents(db);
        let expected = self.model.state_at(seqno);
        assert!(state == expected, "recovered state at {seqno}: {}", diff(&state, &expected));
        self.model.truncate(seqno);
        let version = db.version();
        let files = |dir: &str| -> Vec<String> {
            let entries = self.mem.read_dir(&Path::new(DB).join(dir)).unwrap_or_default();
            let mut names: Vec<String> = entries
                .iter()
                .filter(|e| e.kind == FileKind::File)
                .map(|e| e.name.to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        let held_tables: Vec<String> = version.tables().map(|(_, t)| format!("{}.sst", t.info.id)).collect();
        let held_blobs: Vec<String> = version.blob_files.keys().map(|id| format!("{id}.blob")).collect();
        for (dir, held) in [("tables", held_tables), ("blobs", held_blobs)] {
            let present = files(dir);
            for name in &held {
                assert!(present.contains(name), "{dir}/{name} is in the version but missing");
            }
            if !faulted_open {
                assert_eq!(present.len(), held.len(), "{dir} files no version holds: {present:?}, held {held:?}");
            }
        }
        let report = checkpoint::verify(&self.bare(), Path::new(DB)).unwrap();
        assert!(report.is_ok(), "the database does not verify: {:?}", report.problems);
    }

    /// Every checkpoint that exists opens to exactly its state; every
    /// listed backup is whole and restores exactly; no restore is half-made.
    pub fn check_world(&mut self) {
        self.check_checkpoints();
        self.check_backups();
        self.check_restores();
    }

    fn check_checkpoints(&mut self) {
        // A checkpoint whose call a cut interrupted may have appeared.
        for parent in [0, 1, 2].map(Self::checkpoint_parent) {
            for entry in self.mem.read_dir(&parent).unwrap_or_default() {
                let name = entry.name.to_string_lossy().into_owned();
                let path = parent.join(&name);
                if name.starts_with(checkpoint::STAGING_PREFIX) || self.checkpoints.iter().any(|c| c.path == path) {
                    continue;
                }
                let description = checkpoint::describe(&self.mem, &path)
                    .unwrap_or_else(|e| panic!("{path:?}: {e}"))
                    .unwrap_or_else(|| panic!("{path:?} appeared but is no checkpoint"));
                self.checkpoints.push(KnownCheckpoint { path, expected: Expected::At(description.seqno.0) });
            }
        }
        for i in 0..self.checkpoints.len() {
            let path = self.checkpoints[i].path.clone();
            let expected = self.expected_states(i);
            let report = checkpoint::verify(&self.bare(), &path).unwrap_or_else(|e| panic!("verify {path:?}: {e}"));
            assert!(report.is_ok(), "checkpoint {path:?} does not verify: {:?}", report.problems);
            let db = db_config(self.bare(), &path).read_only(true).open();
            let db = db.unwrap_or_else(|e| panic!("checkpoint {path:?} does not open: {e}"));
            let state = contents(&db);
            assert!(expected.contains(&state), "checkpoint {path:?}: {}", diff(&state, &expected[0]));
            self.counts.checkpoints_checked += 1;
        }
    }

    fn check_backups(&mut self) {
        let engine = self.bare_engine();
        let listed = engine.list().unwrap_or_else(|e| panic!("list backups: {e}"));
        for listing in &listed {
            let manifest = listing
                .manifest
                .as_ref()
                .unwrap_or_else(|| panic!("backup {} damaged: {:?}", listing.id, listing.problem));
            let report = engine.verify(listing.id).unwrap_or_else(|e| panic!("verify backup {}: {e}", listing.id));
            assert!(report.is_ok(), "backup {} does not verify: {:?}", listing.id, report.problems);
            assert!(manifest.seqno.0 <= self.model.last(), "backup {} beyond the history", listing.id);
            assert!(!self.pruned.contains(&listing.id), "backup {} was pruned, and came back", listing.id);
            self.counts.backups_checked += 1;
        }
        if let Some(listing) = listed.get(self.names as usize % listed.len().max(1)) {
            let target = Path::new(CHECKS).join(format!("restore-{}", self.names));
            let info = engine.restore(listing.id, &target).unwrap_or_else(|e| panic!("restore {}: {e}", listing.id));
            let db = db_config(self.bare(), &target).read_only(true).open().unwrap();
            let state = contents(&db);
            let expected = self.model.state_at(info.seqno.0);
            assert!(state == expected, "backup {} restores to {}", listing.id, diff(&state, &expected));
            drop(db);
            self.remove_durably(&target);
        }
    }

    fn check_restores(&mut self) {
        for entry in self.mem.read_dir(Path::new(RESTORES)).unwrap_or_default() {
            let name = entry.name.to_string_lossy().into_owned();
            let path = Path::new(RESTORES).join(&name);
            if !name.starts_with(checkpoint::STAGING_PREFIX) {
                // A restore a cut interrupted after it appeared: it is whole.
                let db = db_config(self.bare(), &path).read_only(true).open();
                let db = db.unwrap_or_else(|e| panic!("interrupted restore {path:?} does not open: {e}"));
                let seqno = db.stats().seqno.0;
                let state = contents(&db);
                let expected = self.model.state_at(seqno);
                assert!(state == expected, "interrupted restore {path:?}: {}", diff(&state, &expected));
            }
            self.remove_durably(&path);
        }
    }

    /// At the end of a run: close, reopen, check everything, and take one
    /// more checkpoint into each parent (which removes staging leftovers)
    /// to show nothing is left that nothing references.
    pub fn finish(&mut self) {
        self.fault.clear_rules();
        self.armed = None;
        self.reopen().unwrap();
        self.check_world();
        for parent in 0..3u8 {
            self.checkpoint(parent, parent == 0).unwrap();
            let dir = Self::checkpoint_parent(parent);
            for entry in self.mem.read_dir(&dir).unwrap() {
                let name = entry.name.to_string_lossy();
                assert!(!name.starts_with(checkpoint::STAGING_PREFIX), "staging leftover {dir:?}/{name}");
            }
        }
        self.bare_engine().gc().unwrap();
        self.check_world();
    }
}
