//! [`TableIter`]: walks a table's entries in order.

use super::block::BlockCursor;
use super::entry::Entry;
use super::reader::Table;
use crate::{Result, SeqNo};

/// Iteration over a table's entries (here, beside the iterators, so the
/// reader does not depend on them).
impl Table {
    /// Every entry, in table order.
    pub fn iter(&self) -> TableIter {
        TableIter::new(self.clone())
    }

    /// Entries from the first whose key is at or after `key`, in table order.
    pub fn seek(&self, key: &[u8]) -> TableIter {
        let mut iter = self.iter();
        iter.seek(key);
        iter
    }

    /// Every entry, in reverse table order (key descending, seqno ascending).
    pub fn iter_rev(&self) -> TableRevIter {
        TableRevIter::new(self.clone())
    }
}

/// A forward iterator over a table's entries in table order (key
/// ascending, then seqno descending). Owns a handle on the table.
///
/// Yields `Err` at most once (corruption or I/O), then ends.
#[derive(Debug)]
pub struct TableIter {
    table: Table,
    next_block: usize,
    cursor: Option<(BlockCursor, u64)>,
    seek_target: Option<(Vec<u8>, SeqNo)>,
    done: bool,
}

impl TableIter {
    pub(crate) fn new(table: Table) -> Self {
        TableIter { table, next_block: 0, cursor: None, seek_target: None, done: false }
    }

    /// Repositions at the first entry whose key is at or after `key`.
    pub fn seek(&mut self, key: &[u8]) {
        self.seek_at(key, SeqNo(u64::MAX));
    }

    /// Repositions at the first entry at or after (`key`, `seqno`) in table
    /// order: the newest version of `key` with seqno <= `seqno`, if any.
    pub fn seek_at(&mut self, key: &[u8], seqno: SeqNo) {
        self.seek_target = Some((key.to_vec(), seqno));
        self.cursor = None;
        self.done = false;
    }

    fn step(&mut self) -> Result<Option<Entry>> {
        if let Some((key, seqno)) = self.seek_target.take()
            && let Some(entry) = self.seek_block(&key, seqno)?
        {
            return Ok(Some(entry));
        }
        loop {
            if let Some((cursor, offset)) = &mut self.cursor {
                let more = cursor.advance().map_err(|w| self.table.corrupt(*offset, w))?;
                if more {
                    return Ok(Some(cursor.entry()));
                }
            }
            if self.next_block >= self.table.block_count() {
                return Ok(None);
            }
            self.open_block(self.next_block)?;
        }
    }

    /// Positions in the block that holds the seek target; returns the
    /// target entry when that block has it.
    fn seek_block(&mut self, key: &[u8], seqno: SeqNo) -> Result<Option<Entry>> {
        let i = self.table.find_block(key, seqno);
        self.next_block = i;
        if i >= self.table.block_count() {
            return Ok(None);
        }
        self.open_block(i)?;
        let Some((cursor, offset)) = &mut self.cursor else { return Ok(None) };
        let found = cursor.seek(key, seqno).map_err(|w| self.table.corrupt(*offset, w))?;
        Ok(found.then(|| cursor.entry()))
    }

    fn open_block(&mut self, i: usize) -> Result<()> {
        let block = self.table.block(i)?;
        self.cursor = Some((BlockCursor::new(block), self.table.block_offset(i)));
        self.next_block = i + 1;
        Ok(())
    }
}

impl Iterator for TableIter {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let step = self.step();
        self.done = !matches!(step, Ok(Some(_)));
        step.transpose()
    }
}

/// A backward iterator over a table's entries, in reverse table order (key
/// descending, then seqno ascending). Owns a handle on the table.
///
/// Each block is decoded whole and its entries yielded from the end, so a
/// step costs what a forward step does, plus one block of entries held in
/// memory. Yields `Err` at most once (corruption or I/O), then ends.
#[derive(Debug)]
pub struct TableRevIter {
    table: Table,
    /// Blocks not yet loaded: `0..blocks_left`.
    blocks_left: usize,
    /// The loaded block's remaining entries, yielded from the back.
    entries: Vec<Entry>,
    /// Entries after this key are skipped (set by `seek_for_prev`).
    upper: Option<Vec<u8>>,
    done: bool,
}

impl TableRevIter {
    pub(crate) fn new(table: Table) -> Self {
        let blocks_left = table.block_count();
        TableRevIter { table, blocks_left, entries: Vec::new(), upper: None, done: false }
    }

    /// Repositions at the last entry whose key is at or before `key`: the
    /// oldest version of the largest such key.
    pub fn seek_for_prev(&mut self, key: &[u8]) {
        let block = self.table.find_block(key, SeqNo(0));
        self.blocks_left = (block + 1).min(self.table.block_count());
        self.entries.clear();
        self.upper = Some(key.to_vec());
        self.done = false;
    }

    fn step(&mut self) -> Result<Option<Entry>> {
        loop {
            if let Some(entry) = self.entries.pop() {
                return Ok(Some(entry));
            }
            let Some(i) = self.blocks_left.checked_sub(1) else { return Ok(None) };
            self.load_block(i)?;
        }
    }

    fn load_block(&mut self, i: usize) -> Result<()> {
        let offset = self.table.block_offset(i);
        let mut cursor = BlockCursor::new(self.table.block(i)?);
        while cursor.advance().map_err(|w| self.table.corrupt(offset, w))? {
            if self.upper.as_deref().is_some_and(|upper| cursor.key() > upper) {
                break;
            }
            self.entries.push(cursor.entry());
        }
        self.blocks_left = i;
        Ok(())
    }
}

impl Iterator for TableRevIter {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let step = self.step();
        self.done = !matches!(step, Ok(Some(_)));
        step.transpose()
    }
}
