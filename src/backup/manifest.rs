//! [`Manifest`]: what one backup holds, stored create-only as
//! `manifests/manifest-{id:06}.json` (format in `docs/FORMAT.md`,
//! "Backup manifest").
//!
//! A sealed JSON document ([`super::sealed`]):
//!
//! ```text
//! {
//!   "format": "cairndb-backup-manifest",
//!   "format_version": 2,
//!   "id": 7,
//!   "created_unix_ms": 1763725000000,
//!   "source": "/data/db",
//!   "database": "5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7b-1",
//!   "seqno": 41234,
//!   "version_id": 17,
//!   "files": [
//!     {"role":"table","name":"tables/12.sst","key":"files/…-4096.sst","size_bytes":4096,"xxh3_128":"…"},
//!     {"role":"version","name":"v17","key":"files/…-310.version","size_bytes":310,"xxh3_128":"…"}
//!   ],
//!   "checksum": "0123456789abcdef"
//! }
//! ```
//!
//! Each file's `name` is its path in the database directory; it is parsed
//! back to an id and the path rebuilt from that, never used as it is. `key`
//! must be the content key of `xxh3_128`, `size_bytes` and the role's kind.
//! Exactly one file is the version file `v{version_id}`. `database` is the
//! identity of the timeline backed up ([`DbIdentity`]); format 1 had none,
//! and such a manifest is read as of an unknown database.

use std::collections::BTreeSet;

use super::content::{ContentKey, ContentKind};
use super::json::{self, Json};
use super::sealed::{self, Fields};
use crate::version::{DbLayout, FileName, VersionId};
use crate::{DbIdentity, Result, SeqNo};

/// Folder of manifests in a backup store.
pub const MANIFESTS_PREFIX: &str = "manifests/";
/// The `format` member of a manifest.
pub const MANIFEST_FORMAT: &str = "cairndb-backup-manifest";
/// The manifest format version this build writes.
pub const MANIFEST_FORMAT_VERSION: u64 = 2;
/// The format before `database`, still read.
const FORMAT_VERSION_NO_DATABASE: u64 = 1;
/// Largest manifest read (about 200,000 files).
pub const MANIFEST_BYTES_MAX: u64 = 64 << 20;

const MEMBERS: [&str; 9] =
    ["format", "format_version", "id", "created_unix_ms", "source", "database", "seqno", "version_id", "files"];
const FILE_MEMBERS: [&str; 5] = ["role", "name", "key", "size_bytes", "xxh3_128"];

/// What one backup holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The backup's id (1, 2, ...), unique in its store.
    pub id: u64,
    /// When it was taken, in milliseconds since the Unix epoch.
    pub created_unix_ms: u64,
    /// The database it was taken from (for people; a path that is not
    /// UTF-8 is shown with U+FFFD in place of bad bytes).
    pub source: String,
    /// The identity of the database timeline it holds; `None` for a
    /// backup from before identities (format 1), of an unknown database.
    pub database: Option<DbIdentity>,
    /// It holds every write with seqno <= this, and none after.
    pub seqno: SeqNo,
    /// The id of the version it holds.
    pub version_id: u64,
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
pub fn manifest_key(id: u64) -> String {
    format!("{MANIFESTS_PREFIX}manifest-{id:06}.json")
}

/// The id in a manifest key made by [`manifest_key`], or `None`.
pub fn parse_manifest_key(key: &str) -> Option<u64> {
    let digits = key.strip_prefix(MANIFESTS_PREFIX)?.strip_prefix("manifest-")?.strip_suffix(".json")?;
    let canonical = digits.len() >= 6 && digits.bytes().all(|b| b.is_ascii_digit());
    let id: u64 = digits.parse().ok().filter(|_| canonical)?;
    (id >= 1 && manifest_key(id) == key).then_some(id)
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
        let files = if self.files.is_empty() {
            "[]".to_owned()
        } else {
            let lines: Vec<String> = self.files.iter().map(|f| format!("    {}", file_json(f).encode())).collect();
            format!("[\n{}\n  ]", lines.join(",\n"))
        };
        let string = |s: &str| {
            let mut out = String::new();
            json::write_string(&mut out, s);
            out
        };
        // Without an identity, the document is exactly a format 1 one.
        let (format_version, database) = match self.database {
            Some(database) => (MANIFEST_FORMAT_VERSION, Some(("database", string(&database.to_string())))),
            None => (FORMAT_VERSION_NO_DATABASE, None),
        };
        let mut members = vec![
            ("format", string(MANIFEST_FORMAT)),
            ("format_version", format_version.to_string()),
            ("id", self.id.to_string()),
            ("created_unix_ms", self.created_unix_ms.to_string()),
            ("source", string(&self.source)),
        ];
        members.extend(database);
        members.extend([
            ("seqno", self.seqno.0.to_string()),
            ("version_id", self.version_id.to_string()),
            ("files", files),
        ]);
        sealed::seal(&members)
    }

    /// Parses and checks the manifest read from `location`. Anything
    /// damaged, inconsistent or unknown is `Error::Corruption`; never panics.
    pub fn decode(location: &str, bytes: &[u8]) -> Result<Manifest> {
        let value = sealed::unseal(location, bytes)?;
        let fields = sealed::members(location, &value, &MEMBERS)?;
        let format_version =
            fields.check_format(MANIFEST_FORMAT, &[MANIFEST_FORMAT_VERSION, FORMAT_VERSION_NO_DATABASE])?;
        let database = match format_version {
            FORMAT_VERSION_NO_DATABASE if value.get("database").is_some() => {
                return Err(fields.bad("a format 1 manifest has no \"database\""));
            }
            FORMAT_VERSION_NO_DATABASE => None,
            _ => {
                let text = fields.str("database")?;
                Some(
                    text.parse::<DbIdentity>()
                        .map_err(|_| fields.bad(format!("{text:?} is not a database identity")))?,
                )
            }
        };
        let manifest = Manifest {
            id: fields.u64("id")?,
            created_unix_ms: fields.u64("created_unix_ms")?,
            source: fields.str("source")?.to_owned(),
            database,
            seqno: SeqNo(fields.u64("seqno")?),
            version_id: fields.u64("version_id")?,
            files: fields.array("files")?.iter().map(|f| decode_file(location, f)).collect::<Result<_>>()?,
        };
        manifest.check().map_err(|what| fields.bad(what))?;
        Ok(manifest)
    }

    /// The rules every manifest keeps.
    fn check(&self) -> std::result::Result<(), String> {
        if self.id == 0 {
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
        if versions != [FileName::Version(VersionId(self.version_id))] {
            return Err(format!("the files must include exactly one version file, v{}", self.version_id));
        }
        Ok(())
    }
}

