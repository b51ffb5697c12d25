//! A backup never stores damage as if it were data. For each kind of file
//! a backup holds — table, blob file, log segment (as far as captured),
//! version file — a flipped bit in the source database makes the backup
//! fail with `Error::Corruption` naming the source file; and a flipped bit
//! in the store's copy is found by `verify` (naming the file) and refused
//! by `restore` (nothing appears at the target).

use std::path::{Path, PathBuf};
use std::sync::Arc;

mod common;

use cairndb::backup::{
    BackupEngine, BackupId, BackupOptions, ContentKey, ContentKind, DirStore, Manifest, ManifestFile, manifest_key,
};
use cairndb::fs::{Fs, MemFs, OpenOptions};
use cairndb::{Db, Error};
use common::backup::{Model, open_db, restored_state};
use common::bits_to_flip;

/// Bits flipped per file (spread evenly over it).
const FLIPS_PER_FILE: usize = 24;

struct Setup {
    disk: MemFs,
    db: Db,
    engine: BackupEngine,
    model: Model,
}

/// A database with tables, blob files and a persisted, unflushed memtable,
/// and a store on the same disk.
fn setup() -> Setup {
    let disk = MemFs::new();
    let fs: Arc<dyn Fs> = Arc::new(disk.clone());
    let db = open_db(Arc::clone(&fs), "/db");
    let mut model = Model::default();
    model.fill(&db, 0, 1500, 600);
    db.flush().unwrap();
    model.fill(&db, 1500, 300, 600);
    db.persist().unwrap();
    let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::clone(&fs), "/backups").unwrap())).local_fs(fs);
    Setup { disk, db, engine, model }
}

fn no_flush() -> BackupOptions {
    BackupOptions::default().flush(false)
}

fn flip(disk: &MemFs, path: &Path, bit: usize) {
    let file = disk.open(path, OpenOptions::read_write()).unwrap();
    let mut byte = [0u8; 1];
    file.read_exact_at(&mut byte, (bit / 8) as u64).unwrap();
    file.write_all_at(&[byte[0] ^ (1 << (bit % 8))], (bit / 8) as u64).unwrap();
}

/// One file of each kind in `manifest`.
fn one_of_each(manifest: &Manifest) -> Vec<ManifestFile> {
    let kinds = [ContentKind::Table, ContentKind::Blob, ContentKind::Log, ContentKind::Version];
    kinds
        .iter()
        .map(|&kind| {
            *manifest.files.iter().find(|f| f.content.kind == kind).unwrap_or_else(|| panic!("no {kind:?} file"))
        })
        .collect()
}

#[test]
fn a_flipped_bit_in_the_source_is_refused_at_create() {
    let s = setup();
    let good = s.engine.create_backup_with(&s.db, no_flush(), &mut |_| {}).unwrap();
    let manifest = s.engine.manifest(good.id).unwrap();
    let mut refused = 0;
    for file in one_of_each(&manifest) {
        let path = PathBuf::from("/db").join(file.db_name());
        for bit in bits_to_flip(file.size_bytes() as usize, &[], FLIPS_PER_FILE) {
            flip(&s.disk, &path, bit);
            let result = s.engine.create_backup_with(&s.db, no_flush(), &mut |_| {});
            flip(&s.disk, &path, bit);
            let context = format!("{} bit {bit} of {}", file.db_name(), file.size_bytes() * 8);
            match result {
                Err(Error::Corruption { file: named, .. }) => assert_eq!(named, path, "{context}"),
                other => panic!("{context}: expected corruption naming {}, got {other:?}", path.display()),
            }
            refused += 1;
        }
    }
    // Undamaged again, the database backs up and restores exactly.
    let after = s.engine.create_backup_with(&s.db, no_flush(), &mut |_| {}).unwrap();
    assert_eq!(restored_state(&s.engine, after.id), s.model.state_at(after.seqno));
    assert!(refused >= 4 * FLIPS_PER_FILE / 2, "{refused}");
}

#[test]
fn a_table_damaged_before_the_backup_is_refused_and_never_restored() {
    let s = setup();
    let table = s.db.version().tables().next().map(|(_, t)| t.info.clone()).unwrap();
    let path = PathBuf::from(format!("/db/tables/{}.sst", table.id));
    flip(&s.disk, &path, (table.size_bytes as usize / 2) * 8);
    let err = s.engine.create_backup(&s.db).unwrap_err();
    assert!(err.is_corruption() && err.to_string().contains(&path.display().to_string()), "{err}");
    assert!(s.engine.list().unwrap().is_empty(), "nothing was committed");
}

/// A backup reads a table or blob file a second time, to check it, only
/// when no format 2 manifest names its content (those were all checked);
/// content named only by a manifest from before the checks (format 1) is
/// checked again.
#[test]
fn content_named_only_by_an_old_manifest_is_checked_again() {
    let s = setup();
    let good = s.engine.create_backup_with(&s.db, no_flush(), &mut |_| {}).unwrap();
    let manifest = s.engine.manifest(good.id).unwrap();
    let table = *manifest.files.iter().find(|f| f.content.kind == ContentKind::Table).unwrap();
    let path = PathBuf::from("/db").join(table.db_name());
    flip(&s.disk, &path, 8 * 100 + 3);
    // An old build backed the damaged table up (unchecked) under backup 50.
    let bytes = cairndb::fs::read_to_vec(&s.disk, &path).unwrap();
    let damaged = ContentKey { xxh3_128: xxhash_rust::xxh3::xxh3_128(&bytes), ..table.content };
    let files = manifest.files.iter().map(|f| if *f == table { ManifestFile { content: damaged, ..*f } } else { *f });
    let old = Manifest { id: BackupId(50), database: None, files: files.collect(), ..manifest };
    s.engine.store().put_if_absent(&manifest_key(BackupId(50)), &old.encode()).unwrap();
    match s.engine.create_backup_with(&s.db, no_flush(), &mut |_| {}) {
        Err(Error::Corruption { file, .. }) => assert_eq!(file, path),
        other => panic!("expected corruption naming {}, got {other:?}", path.display()),
    }
}

#[test]
fn a_flipped_bit_in_the_store_is_found_by_verify_and_refused_by_restore() {
    let s = setup();
    let good = s.engine.create_backup_with(&s.db, no_flush(), &mut |_| {}).unwrap();
    let manifest = s.engine.manifest(good.id).unwrap();
    for file in one_of_each(&manifest) {
        let path = PathBuf::from("/backups").join(file.content.key());
        for bit in bits_to_flip(file.size_bytes() as usize, &[], FLIPS_PER_FILE / 4) {
            flip(&s.disk, &path, bit);
            let context = format!("stored {} bit {bit}", file.db_name());
            let report = s.engine.verify(good.id).unwrap();
            assert_eq!(report.problems.len(), 1, "{context}: {report:?}");
            assert_eq!(report.problems[0].name, file.db_name(), "{context}");
            let target = Path::new("/restored");
            let err = s.engine.restore(good.id, target).unwrap_err();
            assert!(err.is_corruption() && err.to_string().contains(&file.db_name()), "{context}: {err}");
            assert!(!s.disk.exists(target).unwrap(), "{context}: nothing appears at the target");
            flip(&s.disk, &path, bit);
        }
    }
    assert!(s.engine.verify(good.id).unwrap().is_ok());
    assert_eq!(restored_state(&s.engine, good.id), s.model.state_at(good.seqno));
}
