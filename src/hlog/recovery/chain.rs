//! Which segment files recovery reads: the chain of live segments that
//! starts at the replay address, the obsolete ones below it, and a newest
//! file whose creation a crash interrupted. Pure: decided from the files'
//! numbers, headers and lengths.
//!
//! The log writes a segment's header and fsyncs it (and the directory)
//! before any record goes into it, and numbers segments consecutively in
//! address order. So every live segment has a valid header, the first one
//! starts exactly at the replay address, and their numbers have no gaps;
//! only the newest file can be shorter than a header (a crash while it was
//! being created). Anything else is damage.

use super::scan::Damage;
use crate::hlog::segment::{HEADER_BYTES, SegmentHeader};

/// One segment file as listed, before its records are read.
#[derive(Clone, Debug)]
pub(super) struct SegmentFile {
    pub(super) number: u64,
    pub(super) header: Result<SegmentHeader, &'static str>,
    /// File length, header included.
    pub(super) len_bytes: u64,
    /// The header bytes (fewer when the file is shorter).
    pub(super) header_bytes: Vec<u8>,
}

impl SegmentFile {
    fn body_len(&self) -> u64 {
        self.len_bytes.saturating_sub(HEADER_BYTES as u64)
    }
}

/// The files sorted into their roles (indexes into the listing).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Chain {
    /// Wholly below the replay address: not read.
    pub(super) obsolete: Vec<usize>,
    /// From the replay address on, in order.
    pub(super) live: Vec<usize>,
    /// The newest file, left without a whole header by a crash during its
    /// creation: it holds nothing.
    pub(super) torn_creation: Option<usize>,
    /// Obsolete files whose header is damaged (they are not needed).
    pub(super) damaged_obsolete: Vec<usize>,
}

/// Sorts `files` (ascending by number) into a chain starting at `replay`.
/// A `Damage`'s `index` is an index into `files`.
pub(super) fn chain(files: &[SegmentFile], replay: u64) -> Result<Chain, Damage> {
    let mut chain = Chain::default();
    let first_live_number = files.iter().filter(|f| f.header.is_ok_and(|h| h.start >= replay)).map(|f| f.number).min();
    let last_obsolete_number =
        files.iter().filter(|f| f.header.is_ok_and(|h| h.start < replay)).map(|f| f.number).max();
    for (i, file) in files.iter().enumerate() {
        match file.header {
            Ok(h) if h.start < replay => {
                if h.start + file.body_len() > replay {
                    let what = format!(
                        "the replay address {replay} lies inside this segment ({}..{})",
                        h.start,
                        h.start + file.body_len()
                    );
                    return Err(Damage { index: i, offset: 0, what });
                }
                chain.obsolete.push(i);
            }
            Ok(_) => chain.live.push(i),
            Err(what) => {
                let below_live = first_live_number.is_some_and(|n| file.number < n);
                let below_obsolete = last_obsolete_number.is_some_and(|n| file.number < n);
                if below_live || (first_live_number.is_none() && below_obsolete) {
                    chain.damaged_obsolete.push(i);
                } else if i + 1 == files.len() && torn_in_creation(file) {
                    chain.torn_creation = Some(i);
                } else {
                    return Err(Damage { index: i, offset: 0, what: what.into() });
                }
            }
        }
    }
    check_live(files, &chain, replay)?;
    Ok(chain)
}

/// A header write cut short, or never written (zeros where the file
/// system exposes unwritten space).
fn torn_in_creation(file: &SegmentFile) -> bool {
    file.len_bytes < HEADER_BYTES as u64
        || (file.len_bytes == HEADER_BYTES as u64 && file.header_bytes.iter().all(|&b| b == 0))
}

