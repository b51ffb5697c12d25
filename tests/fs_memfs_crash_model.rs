//! `MemFs`'s crash model against an independent reference model.
//!
//! Random operation sequences over a few names run on a `MemFs` and on a
//! small model that keeps, per directory, live and durable entries and, per
//! inode, live and durable bytes. The model predicts whether each operation
//! succeeds; after the sequence `crash_copy` must equal the model's durable
//! tree exactly, and every `crash_copy_torn` must be one of the states the
//! model allows: durable state plus an in-order prefix of the pending
//! changes, the last write possibly cut short.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use cairndb::fs::{FileKind, Fs, FsFile, MemFs, OpenOptions, read_to_vec};
use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};

/// Every operation picks its paths here; whether one is a file or a
/// directory depends on the sequence.
const PATHS: [&str; 10] = ["/", "/a", "/b", "/d", "/e", "/d/a", "/d/b", "/d/s", "/e/a", "/d/s/a"];
/// Indexes into `PATHS` of the names most sequences make directories.
const DIRS: [usize; 4] = [0, 3, 4, 7];
const SLOTS: usize = 2;
const SEQUENCE_OPS_MIN: usize = 10;
const SEQUENCE_OPS_MAX: usize = 40;
const TORN_SEEDS: u64 = 4;

#[derive(Clone, Debug)]
enum Op {
    Create(usize),
    Write { path: usize, offset: u8, data: Vec<u8> },
    Append { path: usize, data: Vec<u8> },
    SetLen { path: usize, len: u8 },
    SyncData(usize),
    Rename(usize, usize),
    HardLink(usize, usize),
    RemoveFile(usize),
    Mkdir(usize),
    RemoveDir(usize),
    SyncDir(usize),
    Open { slot: usize, path: usize },
    HandleWrite { slot: usize, offset: u8, data: Vec<u8> },
    HandleSync(usize),
    Close(usize),
}

fn pick(g: &mut Gen, n: usize) -> usize {
    usize::arbitrary(g) % n
}

/// Mostly a likely directory, so that directory syncs and creates below
/// directories are common.
fn dir_path(g: &mut Gen) -> usize {
    if pick(g, 4) == 0 { pick(g, PATHS.len()) } else { DIRS[pick(g, DIRS.len())] }
}

fn data(g: &mut Gen) -> Vec<u8> {
    (0..=pick(g, 8)).map(|_| u8::arbitrary(g)).collect()
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Self {
        let path = pick(g, PATHS.len());
        let (other, slot, offset) = (pick(g, PATHS.len()), pick(g, SLOTS), pick(g, 24) as u8);
        match pick(g, 19) {
            0 | 1 => Op::Create(path),
            2 => Op::Write { path, offset, data: data(g) },
            3 => Op::Append { path, data: data(g) },
            4 => Op::SetLen { path, len: pick(g, 32) as u8 },
            5 | 6 => Op::SyncData(path),
            7 => Op::Rename(path, other),
            8 => Op::HardLink(path, other),
            9 => Op::RemoveFile(path),
            10 | 11 => Op::Mkdir(dir_path(g)),
            12 => Op::RemoveDir(path),
            13..=15 => Op::SyncDir(dir_path(g)),
            16 => Op::Open { slot, path },
            17 => Op::HandleWrite { slot, offset, data: data(g) },
            _ => [Op::HandleSync(slot), Op::Close(slot)][pick(g, 2)].clone(),
        }
    }
}

/// An operation sequence of `SEQUENCE_OPS_MIN..=SEQUENCE_OPS_MAX` steps
/// (shrinking may go below the minimum).
#[derive(Clone, Debug)]
struct Ops(Vec<Op>);

impl Arbitrary for Ops {
    fn arbitrary(g: &mut Gen) -> Self {
        let len = SEQUENCE_OPS_MIN + pick(g, SEQUENCE_OPS_MAX - SEQUENCE_OPS_MIN + 1);
        Ops((0..len).map(|_| Op::arbitrary(g)).collect())
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        Box::new(self.0.shrink().map(Ops))
    }
}

