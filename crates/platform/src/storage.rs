//! Object storage for files (artwork, audio, documents): a local directory by default, any S3-compatible
//! store by configuration, through the `object_store` crate.
//!
//! An upload streams into a staging file on local disk while its SHA-256 (and, where its reader needs
//! one, its MD5: [`Digests`]) is computed and its size is counted, so that no file is ever held in
//! memory and a file over the limit is cut off early. The caller checks the staged file (decoding it), then either keeps it, under the content address
//! `sha256/<hex>` (the same bytes are stored once: a second upload finds them there), or drops it, which
//! deletes the staging file: a refused file leaves nothing behind.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use futures_util::StreamExt;
use md5::Md5;
use object_store::{ObjectStore, PutPayload, WriteMultipart, path::Path as ObjectPath};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::{ApiError, PlatformCode};

/// Uploads an account, and a client address, may start by default: 20 an hour.
pub const UPLOAD_LIMIT: crate::ratelimit::Limit =
    crate::ratelimit::Limit::new(20, std::time::Duration::from_secs(60 * 60));

/// Where kept files go.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A directory on local disk.
    Local(PathBuf),
    /// An S3 bucket, at AWS or at any S3-compatible endpoint.
    S3 { bucket: String, region: String, endpoint: Option<String>, access_key_id: String, secret_access_key: String },
}

/// The object store and the local staging directory uploads arrive in.
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// The same store when it is a local directory: a fetch links the kept file instead of copying it.
    local: Option<Arc<object_store::local::LocalFileSystem>>,
    staging: PathBuf,
    description: String,
    /// Uploads one account, and one client address, may start in a window.
    upload_limit: crate::ratelimit::Limit,
    /// The command that scans kept files (a virus scanner), if one is configured.
    scanner: Option<Vec<String>>,
    /// Keeps a throw-away directory alive for as long as the storage (tests, [`Storage::temporary`]).
    _temporary: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

/// How long a scan of one file may take.
pub const SCAN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// What the scanner said of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// Infected, with the scanner's last line (what it found).
    Infected(String),
}

/// The digests an upload is received with: its SHA-256 always (its address in the store), its MD5 where
/// a reader of the file asks for one (a DDEX delivery names each audio file and image by it). MD5 is
/// the slowest part of receiving a large file: 54 MB took 0.09 s to hash, while SHA-256 (in the
/// processor's own instructions) and the write took half that beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digests {
    Sha256,
    Sha256AndMd5,
}

/// A file received into staging, with its digests: keep it or drop it.
#[derive(Debug)]
pub struct Staged {
    path: tempfile::TempPath,
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
    /// Lower-case hex, when it was asked for ([`Digests`]).
    pub md5: Option<String>,
}

impl Staged {
    /// The staged bytes on local disk, for the caller's checks.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A kept file's address and digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub key: String,
    pub size: u64,
    pub sha256: String,
    /// When it was asked for ([`Digests`]).
    pub md5: Option<String>,
}

impl Kept {
    /// The MD5 of a file received with it ([`Digests::Sha256AndMd5`], or [`Storage::put_bytes`]).
    pub fn md5(&self) -> anyhow::Result<&str> {
        self.md5.as_deref().ok_or_else(|| anyhow::anyhow!("{} was received without its MD5", self.key))
    }
}

/// Parts of a multipart upload: S3 takes at least 5 MiB per part.
const PART: usize = 8 * 1024 * 1024;

/// Bytes of an upload handed to the writing and hashing threads at once.
const BATCH_BYTES: usize = 1024 * 1024;
/// Batches of an upload received and not yet written and hashed (memory stays bounded, a few MiB,
/// whatever the file's size).
const IN_FLIGHT: usize = 4;