fn check_live(files: &[SegmentFile], chain: &Chain, replay: u64) -> Result<(), Damage> {
    let header = |i: usize| files[i].header.expect("live segments have valid headers");
    if let (Some(&last_obsolete), Some(&first)) = (chain.obsolete.last(), chain.live.first())
        && files[last_obsolete].number > files[first].number
    {
        let what = format!("segment {} holds older log addresses yet a higher number", files[last_obsolete].number);
        return Err(Damage { index: last_obsolete, offset: 0, what });
    }
    if let Some(&first) = chain.live.first()
        && header(first).start != replay
    {
        // The segment before it, if its header is what is damaged, is the
        // one that should hold the replay address.
        if let Some(&before) = chain.damaged_obsolete.last()
            && files[before].number + 1 == files[first].number
            && let Err(what) = files[before].header
        {
            let what = format!("{what} (this segment holds log address {replay}, where the log continues)");
            return Err(Damage { index: before, offset: 0, what });
        }
        let what = format!(
            "the log must continue at address {replay}, but its first segment starts at {}: \
             the segment holding address {replay} is missing",
            header(first).start
        );
        return Err(Damage { index: first, offset: 0, what });
    }
    let page_size = chain.live.first().map(|&i| header(i).page_size_bytes);
    let mut numbers = chain.live.iter().copied().chain(chain.torn_creation);
    let Some(mut previous) = numbers.next() else { return Ok(()) };
    for i in numbers {
        if files[i].number != files[previous].number + 1 {
            let what = format!("segment {} is missing before this one", files[previous].number + 1);
            return Err(Damage { index: i, offset: 0, what });
        }
        if let Ok(h) = files[i].header {
            if Some(h.page_size_bytes) != page_size {
                return Err(Damage { index: i, offset: 0, what: "segment has another page size".into() });
            }
            if h.start < header(previous).start {
                return Err(Damage { index: i, offset: 0, what: "segment starts below the one before it".into() });
            }
        }
        previous = i;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(number: u64, start: u64, body: u64) -> SegmentFile {
        let header = SegmentHeader { page_size_bytes: 4096, number, start };
        SegmentFile {
            number,
            header: Ok(header),
            len_bytes: HEADER_BYTES as u64 + body,
            header_bytes: header.encode().to_vec(),
        }
    }

    fn damaged(mut f: SegmentFile) -> SegmentFile {
        f.header = Err("segment header checksum mismatch");
        f
    }

    #[test]
    fn the_chain_starts_at_the_replay_address() {
        let files = [file(3, 0, 4096), file(4, 4096, 8192), file(5, 12288, 10)];
        let c = chain(&files, 4096).unwrap();
        assert_eq!((c.obsolete, c.live), (vec![0], vec![1, 2]));
        assert!(chain(&files[..1], 4096).unwrap().live.is_empty());
        // The segment at the replay address is gone.
        assert!(chain(&[file(3, 0, 4096), file(5, 12288, 10)], 4096).is_err());
        assert!(chain(&[file(5, 12288, 10)], 4096).is_err());
        // A gap in the numbers.
        assert!(chain(&[file(4, 4096, 8192), file(6, 12288, 10)], 4096).is_err());
        // The replay address inside a segment.
        assert!(chain(&[file(3, 0, 8192)], 4096).is_err());
    }

    #[test]
    fn a_damaged_header_is_damage_unless_obsolete_or_torn_at_creation() {
        let live = [file(4, 4096, 100), damaged(file(5, 8192, 100))];
        assert_eq!(chain(&live, 4096).unwrap_err().index, 1);
        let first = [damaged(file(4, 4096, 100)), file(5, 8192, 100)];
        assert_eq!(chain(&first, 4096).unwrap_err().index, 0);
        let obsolete = [damaged(file(2, 0, 100)), file(3, 100, 100), file(4, 4096, 10)];
        assert_eq!(chain(&obsolete, 4096).unwrap().damaged_obsolete, vec![0]);
        let mut short = damaged(file(5, 8192, 0));
        short.len_bytes = 20;
        let torn = [file(4, 4096, 100), short.clone()];
        assert_eq!(chain(&torn, 4096).unwrap().torn_creation, Some(1));
        // Only the newest file can be torn at creation.
        assert!(chain(&[short, file(6, 8192, 10)], 4096).is_err());
        let mut zeros = damaged(file(5, 8192, 0));
        zeros.header_bytes = vec![0; HEADER_BYTES];
        assert_eq!(chain(&[file(4, 4096, 100), zeros], 4096).unwrap().torn_creation, Some(1));
    }
}
