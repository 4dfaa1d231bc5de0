//! Content-addressed blob storage behind [`BlobStore`], so an S3-compatible backend can be
//! added later. Blobs are named by their SHA-256; identical content is stored once and the
//! metadata store counts its references. The one implementation is [`LocalBlobStore`].
//!
//! The methods are blocking; async callers run them on `spawn_blocking`.

mod local;

use std::{fs::File, io, path::Path};

pub use local::LocalBlobStore;

/// A failure of the blob store.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob storage I/O failed while {action}: {source}")]
    Io {
        action: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("{0:?} is not a SHA-256 hex digest")]
    BadDigest(String),
}

impl BlobError {
    pub(crate) fn io(action: &'static str) -> impl FnOnce(io::Error) -> Self {
        move |source| BlobError::Io { action, source }
    }

    /// The disk is full: nothing was stored.
    pub fn is_storage_full(&self) -> bool {
        matches!(self, BlobError::Io { source, .. } if is_storage_full(source))
    }
}

/// `ENOSPC` / `EDQUOT` and their portable kinds.
pub fn is_storage_full(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded)
}

/// Where finished uploads live, by content.
pub trait BlobStore: Send + Sync + 'static {
    /// Moves the finished, fsync'd file at `temp` into the store as `sha256`. Returns `true`
    /// if the blob is new, `false` if the same content was already there (then `temp` is
    /// removed). Atomic: a reader sees the whole blob or none.
    fn put(&self, temp: &Path, sha256: &str) -> Result<bool, BlobError>;
    /// [`Self::put`] for several files at once, in order (a later equal digest finds the
    /// earlier one stored), each result durable when this returns. A store may make the batch
    /// cheaper than one put each (the local one syncs each directory once).
    fn put_many(&self, items: &[(&Path, &str)]) -> Vec<Result<bool, BlobError>> {
        items.iter().map(|(temp, sha256)| self.put(temp, sha256)).collect()
    }
    /// Opens a blob for reading.
    fn open(&self, sha256: &str) -> Result<File, BlobError>;
    /// Removes a blob no file references any more (absent is fine).
    fn remove(&self, sha256: &str) -> Result<(), BlobError>;
    /// Every stored digest (for the startup sweep of blobs a crash left unreferenced).
    fn digests(&self) -> Result<Vec<String>, BlobError>;
}