fn file_json(file: &ManifestFile) -> Json {
    let kind = file.content.kind;
    Json::Object(vec![
        ("role".into(), Json::String(kind.role().into())),
        ("name".into(), Json::String(file.db_name())),
        ("key".into(), Json::String(file.content.key())),
        ("size_bytes".into(), Json::Number(file.content.size_bytes)),
        ("xxh3_128".into(), Json::String(format!("{:032x}", file.content.xxh3_128))),
    ])
}

fn decode_file(location: &str, value: &Json) -> Result<ManifestFile> {
    let fields = Fields::of(location, value);
    if !matches!(value, Json::Object(_)) || value.keys().iter().any(|k| !FILE_MEMBERS.contains(k)) {
        return Err(fields.bad("a file entry is not an object of role, name, key, size_bytes and xxh3_128"));
    }
    let name_text = fields.str("name")?;
    let name = parse_db_name(name_text).ok_or_else(|| fields.bad(format!("{name_text:?} is not a database file")))?;
    let role = fields.str("role")?;
    let kind = ContentKind::from_role(role).ok_or_else(|| fields.bad(format!("unknown role {role:?}")))?;
    if ContentKind::of(name) != Some(kind) {
        return Err(fields.bad(format!("{name_text} cannot have role {role:?}")));
    }
    let key_text = fields.str("key")?;
    let content =
        ContentKey::parse(key_text).ok_or_else(|| fields.bad(format!("{key_text:?} is not a content key")))?;
    let sum = fields.str("xxh3_128")?;
    let consistent = content.kind == kind
        && content.size_bytes == fields.u64("size_bytes")?
        && sum == format!("{:032x}", content.xxh3_128);
    if !consistent {
        return Err(fields.bad(format!("{name_text}: its key, role, size and checksum disagree")));
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
            id: 7,
            created_unix_ms: 1_763_725_000_000,
            source: "/data/odd \"name\"\n\u{1}é".into(),
            database: Some(DbIdentity { id: 0x5b2e_9c0d, generation: 3 }),
            seqno: SeqNo(41_234),
            version_id: 17,
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
        assert!(text.contains("\"name\":\"tables/12.sst\""), "{text}");
        assert_eq!(Manifest::decode("m", &bytes).unwrap(), sample());
    }

    #[test]
    fn format_1_is_read_as_of_an_unknown_database() {
        let old = Manifest { database: None, ..sample() };
        let bytes = old.encode();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("\"format_version\": 1,") && !text.contains("database"), "{text}");
        assert_eq!(Manifest::decode("m", &bytes).unwrap(), old);
    }

    #[test]
    fn keys_and_names_are_canonical() {
        assert_eq!(manifest_key(7), "manifests/manifest-000007.json");
        assert_eq!(parse_manifest_key("manifests/manifest-000007.json"), Some(7));
        assert_eq!(parse_manifest_key("manifests/manifest-1234567.json"), Some(1_234_567));
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
        let cases: [(&str, Edit); 11] = [
            ("role", |t| t.replacen("\"role\":\"table\"", "\"role\":\"blob\"", 1)),
            ("size", |t| t.replacen("\"size_bytes\":4096", "\"size_bytes\":4097", 1)),
            ("name", |t| t.replacen("tables/12.sst", "tables/../../etc.sst", 1)),
            ("version", |t| t.replacen("\"version_id\": 17", "\"version_id\": 18", 1)),
            ("format", |t| t.replacen("\"format_version\": 2", "\"format_version\": 3", 1)),
            ("old format with a database", |t| t.replacen("\"format_version\": 2", "\"format_version\": 1", 1)),
            ("database", |t| t.replacen("5b2e9c0d-3", "5b2e9c0d-0", 1)),
            ("no database", |t| t.lines().filter(|l| !l.contains("\"database\"")).map(|l| format!("{l}\n")).collect()),
            ("unknown", |t| t.replacen("\"id\": 7,", "\"id\": 7,\n  \"extra\": 1,", 1)),
            ("missing", |t| t.replacen("  \"seqno\": 41234,\n", "", 1)),
            ("id", |t| t.replacen("\"id\": 7,", "\"id\": 0,", 1)),
        ];
        for (what, edit) in cases {
            let bytes = edited(edit);
            let result = Manifest::decode("m", &bytes);
            assert!(result.as_ref().is_err_and(crate::Error::is_corruption), "{what}: {result:?}");
        }
        assert_eq!(Manifest::decode("m", &edited(|t| t.to_owned())).unwrap(), sample());
    }
}