impl Storage {
    /// Opens the configured backend; staging files go to `staging`.
    pub fn open(backend: &Backend, staging: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(staging)?;
        let mut local = None;
        let (store, description): (Arc<dyn ObjectStore>, String) = match backend {
            Backend::Local(dir) => {
                std::fs::create_dir_all(dir)?;
                let store = Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?);
                local = Some(store.clone());
                (store, format!("local directory {}", dir.display()))
            }
            Backend::S3 { bucket, region, endpoint, access_key_id, secret_access_key } => {
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_access_key_id(access_key_id)
                    .with_secret_access_key(secret_access_key);
                if let Some(endpoint) = endpoint {
                    builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
                    // S3-compatible servers (MinIO, moto, Ceph) address buckets by path.
                    builder = builder.with_virtual_hosted_style_request(false);
                }
                (Arc::new(builder.build()?), format!("S3 bucket {bucket}"))
            }
        };
        Ok(Self {
            store,
            local,
            staging: staging.to_owned(),
            description,
            upload_limit: UPLOAD_LIMIT,
            scanner: None,
            _temporary: None,
        })
    }

    /// A store in a throw-away directory, removed when the storage is dropped (tests, tools).
    pub fn temporary() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new().prefix("backline-objects-").tempdir()?;
        let mut storage = Self::open(&Backend::Local(dir.path().join("objects")), &dir.path().join("staging"))?;
        storage._temporary = Some(dir);
        Ok(storage)
    }

    /// The directory uploads are staged in (empty between uploads).
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// Sets how many uploads an account, and a client address, may start in a window.
    pub fn with_upload_limit(mut self, limit: crate::ratelimit::Limit) -> Self {
        self.upload_limit = limit;
        self
    }

    /// Scans kept files with `command` (a program and its arguments; the file's path is added last):
    /// it exits 0 for a clean file and 1 for an infected one, as `clamdscan` and `clamscan` do.
    pub fn with_scanner(mut self, command: Vec<String>) -> Self {
        self.scanner = Some(command).filter(|c| !c.is_empty());
        self
    }

    /// Whether kept files are scanned before they are used.
    pub fn scans(&self) -> bool {
        self.scanner.is_some()
    }

    /// Runs the scanner over a kept file (copied to staging for it). `Ok(None)` when no scanner is
    /// configured; an exit status other than 0 or 1, or a scanner that does not finish within
    /// `SCAN_TIMEOUT`, is an error (the caller tries again later).
    pub async fn scan(&self, sha256: &str) -> anyhow::Result<Option<Verdict>> {
        let Some(command) = &self.scanner else { return Ok(None) };
        let path = self.fetch(sha256).await?;
        let mut child = tokio::process::Command::new(&command[0]);
        child.args(&command[1..]).arg(&*path).stdin(std::process::Stdio::null()).kill_on_drop(true);
        let output = tokio::time::timeout(SCAN_TIMEOUT, child.output())
            .await
            .map_err(|_| anyhow::anyhow!("the scanner did not finish within {} s", SCAN_TIMEOUT.as_secs()))??;
        match output.status.code() {
            Some(0) => Ok(Some(Verdict::Clean)),
            Some(1) => {
                let said = String::from_utf8_lossy(&output.stdout);
                Ok(Some(Verdict::Infected(said.lines().last().unwrap_or_default().trim().chars().take(200).collect())))
            }
            other => Err(anyhow::anyhow!(
                "the scanner failed ({other:?}): {}",
                String::from_utf8_lossy(&output.stderr).chars().take(500).collect::<String>()
            )),
        }
    }

    /// Admits one upload by `account` from `client` (its address, when known), before its body is
    /// read: 429 `rate_limited` with `Retry-After` past the limit of either. Counted in the database, so
    /// the limit holds across nodes; an upload refused afterwards for its content still counts.
    pub async fn admit(
        &self,
        db: &sqlx::PgPool,
        account: uuid::Uuid,
        client: Option<&str>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ApiError> {
        crate::ratelimit::hit(db, &format!("upload:account:{account}"), self.upload_limit, now).await?;
        if let Some(client) = client {
            crate::ratelimit::hit(db, &format!("upload:client:{client}"), self.upload_limit, now).await?;
        }
        Ok(())
    }

    /// Receives a request body into staging, at most `limit` bytes (413 beyond, nothing left behind),
    /// with the `digests` asked for.
    pub async fn receive(&self, body: Body, limit: u64, digests: Digests) -> Result<Staged, ApiError> {
        let temp = tempfile::Builder::new()
            .prefix("upload-")
            .tempfile_in(&self.staging)
            .map_err(|e| ApiError::internal(anyhow::Error::new(e).context("create a staging file")))?;
        let (file, path) = temp.into_parts();
        // The bytes are written and hashed on two threads beside the one receiving them (SHA-256 and
        // the write on one, MD5, when asked for, on the other), so that a large upload keeps every core
        // busy instead of one: 54 MB took 0.13 s hashed in line. They are handed over a mebibyte at a
        // time (a body arrives in chunks of a few KiB: waking a thread for each cost more than it
        // saved). A request that ends early closes the channels, which ends the threads; the staging
        // file goes with `path`.
        type Batch = Arc<Vec<bytes::Bytes>>;
        let (to_writer, mut batches) = tokio::sync::mpsc::channel::<Batch>(IN_FLIGHT);
        let (to_md5, md5) = match digests {
            Digests::Sha256 => (None, None),
            Digests::Sha256AndMd5 => {
                let (to_md5, mut batches) = tokio::sync::mpsc::channel::<Batch>(IN_FLIGHT);
                let md5 = tokio::task::spawn_blocking(move || {
                    let mut md5 = Md5::new();
                    while let Some(batch) = batches.blocking_recv() {
                        batch.iter().for_each(|chunk| md5.update(chunk));
                    }
                    crate::hex::encode(&md5.finalize())
                });
                (Some(to_md5), Some(md5))
            }
        };
        let writer = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
            use std::io::Write;
            let (mut file, mut sha) = (std::io::BufWriter::with_capacity(BATCH_BYTES, file), Sha256::new());
            while let Some(batch) = batches.blocking_recv() {
                for chunk in batch.iter() {
                    sha.update(chunk);
                    file.write_all(chunk)?;
                }
            }
            file.flush()?;
            Ok(crate::hex::encode(&sha.finalize()))
        });
        let failed = |e: std::io::Error| ApiError::internal(anyhow::Error::new(e).context("stage"));
        let (mut size, mut batch, mut batched, mut ended) = (0u64, Vec::new(), 0usize, false);
        let mut stream = body.into_data_stream();
        while !ended {
            match stream.next().await {
                Some(chunk) => {
                    let chunk = chunk.map_err(|e| {
                        ApiError::new(
                            PlatformCode::UnreadableBody,
                            format!("The upload could not be read to its end: {e}."),
                        )
                    })?;
                    size += chunk.len() as u64;
                    if size > limit {
                        return Err(ApiError::new(
                            PlatformCode::PayloadTooLarge,
                            format!("The file is larger than the limit of {} MB.", limit / 1_000_000),
                        ));
                    }
                    batched += chunk.len();
                    batch.push(chunk);
                    if batched < BATCH_BYTES {
                        continue;
                    }
                }
                None => ended = true,
            }
            let whole = Arc::new(std::mem::take(&mut batch));
            batched = 0;
            // A send fails only when the writer stopped on an error, which its result below gives.
            let to_md5 = match &to_md5 {
                Some(to_md5) => to_md5.send(whole.clone()).await.is_ok(),
                None => true,
            };
            if !to_md5 || to_writer.send(whole).await.is_err() {
                break;
            }
        }
        drop((to_writer, to_md5));
        let joined = |e: tokio::task::JoinError| ApiError::internal(anyhow::Error::new(e).context("stage"));
        let sha256 = writer.await.map_err(joined)?.map_err(failed)?;
        let md5 = match md5 {
            Some(md5) => Some(md5.await.map_err(joined)?),
            None => None,
        };
        Ok(Staged { path, size, sha256, md5 })
    }

    /// The content address of a file.
    pub fn key_of(sha256: &str) -> String {
        format!("sha256/{sha256}")
    }

    /// Keeps a staged file under its content address (nothing is written when the same bytes are there
    /// already) and removes the staging file.
    pub async fn keep(&self, staged: Staged) -> anyhow::Result<Kept> {
        let key = Self::key_of(&staged.sha256);
        let location = ObjectPath::from(key.as_str());
        let present = match self.store.head(&location).await {
            Ok(meta) => meta.size == staged.size,
            Err(object_store::Error::NotFound { .. }) => false,
            Err(e) => return Err(e.into()),
        };
        if !present && let Some(local) = &self.local {
            // On a local store the staged file itself becomes the kept one under a second name,
            // made at once whatever the size (its bytes are final; the staging name goes when
            // `staged` is dropped). Where staging is on another file system, it is copied below.
            let to = local.path_to_filesystem(&location)?;
            let from = staged.path.to_path_buf();
            let linked = tokio::task::spawn_blocking(move || {
                if let Some(dir) = to.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                match std::fs::hard_link(&from, &to) {
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
                    linked => linked,
                }
            })
            .await?;
            if linked.is_ok() {
                return Ok(Kept { key, size: staged.size, sha256: staged.sha256, md5: staged.md5 });
            }
        }
        if !present {
            let upload = self.store.put_multipart(&location).await?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
            let mut file = tokio::fs::File::open(&staged.path).await?;
            let mut buf = vec![0u8; 1024 * 1024];
            loop {
                let n = file.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                writer.wait_for_capacity(2).await?;
                writer.write(&buf[..n]);
            }
            writer.finish().await?;
        }
        Ok(Kept { key, size: staged.size, sha256: staged.sha256, md5: staged.md5 })
    }

    /// Stores small bytes (a rendered message, a generated image) under their content address, with
    /// both digests.
    pub async fn put_bytes(&self, bytes: Vec<u8>) -> anyhow::Result<Kept> {
        let sha256 = crate::hex::encode(&Sha256::digest(&bytes));
        let md5 = Some(crate::hex::encode(&Md5::digest(&bytes)));
        let key = Self::key_of(&sha256);
        let size = bytes.len() as u64;
        self.store.put(&ObjectPath::from(key.as_str()), PutPayload::from(bytes)).await?;
        Ok(Kept { key, size, sha256, md5 })
    }

    /// A kept file in staging, for a reader that needs a local file (removed when dropped): to be read
    /// only, as on a local store it is the kept file itself under a second name.
    pub async fn fetch(&self, sha256: &str) -> anyhow::Result<tempfile::TempPath> {
        let path = tempfile::Builder::new().prefix("fetch-").tempfile_in(&self.staging)?.into_temp_path();
        if let Some(local) = &self.local {
            // Kept files never change (their name is their digest): a second name for the same
            // bytes, made at once whatever the size, serves as well as a copy (54 MB: 0.23 s
            // copied). Where staging is on another file system, the bytes are copied below.
            let kept = local.path_to_filesystem(&ObjectPath::from(Self::key_of(sha256).as_str()))?;
            let to = path.to_path_buf();
            let linked = tokio::task::spawn_blocking(move || {
                std::fs::remove_file(&to)?;
                std::fs::hard_link(&kept, &to)
            })
            .await?;
            if linked.is_ok() {
                return Ok(path);
            }
        }
        let mut file = tokio::fs::File::create(&path).await?;
        let mut stream = self.read(&Self::key_of(sha256)).await?;
        while let Some(chunk) = stream.next().await {
            file.write_all(&chunk?).await?;
        }
        file.flush().await?;
        Ok(path)
    }

    /// Copies a local file into staging, as [`Storage::receive`] does an upload (the file stays), with
    /// its SHA-256.
    pub async fn stage_file(&self, path: &Path) -> anyhow::Result<Staged> {
        let file = tokio::fs::File::open(path).await?;
        let chunks = futures_util::stream::unfold(Some(file), |file| async move {
            let mut file = file?;
            let mut buf = vec![0u8; 1024 * 1024];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), Some(file)))
                }
                Err(e) => Some((Err(e), None)),
            }
        });
        self.receive(Body::from_stream(chunks), u64::MAX, Digests::Sha256).await.map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// The size and SHA-256 of a kept file, read whole from the store; none when it is not there.
    pub async fn digest(&self, key: &str) -> anyhow::Result<Option<(u64, String)>> {
        let mut stream = match self.store.get(&ObjectPath::from(key)).await {
            Ok(got) => got.into_stream(),
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let (mut sha, mut size) = (Sha256::new(), 0u64);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            sha.update(&chunk);
        }
        Ok(Some((size, crate::hex::encode(&sha.finalize()))))
    }

    /// A kept file's bytes as a stream of chunks.
    pub async fn read(
        &self,
        key: &str,
    ) -> anyhow::Result<futures_util::stream::BoxStream<'static, object_store::Result<bytes::Bytes>>> {
        Ok(self.store.get(&ObjectPath::from(key)).await?.into_stream())
    }

    /// The bytes `range` (end exclusive) of a kept file, streamed (a `Range` request).
    pub async fn read_range(
        &self,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> anyhow::Result<futures_util::stream::BoxStream<'static, object_store::Result<bytes::Bytes>>> {
        let options =
            object_store::GetOptions { range: Some(object_store::GetRange::Bounded(range)), ..Default::default() };
        Ok(self.store.get_opts(&ObjectPath::from(key), options).await?.into_stream())
    }
}