type Id = usize;
type Entries = BTreeMap<String, Id>;

#[derive(Clone, Debug)]
enum FileChange {
    Write(usize, Vec<u8>),
    SetLen(usize),
}

#[derive(Clone, Debug)]
enum DirChange {
    Set(String, Id),
    Remove(String),
    Move(String, String, Id),
}

fn apply_file(content: &mut Vec<u8>, change: &FileChange) {
    match change {
        FileChange::Write(offset, data) => {
            let end = offset + data.len();
            if content.len() < end {
                content.resize(end, 0);
            }
            content[*offset..end].copy_from_slice(data);
        }
        FileChange::SetLen(len) => content.resize(*len, 0),
    }
}

fn apply_dir(entries: &mut Entries, change: &DirChange) {
    match change {
        DirChange::Set(name, id) => {
            entries.insert(name.clone(), *id);
        }
        DirChange::Remove(name) => {
            entries.remove(name);
        }
        DirChange::Move(from, to, id) => {
            entries.remove(from);
            entries.insert(to.clone(), *id);
        }
    }
}

#[derive(Debug)]
enum Node {
    File { live: Vec<u8>, durable: Vec<u8>, pending: Vec<FileChange> },
    Dir { live: Entries, durable: Entries, pending: Vec<DirChange> },
}

/// What a tree of files looks like from outside: compared between the
/// model and a `MemFs`.
#[derive(Debug, PartialEq, Eq)]
enum Tree {
    Dir(BTreeMap<String, Tree>),
    File { content: Vec<u8>, nlink: u64 },
}

/// A tree whose files are still model ids.
enum Shape {
    Dir(BTreeMap<String, Shape>),
    File(Id),
}

struct Model {
    nodes: Vec<Node>,
    slots: [Option<Id>; SLOTS],
}

