//! [`Manifest`]: what one backup holds, stored create-only as
//! `manifests/manifest-{id:06}.json` (format in `docs/FORMAT.md`,
//! "Backup manifest").
//!
//! A sealed JSON document ([`crate::sealed`]):
//!
//! ```text
//! {
//!   "format": "cairndb-backup-manifest",
//!   "format_version": 3,
//!   "id": 7,
//!   "created_unix_ms": 1763725000000,
//!   "source": "/data/db",
//!   "database": "5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7b-1",
//!   "seqno": 41234,
//!   "version_id": 17,
//!   "files": [
//!     {
//!       "role": "table",
//!       "name": "tables/12.sst",
//!       "key": "files/…-4096.sst",
//!       "size_bytes": 4096,
//!       "xxh3_128": "…"
//!     }
//!   ],
//!   "checksum": "0123456789abcdef"
//! }
//! ```
//!
//! Each file's `name` is its path in the database directory; it is parsed
//! back to an id and the path rebuilt from that, never used as it is. `key`
//! must be the content key of `xxh3_128`, `size_bytes` and the role's kind.
//! Exactly one file is the version file `v{version_id}`. `database` is the
//! identity of the timeline backed up ([`DbIdentity`]), or `unknown`.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::content::{ContentKey, ContentKind};
use crate::sealed;
use crate::version::{DbLayout, FileName, VersionId};
use crate::wire::parse_hex;
use crate::{BackupId, DbIdentity, Error, Result, SeqNo};

/// Folder of manifests in a backup store.
pub const MANIFESTS_PREFIX: &str = "manifests/";
/// The `format` member of a manifest.
pub const MANIFEST_FORMAT: &str = "cairndb-backup-manifest";
/// The manifest format version this build writes.
pub const MANIFEST_FORMAT_VERSION: u64 = 3;
/// How a manifest names a database without an identity.
const UNKNOWN_DATABASE: &str = "unknown";
/// Largest manifest read (about 200,000 files).
pub const MANIFEST_BYTES_MAX: u64 = 64 << 20;

/// The document as stored: what [`Manifest`] holds, spelled as JSON.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestDoc {
    format: String,
    format_version: u64,
    id: u64,
    created_unix_ms: u64,
    source: String,
    database: String,
    seqno: u64,
    version_id: u64,
    files: Vec<FileDoc>,
}

/// One file of a [`ManifestDoc`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    role: String,
    name: String,
    key: String,
    size_bytes: u64,
    xxh3_128: String,
}

/// What one backup holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The backup's id (1, 2, ...), unique in its store.
    pub id: BackupId,
    /// When it was taken, in milliseconds since the Unix epoch.
    pub created_unix_ms: u64,
    /// The database it was taken from (for people; a path that is not
    /// UTF-8 is shown with U+FFFD in place of bad bytes).
    pub source: String,
    /// The identity of the database timeline it holds; `None` for a
    /// database of unknown identity.
    pub database: Option<DbIdentity>,
    /// It holds every write with seqno <= this, and none after.
    pub seqno: SeqNo,
    /// The id of the version it holds.
    pub version_id: VersionId,
    /// Its files: tables, blob files, log segments and the version file.
    pub files: Vec<ManifestFile>,
}

/// One file of a backup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManifestFile {
    /// Its name in the database directory.
    pub name: FileName,
    /// Where its bytes are in the store; also their checksum and size.
    pub content: ContentKey,
}

impl ManifestFile {
    /// Its path in the database directory, e.g. `tables/12.sst`.
    pub fn db_name(&self) -> String {
        db_name(self.name)
    }

    /// Its size.
    pub fn size_bytes(&self) -> u64 {
        self.content.size_bytes
    }
}

/// The store key of manifest `id`: `manifests/manifest-{id:06}.json`.
pub fn manifest_key(id: BackupId) -> String {
    format!("{MANIFESTS_PREFIX}manifest-{id:06}.json")
}

/// The id in a manifest key made by [`manifest_key`], or `None`.
pub fn parse_manifest_key(key: &str) -> Option<BackupId> {
    let digits = key.strip_prefix(MANIFESTS_PREFIX)?.strip_prefix("manifest-")?.strip_suffix(".json")?;
    let canonical = digits.len() >= 6 && digits.bytes().all(|b| b.is_ascii_digit());
    let id: u64 = digits.parse().ok().filter(|_| canonical)?;
    let id = BackupId(id);
    (id.0 >= 1 && manifest_key(id) == key).then_some(id)
}

/// The path of `name` in a database directory, relative to its root.
pub fn db_name(name: FileName) -> String {
    let root = DbLayout::new("");
    root.path_of(name).to_string_lossy().into_owned()
}

