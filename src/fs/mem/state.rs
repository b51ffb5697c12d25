//! The namespace behind a `MemFs`: inodes, directory entries, and for each
//! the live and the durable version.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Component, Path, PathBuf};

use rustix::io::Errno;

use crate::fs::{DeviceId, FileKind};

/// What a device of a [`MemFs`](super::MemFs) can do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceOptions {
    /// Whether [`Fs::reflink`](crate::fs::Fs::reflink) works between files on the device (like XFS
    /// or Btrfs); when false it fails with `EOPNOTSUPP` (like ext4).
    pub reflink: bool,
}

/// An inode number, unique within one `MemFs`.
pub(super) type Ino = u64;

/// The root directory's inode.
pub(super) const ROOT: Ino = 0;

/// Largest file a `MemFs` holds. Beyond it writes fail with `EFBIG`, as a real
/// file system does past its maximum size, instead of attempting an
/// allocation that could abort the process.
pub(super) const FILE_BYTES_MAX: u64 = 1 << 30;

/// Inode count below which garbage is never collected.
const GC_INODES_MIN: usize = 64;

/// Symbolic links one path resolution may follow before `ELOOP`, as on Linux.
const SYMLINK_FOLLOW_MAX: usize = 40;

/// A directory's entries, in byte order of their names.
pub(super) type Entries = BTreeMap<OsString, Ino>;

/// An `io::Error` with the OS's code, so `kind()` and `raw_os_error()` match
/// what `StdFs` reports.
pub(super) fn errno(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

/// Splits a path into its names, resolving relative paths against `/` and
/// dropping `.`. `..` is rejected (`EINVAL`): callers build paths by joining
/// names. (The targets of symbolic links may hold `..`; resolution applies
/// it to the directory reached, as Linux does.)
pub(super) fn components(path: &Path) -> io::Result<Vec<&OsStr>> {
    if path.as_os_str().is_empty() {
        return Err(errno(Errno::NOENT));
    }
    let mut names = Vec::new();
    for component in path.components() {
        match component {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(name) => names.push(name),
            Component::ParentDir | Component::Prefix(_) => return Err(errno(Errno::INVAL)),
        }
    }
    Ok(names)
}

/// One change to a file since its last sync, kept so a crash can replay a
/// prefix of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum FileOp {
    /// `pwrite` of `data` at `offset`; `data` is never empty.
    Write {
        /// Where the write starts.
        offset: u64,
        /// What was written.
        data: Vec<u8>,
    },
    /// `ftruncate` (also `O_TRUNC`).
    SetLen(u64),
}

impl FileOp {
    /// Applies the whole operation to `content`.
    pub(super) fn apply(&self, content: &mut Vec<u8>) {
        self.apply_prefix(content, usize::MAX);
    }

    /// Applies the operation, a write cut to its first `bytes` bytes.
    pub(super) fn apply_prefix(&self, content: &mut Vec<u8>, bytes: usize) {
        match self {
            FileOp::Write { offset, data } => {
                write_into(content, *offset, &data[..bytes.min(data.len())]);
            }
            // Lengths are checked against FILE_BYTES_MAX before recording.
            FileOp::SetLen(len) => content.resize(*len as usize, 0),
        }
    }
}

fn write_into(content: &mut Vec<u8>, offset: u64, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    // Offsets are checked against FILE_BYTES_MAX before recording.
    let start = offset as usize;
    let end = start + data.len();
    if content.len() < end {
        content.resize(end, 0);
    }
    content[start..end].copy_from_slice(data);
}

/// One change to a directory's entries since its last sync. A rename within
/// one directory is a single operation: a crash never splits it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum DirOp {
    /// `name` now points to `ino` (create, link, mkdir, rename target).
    Set {
        /// The entry's name.
        name: OsString,
        /// What it points to.
        ino: Ino,
    },
    /// `name` is gone (unlink, rmdir, rename source).
    Remove {
        /// The entry's name.
        name: OsString,
    },
    /// A rename inside this directory.
    Move {
        /// The old name.
        from: OsString,
        /// The new name (replaced if present).
        to: OsString,
        /// The inode moved.
        ino: Ino,
    },
}

