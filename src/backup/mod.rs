//! Incremental backups to another directory or to object storage
//! (`docs/DESIGN.md`, "Backups").
//!
//! A [`BackupEngine`] keeps backups of databases in a [`BackupStore`]: a
//! directory ([`DirStore`], any file system) or, with the `s3` feature, an
//! S3-compatible object store (`S3Store`). Under the store's root:
//!
//! ```text
//! files/{xxh3-128 hex}-{size}.{sst|blob|hlog|version}   file contents, shared by every backup holding them
//! manifests/manifest-{id:06}.json                       what backup {id} holds (create-only)
//! latest.json                                           the last committed backup's id and database (a hint for tools)
//! locks/{backup|gc}-{ms}-{nonce}                        leases of running jobs
//! ```
//!
//! A backup captures an exact cut of the database as a checkpoint does,
//! uploads only the files whose content the store lacks, and commits its
//! manifest create-only, so two writers can never both commit one id. Each
//! manifest names the database timeline it holds; "latest" is always of
//! one of them ([`BackupEngine::database`]).

mod archive;
pub(crate) mod chunk;
mod clock;
mod content;
mod create;
mod dir_store;
mod engine;
mod gc;
mod latest;
mod lease;
mod manifest;
mod point_in_time;
mod presence;
mod progress;
mod restore;
#[cfg(feature = "s3")]
mod s3_store;
mod schedule;
mod scope;
mod store;
mod verify;

pub use crate::schedule::ScheduleStats;
pub use crate::types::BackupId;
pub use archive::{ArchiveGap, ArchiveOptions, ArchiveStats, LogArchive};
pub use chunk::{ARCHIVE_PREFIX, GAP_CHUNK_BYTES};
pub use content::{ContentKey, ContentKind, FILES_PREFIX};
pub use create::{BackupInfo, BackupOptions};
pub use dir_store::{DirStore, UPLOADS_DIR};
pub use engine::{BackupEngine, BackupListing, DEFAULT_GRACE, PruneReport, SkippedBackup};
pub use gc::GcReport;
pub use latest::LATEST_KEY;
#[doc(hidden)] // for the fuzz targets and damage tests: the store's own reading of it
pub use latest::{Latest, decode_latest};
pub use lease::LOCKS_PREFIX;
#[doc(hidden)] // the format's own constants and key parsing
pub use manifest::{MANIFEST_FORMAT, MANIFEST_FORMAT_VERSION, parse_manifest_key};
pub use manifest::{MANIFESTS_PREFIX, Manifest, ManifestFile, manifest_key};
pub use point_in_time::{RestorableRange, RestorableTimeline, RestorePoint, StoredGap};
pub use progress::BackupProgress;
pub use restore::RestoreInfo;
#[cfg(feature = "s3")]
pub use s3_store::{S3Config, S3Store};
pub use schedule::{BackupSchedule, BackupScheduler};
pub use scope::DatabaseSummary;
#[doc(hidden)]
pub use store::read_exact;
pub use store::{BackupStore, ObjectInfo, Source, check_key, get, probe_create_only};
pub use verify::{BackupProblem, BackupVerifyReport, Recovery};
