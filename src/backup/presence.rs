//! [`StoredFiles`]: which content keys a store holds, and with what size; the
//! cheap check that a backup can be restored (every file it names is there
//! with its recorded size), short of reading every byte as
//! [`verify`](super::BackupEngine::verify) does.

use std::collections::HashMap;

use super::content::FILES_PREFIX;
use super::manifest::Manifest;
use super::store::BackupStore;
use crate::Result;

/// The files of a store, by key, with their sizes, as listed once.
#[derive(Clone, Debug, Default)]
pub(crate) struct StoredFiles {
    sizes: HashMap<String, u64>,
}

/// The files of a backup the store lacks, or holds with another size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Absent {
    /// The store key of the first of them.
    pub(crate) first_key: String,
    /// All of them, in one line: `tables/12.sst (missing), v7 (10 bytes, 12 recorded)`.
    pub(crate) files: String,
}

impl StoredFiles {
    /// Lists the files of `store`.
    pub(crate) fn list(store: &dyn BackupStore) -> Result<StoredFiles> {
        let sizes = store.list(FILES_PREFIX)?.into_iter().map(|o| (o.key, o.size_bytes)).collect();
        Ok(StoredFiles { sizes })
    }

    /// The files of `manifest` that are not there with their recorded
    /// sizes, or `None` when every one is.
    pub(crate) fn absent(&self, manifest: &Manifest) -> Option<Absent> {
        let mut first_key = None;
        let mut files = Vec::new();
        for file in &manifest.files {
            let key = file.content.key();
            let what = match self.sizes.get(&key) {
                None => "missing".to_owned(),
                Some(&size) if size != file.size_bytes() => format!("{size} bytes, {} recorded", file.size_bytes()),
                Some(_) => continue,
            };
            files.push(format!("{} ({what})", file.db_name()));
            first_key.get_or_insert(key);
        }
        Some(Absent { first_key: first_key?, files: files.join(", ") })
    }
}
