//! [`S3Store`]: a backup store in an S3-compatible object store, through
//! the `object_store` crate (cargo feature `s3`).
//!
//! The engine is synchronous; the store owns a small current-thread tokio
//! runtime and blocks on each request. Do not call it from inside another
//! tokio runtime's task.
//!
//! - [`put_if_absent`](BackupStore::put_if_absent) is a single `PUT` with
//!   `If-None-Match: *` (`PutMode::Create`). The store is probed once,
//!   before its first write ([`probe_create_only`]), and refused if it
//!   overwrites instead: some S3-compatible servers ignore the header, and
//!   then two backups could both commit one id. Reading (listing,
//!   verifying, restoring) writes nothing, so it needs only read access.
//! - Opening checks what it can without a request: the endpoint is a
//!   `http://` or `https://` URL (plain HTTP is allowed for an endpoint
//!   that asks for it, from [`S3Config::endpoint`] or `AWS_ENDPOINT_URL`),
//!   and credentials were given unless the instance can serve them (a
//!   custom endpoint never gets them from the instance metadata).
//! - [`put`](BackupStore::put) uploads a body up to
//!   [`S3Config::multipart_threshold_bytes`] in one `PUT`, a larger one as a
//!   multipart upload with up to [`PARTS_IN_FLIGHT`] parts in flight. It is
//!   used for content-addressed files (equal keys hold equal bytes, so an
//!   overwrite changes nothing) and `latest.json`. A multipart upload that
//!   fails is aborted; one a crash interrupts stays invisible until the
//!   bucket's lifecycle rule (`AbortIncompleteMultipartUpload`) removes it.
//! - Reads stream the object's body.
//! - Keys sit under [`S3Config::prefix`] as `object_store` writes a path:
//!   each segment of the prefix percent-encoded where S3 advises against
//!   a character (`team#1` is the folder `team%231` in the bucket, `.` is
//!   `%2E`), and listed under that same encoded path, so any prefix comes
//!   back as it went in; [`BackupStore::location`] names the encoded key.
//!   A prefix with an empty segment (`a//b`) is refused at open:
//!   `object_store` drops empty segments, so it would be another folder.

use std::io;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt as _;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ObjectStore, ObjectStoreExt as _, PutMode, PutMultipartOptions, PutOptions, PutPayload, RetryConfig,
};
use tokio::runtime::Runtime;

use super::store::{BackupStore, ObjectInfo, Source, check_key, probe_create_only_with, read_exact};
use crate::{Error, Result};

/// Parts of a multipart upload sent at once.
pub const PARTS_IN_FLIGHT: usize = 4;
/// S3's smallest part (all but the last).
const PART_BYTES_MIN: usize = 5 << 20;
/// Where object_store asks for an instance's credentials unless told otherwise.
const METADATA_ENDPOINT_DEFAULT: &str = "http://169.254.169.254";
/// What a person can do about missing credentials.
const CREDENTIALS_HINT: &str = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary \
                                 ones), or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN";

/// Where an [`S3Store`] is and how to reach it.
///
/// Unset fields come from the environment as the AWS tools read it
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
/// `AWS_REGION` or `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL` or
/// `AWS_ENDPOINT`, `AWS_ALLOW_HTTP`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Config {
    /// The bucket.
    pub bucket: String,
    /// Folder in the bucket holding the backups (`a/b`, or empty for the root).
    pub prefix: String,
    /// The server's URL, for S3-compatible services (`http://127.0.0.1:9000`).
    pub endpoint: Option<String>,
    /// The region.
    pub region: Option<String>,
    /// Access key id and secret.
    pub credentials: Option<(String, String)>,
    /// Allow plain `http://` endpoints.
    pub allow_http: bool,
    /// Bodies larger than this go up as multipart uploads.
    pub multipart_threshold_bytes: u64,
    /// Size of each part of a multipart upload (at least 5 MiB).
    pub part_bytes: usize,
}

