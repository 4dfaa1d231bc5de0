//! Group commit: uploads that finish while the commit section is busy go through it together
//! on its next turn — their blobs renamed with one directory sync per shard, their rows in one
//! SQLite transaction — instead of one fsync'd rename and one fsync'd commit each, one after
//! another. The section is the same lock file deletes take, so a delete that frees a blob
//! never races an upload about to reference the same content.
//!
//! Each caller queues its job and spawns a turn; a turn takes everything queued. Turns are
//! spawned tasks, so a request dropped mid-commit (client gone) never strands the others.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use tokio::sync::{Mutex as AsyncMutex, oneshot};

use super::UploadError;
use crate::{
    blob::BlobStore,
    meta::{Completion, MetaStore},
};

/// A finished upload whose temp file is synced, waiting to become a file.
pub(super) struct Job {
    pub completion: Completion,
    pub part: PathBuf,
}

/// `true` if the job's blob is new (not deduplicated).
type Outcome = Result<bool, UploadError>;

#[derive(Clone)]
pub(super) struct GroupCommit {
    inner: Arc<Inner>,
}

struct Inner {
    meta: Arc<dyn MetaStore>,
    blobs: Arc<dyn BlobStore>,
    section: Arc<AsyncMutex<()>>,
    queue: Mutex<Vec<(Job, oneshot::Sender<Outcome>)>>,
    warn_at: u64,
}

impl GroupCommit {
    pub fn new(meta: Arc<dyn MetaStore>, blobs: Arc<dyn BlobStore>, section: Arc<AsyncMutex<()>>, warn_at: u64) -> Self {
        Self { inner: Arc::new(Inner { meta, blobs, section, queue: Mutex::default(), warn_at }) }
    }

    /// Stores `job`'s blob and commits its rows, with whatever else is queued.
    pub async fn commit(&self, job: Job) -> Outcome {
        let (reply, outcome) = oneshot::channel();
        self.inner.queue.lock().unwrap_or_else(|p| p.into_inner()).push((job, reply));
        tokio::spawn(self.clone().turn());
        outcome.await.map_err(|_| {
            UploadError::Io {
                action: "committing a finished upload",
                source: std::io::Error::other("the commit task ended without an answer; HEAD the upload to see whether it completed"),
            }
        })?
    }

    /// One turn of the section: everything queued by now, as one batch.
    async fn turn(self) {
        let _section = self.inner.section.lock().await;
        let batch = std::mem::take(&mut *self.inner.queue.lock().unwrap_or_else(|p| p.into_inner()));
        if batch.is_empty() {
            return; // an earlier turn took this job
        }
        let (jobs, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        let inner = self.inner.clone();
        match tokio::task::spawn_blocking(move || commit_batch(inner.meta.as_ref(), inner.blobs.as_ref(), &jobs, inner.warn_at)).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome); // the request is gone; its file is stored anyway
                }
            }
            Err(panicked) => {
                tracing::error!(error = %panicked, "a group commit failed");
                // Dropping the replies tells every waiter; what committed is committed.
            }
        }
    }
}

/// Renames every blob, then one transaction for all rows; if that transaction fails, each
/// job is committed on its own so one bad job fails only itself.
fn commit_batch(meta: &dyn MetaStore, blobs: &dyn BlobStore, jobs: &[Job], warn_at: u64) -> Vec<Outcome> {
    let items: Vec<(&Path, &str)> = jobs.iter().map(|j| (j.part.as_path(), j.completion.file.sha256.as_str())).collect();
    let puts = blobs.put_many(&items);
    let fresh: Vec<bool> = puts.iter().map(|p| matches!(p, Ok(true))).collect();
    let mut outcomes: Vec<Outcome> = puts.into_iter().map(|p| p.map_err(UploadError::from)).collect();
    let stored: Vec<usize> = (0..jobs.len()).filter(|&i| outcomes[i].is_ok()).collect();
    let completions: Vec<&Completion> = stored.iter().map(|&i| &jobs[i].completion).collect();
    let committed = if completions.is_empty() { Ok(()) } else { meta.complete_uploads(&completions, warn_at) };
    if let Err(error) = committed {
        if let [only] = stored[..] {
            outcomes[only] = Err(error.into());
        } else {
            tracing::warn!(%error, uploads = stored.len(), "a group commit failed; committing its uploads one by one");
            for &i in &stored {
                if let Err(e) = meta.complete_upload(&jobs[i].completion, warn_at) {
                    outcomes[i] = Err(e.into());
                }
            }
        }
    }
    tracing::debug!(uploads = jobs.len(), "group commit");
    for (i, job) in jobs.iter().enumerate() {
        if outcomes[i].is_err() && fresh[i] {
            let sha256 = &job.completion.file.sha256;
            // Another upload of this batch with the same content may reference it now.
            match meta.blob_referenced(sha256) {
                Ok(false) => {
                    if let Err(error) = blobs.remove(sha256) {
                        tracing::error!(%error, sha256, "could not remove the blob of a failed upload");
                    }
                }
                Ok(true) => {}
                Err(error) => tracing::error!(%error, sha256, "could not check the blob of a failed upload; the startup sweep removes it if unreferenced"),
            }
        }
    }
    outcomes
}
