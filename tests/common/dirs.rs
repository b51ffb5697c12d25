//! Directories as tests compare them: a listing with every file's bytes,
//! and directories that are not databases.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairndb::Config;
use cairndb::backup::{BackupEngine, DirStore};
use cairndb::fs::{FileKind, Fs, read_to_vec};

/// Every entry below `dir`: its kind, and a file's bytes.
pub fn listing(fs: &dyn Fs, dir: &Path) -> BTreeMap<PathBuf, (FileKind, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in fs.read_dir(&at).unwrap() {
            let path = at.join(&entry.name);
            let bytes = if entry.kind == FileKind::File { read_to_vec(fs, &path).unwrap() } else { Vec::new() };
            if entry.kind == FileKind::Dir {
                stack.push(path.clone());
            }
            out.insert(path.strip_prefix(dir).unwrap().to_path_buf(), (entry.kind, bytes));
        }
    }
    out
}

/// The directories a failed open must leave alone, made in `root`: empty,
/// holding someone else's files, and a backup store with one backup.
pub fn not_databases(fs: &Arc<dyn Fs>, root: &Path) -> Vec<PathBuf> {
    let empty = root.join("empty");
    fs.create_dir_all(&empty).unwrap();
    let other = root.join("other");
    fs.create_dir_all(&other.join("sub")).unwrap();
    fs.open(&other.join("notes.txt"), cairndb::fs::OpenOptions::create_new())
        .unwrap()
        .write_all_at(b"not ours", 0)
        .unwrap();
    let store = root.join("store");
    let db = Config::new(root.join("db")).fs(Arc::clone(fs)).open().unwrap();
    db.put("k", "v").unwrap();
    let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::clone(fs), &store).unwrap())).local_fs(Arc::clone(fs));
    engine.create_backup(&db).unwrap();
    vec![empty, other, store]
}