/// The answer when the object store cannot take (or give) a file: 503 `storage_unavailable` with
/// `Retry-After`, the cause logged; the caller records nothing, so nothing points at a file that is
/// not there.
pub fn unavailable(cause: anyhow::Error) -> ApiError {
    ApiError::new(
        PlatformCode::StorageUnavailable,
        "The file store cannot take the file now; nothing was kept. Try again in a moment.",
    )
    .with_cause(cause)
    .with_header(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("30"))
}

/// Receives an upload into staging (once the caller's upload is admitted: see [`Storage::admit`]),
/// checks it with `check` in a blocking thread (no database connection held meanwhile), and keeps it
/// when it passes. A refused file's staging file is deleted: it leaves nothing behind.
#[allow(clippy::too_many_arguments)]
pub async fn receive_checked<T: Send + 'static>(
    ctx: &crate::AppContext,
    user: uuid::Uuid,
    client_ip: Option<&str>,
    body: Body,
    limit: u64,
    digests: Digests,
    check: impl FnOnce(&Path) -> Result<T, ApiError> + Send + 'static,
) -> Result<(Kept, T), ApiError> {
    ctx.storage.admit(&ctx.db, user, client_ip, ctx.clock.now()).await?;
    let staged = ctx.storage.receive(body, limit, digests).await?;
    let path = staged.path().to_owned();
    let info = tokio::task::spawn_blocking(move || check(&path))
        .await
        .map_err(|e| ApiError::internal(anyhow::Error::new(e).context("check an upload")))??;
    let kept = ctx.storage.keep(staged).await.map_err(|e| unavailable(e.context("keep an upload")))?;
    Ok((kept, info))
}