fn names(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

impl Model {
    fn new() -> Self {
        let root = Node::Dir { live: Entries::new(), durable: Entries::new(), pending: Vec::new() };
        Model { nodes: vec![root], slots: [None; SLOTS] }
    }

    fn entries(&self, id: Id) -> Option<&Entries> {
        match &self.nodes[id] {
            Node::Dir { live, .. } => Some(live),
            Node::File { .. } => None,
        }
    }

    fn is_dir(&self, id: Id) -> bool {
        self.entries(id).is_some()
    }

    fn lookup(&self, names: &[&str]) -> Option<Id> {
        names.iter().try_fold(0, |id, name| self.entries(id)?.get(*name).copied())
    }

    /// The directory holding the path's last name, and that name.
    fn parent<'p>(&self, names: &[&'p str]) -> Option<(Id, &'p str)> {
        let (last, parents) = names.split_last()?;
        let dir = self.lookup(parents)?;
        self.is_dir(dir).then_some((dir, *last))
    }

    fn file(&self, path: &str) -> Option<Id> {
        self.lookup(&names(path)).filter(|&id| !self.is_dir(id))
    }

    fn change_dir(&mut self, dir: Id, change: DirChange) {
        if let Node::Dir { live, pending, .. } = &mut self.nodes[dir] {
            apply_dir(live, &change);
            pending.push(change);
        }
    }

    fn change_file(&mut self, id: Id, change: FileChange) {
        if let Node::File { live, pending, .. } = &mut self.nodes[id] {
            apply_file(live, &change);
            pending.push(change);
        }
    }

    fn len(&self, id: Id) -> usize {
        match &self.nodes[id] {
            Node::File { live, .. } => live.len(),
            Node::Dir { .. } => 0,
        }
    }

    fn sync(&mut self, id: Id) {
        match &mut self.nodes[id] {
            Node::File { live, durable, pending } => {
                *durable = live.clone();
                pending.clear();
            }
            Node::Dir { live, durable, pending } => {
                *durable = live.clone();
                pending.clear();
            }
        }
    }

    fn add(&mut self, dir: Id, name: &str, node: Node) {
        self.nodes.push(node);
        self.change_dir(dir, DirChange::Set(name.to_owned(), self.nodes.len() - 1));
    }

    fn new_file() -> Node {
        Node::File { live: Vec::new(), durable: Vec::new(), pending: Vec::new() }
    }

    fn new_dir() -> Node {
        Node::Dir { live: Entries::new(), durable: Entries::new(), pending: Vec::new() }
    }

    /// Applies `op` if it should succeed; returns whether it should, or
    /// `None` when the harness skips it.
    fn apply(&mut self, op: &Op) -> Option<bool> {
        Some(match op {
            Op::Create(p) => self.create(PATHS[*p]),
            Op::Write { path, offset, data } => self.write(self.file(PATHS[*path]), Some(*offset), data),
            Op::Append { path, data } => self.write(self.file(PATHS[*path]), None, data),
            Op::SetLen { path, len } => {
                self.file(PATHS[*path]).map(|id| self.change_file(id, FileChange::SetLen(*len as usize))).is_some()
            }
            Op::SyncData(p) => self.lookup(&names(PATHS[*p])).map(|id| self.sync(id)).is_some(),
            Op::Rename(a, b) => self.rename(PATHS[*a], PATHS[*b]),
            Op::HardLink(a, b) => self.hard_link(PATHS[*a], PATHS[*b]),
            Op::RemoveFile(p) => self.remove(PATHS[*p], false),
            Op::Mkdir(p) => self.mkdir(PATHS[*p]),
            Op::RemoveDir(p) => self.remove(PATHS[*p], true),
            Op::SyncDir(p) => {
                let dir = self.lookup(&names(PATHS[*p])).filter(|&id| self.is_dir(id));
                dir.map(|id| self.sync(id)).is_some()
            }
            Op::Open { slot, path } => {
                let file = self.file(PATHS[*path]);
                if file.is_some() {
                    self.slots[*slot] = file;
                }
                file.is_some()
            }
            Op::HandleWrite { slot, offset, data } => self.write(Some(self.slots[*slot]?), Some(*offset), data),
            Op::HandleSync(slot) => {
                self.sync(self.slots[*slot]?);
                true
            }
            Op::Close(slot) => {
                self.slots[*slot] = None;
                true
            }
        })
    }

    fn create(&mut self, path: &str) -> bool {
        let names = names(path);
        let Some((dir, name)) = self.parent(&names) else {
            return false;
        };
        match self.entries(dir).and_then(|e| e.get(name)).copied() {
            Some(id) => !self.is_dir(id),
            None => {
                self.add(dir, name, Self::new_file());
                true
            }
        }
    }

    fn write(&mut self, id: Option<Id>, offset: Option<u8>, data: &[u8]) -> bool {
        let Some(id) = id else { return false };
        let offset = offset.map_or(self.len(id), usize::from);
        self.change_file(id, FileChange::Write(offset, data.to_vec()));
        true
    }

    fn mkdir(&mut self, path: &str) -> bool {
        let names = names(path);
        let Some((dir, name)) = self.parent(&names) else {
            return false;
        };
        if self.entries(dir).is_some_and(|e| e.contains_key(name)) {
            return false;
        }
        self.add(dir, name, Self::new_dir());
        true
    }

    fn remove(&mut self, path: &str, want_dir: bool) -> bool {
        let names = names(path);
        let Some((dir, name)) = self.parent(&names) else {
            return false;
        };
        let Some(id) = self.entries(dir).and_then(|e| e.get(name)).copied() else {
            return false;
        };
        if self.is_dir(id) != want_dir || self.entries(id).is_some_and(|e| !e.is_empty()) {
            return false;
        }
        self.change_dir(dir, DirChange::Remove(name.to_owned()));
        true
    }

    fn hard_link(&mut self, src: &str, dst: &str) -> bool {
        let dst_names = names(dst);
        let Some(id) = self.file(src) else {
            return false;
        };
        let Some((dir, name)) = self.parent(&dst_names) else {
            return false;
        };
        if self.entries(dir).is_some_and(|e| e.contains_key(name)) {
            return false;
        }
        self.change_dir(dir, DirChange::Set(name.to_owned(), id));
        true
    }

    fn rename(&mut self, from: &str, to: &str) -> bool {
        let (from_names, to_names) = (names(from), names(to));
        let Some((from_dir, from_name)) = self.parent(&from_names) else {
            return false;
        };
        let Some(id) = self.entries(from_dir).and_then(|e| e.get(from_name)).copied() else {
            return false;
        };
        let Some((to_dir, to_name)) = self.parent(&to_names) else {
            return false;
        };
        let target = self.entries(to_dir).and_then(|e| e.get(to_name)).copied();
        if target == Some(id) {
            return true;
        }
        let allowed = if self.is_dir(id) {
            let into_itself = to_names.len() > from_names.len() && to_names.starts_with(&from_names);
            !into_itself && target.is_none_or(|t| self.entries(t).is_some_and(|e| e.is_empty()))
        } else {
            target.is_none_or(|t| !self.is_dir(t))
        };
        if allowed {
            let (from_name, to_name) = (from_name.to_owned(), to_name.to_owned());
            if from_dir == to_dir {
                self.change_dir(from_dir, DirChange::Move(from_name, to_name, id));
            } else {
                self.change_dir(to_dir, DirChange::Set(to_name, id));
                self.change_dir(from_dir, DirChange::Remove(from_name));
            }
        }
        allowed
    }

    /// The tree reached from the root through live or durable entries. A
    /// directory reached a second time is left out.
    fn shape(&self, id: Id, durable: bool, seen: &mut HashSet<Id>) -> Shape {
        let Node::Dir { live, durable: kept, .. } = &self.nodes[id] else {
            return Shape::File(id);
        };
        let entries = if durable { kept } else { live };
        let mut out = BTreeMap::new();
        for (name, &child) in entries {
            if self.is_dir(child) && !seen.insert(child) {
                continue;
            }
            out.insert(name.clone(), self.shape(child, durable, seen));
        }
        Shape::Dir(out)
    }

    fn tree(&self, durable: bool) -> Tree {
        let shape = self.shape(0, durable, &mut HashSet::from([0]));
        let mut links = HashMap::new();
        count_links(&shape, &mut links);
        self.fill(&shape, durable, &links)
    }

    fn fill(&self, shape: &Shape, durable: bool, links: &HashMap<Id, u64>) -> Tree {
        match shape {
            Shape::Dir(entries) => {
                Tree::Dir(entries.iter().map(|(n, s)| (n.clone(), self.fill(s, durable, links))).collect())
            }
            Shape::File(id) => {
                let Node::File { live, durable: kept, .. } = &self.nodes[*id] else { unreachable!() };
                let content = if durable { kept.clone() } else { live.clone() };
                Tree::File { content, nlink: links[id] }
            }
        }
    }

    /// Every content a torn crash may leave in file `id`.
    fn allowed_contents(&self, id: Id) -> Vec<Vec<u8>> {
        let Node::File { durable, pending, .. } = &self.nodes[id] else {
            return Vec::new();
        };
        let mut content = durable.clone();
        let mut allowed = vec![content.clone()];
        for change in pending {
            if let FileChange::Write(offset, data) = change {
                for cut in 1..data.len() {
                    let mut torn = content.clone();
                    apply_file(&mut torn, &FileChange::Write(*offset, data[..cut].to_vec()));
                    allowed.push(torn);
                }
            }
            apply_file(&mut content, change);
            allowed.push(content.clone());
        }
        allowed
    }

    /// Whether `actual` is a state a torn crash may leave of directory `id`:
    /// its durable entries with a prefix of its pending changes applied,
    /// each entry itself an allowed state.
    fn torn_dir_ok(&self, actual: &Tree, id: Id) -> bool {
        let (Tree::Dir(actual), Node::Dir { durable, pending, .. }) = (actual, &self.nodes[id]) else {
            return false;
        };
        let mut entries = durable.clone();
        for k in 0..=pending.len() {
            if k > 0 {
                apply_dir(&mut entries, &pending[k - 1]);
            }
            if self.torn_entries_ok(actual, &entries) {
                return true;
            }
        }
        false
    }

    fn torn_entries_ok(&self, actual: &BTreeMap<String, Tree>, entries: &Entries) -> bool {
        actual.len() == entries.len()
            && entries.iter().all(|(name, &id)| match actual.get(name) {
                Some(Tree::File { content, .. }) => self.allowed_contents(id).contains(content),
                Some(dir @ Tree::Dir(_)) => self.torn_dir_ok(dir, id),
                None => false,
            })
    }
}