/// Parses a relative path made by [`db_name`].
pub fn parse_db_name(text: &str) -> Option<FileName> {
    let name = match text.split_once('/') {
        Some((DbLayout::TABLES, file)) => FileName::parse_table(file),
        Some((DbLayout::BLOBS, file)) => FileName::parse_blob(file),
        Some((DbLayout::LOG, file)) => FileName::parse_log(file),
        Some(_) => None,
        None => FileName::parse_root(text).filter(|n| matches!(n, FileName::Version(_))),
    }?;
    (db_name(name) == text).then_some(name)
}

impl Manifest {
    /// Bytes of all its files.
    pub fn bytes_total(&self) -> u64 {
        self.files.iter().map(ManifestFile::size_bytes).sum()
    }

    /// Its store key.
    pub fn key(&self) -> String {
        manifest_key(self.id)
    }

    /// The document's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let database = self.database.map_or_else(|| UNKNOWN_DATABASE.to_owned(), |d| d.to_string());
        sealed::seal(&ManifestDoc {
            format: MANIFEST_FORMAT.to_owned(),
            format_version: MANIFEST_FORMAT_VERSION,
            id: self.id.0,
            created_unix_ms: self.created_unix_ms,
            source: self.source.clone(),
            database,
            seqno: self.seqno.0,
            version_id: self.version_id.0,
            files: self.files.iter().map(file_doc).collect(),
        })
    }

    /// Parses and checks the manifest read from `location`. Anything
    /// damaged, inconsistent or unknown is `Error::Corruption`; never panics.
    pub fn decode(location: &str, bytes: &[u8]) -> Result<Manifest> {
        let doc: ManifestDoc = sealed::unseal(Path::new(location), bytes, MANIFEST_FORMAT, MANIFEST_FORMAT_VERSION)?;
        let bad = |what: String| Error::corruption(Path::new(location), 0, what);
        let database = match doc.database.as_str() {
            UNKNOWN_DATABASE => None,
            text => Some(text.parse::<DbIdentity>().map_err(|_| bad(format!("{text:?} is not a database identity")))?),
        };
        let manifest = Manifest {
            id: BackupId(doc.id),
            created_unix_ms: doc.created_unix_ms,
            source: doc.source,
            database,
            seqno: SeqNo(doc.seqno),
            version_id: VersionId(doc.version_id),
            files: doc.files.iter().map(decode_file).collect::<std::result::Result<_, _>>().map_err(bad)?,
        };
        manifest.check().map_err(bad)?;
        Ok(manifest)
    }

    /// The rules every manifest keeps.
    fn check(&self) -> std::result::Result<(), String> {
        if self.id.0 == 0 {
            return Err("backup id 0".into());
        }
        let mut names = BTreeSet::new();
        for file in &self.files {
            if !names.insert(file.name) {
                return Err(format!("{} is listed twice", file.db_name()));
            }
        }
        let versions: Vec<FileName> =
            self.files.iter().map(|f| f.name).filter(|n| matches!(n, FileName::Version(_))).collect();
        if versions != [FileName::Version(self.version_id)] {
            return Err(format!("the files must include exactly one version file, v{}", self.version_id));
        }
        Ok(())
    }
}

fn file_doc(file: &ManifestFile) -> FileDoc {
    FileDoc {
        role: file.content.kind.role().to_owned(),
        name: file.db_name(),
        key: file.content.key(),
        size_bytes: file.content.size_bytes,
        xxh3_128: format!("{:032x}", file.content.xxh3_128),
    }
}

