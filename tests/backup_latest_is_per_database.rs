//! One store, backups of two databases: `latest`, `recover_latest_valid`
//! and `prune` never pick another database's backup. With the newest backup
//! of A damaged, "restore latest" must not restore B.

use std::path::Path;
use std::sync::Arc;

mod common;

use cairndb::Error;
use cairndb::backup::{BackupEngine, BackupId, DirStore, LATEST_KEY, Latest, Manifest, decode_latest, manifest_key};
use cairndb::fs::{Fs, MemFs};
use common::backup::{Model, open_db, restored_state};

#[test]
fn restore_latest_never_restores_another_database() {
    let disk: Arc<dyn Fs> = Arc::new(MemFs::new());
    let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::clone(&disk), "/backups").unwrap()));
    let (a, b) = (open_db(Arc::clone(&disk), "/a"), open_db(Arc::clone(&disk), "/b"));
    let (mut model_a, mut model_b) = (Model::default(), Model::default());
    model_a.fill(&a, 0, 500, 300);
    let a1 = engine.create_backup(&a).unwrap();
    model_b.fill(&b, 0, 500, 300);
    let b2 = engine.create_backup(&b).unwrap();
    model_a.fill(&a, 500, 500, 300);
    a.compact().unwrap();
    let a3 = engine.create_backup(&a).unwrap();
    // Damage A's newest backup: a table only it holds goes missing.
    let (m1, m3) = (engine.manifest(a1.id).unwrap(), engine.manifest(a3.id).unwrap());
    let own = m3.files.iter().find(|f| !m1.files.iter().any(|g| g.content == f.content)).unwrap();
    engine.store().delete(&own.content.key()).unwrap();

    match engine.recover_latest_valid() {
        Ok(recovery) => assert_ne!(recovery.id, Some(b2.id), "latest of A's timeline went to B's backup"),
        Err(e) => assert!(e.to_string().contains("databases"), "{e}"),
    }

    // With no database chosen, every latest-style operation refuses and
    // says which databases there are and how to choose.
    let (ida, idb) = (a.identity().unwrap(), b.identity().unwrap());
    for err in [engine.recover_latest_valid().unwrap_err(), engine.latest().unwrap_err(), engine.prune(1).unwrap_err()]
    {
        match &err {
            Error::AmbiguousDatabase { databases, .. } => {
                let found: Vec<_> = databases.iter().map(|d| (d.database, d.newest_id)).collect();
                assert_eq!(found, [(Some(ida), a3.id), (Some(idb), b2.id)], "{err}");
            }
            other => panic!("expected AmbiguousDatabase, got {other}"),
        }
        let text = err.to_string();
        assert!(text.contains(&ida.to_string()) && text.contains(&idb.to_string()), "{text}");
        assert!(text.contains("--database") && text.contains("BackupEngine::database"), "{text}");
    }
    assert_eq!(engine.ids().unwrap(), [BackupId(1), BackupId(2), BackupId(3)], "the refused prune removed nothing");
    // `latest.json`, a hint for tools, says whose backup it names.
    let pointer = cairndb::backup::get(&**engine.store(), LATEST_KEY, 4096).unwrap();
    assert_eq!(decode_latest("latest.json", &pointer).unwrap(), Latest { id: a3.id, database: Some(ida) });

    // Scoped to A: its older intact backup, never B's; scoped to B: B's.
    let of_a = engine.clone().database(ida).local_fs(Arc::clone(&disk));
    let recovery = of_a.recover_latest_valid().unwrap();
    assert_eq!(recovery.id, Some(a1.id), "{recovery:?}");
    assert_eq!(recovery.skipped.iter().map(|s| s.id).collect::<Vec<_>>(), [a3.id]);
    assert_eq!(restored_state(&of_a, a1.id), model_a.state_at(a1.seqno));
    assert_eq!(of_a.latest().unwrap(), Some(a3.id), "latest may be damaged; recover_latest_valid is not");
    assert_eq!(of_a.list().unwrap().iter().map(|l| l.id).collect::<Vec<_>>(), [a3.id, a1.id]);
    let of_b = engine.clone().database(idb).local_fs(Arc::clone(&disk));
    assert_eq!(of_b.recover_latest_valid().unwrap().id, Some(b2.id));
    assert_eq!(restored_state(&of_b, b2.id), model_b.state_at(b2.seqno));

    // The chosen database guards explicit ids and the database backed up.
    assert!(matches!(of_a.restore(b2.id, Path::new("/r")), Err(Error::InvalidArgument { .. })));
    assert!(!disk.exists(Path::new("/r")).unwrap());
    assert!(matches!(of_a.verify(b2.id), Err(Error::InvalidArgument { .. })));
    assert!(matches!(of_a.create_backup(&b), Err(Error::InvalidArgument { .. })));

    // Prune of A leaves B alone, and keeps A's damaged backup for a person.
    let report = of_a.prune(1).unwrap();
    assert_eq!((report.kept.as_slice(), report.removed.as_slice()), (&[a1.id][..], &[][..]), "{report:?}");
    assert_eq!(report.damaged.iter().map(|d| d.id).collect::<Vec<_>>(), [a3.id]);
    assert_eq!(engine.ids().unwrap(), [BackupId(1), BackupId(2), BackupId(3)]);
}

#[test]
fn timelines_and_old_backups_are_databases_of_their_own() {
    let disk: Arc<dyn Fs> = Arc::new(MemFs::new());
    let engine =
        BackupEngine::new(Arc::new(DirStore::open(Arc::clone(&disk), "/backups").unwrap())).local_fs(Arc::clone(&disk));
    let a = open_db(Arc::clone(&disk), "/a");
    let mut model = Model::default();
    model.fill(&a, 0, 300, 200);
    let first = engine.create_backup(&a).unwrap();
    let ida = a.identity().unwrap();
    assert_eq!(first.database, Some(ida));

    // A restored copy, opened for writing, is a new timeline.
    engine.restore(first.id, Path::new("/copy")).unwrap();
    let copy = open_db(Arc::clone(&disk), "/copy");
    let idc = copy.identity().unwrap();
    assert_eq!(idc.generation, ida.generation + 1);
    assert_ne!(idc.id, ida.id);
    copy.put("only in the copy", "x").unwrap();
    let of_copy = engine.create_backup(&copy).unwrap();

    // A backup from before identities (format 1 manifest): an unknown database.
    let old = Manifest { id: BackupId(9), database: None, ..engine.manifest(first.id).unwrap() };
    engine.store().put_if_absent(&manifest_key(BackupId(9)), &old.encode()).unwrap();

    let databases: Vec<_> = engine.databases().unwrap().iter().map(|d| (d.database, d.newest_id)).collect();
    assert_eq!(databases, [(None, BackupId(9)), (Some(idc), of_copy.id), (Some(ida), first.id)]);
    assert!(matches!(engine.latest(), Err(Error::AmbiguousDatabase { .. })));
    assert_eq!(engine.clone().database(ida).latest().unwrap(), Some(first.id), "the copy's backups are not A's");
    assert_eq!(engine.clone().database(idc).latest().unwrap(), Some(of_copy.id));
    let old_ones = engine.clone().unknown_database();
    assert_eq!(old_ones.recover_latest_valid().unwrap().id, Some(BackupId(9)));
    assert_eq!(restored_state(&old_ones, BackupId(9)), model.state_at(first.seqno));
    let listed = engine.list().unwrap();
    assert_eq!(
        listed.iter().map(|l| l.manifest.as_ref().unwrap().database).collect::<Vec<_>>(),
        [None, Some(idc), Some(ida)]
    );
}
