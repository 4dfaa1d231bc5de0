//! tus uploads, independent of HTTP: create, append a chunk, query, terminate, expire.
//!
//! - [`name`]: display-name cleaning.
//! - `part`: the temp file of an upload in progress and the SHA-256 state over it.
//! - `write`: appending one PATCH body, and finishing the upload on its last byte.
//! - `hasher`: the body's SHA-256 on its own thread, beside the writer's.
//! - `commit`: group commit of finished uploads (blobs and rows of several in one go).
//! - `inline`: small files in one request, kept in the metadata database.
//!
//! Each upload has one in-memory session whose async lock serializes requests on it, and
//! which keeps the running SHA-256 so a resumed upload needs no rehash (after a restart it
//! is rebuilt from the temp file).

mod commit;
mod hasher;
mod inline;
pub mod name;
mod part;
mod write;

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::Utc;
use sha2::Sha256;
use tokio::sync::{Mutex as AsyncMutex, Notify, OwnedMutexGuard, Semaphore};
use uuid::Uuid;
pub use inline::{INLINE_BUDGET, Inline};
pub use write::Progress;

use crate::{
    blob::{BlobError, BlobStore},
    meta::{CreateOutcome, MetaError, MetaStore, UploadRow},
    metrics::Metrics,
};

/// Why an upload request failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("no such upload among yours; start a new one with POST /v1/uploads")]
    NotFound,
    #[error("the upload expired and its data was removed; start a new upload")]
    Expired,
    #[error("the upload is at offset {expected}, not {got}; ask HEAD for Upload-Offset and resume from there")]
    OffsetMismatch { expected: u64, got: u64 },
    #[error("files may be at most {max} bytes; this one is {length}")]
    TooLarge { max: u64, length: u64 },
    #[error("the upload of {length} bytes does not fit in your quota: {room} bytes are left; delete files to make room")]
    OverQuota { length: u64, room: u64 },
    #[error("the body goes past Upload-Length ({length} bytes); the chunk was discarded")]
    BodyTooLong { length: u64 },
    #[error("the chunk's SHA-256 does not match Upload-Checksum; the chunk was discarded, resend it")]
    ChecksumMismatch,
    #[error("the body ended early at offset {offset}; what arrived is kept, resume from there")]
    Interrupted { offset: u64 },
    #[error("another request is writing this upload; retry after it ends")]
    Busy,
    #[error("the upload was already completed as file {file_id}")]
    AlreadyComplete { file_id: Uuid },
    #[error(transparent)]
    Meta(#[from] MetaError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("upload temp file I/O failed while {action}: {source}")]
    Io {
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("a blocking storage task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl UploadError {
    fn io(action: &'static str) -> impl FnOnce(std::io::Error) -> Self {
        move |source| UploadError::Io { action, source }
    }

    /// The disk is full (temp file, blob store or database): answered with 507.
    pub fn is_storage_full(&self) -> bool {
        match self {
            UploadError::Io { source, .. } => crate::blob::is_storage_full(source),
            UploadError::Blob(e) => e.is_storage_full(),
            UploadError::Meta(e) => e.is_storage_full(),
            _ => false,
        }
    }
}

/// Limits applied at creation.
#[derive(Debug, Clone)]
pub struct Limits {
    pub quota_bytes: u64,
    pub max_file_bytes: u64,
    pub expiry: Duration,
    /// Stored bytes at which `storage.quota_warning` is published.
    pub warn_at_bytes: u64,
    /// How long a request waits for another one on the same upload, and for the next body chunk.
    pub idle_timeout: Duration,
    /// Files up to this size that arrive whole in one creation-with-upload are kept in the
    /// metadata database (see `inline`); 0 turns that off.
    pub inline_max: u64,
}

#[derive(Default)]
struct Session {
    /// SHA-256 over the first `.0` bytes of the temp file.
    hashed: Option<(u64, Sha256)>,
    /// Held by the thread writing the temp file: the next request on this upload waits for
    /// it, also when the previous request was dropped mid-body with chunks still queued.
    disk: Arc<AsyncMutex<()>>,
}

/// The upload subsystem; shared by the tus handlers.
pub struct Uploads {
    meta: Arc<dyn MetaStore>,
    parts_dir: PathBuf,
    limits: Limits,
    sessions: Mutex<HashMap<Uuid, Arc<AsyncMutex<Session>>>>,
    /// Blob put + metadata commit of finished uploads, batched; holds the lock that deletes
    /// take too, so a delete that frees a blob never races an upload referencing it.
    group: commit::GroupCommit,
    outbox: Arc<Notify>,
    metrics: Metrics,
    /// Memory for inline bodies being read (see [`INLINE_BUDGET`]).
    inline_budget: Arc<Semaphore>,
}

impl Uploads {
    pub fn new(
        meta: Arc<dyn MetaStore>,
        blobs: Arc<dyn BlobStore>,
        parts_dir: PathBuf,
        limits: Limits,
        commit_lock: Arc<AsyncMutex<()>>,
        outbox: Arc<Notify>,
        metrics: Metrics,
    ) -> Result<Self, UploadError> {
        std::fs::create_dir_all(&parts_dir).map_err(UploadError::io("creating the upload temp directory"))?;
        let group = commit::GroupCommit::new(meta.clone(), blobs, commit_lock, limits.warn_at_bytes)?;
        let inline_budget = Arc::new(inline::budget());
        Ok(Self { meta, parts_dir, limits, sessions: Mutex::default(), group, outbox, metrics, inline_budget })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn MetaStore) -> Result<T, MetaError> + Send + 'static,
    ) -> Result<T, UploadError> {
        let meta = self.meta.clone();
        Ok(tokio::task::spawn_blocking(move || f(meta.as_ref())).await??)
    }

    fn session(&self, id: Uuid) -> Arc<AsyncMutex<Session>> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.entry(id).or_default().clone()
    }

    fn forget(&self, id: Uuid) {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }

    async fn lock(&self, id: Uuid) -> Result<OwnedMutexGuard<Session>, UploadError> {
        tokio::time::timeout(self.limits.idle_timeout, self.session(id).lock_owned()).await.map_err(|_| UploadError::Busy)
    }

    /// The upload, if it exists, belongs to `user` and has not expired (an expired one is
    /// removed on the spot). Another user's upload is "not found", like an absent one.
    async fn owned(&self, user: &str, id: Uuid) -> Result<UploadRow, UploadError> {
        let Some(row) = self.blocking(move |m| m.upload(id)).await? else {
            // No such upload at all: drop the session the lookup made, so probing random ids
            // cannot grow the session map.
            self.forget(id);
            return Err(UploadError::NotFound);
        };
        if row.user_id != user {
            return Err(UploadError::NotFound);
        }
        if row.file_id.is_none() && row.expires_at < Utc::now() {
            self.remove(id).await?;
            self.metrics.uploads_expired.inc();
            return Err(UploadError::Expired);
        }
        Ok(row)
    }

    /// A new upload's row: nothing received yet, expiring after the configured time.
    fn new_row(&self, user: &str, length: u64, raw_name: Option<&str>) -> UploadRow {
        let now = lockbox_events::timestamp::now();
        UploadRow {
            // Time-ordered (74 random bits, still unguessable; every request checks the owner
            // anyway): new ids append to the right edge of the uploads index instead of each
            // dirtying a random index page. That is about 15 % of the pages a
            // group commit of small uploads writes.
            id: Uuid::now_v7(),
            user_id: user.to_owned(),
            name: name::sanitize(raw_name.unwrap_or_default()),
            length,
            offset: 0,
            created_at: now,
            expires_at: now + self.limits.expiry,
            file_id: None,
            sha256: None,
        }
    }

    /// Creates an upload of `length` bytes; refused when too large or over quota.
    pub async fn create(&self, user: &str, length: u64, raw_name: Option<&str>) -> Result<UploadRow, UploadError> {
        if length > self.limits.max_file_bytes {
            return Err(UploadError::TooLarge { max: self.limits.max_file_bytes, length });
        }
        let row = self.new_row(user, length, raw_name);
        // The temp file exists before the row, so a row never points at nothing.
        part::create(&self.part_path(row.id)).await?;
        let quota = self.limits.quota_bytes;
        let insert = row.clone();
        match self.blocking(move |m| m.create_upload(&insert, quota)).await {
            Ok(CreateOutcome::Created) => {}
            Ok(CreateOutcome::OverQuota { room }) => {
                part::remove(&self.part_path(row.id)).await?;
                return Err(UploadError::OverQuota { length, room });
            }
            Err(e) => {
                part::remove(&self.part_path(row.id)).await?;
                return Err(e);
            }
        }
        self.metrics.uploads_created.inc();
        tracing::info!(upload = %row.id, user, length, name = %row.name, "upload created");
        Ok(row)
    }

    /// HEAD: the upload's current state (waits for a PATCH in flight to end).
    pub async fn status(&self, user: &str, id: Uuid) -> Result<UploadRow, UploadError> {
        let _session = self.lock(id).await?;
        self.owned(user, id).await
    }

    /// DELETE: terminates the upload and removes everything it left.
    pub async fn terminate(&self, user: &str, id: Uuid) -> Result<(), UploadError> {
        let _session = self.lock(id).await?;
        match self.owned(user, id).await {
            Ok(_) => {}
            // Already gone at expiry: the client's goal is reached.
            Err(UploadError::Expired) => return Ok(()),
            Err(e) => return Err(e),
        }
        self.remove(id).await?;
        self.metrics.uploads_terminated.inc();
        tracing::info!(upload = %id, user, "upload terminated");
        Ok(())
    }

    async fn remove(&self, id: Uuid) -> Result<(), UploadError> {
        part::remove(&self.part_path(id)).await?;
        self.blocking(move |m| m.delete_upload(id)).await?;
        self.forget(id);
        Ok(())
    }

    /// Removes expired uploads that no request is using.
    pub async fn reap_expired(&self) -> Result<usize, UploadError> {
        let now = Utc::now().timestamp_millis();
        let expired = self.blocking(move |m| m.expired_uploads(now)).await?;
        let mut removed = 0;
        for id in expired {
            let Ok(_busy) = self.session(id).try_lock_owned() else { continue };
            self.remove(id).await?;
            removed += 1;
        }
        if removed > 0 {
            self.metrics.uploads_expired.inc_by(removed as u64);
            tracing::info!(removed, "expired uploads removed");
        }
        Ok(removed)
    }

    /// Removes temp files no upload row owns (left by a crash between file and row).
    pub async fn remove_orphan_parts(&self) -> Result<usize, UploadError> {
        let known = self.blocking(|m| m.upload_ids()).await?;
        part::remove_unknown(&self.parts_dir, &known).await
    }

    fn part_path(&self, id: Uuid) -> PathBuf {
        part::path(&self.parts_dir, id)
    }
}

impl Uploads {
    /// Finishes an upload of zero bytes, which has no PATCH to finish it.
    pub async fn finish_empty(&self, upload: &UploadRow) -> Result<crate::meta::FileRow, UploadError> {
        use sha2::Digest;
        let _session = self.lock(upload.id).await?;
        self.finish(upload, hex::encode(Sha256::new().finalize())).await
    }
}