impl S3Config {
    /// The bucket `bucket`, everything else from the environment, 16 MiB
    /// multipart threshold, 8 MiB parts.
    pub fn new(bucket: impl Into<String>) -> S3Config {
        S3Config {
            bucket: bucket.into(),
            prefix: String::new(),
            endpoint: None,
            region: None,
            credentials: None,
            allow_http: false,
            multipart_threshold_bytes: 16 << 20,
            part_bytes: 8 << 20,
        }
    }

    /// Parses `s3://bucket` or `s3://bucket/prefix`.
    pub fn from_url(url: &str) -> Result<S3Config> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| Error::invalid(format!("{url:?} is not an s3://bucket/prefix URL")))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Error::invalid(format!("{url:?} names no bucket")));
        }
        Ok(S3Config::new(bucket).prefix(prefix))
    }

    /// Keeps the backups under `prefix` in the bucket.
    pub fn prefix(mut self, prefix: impl Into<String>) -> S3Config {
        self.prefix = prefix.into().trim_matches('/').to_owned();
        self
    }

    /// Talks to `endpoint`, a `http://` or `https://` URL (plain HTTP is
    /// allowed when it starts with `http://`, as it is for an
    /// `AWS_ENDPOINT_URL` that does).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> S3Config {
        let endpoint = endpoint.into();
        self.allow_http |= endpoint.starts_with("http://");
        self.endpoint = Some(endpoint);
        self
    }

    /// Uses this region.
    pub fn region(mut self, region: impl Into<String>) -> S3Config {
        self.region = Some(region.into());
        self
    }

    /// Uses this access key.
    pub fn credentials(mut self, access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> S3Config {
        self.credentials = Some((access_key_id.into(), secret_access_key.into()));
        self
    }

    /// Sends bodies larger than `threshold_bytes` in parts of `part_bytes`
    /// (raised to S3's minimum of 5 MiB).
    pub fn multipart(mut self, threshold_bytes: u64, part_bytes: usize) -> S3Config {
        self.multipart_threshold_bytes = threshold_bytes;
        self.part_bytes = part_bytes.max(PART_BYTES_MIN);
        self
    }
}

/// A backup store in an S3 bucket; see the module documentation.
#[derive(Debug)]
pub struct S3Store {
    runtime: Runtime,
    client: AmazonS3,
    config: S3Config,
    /// The folder of [`S3Config::prefix`] as every key is written and listed under.
    root: ObjectPath,
    /// Where credentials come from when none were given, else `None`.
    metadata_endpoint: Option<String>,
    /// The create-only probe passed (it runs before the first write).
    create_only_checked: AtomicBool,
}

