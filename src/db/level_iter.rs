//! [`LevelIter`]: tables of one level as one sorted source, each opened
//! when the walk reaches it and let go when the walk leaves it.
//!
//! The tables of a level deeper than 0 are sorted and disjoint, so walking
//! them one after the other walks the level. A scan or a compaction over
//! thousands of tables so holds one table of each level at a time (and
//! level 0's tables, which overlap and are merged side by side), not all of
//! them: what keeps it within the bound on open files.

use std::sync::Arc;

use super::merge::Source;
use super::readers::Readers;
use crate::Result;
use crate::table::{Entry, Table};
use crate::version::TableFile;

/// Makes the source that walks one table.
pub(crate) type OpenSource = Box<dyn Fn(&Table) -> Source + Send>;

/// The entries of `files`, in the order given (which must be the walk's
/// order), from `source` for each. A table that cannot be opened yields
/// its error and ends the iteration (as a merge ends at any error).
pub(crate) struct LevelIter {
    readers: Arc<Readers>,
    files: std::vec::IntoIter<Arc<TableFile>>,
    source: OpenSource,
    current: Option<Source>,
}

impl LevelIter {
    pub(crate) fn new(readers: &Arc<Readers>, files: Vec<Arc<TableFile>>, source: OpenSource) -> LevelIter {
        LevelIter { readers: Arc::clone(readers), files: files.into_iter(), source, current: None }
    }
}

impl Iterator for LevelIter {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        loop {
            if let Some(entry) = self.current.as_mut().and_then(Iterator::next) {
                return Some(entry);
            }
            // The table walked last is let go before the next opens.
            self.current = None;
            let file = self.files.next()?;
            match self.readers.table(&file) {
                Ok(table) => self.current = Some((self.source)(&table)),
                Err(e) => {
                    self.files = Vec::new().into_iter();
                    return Some(Err(e));
                }
            }
        }
    }
}