impl DirOp {
    /// Applies the change; returns the inodes that lost an entry.
    pub(super) fn apply(&self, entries: &mut Entries) -> Vec<Ino> {
        match self {
            DirOp::Set { name, ino } => entries.insert(name.clone(), *ino).into_iter().collect(),
            DirOp::Remove { name } => entries.remove(name).into_iter().collect(),
            DirOp::Move { from, to, ino } => {
                let mut lost: Vec<Ino> = entries.remove(from).into_iter().collect();
                lost.extend(entries.insert(to.clone(), *ino));
                lost
            }
        }
    }

    /// The inode that gains an entry, if any.
    pub(super) fn added(&self) -> Option<Ino> {
        match self {
            DirOp::Set { ino, .. } | DirOp::Move { ino, .. } => Some(*ino),
            DirOp::Remove { .. } => None,
        }
    }
}

/// A regular file's content: live, durable, and the way from one to the other.
#[derive(Debug, Default)]
pub(super) struct FileNode {
    /// What reads see.
    pub(super) live: Vec<u8>,
    /// What survives a crash: the content as of the last sync.
    pub(super) durable: Vec<u8>,
    /// Changes since the last sync, oldest first; replayed onto `durable`
    /// they give `live`.
    pub(super) pending: Vec<FileOp>,
    /// Live directory entries pointing here.
    pub(super) nlink: u64,
}

impl FileNode {
    /// Writes `data` at `offset`, extending the file with zeros if needed.
    pub(super) fn write(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        let end = offset.checked_add(data.len() as u64).ok_or_else(|| errno(Errno::FBIG))?;
        if end > FILE_BYTES_MAX {
            return Err(errno(Errno::FBIG));
        }
        if !data.is_empty() {
            self.record(FileOp::Write { offset, data: data.to_vec() });
        }
        Ok(())
    }

    /// Truncates or extends the file.
    pub(super) fn set_len(&mut self, len: u64) -> io::Result<()> {
        if len > FILE_BYTES_MAX {
            return Err(errno(Errno::FBIG));
        }
        self.record(FileOp::SetLen(len));
        Ok(())
    }

    fn record(&mut self, op: FileOp) {
        op.apply(&mut self.live);
        self.pending.push(op);
    }

    /// Makes the live content durable. Replaying the pending operations
    /// costs what was written since the last sync, not the file's size,
    /// which keeps frequent syncs of a growing log cheap.
    pub(super) fn sync(&mut self) {
        for op in self.pending.drain(..) {
            op.apply(&mut self.durable);
        }
    }
}

/// A directory's entries: live, durable, and the way from one to the other.
#[derive(Debug, Default)]
pub(super) struct DirNode {
    /// What lookups see.
    pub(super) live: Entries,
    /// What survives a crash: the entries as of the last directory sync.
    pub(super) durable: Entries,
    /// Changes since the last sync, oldest first.
    pub(super) pending: Vec<DirOp>,
    /// True for the root of a device made by `MemFs::mount`.
    pub(super) mount_root: bool,
}

/// A symbolic link. Its target is written with the inode, so it is durable
/// once the entry naming it is.
#[derive(Debug)]
pub(super) struct SymlinkNode {
    /// The path it points to, as given (relative to the link's directory
    /// unless absolute).
    pub(super) target: PathBuf,
    /// Live directory entries pointing here.
    pub(super) nlink: u64,
}

/// What an inode holds.
#[derive(Debug)]
pub(super) enum Body {
    /// A regular file.
    File(FileNode),
    /// A directory.
    Dir(DirNode),
    /// A symbolic link.
    Symlink(SymlinkNode),
}