/// A kept file's bytes as a response body, with its media type: whole (200), or the one byte range a
/// `Range` header asks for (206 with `Content-Range`; 416 when no byte satisfies it), so that players
/// seek and downloads resume. `Accept-Ranges: bytes` says so.
pub async fn file_response(
    ctx: &crate::AppContext,
    sha256: &str,
    media_type: &str,
    size: i64,
    download_name: &str,
    range: Option<&axum::http::HeaderValue>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::{StatusCode, header};
    let size = u64::try_from(size).unwrap_or(0);
    let key = Storage::key_of(sha256);
    let failed = |e: anyhow::Error| ApiError::internal(e.context("read a kept file"));
    let disposition = format!("attachment; filename=\"{}\"", download_name.replace(['"', '\\', '\r', '\n'], "_"));
    let builder = axum::response::Response::builder()
        .header(header::CONTENT_TYPE, media_type)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_DISPOSITION, disposition);
    let response = match crate::http::byte_range(range, size) {
        Err(crate::http::Unsatisfiable) => builder
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header(header::CONTENT_RANGE, format!("bytes */{size}"))
            .body(Body::empty()),
        Ok(None) => {
            let stream = ctx.storage.read(&key).await.map_err(failed)?;
            builder.header(header::CONTENT_LENGTH, size).body(Body::from_stream(stream))
        }
        Ok(Some(range)) => {
            let (first, last, length) = (range.start, range.end - 1, range.end - range.start);
            let stream = ctx.storage.read_range(&key, range).await.map_err(failed)?;
            builder
                .status(StatusCode::PARTIAL_CONTENT)
                .header(header::CONTENT_RANGE, format!("bytes {first}-{last}/{size}"))
                .header(header::CONTENT_LENGTH, length)
                .body(Body::from_stream(stream))
        }
    };
    response.map_err(ApiError::internal)
}