impl S3Store {
    /// A client for the bucket. It sends no request: the store is probed
    /// for create-only writes before its first write, and refused then
    /// ([`Error::Unsupported`]) if it overwrites instead. An endpoint that
    /// is not a `http(s)://` URL, or a custom endpoint without
    /// credentials, or a prefix with an empty segment, is
    /// [`Error::InvalidArgument`].
    pub fn open(config: S3Config) -> Result<S3Store> {
        let root = prefix_path(&config.bucket, &config.prefix)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("start the S3 client runtime", "s3", e))?;
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&config.bucket).with_retry(RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 3,
            retry_timeout: Duration::from_secs(60),
        });
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let endpoint = builder.get_config_value(&AmazonS3ConfigKey::Endpoint);
        if let Some(endpoint) = &endpoint {
            check_endpoint(endpoint)?;
        }
        if config.allow_http || endpoint.as_deref().is_some_and(|e| e.starts_with("http://")) {
            builder = builder.with_allow_http(true);
        }
        if let Some(region) = &config.region {
            builder = builder.with_region(region);
        }
        if let Some((id, secret)) = &config.credentials {
            builder = builder.with_access_key_id(id).with_secret_access_key(secret);
        }
        let metadata_endpoint = instance_credentials(&builder);
        let custom = endpoint.as_deref().filter(|e| !e.contains(".amazonaws.com"));
        if let (Some(endpoint), Some(_)) = (custom, &metadata_endpoint) {
            return Err(Error::invalid(format!(
                "no credentials found for s3://{} at {endpoint} ({CREDENTIALS_HINT}; a server other than AWS gets \
                 none from the instance metadata)",
                config.bucket
            )));
        }
        let client = builder.build().map_err(|e| Error::invalid(format!("S3 store s3://{}: {e}", config.bucket)))?;
        Ok(S3Store { runtime, client, config, root, metadata_endpoint, create_only_checked: AtomicBool::new(false) })
    }

    /// Runs the create-only probe once, before the first write.
    fn check_create_only(&self) -> Result<()> {
        if self.create_only_checked.load(Ordering::Acquire) {
            return Ok(());
        }
        probe_create_only_with(self, &|key, body| self.create(key, body))?;
        self.create_only_checked.store(true, Ordering::Release);
        Ok(())
    }

    /// A create-only `PUT` of `body` at `key`.
    fn create(&self, key: &str, body: &dyn Source) -> Result<()> {
        let path = self.path(key)?;
        let payload = PutPayload::from(Self::read_all(body, key)?);
        let options = PutOptions { mode: PutMode::Create, ..PutOptions::default() };
        self.runtime
            .block_on(self.client.put_opts(&path, payload, options))
            .map_err(|e| self.error("create", key, e))?;
        Ok(())
    }

    fn path(&self, key: &str) -> Result<ObjectPath> {
        check_key(key)?;
        Ok(self.below_root(key))
    }

    /// `relative` (`/`-separated, empty segments ignored) under the root.
    fn below_root(&self, relative: &str) -> ObjectPath {
        relative.split('/').filter(|part| !part.is_empty()).fold(self.root.clone(), ObjectPath::join)
    }

    fn error(&self, op: &'static str, key: &str, e: object_store::Error) -> Error {
        let location = self.location(key);
        if let Some(metadata) = &self.metadata_endpoint
            && e.to_string().contains(metadata.as_str())
        {
            // The request never left: asking the instance for credentials failed.
            let what = format!(
                "no credentials found for {location} ({CREDENTIALS_HINT}): the instance metadata at \
                                {metadata} serves none here: {e}"
            );
            return Error::io(op, location, io::Error::new(io::ErrorKind::PermissionDenied, what));
        }
        match e {
            object_store::Error::NotFound { .. } => Error::io(op, location, io::Error::new(io::ErrorKind::NotFound, e)),
            object_store::Error::AlreadyExists { .. } => Error::TargetExists { path: location.into() },
            object_store::Error::NotImplemented { .. } | object_store::Error::NotSupported { .. } => {
                Error::Unsupported { what: format!("{op} {location}: {e}") }
            }
            e => Error::io(op, location, io::Error::other(e)),
        }
    }

    fn read_all(body: &dyn Source, key: &str) -> Result<Vec<u8>> {
        let len = usize::try_from(body.len_bytes()).map_err(|_| Error::invalid(format!("{key} is too large")))?;
        let mut bytes = vec![0u8; len];
        read_exact(body, &mut bytes, 0, key)?;
        Ok(bytes)
    }

    fn put_multipart(&self, key: &str, path: &ObjectPath, body: &dyn Source) -> Result<()> {
        let mut upload = self
            .runtime
            .block_on(self.client.put_multipart_opts(path, PutMultipartOptions::default()))
            .map_err(|e| self.error("start the upload of", key, e))?;
        let sent = (|| {
            let len = body.len_bytes();
            let mut in_flight = std::collections::VecDeque::new();
            let mut offset = 0;
            while offset < len {
                let n = usize::try_from(len - offset).unwrap_or(usize::MAX).min(self.config.part_bytes);
                let mut part = vec![0u8; n];
                read_exact(body, &mut part, offset, key)?;
                offset += n as u64;
                in_flight.push_back(self.runtime.spawn(upload.put_part(PutPayload::from(part))));
                if in_flight.len() >= PARTS_IN_FLIGHT {
                    self.join_part(key, in_flight.pop_front())?;
                }
            }
            while let Some(part) = in_flight.pop_front() {
                self.join_part(key, Some(part))?;
            }
            Ok(())
        })();
        let done = sent.and_then(|()| {
            self.runtime.block_on(upload.complete()).map(drop).map_err(|e| self.error("complete the upload of", key, e))
        });
        if done.is_err() && self.runtime.block_on(upload.abort()).is_err() {
            log::warn!("could not abort the failed multipart upload of {}", self.location(key));
        }
        done
    }

    fn join_part(&self, key: &str, part: Option<tokio::task::JoinHandle<object_store::Result<()>>>) -> Result<()> {
        let Some(part) = part else { return Ok(()) };
        match self.runtime.block_on(part) {
            Ok(sent) => sent.map_err(|e| self.error("upload a part of", key, e)),
            Err(e) => Err(Error::io("upload a part of", self.location(key), io::Error::other(e))),
        }
    }
}