fn count_links(shape: &Shape, links: &mut HashMap<Id, u64>) {
    match shape {
        Shape::Dir(entries) => entries.values().for_each(|s| count_links(s, links)),
        Shape::File(id) => *links.entry(*id).or_default() += 1,
    }
}

fn path(index: usize) -> PathBuf {
    PathBuf::from(PATHS[index])
}

/// Runs `op` on the real `MemFs`.
fn execute(fs: &MemFs, handles: &mut [Option<Box<dyn FsFile>>; SLOTS], op: &Op) -> cairndb::Result<()> {
    let write = |p: usize| fs.open(&path(p), OpenOptions::read_write());
    match op {
        Op::Create(p) => {
            let options = OpenOptions { read: true, write: true, create: true, ..OpenOptions::default() };
            fs.open(&path(*p), options).map(drop)
        }
        Op::Write { path, offset, data } => write(*path)?.write_all_at(data, u64::from(*offset)),
        Op::Append { path: p, data } => {
            let options = OpenOptions { append: true, ..OpenOptions::default() };
            fs.open(&path(*p), options)?.write_all_at(data, 0)
        }
        Op::SetLen { path, len } => write(*path)?.set_len(u64::from(*len)),
        Op::SyncData(p) => fs.open(&path(*p), OpenOptions::read())?.sync_data(),
        Op::Rename(a, b) => fs.rename(&path(*a), &path(*b)),
        Op::HardLink(a, b) => fs.hard_link(&path(*a), &path(*b)),
        Op::RemoveFile(p) => fs.remove_file(&path(*p)),
        Op::Mkdir(p) => fs.create_dir(&path(*p)),
        Op::RemoveDir(p) => fs.remove_dir(&path(*p)),
        Op::SyncDir(p) => fs.sync_directory(&path(*p)),
        Op::Open { slot, path } => {
            handles[*slot] = Some(write(*path)?);
            Ok(())
        }
        Op::HandleWrite { slot, offset, data } => {
            handles[*slot].as_ref().map_or(Ok(()), |h| h.write_all_at(data, u64::from(*offset)))
        }
        Op::HandleSync(slot) => handles[*slot].as_ref().map_or(Ok(()), |h| h.sync_data()),
        Op::Close(slot) => {
            handles[*slot] = None;
            Ok(())
        }
    }
}

