//! [`ContentKey`]: the name of a file's bytes in a backup store,
//! `files/{xxh3-128 hex}-{size}.{kind}`, shared by every backup holding
//! those bytes; and hashing files into one.

use std::fmt;

use xxhash_rust::xxh3::Xxh3Default;

use crate::version::FileName;

/// Folder of content-addressed files in a backup store.
pub const FILES_PREFIX: &str = "files/";

/// What a stored file is, as the extension of its content key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContentKind {
    /// A table (`.sst`).
    Table,
    /// A blob file (`.blob`).
    Blob,
    /// A prefix of a hybrid-log segment (`.hlog`).
    Log,
    /// A version file `v{N}` (`.version`).
    Version,
}

impl ContentKind {
    /// The kind of the database file `name` (`CURRENT` is never stored: a
    /// restore writes it).
    pub fn of(name: FileName) -> Option<ContentKind> {
        match name {
            FileName::Table(_) => Some(ContentKind::Table),
            FileName::Blob(_) => Some(ContentKind::Blob),
            FileName::LogSegment(_) => Some(ContentKind::Log),
            FileName::Version(_) => Some(ContentKind::Version),
            FileName::Current => None,
        }
    }

    /// The extension: `sst`, `blob`, `hlog` or `version`.
    pub fn extension(self) -> &'static str {
        match self {
            ContentKind::Table => "sst",
            ContentKind::Blob => "blob",
            ContentKind::Log => "hlog",
            ContentKind::Version => "version",
        }
    }

    /// The role a manifest records: `table`, `blob`, `log` or `version`.
    pub fn role(self) -> &'static str {
        match self {
            ContentKind::Table => "table",
            ContentKind::Blob => "blob",
            ContentKind::Log => "log",
            ContentKind::Version => "version",
        }
    }

    const ALL: [ContentKind; 4] = [ContentKind::Table, ContentKind::Blob, ContentKind::Log, ContentKind::Version];

    /// The kind with extension `ext`.
    pub fn from_extension(ext: &str) -> Option<ContentKind> {
        Self::ALL.into_iter().find(|k| k.extension() == ext)
    }

    /// The kind with role `role`.
    pub fn from_role(role: &str) -> Option<ContentKind> {
        Self::ALL.into_iter().find(|k| k.role() == role)
    }
}

/// The content address of a file: its xxh3-128, size and kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentKey {
    /// xxh3-128 of the bytes (also the checksum a restore verifies).
    pub xxh3_128: u128,
    /// Length in bytes.
    pub size_bytes: u64,
    /// What the file is.
    pub kind: ContentKind,
}

impl ContentKey {
    /// The store key, `files/{32 hex digits}-{size}.{extension}`.
    pub fn key(&self) -> String {
        format!("{FILES_PREFIX}{:032x}-{}.{}", self.xxh3_128, self.size_bytes, self.kind.extension())
    }

    /// Parses a store key made by [`key`](Self::key); anything else
    /// (another spelling of the same numbers included) is `None`.
    pub fn parse(key: &str) -> Option<ContentKey> {
        let rest = key.strip_prefix(FILES_PREFIX)?;
        let (hex, rest) = rest.split_once('-')?;
        let (size, ext) = rest.split_once('.')?;
        let canonical_size =
            !size.is_empty() && size.bytes().all(|b| b.is_ascii_digit()) && (size == "0" || !size.starts_with('0'));
        if !canonical_size {
            return None;
        }
        Some(ContentKey {
            xxh3_128: crate::wire::parse_hex(hex, 32)?,
            size_bytes: size.parse().ok()?,
            kind: ContentKind::from_extension(ext)?,
        })
    }
}

impl fmt::Display for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// An xxh3-128 computed over bytes fed in order.
#[derive(Clone, Default)]
pub struct ContentHasher {
    hasher: Xxh3Default,
    len_bytes: u64,
}

impl ContentHasher {
    /// A hasher that has seen nothing.
    pub fn new() -> ContentHasher {
        ContentHasher::default()
    }

    /// Feeds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.len_bytes += bytes.len() as u64;
    }

    /// Bytes seen so far.
    pub fn len_bytes(&self) -> u64 {
        self.len_bytes
    }

    /// The xxh3-64 of the bytes seen (what `CURRENT` records of a version file).
    pub fn xxh3_64(&self) -> u64 {
        self.hasher.digest()
    }

    /// The key of the bytes seen, as a file of `kind`.
    pub fn key(&self, kind: ContentKind) -> ContentKey {
        ContentKey { xxh3_128: self.hasher.digest128(), size_bytes: self.len_bytes, kind }
    }
}

impl fmt::Debug for ContentHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentHasher").field("len_bytes", &self.len_bytes).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_odd_spellings_are_refused() {
        let mut h = ContentHasher::new();
        h.update(b"hello ");
        h.update(b"world");
        let key = h.key(ContentKind::Table);
        assert_eq!(key.xxh3_128, xxhash_rust::xxh3::xxh3_128(b"hello world"));
        assert_eq!(key.size_bytes, 11);
        assert_eq!(h.xxh3_64(), crate::wire::checksum(b"hello world"));
        let text = key.key();
        assert!(text.starts_with("files/") && text.ends_with("-11.sst"), "{text}");
        assert_eq!(ContentKey::parse(&text), Some(key));
        let hex = format!("{:032x}", key.xxh3_128);
        for odd in [
            format!("files/{hex}-011.sst"),
            format!("files/{hex}-11.SST"),
            format!("files/{hex}-11.txt"),
            format!("files/{}-11.sst", hex.to_uppercase()),
            format!("files/{}-11.sst", &hex[1..]),
            format!("files/{hex}-.sst"),
            format!("files/{hex}-11"),
            format!("other/{hex}-11.sst"),
        ] {
            assert_eq!(ContentKey::parse(&odd), None, "{odd}");
        }
    }
}