/// Where resolving a path led: the objects named along the way, from the
/// root's child down, each with the name it was reached by (symbolic links
/// followed, so the names spell the real path).
#[derive(Debug)]
pub(super) struct Walk {
    /// The objects reached; the last is the result (the root when empty),
    /// or the directory lacking `missing`.
    pub(super) chain: Vec<(OsString, Ino)>,
    /// The final name, when its directory has no such entry.
    pub(super) missing: Option<OsString>,
}

impl Walk {
    /// The last object reached: the result, or the directory lacking
    /// `missing`.
    pub(super) fn last(&self) -> Ino {
        self.chain.last().map_or(ROOT, |(_, ino)| *ino)
    }

    /// The path the names spell, from the root.
    pub(super) fn path(&self) -> PathBuf {
        let mut path = PathBuf::from("/");
        path.extend(self.chain.iter().map(|(name, _)| name));
        path
    }
}

/// One step left to take while resolving a path.
enum Step {
    Name(OsString),
    Up,
}

/// Pushes the steps of a symbolic link's `target` so that its first
/// component is taken next.
fn push_target_steps(steps: &mut Vec<Step>, target: &Path) {
    let parts: Vec<Step> = target
        .components()
        .filter_map(|part| match part {
            Component::Normal(name) => Some(Step::Name(name.to_owned())),
            Component::ParentDir => Some(Step::Up),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    steps.extend(parts.into_iter().rev());
}

/// A file, directory or symbolic link.
#[derive(Debug)]
pub(super) struct Inode {
    /// The device (index into `State::devices`) it lives on.
    pub(super) device: u64,
    /// Open handles and lock guards; they keep an unlinked inode alive.
    pub(super) handles: usize,
    /// Its content.
    pub(super) body: Body,
}

/// Everything one `MemFs` namespace holds.
#[derive(Debug)]
pub(super) struct State {
    /// This namespace's id in every `DeviceId`.
    pub(super) namespace: u64,
    /// Options per device; device 0 is the root's.
    pub(super) devices: Vec<DeviceOptions>,
    /// Every inode still reachable by a live or durable entry, a pending
    /// directory change or a handle (and possibly some garbage).
    pub(super) inodes: HashMap<Ino, Inode>,
    /// Inodes whose lock is held.
    pub(super) locked: HashSet<Ino>,
    next_ino: Ino,
    gc_inodes_max: usize,
}

impl State {
    /// An empty namespace: a root directory on device 0.
    pub(super) fn new(namespace: u64, devices: Vec<DeviceOptions>) -> Self {
        let root = Inode { device: 0, handles: 0, body: Body::Dir(DirNode::default()) };
        State {
            namespace,
            devices,
            inodes: HashMap::from([(ROOT, root)]),
            locked: HashSet::new(),
            next_ino: ROOT + 1,
            gc_inodes_max: GC_INODES_MIN,
        }
    }

    /// Adds an inode, not yet linked anywhere.
    pub(super) fn alloc(&mut self, device: u64, body: Body) -> Ino {
        let ino = self.next_ino;
        self.next_ino += 1;
        self.inodes.insert(ino, Inode { device, handles: 0, body });
        ino
    }

    /// The directory `ino`, or `ENOTDIR`.
    pub(super) fn dir(&self, ino: Ino) -> io::Result<&DirNode> {
        match self.inodes.get(&ino).map(|n| &n.body) {
            Some(Body::Dir(dir)) => Ok(dir),
            Some(Body::File(_) | Body::Symlink(_)) => Err(errno(Errno::NOTDIR)),
            None => Err(errno(Errno::NOENT)),
        }
    }

    fn dir_mut(&mut self, ino: Ino) -> Option<&mut DirNode> {
        match self.inodes.get_mut(&ino).map(|n| &mut n.body) {
            Some(Body::Dir(dir)) => Some(dir),
            _ => None,
        }
    }

    /// The file `ino`, if it is one.
    pub(super) fn file_mut(&mut self, ino: Ino) -> Option<&mut FileNode> {
        match self.inodes.get_mut(&ino).map(|n| &mut n.body) {
            Some(Body::File(file)) => Some(file),
            _ => None,
        }
    }

    /// What `ino` is; a missing inode reads as `Other`.
    pub(super) fn kind(&self, ino: Ino) -> FileKind {
        match self.inodes.get(&ino).map(|n| &n.body) {
            Some(Body::File(_)) => FileKind::File,
            Some(Body::Dir(_)) => FileKind::Dir,
            Some(Body::Symlink(_)) => FileKind::Symlink,
            None => FileKind::Other,
        }
    }

    /// The device holding `ino`.
    pub(super) fn device_of(&self, ino: Ino) -> u64 {
        self.inodes.get(&ino).map_or(0, |n| n.device)
    }

    /// `ino`'s device as a `DeviceId`.
    pub(super) fn device_id(&self, ino: Ino) -> DeviceId {
        DeviceId { namespace: self.namespace, device: self.device_of(ino) }
    }

    /// Link count as Linux reports it: live entries for a file; 2 plus the
    /// number of subdirectories for a directory.
    pub(super) fn nlink(&self, ino: Ino) -> u64 {
        match self.inodes.get(&ino).map(|n| &n.body) {
            Some(Body::File(file)) => file.nlink,
            Some(Body::Symlink(link)) => link.nlink,
            Some(Body::Dir(dir)) => {
                let subdirs = dir.live.values().filter(|&&c| self.kind(c) == FileKind::Dir);
                2 + subdirs.count() as u64
            }
            None => 0,
        }
    }

    /// The inode at `names` (from the root), following live entries and
    /// every symbolic link, the last one's too (like `stat(2)`).
    pub(super) fn lookup(&self, names: &[&OsStr]) -> io::Result<Ino> {
        self.resolve(names, true)
    }

    /// The inode at `names`, a final symbolic link not followed (like
    /// `lstat(2)`).
    pub(super) fn lookup_no_follow(&self, names: &[&OsStr]) -> io::Result<Ino> {
        self.resolve(names, false)
    }

    /// [`walk`](Self::walk) for an object that must exist, without
    /// allocating unless the path passes a symbolic link.
    fn resolve(&self, names: &[&OsStr], follow_last: bool) -> io::Result<Ino> {
        let mut ino = ROOT;
        for (i, name) in names.iter().enumerate() {
            let next = *self.dir(ino)?.live.get(*name).ok_or_else(|| errno(Errno::NOENT))?;
            if self.kind(next) == FileKind::Symlink && (follow_last || i + 1 < names.len()) {
                let walk = self.walk(names, follow_last)?;
                return if walk.missing.is_some() { Err(errno(Errno::NOENT)) } else { Ok(walk.last()) };
            }
            ino = next;
        }
        Ok(ino)
    }

    /// Resolves `names` from the root through live entries, following
    /// symbolic links in every component but the last, and in the last too
    /// when `follow_last`. A missing final name is not an error (see
    /// [`Walk::missing`]); a missing directory on the way is `ENOENT`, a
    /// non-directory `ENOTDIR`, more than [`SYMLINK_FOLLOW_MAX`] links
    /// `ELOOP`.
    pub(super) fn walk(&self, names: &[&OsStr], follow_last: bool) -> io::Result<Walk> {
        let mut steps: Vec<Step> = names.iter().rev().map(|name| Step::Name((*name).to_owned())).collect();
        let mut chain: Vec<(OsString, Ino)> = Vec::new();
        let mut followed = 0;
        while let Some(step) = steps.pop() {
            let name = match step {
                Step::Up => {
                    if let Some(&(_, ino)) = chain.last() {
                        self.dir(ino)?;
                    }
                    chain.pop();
                    continue;
                }
                Step::Name(name) => name,
            };
            let dir = chain.last().map_or(ROOT, |(_, ino)| *ino);
            let Some(ino) = self.dir(dir)?.live.get(&name).copied() else {
                if steps.is_empty() {
                    return Ok(Walk { chain, missing: Some(name) });
                }
                return Err(errno(Errno::NOENT));
            };
            match self.inodes.get(&ino).map(|n| &n.body) {
                Some(Body::Symlink(link)) if follow_last || !steps.is_empty() => {
                    followed += 1;
                    if followed > SYMLINK_FOLLOW_MAX {
                        return Err(errno(Errno::LOOP));
                    }
                    if link.target.is_absolute() {
                        chain.clear();
                    }
                    push_target_steps(&mut steps, &link.target);
                }
                _ => chain.push((name, ino)),
            }
        }
        Ok(Walk { chain, missing: None })
    }

    /// The directory holding the last name of `names` and that name; `None`
    /// for the root itself.
    pub(super) fn lookup_parent<'p>(&self, names: &[&'p OsStr]) -> io::Result<Option<(Ino, &'p OsStr)>> {
        let Some((last, parents)) = names.split_last() else {
            return Ok(None);
        };
        let parent = self.lookup(parents)?;
        self.dir(parent)?;
        Ok(Some((parent, last)))
    }

    /// The live entry `name` of directory `dir`.
    pub(super) fn entry(&self, dir: Ino, name: &OsStr) -> Option<Ino> {
        self.dir(dir).ok().and_then(|d| d.live.get(name).copied())
    }

    /// Changes `dir`'s live entries and records the change as pending.
    pub(super) fn change_dir(&mut self, dir: Ino, op: DirOp) {
        let Some(node) = self.dir_mut(dir) else {
            return;
        };
        let lost = op.apply(&mut node.live);
        node.pending.push(op.clone());
        for ino in lost {
            self.add_links(ino, -1);
        }
        if let Some(ino) = op.added() {
            self.add_links(ino, 1);
        }
    }

    fn add_links(&mut self, ino: Ino, delta: i64) {
        if let Some(nlink) = self.links_mut(ino) {
            *nlink = nlink.saturating_add_signed(delta);
        }
    }

    /// The link count of a file or symbolic link (a directory's is derived).
    pub(super) fn links_mut(&mut self, ino: Ino) -> Option<&mut u64> {
        match self.inodes.get_mut(&ino).map(|n| &mut n.body) {
            Some(Body::File(file)) => Some(&mut file.nlink),
            Some(Body::Symlink(link)) => Some(&mut link.nlink),
            _ => None,
        }
    }

    /// Makes `dir`'s live entries durable.
    pub(super) fn sync_dir(&mut self, dir: Ino) {
        if let Some(node) = self.dir_mut(dir) {
            node.durable = node.live.clone();
            node.pending.clear();
        }
    }

    /// Collects garbage when the inode count has doubled since the last
    /// collection, so the cost per created inode stays constant. Called only
    /// before allocations made through the `Fs` API, never mid-copy.
    pub(super) fn maybe_collect_garbage(&mut self) {
        if self.inodes.len() >= self.gc_inodes_max {
            self.collect_garbage();
            self.gc_inodes_max = GC_INODES_MIN.max(2 * self.inodes.len());
        }
    }

    /// Drops inodes nothing can reach: no live or durable entry, no pending
    /// directory change, no open handle.
    fn collect_garbage(&mut self) {
        let mut marked = HashSet::new();
        let mut stack = vec![ROOT];
        stack.extend(self.inodes.iter().filter(|(_, n)| n.handles > 0).map(|(&ino, _)| ino));
        while let Some(ino) = stack.pop() {
            if !marked.insert(ino) {
                continue;
            }
            if let Ok(dir) = self.dir(ino) {
                stack.extend(dir.live.values().chain(dir.durable.values()));
                stack.extend(dir.pending.iter().filter_map(DirOp::added));
            }
        }
        self.inodes.retain(|ino, _| marked.contains(ino));
    }
}