/// What `fs` holds below `dir`, as a `Tree`.
fn snapshot(fs: &MemFs, dir: &Path) -> Tree {
    let mut entries = BTreeMap::new();
    for entry in fs.read_dir(dir).unwrap() {
        let child = dir.join(&entry.name);
        let tree = match entry.kind {
            FileKind::Dir => snapshot(fs, &child),
            _ => Tree::File { content: read_to_vec(fs, &child).unwrap(), nlink: fs.metadata(&child).unwrap().nlink },
        };
        entries.insert(entry.name.into_string().unwrap(), tree);
    }
    Tree::Dir(entries)
}

/// Runs `ops` on a fresh `MemFs` and on the model; fails on the first
/// operation whose success the model does not predict.
fn run(ops: &[Op], dir_renames: bool) -> Result<(MemFs, Model), String> {
    let (fs, mut model) = (MemFs::new(), Model::new());
    let mut handles: [Option<Box<dyn FsFile>>; SLOTS] = [None, None];
    for (i, op) in ops.iter().enumerate() {
        let from_dir = |from: &usize| model.lookup(&names(PATHS[*from])).is_some_and(|id| model.is_dir(id));
        if let (false, Op::Rename(from, _)) = (dir_renames, op)
            && from_dir(from)
        {
            continue;
        }
        let Some(expected) = model.apply(op) else {
            continue;
        };
        let actual = execute(&fs, &mut handles, op);
        if actual.is_ok() != expected {
            return Err(format!("op {i} {op:?}: model expected success={expected}, MemFs gave {actual:?}"));
        }
    }
    Ok((fs, model))
}