impl BackupStore for S3Store {
    fn location(&self, key: &str) -> String {
        match self.root.as_ref() {
            "" => format!("s3://{}/{key}", self.config.bucket),
            root => format!("s3://{}/{root}/{key}", self.config.bucket),
        }
    }

    fn put_if_absent(&self, key: &str, body: &dyn Source) -> Result<()> {
        self.check_create_only()?;
        self.create(key, body)
    }

    fn put(&self, key: &str, body: &dyn Source) -> Result<()> {
        self.check_create_only()?;
        let path = self.path(key)?;
        if body.len_bytes() > self.config.multipart_threshold_bytes {
            return self.put_multipart(key, &path, body);
        }
        let payload = PutPayload::from(Self::read_all(body, key)?);
        self.runtime.block_on(self.client.put(&path, payload)).map_err(|e| self.error("upload", key, e))?;
        Ok(())
    }

    fn read(&self, key: &str, sink: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<u64> {
        let path = self.path(key)?;
        let result = self.runtime.block_on(self.client.get(&path)).map_err(|e| self.error("read", key, e))?;
        let mut stream = result.into_stream();
        let mut len = 0;
        while let Some(chunk) = self.runtime.block_on(stream.next()) {
            let chunk = chunk.map_err(|e| self.error("read", key, e))?;
            sink(&chunk)?;
            len += chunk.len() as u64;
        }
        Ok(len)
    }

    fn get_range(&self, key: &str, range: Range<u64>) -> Result<Vec<u8>> {
        let path = self.path(key)?;
        let bytes =
            self.runtime.block_on(self.client.get_range(&path, range)).map_err(|e| self.error("read", key, e))?;
        Ok(bytes.to_vec())
    }

    fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        // object_store lists whole path segments: ask for the folder, under
        // the root as the keys were written, then keep the keys that start
        // with the prefix (keys themselves need no encoding: `check_key`).
        let folder = self.below_root(prefix.rfind('/').map_or("", |i| &prefix[..i]));
        let listed_prefix = (!folder.is_root()).then_some(folder);
        let strip = match self.root.as_ref() {
            "" => String::new(),
            root => format!("{root}/"),
        };
        let mut stream = self.client.list(listed_prefix.as_ref());
        let mut out = Vec::new();
        while let Some(meta) = self.runtime.block_on(stream.next()) {
            let meta = meta.map_err(|e| self.error("list", prefix, e))?;
            let full = meta.location.as_ref();
            if let Some(key) = full.strip_prefix(&strip).filter(|k| k.starts_with(prefix) && check_key(k).is_ok()) {
                out.push(ObjectInfo { key: key.to_owned(), size_bytes: meta.size });
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        match self.runtime.block_on(self.client.delete(&path)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.error("delete", key, e)),
        }
    }

    fn head(&self, key: &str) -> Result<Option<u64>> {
        let path = self.path(key)?;
        match self.runtime.block_on(self.client.head(&path)) {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.error("look up", key, e)),
        }
    }

