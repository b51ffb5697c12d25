//! [`Readers`]: opening the readers of the database's tables and blob
//! files, within the bound on open files.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::blob::BlobFile;
use crate::fs::Fs;
use crate::table::{BlockCache, Table};
use crate::version::{DbLayout, OpenFiles, TableFile, Version};
use crate::{BlobFileId, Error, Result};

/// What reads of the database's files share: the block cache and the
/// bound on open files. The readers themselves live with the files'
/// entries in the versions ([`TableFile`] and the version's blob file): a
/// file is opened by a read that finds it closed, closed again by the bound
/// when it is the least recently used ([`OpenFiles`]), and closed for good
/// when the last version holding it goes, so no file the database deletes
/// is kept open.
#[derive(Debug)]
pub(crate) struct Readers {
    fs: Arc<dyn Fs>,
    layout: DbLayout,
    pub(crate) cache: Arc<BlockCache>,
    pub(crate) open_files: OpenFiles,
    /// A read-only view whose open is done: a file of its version that is
    /// missing now was removed by the database's writer since.
    view_opened: AtomicBool,
}

impl Readers {
    pub(crate) fn new(fs: Arc<dyn Fs>, layout: DbLayout, cache: BlockCache, max_open_files: usize) -> Readers {
        Readers {
            fs,
            layout,
            cache: Arc::new(cache),
            open_files: OpenFiles::new(max_open_files),
            view_opened: AtomicBool::new(false),
        }
    }

    /// The reader of a table of some version.
    pub(crate) fn table(&self, file: &TableFile) -> Result<Arc<Table>> {
        let id = file.info.id;
        let key = *file.block_cache_key.get_or_init(|| self.cache.new_file_key());
        file.reader.get_or_open(&self.open_files, || {
            let path = self.layout.table(id);
            Table::open_cached_as(&*self.fs, &path, id, Arc::clone(&self.cache), key).map_err(|e| self.gone(e, path))
        })
    }

    /// The reader of blob file `id` of `version`: the version a read's
    /// tables come from holds every blob file they reference.
    pub(crate) fn blob_file(&self, version: &Version, id: BlobFileId) -> Result<Arc<BlobFile>> {
        let path = self.layout.blob(id);
        let Some(file) = version.blob_files.get(&id) else {
            let what = format!("a table references blob file {id}, which its version does not hold");
            return Err(Error::corruption(&path, 0, what));
        };
        file.reader
            .get_or_open(&self.open_files, || BlobFile::open(&*self.fs, &path, id).map_err(|e| self.gone(e, path)))
    }

    /// From now on, a missing file means the view is outdated (before, while
    /// the view confirms its version, it means the version is not whole).
    pub(crate) fn set_view_opened(&self) {
        self.view_opened.store(true, Ordering::Release);
    }

    /// `error`, or, for a file of an opened view that is not found, that
    /// the view is outdated.
    fn gone(&self, error: Error, path: PathBuf) -> Error {
        match error {
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound && self.view_opened() => {
                Error::ViewOutdated { path, source }
            }
            e => e,
        }
    }

    fn view_opened(&self) -> bool {
        self.view_opened.load(Ordering::Acquire)
    }
}
