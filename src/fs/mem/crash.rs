//! What a power cut leaves of a `MemFs` namespace.
//!
//! The copy walks from the root through the entries that survive, depth
//! first in name order, so a seeded torn crash is reproducible.

use std::collections::{HashMap, btree_map};
use std::ffi::OsString;

use super::state::{Body, DirNode, Entries, FileNode, FileOp, Ino, ROOT, State, SymlinkNode};
use crate::fs::FileKind;

/// `splitmix64`: a tiny, seedable generator, enough to pick crash points.
#[derive(Debug)]
pub(super) struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator whose sequence depends only on `seed`.
    pub(super) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..=max`.
    fn up_to(&mut self, max: usize) -> usize {
        (self.next_u64() % (max as u64 + 1)) as usize
    }
}

/// How much of the changes made since the last sync survives.
#[derive(Debug)]
pub(super) enum Survival {
    /// Nothing: exactly the durable state.
    Durable,
    /// A random prefix of each file's and each directory's pending changes.
    Torn(SplitMix64),
}

impl Survival {
    /// How many of a directory's `pending` changes survive.
    fn dir_ops(&mut self, pending: usize) -> usize {
        match self {
            Survival::Durable => 0,
            Survival::Torn(rng) => rng.up_to(pending),
        }
    }

    /// How many of a file's pending changes survive whole, and how many
    /// bytes of the next one (a write cut short; 0 for none).
    fn file_ops(&mut self, pending: &[FileOp]) -> (usize, usize) {
        let Survival::Torn(rng) = self else {
            return (0, 0);
        };
        let kept = rng.up_to(pending.len());
        match kept.checked_sub(1).map(|last| (last, &pending[last])) {
            Some((last, FileOp::Write { data, .. })) => (last, 1 + rng.up_to(data.len().saturating_sub(1))),
            _ => (kept, 0),
        }
    }
}

/// The namespace a power cut would leave of `old`, with id `namespace`.
pub(super) fn crash_state(old: &State, namespace: u64, survival: Survival) -> State {
    let new = State::new(namespace, old.devices.clone());
    let mut copier = Copier { old, new, copied: HashMap::from([(ROOT, ROOT)]), survival };
    copier.copy_tree();
    copier.new
}

struct Copier<'a> {
    old: &'a State,
    new: State,
    /// Old inode to new inode, so hard links stay shared.
    copied: HashMap<Ino, Ino>,
    survival: Survival,
}

/// A directory being copied: its copy, and its surviving entries not yet
/// copied.
struct Frame {
    new: Ino,
    entries: btree_map::IntoIter<OsString, Ino>,
}

impl Copier<'_> {
    /// Copies everything reachable from the root, depth first with names in
    /// byte order. The stack is explicit so that a deep tree cannot overflow
    /// the call stack.
    fn copy_tree(&mut self) {
        let mut stack = vec![self.frame(ROOT, ROOT)];
        while let Some(frame) = stack.last_mut() {
            let Some((name, old)) = frame.entries.next() else {
                stack.pop();
                continue;
            };
            let dir = frame.new;
            let Some(new) = self.copy_entry(old) else {
                continue;
            };
            self.link(dir, name, new);
            if self.new.kind(new) == FileKind::Dir {
                stack.push(self.frame(old, new));
            }
        }
    }

    /// The entries of directory `old` that survive, to be copied into `new`.
    fn frame(&mut self, old: Ino, new: Ino) -> Frame {
        let Ok(dir) = self.old.dir(old) else {
            return Frame { new, entries: Entries::new().into_iter() };
        };
        let mut entries = dir.durable.clone();
        let kept = self.survival.dir_ops(dir.pending.len());
        for op in &dir.pending[..kept] {
            op.apply(&mut entries);
        }
        Frame { new, entries: entries.into_iter() }
    }

    /// The copy of `old` (a directory still empty); `None` when it cannot
    /// survive. A directory reached a second time (possible when only one
    /// side of a cross-directory rename was synced) is dropped, as fsck
    /// would: a directory has one name.
    fn copy_entry(&mut self, old: Ino) -> Option<Ino> {
        if let Some(&new) = self.copied.get(&old) {
            return (self.new.kind(new) != FileKind::Dir).then_some(new);
        }
        let inode = self.old.inodes.get(&old)?;
        let body = match &inode.body {
            Body::File(file) => {
                let content = self.surviving_content(file);
                Body::File(FileNode { live: content.clone(), durable: content, ..FileNode::default() })
            }
            Body::Dir(dir) => Body::Dir(DirNode { mount_root: dir.mount_root, ..DirNode::default() }),
            // Written with the inode: durable with the entry that names it.
            Body::Symlink(link) => Body::Symlink(SymlinkNode { target: link.target.clone(), nlink: 0 }),
        };
        let new = self.new.alloc(inode.device, body);
        self.copied.insert(old, new);
        Some(new)
    }

    fn surviving_content(&mut self, file: &FileNode) -> Vec<u8> {
        let mut content = file.durable.clone();
        let (whole, cut_bytes) = self.survival.file_ops(&file.pending);
        for op in &file.pending[..whole] {
            op.apply(&mut content);
        }
        if let Some(op) = file.pending.get(whole).filter(|_| cut_bytes > 0) {
            op.apply_prefix(&mut content, cut_bytes);
        }
        content
    }

    /// Adds an entry that is already durable in the new namespace.
    fn link(&mut self, dir: Ino, name: OsString, ino: Ino) {
        if let Some(Body::Dir(node)) = self.new.inodes.get_mut(&dir).map(|n| &mut n.body) {
            node.live.insert(name.clone(), ino);
            node.durable.insert(name, ino);
        }
        if let Some(nlink) = self.new.links_mut(ino) {
            *nlink += 1;
        }
    }
}