/// Records a kept file (once per content): the table that object references in other tables point to.
/// Its MD5, when known, fills in one the same bytes were recorded without.
pub async fn record(
    conn: &mut sqlx::PgConnection,
    kept: &Kept,
    media_type: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO stored_files (sha256, size, md5, media_type, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (sha256) DO UPDATE SET md5 = EXCLUDED.md5
         WHERE stored_files.md5 IS NULL AND EXCLUDED.md5 IS NOT NULL",
        kept.sha256,
        kept.size as i64,
        kept.md5,
        media_type,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The size of a kept file, if it is recorded.
pub async fn stored_size(conn: &mut sqlx::PgConnection, sha256: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!("SELECT size FROM stored_files WHERE sha256 = $1", sha256).fetch_optional(conn).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_kept_file_is_stored_once_and_reads_back() {
        let storage = Storage::temporary().unwrap();
        let bytes = vec![7u8; 3 * 1024 * 1024 + 5];
        let staged = storage.receive(Body::from(bytes.clone()), 10_000_000, Digests::Sha256).await.unwrap();
        assert_eq!(staged.size, bytes.len() as u64);
        assert_eq!(staged.sha256, crate::hex::encode(&Sha256::digest(&bytes)));
        let staged_path = staged.path().to_owned();
        let kept = storage.keep(staged).await.unwrap();
        assert!(!staged_path.exists(), "the staging file is gone");
        assert_eq!(kept.key, format!("sha256/{}", kept.sha256));
        let mut read = Vec::new();
        let mut stream = storage.read(&kept.key).await.unwrap();
        while let Some(chunk) = stream.next().await {
            read.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(read, bytes);
        // The same bytes again: the same address, nothing new.
        let again = storage.receive(Body::from(bytes.clone()), 10_000_000, Digests::Sha256).await.unwrap();
        assert_eq!(storage.keep(again).await.unwrap(), kept);
        // Fetched into staging (on a local store, linked): the bytes, twice at once; letting the
        // fetched files go leaves the kept file as it was.
        let (one, two) = (storage.fetch(&kept.sha256).await.unwrap(), storage.fetch(&kept.sha256).await.unwrap());
        assert_ne!(one.to_path_buf(), two.to_path_buf());
        assert!(one.starts_with(storage.staging()));
        assert_eq!(std::fs::read(&one).unwrap(), bytes);
        drop((one, two));
        assert_eq!(std::fs::read_dir(&storage.staging).unwrap().count(), 0, "nothing left in staging");
        assert_eq!(storage.digest(&kept.key).await.unwrap(), Some((kept.size, kept.sha256.clone())));
        assert!(storage.fetch(&"0".repeat(64)).await.is_err(), "no such file");
        assert_eq!(std::fs::read_dir(&storage.staging).unwrap().count(), 0, "a failed fetch leaves nothing");
    }

    /// A body of `chunks` chunks of `size` bytes each (their bytes differing), the last one an error
    /// when `fail`.
    fn chunked(chunks: usize, size: usize, fail: bool) -> (Vec<u8>, Body) {
        let bytes: Vec<u8> = (0..chunks * size).map(|i| (i * 7 + i / 251) as u8).collect();
        let mut parts: Vec<Result<bytes::Bytes, std::io::Error>> =
            bytes.chunks(size).map(|c| Ok(bytes::Bytes::copy_from_slice(c))).collect();
        if fail {
            parts.push(Err(std::io::Error::other("the client went away")));
        }
        (bytes, Body::from_stream(futures_util::stream::iter(parts)))
    }

    #[tokio::test]
    async fn a_body_of_many_chunks_is_written_and_hashed_whole() {
        let storage = Storage::temporary().unwrap();
        // More batches than are in flight at once (6.5 MB), so the receiving side waits for the
        // threads, and a last batch that is not full.
        let (bytes, body) = chunked(100, 64 * 1024 + 1, false);
        let staged = storage.receive(body, u64::MAX, Digests::Sha256AndMd5).await.unwrap();
        assert_eq!(staged.size, bytes.len() as u64);
        assert_eq!(staged.sha256, crate::hex::encode(&Sha256::digest(&bytes)));
        assert_eq!(staged.md5, Some(crate::hex::encode(&Md5::digest(&bytes))));
        assert_eq!(std::fs::read(staged.path()).unwrap(), bytes);
        let kept = storage.keep(staged).await.unwrap();
        assert_eq!(kept.md5().unwrap(), crate::hex::encode(&Md5::digest(&bytes)));
        assert_eq!(std::fs::read_dir(&storage.staging).unwrap().count(), 0, "kept: nothing left in staging");
        assert_eq!(storage.digest(&kept.key).await.unwrap(), Some((bytes.len() as u64, kept.sha256.clone())));
        // A body of exactly one batch (sent when it fills, then an empty one at the end).
        let (bytes, body) = chunked(BATCH_BYTES / 1024, 1024, false);
        let staged = storage.receive(body, u64::MAX, Digests::Sha256AndMd5).await.unwrap();
        let md5 = Some(crate::hex::encode(&Md5::digest(&bytes)));
        assert_eq!((staged.size, staged.md5.clone()), (bytes.len() as u64, md5));
        assert_eq!(std::fs::read(staged.path()).unwrap(), bytes);
        drop(staged);
        // Without MD5 (the same bytes, the same SHA-256, the same file, and no MD5).
        let (again, body) = chunked(BATCH_BYTES / 1024, 1024, false);
        let staged = storage.receive(body, u64::MAX, Digests::Sha256).await.unwrap();
        assert_eq!((staged.size, staged.md5.as_deref()), (again.len() as u64, None));
        assert_eq!(staged.sha256, crate::hex::encode(&Sha256::digest(&bytes)));
        assert_eq!(std::fs::read(staged.path()).unwrap(), bytes);
        let kept = storage.keep(staged).await.unwrap();
        assert!(kept.md5().is_err(), "received without its MD5");
        // A body that breaks off is refused, and what had arrived is not kept.
        let (_, body) = chunked(2 * IN_FLIGHT, 1024, true);
        let err = storage.receive(body, u64::MAX, Digests::Sha256AndMd5).await.unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::BAD_REQUEST);
        assert_eq!(std::fs::read_dir(&storage.staging).unwrap().count(), 0, "a broken body leaves nothing");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_same_bytes_kept_by_many_uploads_at_once_are_stored_once_and_whole() {
        let storage = Arc::new(Storage::temporary().unwrap());
        for round in 0..5 {
            let (bytes, _) = chunked(40, 4096 + round, false);
            let uploads = (0..8).map(|_| {
                let (storage, bytes) = (storage.clone(), bytes.clone());
                tokio::spawn(async move {
                    let parts: Vec<Result<bytes::Bytes, std::io::Error>> =
                        bytes.chunks(4096).map(|c| Ok(bytes::Bytes::copy_from_slice(c))).collect();
                    let staged = storage
                        .receive(Body::from_stream(futures_util::stream::iter(parts)), u64::MAX, Digests::Sha256AndMd5)
                        .await?;
                    storage.keep(staged).await.map_err(ApiError::internal)
                })
            });
            let kept: Vec<Kept> =
                futures_util::future::join_all(uploads).await.into_iter().map(|k| k.unwrap().unwrap()).collect();
            assert!(kept.windows(2).all(|w| w[0] == w[1]), "every upload keeps the same address");
            let path =
                storage.local.as_ref().unwrap().path_to_filesystem(&ObjectPath::from(kept[0].key.as_str())).unwrap();
            assert_eq!(std::fs::read(path).unwrap(), bytes, "the kept file is whole");
            assert_eq!(std::fs::read_dir(&storage.staging).unwrap().count(), 0, "nothing left in staging");
        }
    }

    #[tokio::test]
    async fn a_file_over_the_limit_is_refused_and_leaves_nothing() {
        let storage = Storage::temporary().unwrap();
        let err = storage.receive(Body::from(vec![1u8; 2048]), 1024, Digests::Sha256).await.unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(std::fs::read_dir(&storage.staging).unwrap().count(), 0);
        // A file received and dropped (refused by the caller's checks) leaves nothing either.
        let staged = storage.receive(Body::from(vec![1u8; 10]), 1024, Digests::Sha256).await.unwrap();
        drop(staged);
        assert_eq!(std::fs::read_dir(&storage.staging).unwrap().count(), 0);
    }
}