fn exact_crash_matches_model(Ops(ops): Ops) -> TestResult {
    let (fs, model) = match run(&ops, true) {
        Ok(ran) => ran,
        Err(e) => return TestResult::error(e),
    };
    let root = Path::new("/");
    if snapshot(&fs, root) != model.tree(false) {
        return TestResult::error(format!("live state differs: {:?} vs {:?}", snapshot(&fs, root), model.tree(false)));
    }
    let crashed = fs.crash_copy();
    let (actual, expected) = (snapshot(&crashed, root), model.tree(true));
    if actual != expected {
        return TestResult::error(format!("crash_copy: got {actual:?}, model says {expected:?}"));
    }
    // After a crash everything left is durable: a second crash changes nothing.
    TestResult::from_bool(snapshot(&crashed.crash_copy(), root) == actual)
}

fn torn_crash_is_allowed_by_model(Ops(ops): Ops) -> TestResult {
    let (fs, model) = match run(&ops, false) {
        Ok(ran) => ran,
        Err(e) => return TestResult::error(e),
    };
    for seed in 0..TORN_SEEDS {
        let actual = snapshot(&fs.crash_copy_torn(seed), Path::new("/"));
        if !model.torn_dir_ok(&actual, 0) {
            return TestResult::error(format!("seed {seed}: {actual:?} is not a state the model allows"));
        }
    }
    TestResult::passed()
}

fn quickcheck(tests: u64) -> QuickCheck {
    QuickCheck::new().tests(tests).max_tests(10 * tests).rng(Gen::new(SEQUENCE_OPS_MAX))
}

#[test]
fn crash_copy_keeps_exactly_the_durable_state() {
    quickcheck(3000).quickcheck(exact_crash_matches_model as fn(Ops) -> TestResult);
}

#[test]
fn crash_copy_torn_keeps_a_prefix_of_pending_changes() {
    quickcheck(2000).quickcheck(torn_crash_is_allowed_by_model as fn(Ops) -> TestResult);
}

/// The torn model really does produce states between durable and live.
#[test]
fn crash_copy_torn_differs_from_crash_copy_sometimes() {
    let fs = MemFs::new();
    let file = fs.open(Path::new("/f"), OpenOptions::create_new()).unwrap();
    fs.sync_directory(Path::new("/")).unwrap();
    for i in 0..8u8 {
        file.write_all_at(&[i; 4], u64::from(i) * 4).unwrap();
    }
    fs.create_dir(Path::new("/d")).unwrap();
    let lengths: HashSet<usize> =
        (0..64).map(|seed| read_to_vec(&fs.crash_copy_torn(seed), Path::new("/f")).unwrap().len()).collect();
    assert!(lengths.len() > 8, "{lengths:?}");
    assert!((0..64).any(|seed| fs.crash_copy_torn(seed).exists(Path::new("/d")).unwrap()));
    assert!((0..64).any(|seed| !fs.crash_copy_torn(seed).exists(Path::new("/d")).unwrap()));
}
