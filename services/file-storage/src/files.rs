//! Stored files, per user: list, get, open the content, delete (publishing `file.deleted`).

use std::sync::Arc;

use bytes::Bytes;

use lockbox_events::{FILE_STORAGE_SOURCE, FileData, FileMessageData};
use tokio::sync::{Mutex as AsyncMutex, Notify};
use uuid::Uuid;

use crate::{
    blob::{BlobError, BlobStore},
    meta::{FileRow, MetaError, MetaStore},
};

/// Why a files request failed.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// Also for another user's file: indistinguishable from absent.
    #[error("no such file among yours; list your files with GET /v1/files")]
    NotFound,
    #[error(transparent)]
    Meta(#[from] MetaError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("a blocking storage task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The files subsystem; shared by the files handlers.
pub struct Files {
    meta: Arc<dyn MetaStore>,
    blobs: Arc<dyn BlobStore>,
    commit_lock: Arc<AsyncMutex<()>>,
    outbox: Arc<Notify>,
}

/// Where a file's bytes are.
pub enum Content {
    /// A small file, kept in the metadata database.
    Inline(Bytes),
    Blob(tokio::fs::File),
}

/// The largest page of a listing.
pub const MAX_PAGE: u32 = 1000;

impl Files {
    pub fn new(
        meta: Arc<dyn MetaStore>,
        blobs: Arc<dyn BlobStore>,
        commit_lock: Arc<AsyncMutex<()>>,
        outbox: Arc<Notify>,
    ) -> Self {
        Self { meta, blobs, commit_lock, outbox }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn MetaStore) -> Result<T, MetaError> + Send + 'static,
    ) -> Result<T, FilesError> {
        let meta = self.meta.clone();
        Ok(tokio::task::spawn_blocking(move || f(meta.as_ref())).await??)
    }

    /// Newest first; `before` is the last id of the previous page.
    pub async fn list(&self, user: &str, before: Option<Uuid>, limit: u32) -> Result<Vec<FileRow>, FilesError> {
        let user = user.to_owned();
        let limit = limit.clamp(1, MAX_PAGE);
        self.blocking(move |m| m.list_files(&user, before, limit)).await
    }

    pub async fn get(&self, user: &str, id: Uuid) -> Result<FileRow, FilesError> {
        let user = user.to_owned();
        self.blocking(move |m| m.file(&user, id)).await?.ok_or(FilesError::NotFound)
    }

    /// The file and its content: in memory for a small file, else open for reading.
    pub async fn open(&self, user: &str, id: Uuid) -> Result<(FileRow, Content), FilesError> {
        let owner = user.to_owned();
        let stored = self.blocking(move |m| m.stored_file(&owner, id)).await?.ok_or(FilesError::NotFound)?;
        if let Some(bytes) = stored.inline {
            return Ok((stored.file, Content::Inline(bytes)));
        }
        let blobs = self.blobs.clone();
        let sha = stored.file.sha256.clone();
        let content = tokio::task::spawn_blocking(move || blobs.open(&sha)).await??;
        Ok((stored.file, Content::Blob(tokio::fs::File::from_std(content))))
    }

    /// Deletes the file; its blob goes when no other file has the same content.
    pub async fn delete(&self, user: &str, id: Uuid) -> Result<FileRow, FilesError> {
        let owner = user.to_owned();
        let _commit = self.commit_lock.lock().await;
        let deleted = self
            .blocking(move |m| {
                m.delete_file(&owner, id, &|f: &FileRow| {
                    FileMessageData::file_deleted(
                        FILE_STORAGE_SOURCE,
                        f.user_id.clone(),
                        FileData::new(f.id, f.name.clone(), f.created_at),
                    )
                })
            })
            .await?
            .ok_or(FilesError::NotFound)?;
        self.outbox.notify_one();
        if deleted.blob_unreferenced {
            let blobs = self.blobs.clone();
            let sha = deleted.file.sha256.clone();
            // The row is gone already; a blob left behind is only wasted space, not an error.
            if let Err(error) = tokio::task::spawn_blocking(move || blobs.remove(&sha)).await? {
                tracing::warn!(%error, sha256 = %deleted.file.sha256, "could not remove an unreferenced blob");
            }
        }
        tracing::info!(file = %id, user, "file deleted");
        Ok(deleted.file)
    }
}