    fn settle(&self, _prefix: &str) -> Result<()> {
        // An object is durable once the server has acknowledged it, and
        // gone once its delete has.
        Ok(())
    }

    fn remove_stale_uploads(&self, _cutoff_unix_ms: u64) -> Result<usize> {
        // Every write is atomic on the server; interrupted multipart
        // uploads are invisible and left to the bucket's lifecycle rule.
        Ok(0)
    }
}

/// The folder `prefix` names in `bucket`, each segment encoded as
/// `object_store` encodes it; a prefix with an empty segment (`a//b`) is
/// refused, since `object_store` would write its keys elsewhere (`a/b`).
fn prefix_path(bucket: &str, prefix: &str) -> Result<ObjectPath> {
    let trimmed = prefix.trim_matches('/');
    if !trimmed.is_empty() && trimmed.split('/').any(str::is_empty) {
        return Err(Error::invalid(format!(
            "the S3 prefix {prefix:?} of s3://{bucket} has an empty path segment (a doubled '/'): the S3 client \
             drops such segments, so the backups would land under another prefix; write it with single slashes"
        )));
    }
    Ok(ObjectPath::from_iter(trimmed.split('/').filter(|part| !part.is_empty())))
}

/// Refuses an endpoint that is not a `http://` or `https://` URL with a
/// host (object_store would panic on one without a scheme).
fn check_endpoint(endpoint: &str) -> Result<()> {
    let host = endpoint.strip_prefix("https://").or_else(|| endpoint.strip_prefix("http://"));
    let host = host.map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
    match host {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(()),
        _ => Err(Error::invalid(format!(
            "the S3 endpoint {endpoint:?} is not a URL: write it with its scheme and host, e.g. \
             http://127.0.0.1:9000 or https://s3.example.com"
        ))),
    }
}

/// The metadata endpoint credentials will come from when the builder was
/// given none of its own (keys, a web identity, a container's), else `None`
/// (the order object_store tries them in).
fn instance_credentials(builder: &AmazonS3Builder) -> Option<String> {
    let set = |key: AmazonS3ConfigKey| builder.get_config_value(&key).is_some_and(|v| !v.is_empty());
    let signed = builder.get_config_value(&AmazonS3ConfigKey::SkipSignature).is_none_or(|v| v != "true");
    let own = set(AmazonS3ConfigKey::AccessKeyId)
        || set(AmazonS3ConfigKey::SecretAccessKey)
        || (set(AmazonS3ConfigKey::WebIdentityTokenFile) && set(AmazonS3ConfigKey::RoleArn))
        || set(AmazonS3ConfigKey::ContainerCredentialsRelativeUri)
        || (set(AmazonS3ConfigKey::ContainerCredentialsFullUri)
            && set(AmazonS3ConfigKey::ContainerAuthorizationTokenFile));
    (signed && !own).then(|| {
        builder
            .get_config_value(&AmazonS3ConfigKey::MetadataEndpoint)
            .unwrap_or_else(|| METADATA_ENDPOINT_DEFAULT.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_encoded_once_and_empty_segments_refused() {
        let root = |prefix: &str| prefix_path("b", prefix).map(|p| p.as_ref().to_owned());
        assert_eq!(root("").unwrap(), "");
        assert_eq!(root("/a/b/").unwrap(), "a/b");
        assert_eq!(root("team#1/100%/./x~y").unwrap(), "team%231/100%25/%2E/x%7Ey");
        for bad in ["a//b", "a/b//c", "x///y"] {
            let err = root(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("{bad:?}")) && err.contains("empty path segment"), "{err}");
        }
    }

    #[test]
    fn endpoints_need_a_scheme_and_a_host() {
        for good in ["http://127.0.0.1:9000", "https://s3.example.com", "http://minio:9000/", "https://h/path"] {
            check_endpoint(good).unwrap();
        }
        for bad in ["127.0.0.1:9000", "s3.example.com", "http://", "https:///x", "ftp://h", "http://a b"] {
            assert!(check_endpoint(bad).is_err(), "{bad}");
        }
    }
}