fn decode_file(doc: &FileDoc) -> std::result::Result<ManifestFile, String> {
    let name_text = &doc.name;
    let name = parse_db_name(name_text).ok_or_else(|| format!("{name_text:?} is not a database file"))?;
    let role = &doc.role;
    let kind = ContentKind::from_role(role).ok_or_else(|| format!("unknown role {role:?}"))?;
    if ContentKind::of(name) != Some(kind) {
        return Err(format!("{name_text} cannot have role {role:?}"));
    }
    let key_text = &doc.key;
    let content = ContentKey::parse(key_text).ok_or_else(|| format!("{key_text:?} is not a content key"))?;
    let consistent = content.kind == kind
        && content.size_bytes == doc.size_bytes
        && parse_hex(&doc.xxh3_128, 32) == Some(content.xxh3_128);
    if !consistent {
        return Err(format!("{name_text}: its key, role, size and checksum disagree"));
    }
    Ok(ManifestFile { name, content })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BlobFileId, TableId};

    pub(crate) fn sample() -> Manifest {
        let content = |n: u128, size, kind| ContentKey { xxh3_128: n, size_bytes: size, kind };
        Manifest {
            id: BackupId(7),
            created_unix_ms: 1_763_725_000_000,
            source: "/data/odd \"name\"\n\u{1}é".into(),
            database: Some(DbIdentity { id: 0x5b2e_9c0d, generation: 3 }),
            seqno: SeqNo(41_234),
            version_id: VersionId(17),
            files: vec![
                ManifestFile {
                    name: FileName::Table(TableId(12)),
                    content: content(u128::MAX, 4096, ContentKind::Table),
                },
                ManifestFile { name: FileName::Blob(BlobFileId(3)), content: content(1, 0, ContentKind::Blob) },
                ManifestFile { name: FileName::LogSegment(9), content: content(2, 77, ContentKind::Log) },
                ManifestFile { name: FileName::Version(VersionId(17)), content: content(3, 310, ContentKind::Version) },
            ],
        }
    }

    #[test]
    fn round_trip() {
        let bytes = sample().encode();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("\n      \"name\": \"tables/12.sst\",\n"), "{text}");
        assert_eq!(Manifest::decode("m", &bytes).unwrap(), sample());
    }

    #[test]
    fn an_unknown_database_round_trips() {
        let unknown = Manifest { database: None, ..sample() };
        let bytes = unknown.encode();
        assert!(String::from_utf8_lossy(&bytes).contains("\"database\": \"unknown\","));
        assert_eq!(Manifest::decode("m", &bytes).unwrap(), unknown);
    }

    #[test]
    fn keys_and_names_are_canonical() {
        assert_eq!(manifest_key(BackupId(7)), "manifests/manifest-000007.json");
        assert_eq!(parse_manifest_key("manifests/manifest-000007.json"), Some(BackupId(7)));
        assert_eq!(parse_manifest_key("manifests/manifest-1234567.json"), Some(BackupId(1_234_567)));
        for odd in ["manifests/manifest-7.json", "manifests/manifest-0000007.json", "manifests/manifest-000000.json"] {
            assert_eq!(parse_manifest_key(odd), None, "{odd}");
        }
        for name in ["tables/12.sst", "blobs/3.blob", "log/9.hlog", "v17"] {
            assert_eq!(db_name(parse_db_name(name).unwrap()), name);
        }
        for odd in ["CURRENT", "tables/../x.sst", "tables/012.sst", "blobs/3.sst", "/v1", "tables/12.sst/x", "x/1.sst"]
        {
            assert_eq!(parse_db_name(odd), None, "{odd}");
        }
    }

    /// Re-seals a hand-edited manifest so only the edit is judged.
    fn edited(edit: impl Fn(&str) -> String) -> Vec<u8> {
        let text = String::from_utf8(sample().encode()).unwrap();
        let body_end = text.rfind("  \"checksum\"").unwrap();
        let body = edit(&text[..body_end]);
        let sum = crate::wire::checksum(body.as_bytes());
        format!("{body}  \"checksum\": \"{sum:016x}\"\n}}\n").into_bytes()
    }

    #[test]
    fn inconsistent_manifests_are_corruption() {
        type Edit = fn(&str) -> String;
        let cases: [(&str, Edit); 15] = [
            ("role", |t| t.replacen("\"role\": \"table\"", "\"role\": \"blob\"", 1)),
            ("unknown role", |t| t.replacen("\"role\": \"table\"", "\"role\": \"index\"", 1)),
            ("size", |t| t.replacen("\"size_bytes\": 4096", "\"size_bytes\": 4097", 1)),
            ("digest", |t| t.replacen(&"f".repeat(32), &"F".repeat(32), 1)),
            ("name of another role", |t| t.replacen("\"name\": \"blobs/3.blob\"", "\"name\": \"tables/3.sst\"", 1)),
            ("name", |t| t.replacen("tables/12.sst", "tables/../../etc.sst", 1)),
            ("version", |t| t.replacen("\"version_id\": 17", "\"version_id\": 18", 1)),
            ("format", |t| t.replacen("\"format_version\": 3", "\"format_version\": 4", 1)),
            ("old format", |t| t.replacen("\"format_version\": 3", "\"format_version\": 2", 1)),
            ("database", |t| t.replacen("5b2e9c0d-3", "5b2e9c0d-0", 1)),
            ("no database", |t| t.lines().filter(|l| !l.contains("\"database\"")).map(|l| format!("{l}\n")).collect()),
            ("unknown", |t| t.replacen("\"id\": 7,", "\"id\": 7,\n  \"extra\": 1,", 1)),
            ("unknown in a file", |t| t.replacen("\"size_bytes\": 4096,", "\"size_bytes\": 4096, \"x\": 1,", 1)),
            ("missing", |t| t.replacen("  \"seqno\": 41234,\n", "", 1)),
            ("id", |t| t.replacen("\"id\": 7,", "\"id\": 0,", 1)),
        ];
        for (what, edit) in cases {
            let bytes = edited(edit);
            let result = Manifest::decode("m", &bytes);
            assert!(result.as_ref().is_err_and(Error::is_corruption), "{what}: {result:?}");
            assert!(result.unwrap_err().to_string().starts_with("corruption in m at offset"), "{what}");
        }
        assert_eq!(Manifest::decode("m", &edited(|t| t.to_owned())).unwrap(), sample());
    }
}
