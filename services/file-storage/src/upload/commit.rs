//! Group commit: uploads that finish while the commit section is busy go through it together
//! on its next turn — their blobs renamed with one directory sync per shard (small ones have
//! none: their content is in the rows), their rows in one SQLite transaction — instead of one
//! fsync'd rename and one fsync'd commit each, one after another. The section is the same
//! lock deletes take, so a delete that frees a blob never races an upload about to reference
//! the same content.
//!
//! One thread commits: it takes everything queued while the previous batch was committing.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use tokio::sync::{Mutex as AsyncMutex, mpsc, oneshot};

use super::UploadError;
use crate::{
    blob::BlobStore,
    meta::{Completed, Completion, MetaError, MetaStore},
};

/// A finished upload waiting to become a file: its temp file is synced, or its content is
/// in the completion (inline).
pub(super) struct Job {
    pub completion: Completion,
    pub part: Option<PathBuf>,
}

/// How a job went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Committed {
    /// Stored; `fresh` if its blob is new (not deduplicated).
    Stored { fresh: bool },
    /// Refused for the quota (a creation-with-upload checks it only now); nothing stored.
    OverQuota { room: u64 },
}

type Outcome = Result<Committed, UploadError>;

/// The queue to the committer thread; the thread ends when this is dropped.
pub(super) struct GroupCommit {
    queue: mpsc::UnboundedSender<(Job, oneshot::Sender<Outcome>)>,
}

impl GroupCommit {
    /// Starts the committer thread.
    pub fn new(meta: Arc<dyn MetaStore>, blobs: Arc<dyn BlobStore>, section: Arc<AsyncMutex<()>>, warn_at: u64) -> Result<Self, UploadError> {
        let (queue, jobs) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("lockbox-fs-commit".into())
            .spawn(move || committer(jobs, meta.as_ref(), blobs.as_ref(), &section, warn_at))
            .map_err(UploadError::io("starting the commit thread"))?;
        Ok(Self { queue })
    }

    /// Stores `job`'s blob and commits its rows, with whatever else is queued.
    pub async fn commit(&self, job: Job) -> Outcome {
        let (reply, outcome) = oneshot::channel();
        let lost = || UploadError::Io {
            action: "committing a finished upload",
            source: std::io::Error::other("the commit thread ended without an answer; HEAD the upload to see whether it completed"),
        };
        self.queue.send((job, reply)).map_err(|_| lost())?;
        outcome.await.map_err(|_| lost())?
    }
}

/// The commit loop: waits for a job, takes every job queued by then as one batch, commits it
/// inside the section, answers each. On its own thread, so a batch costs no task spawns and
/// a request dropped mid-commit (client gone) never strands the others.
fn committer(
    mut jobs: mpsc::UnboundedReceiver<(Job, oneshot::Sender<Outcome>)>,
    meta: &dyn MetaStore,
    blobs: &dyn BlobStore,
    section: &AsyncMutex<()>,
    warn_at: u64,
) {
    while let Some(first) = jobs.blocking_recv() {
        let mut batch = vec![first];
        while let Ok(next) = jobs.try_recv() {
            batch.push(next);
        }
        let (jobs_now, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        let _section = section.blocking_lock();
        let committed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| commit_batch(meta, blobs, &jobs_now, warn_at)));
        match committed {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome); // the request is gone; its file is stored anyway
                }
            }
            // Dropping the replies tells every waiter; what committed is committed.
            Err(_) => tracing::error!(uploads = jobs_now.len(), "a group commit panicked"),
        }
    }
}

/// Renames every temp file into the blob store, then one transaction for all rows; if that
/// transaction fails, each job is committed on its own so one bad job fails only itself.
fn commit_batch(meta: &dyn MetaStore, blobs: &dyn BlobStore, jobs: &[Job], warn_at: u64) -> Vec<Outcome> {
    let on_disk: Vec<(usize, &Path)> = jobs.iter().enumerate().filter_map(|(i, j)| Some((i, j.part.as_deref()?))).collect();
    let items: Vec<(&Path, &str)> = on_disk.iter().map(|&(i, part)| (part, jobs[i].completion.file.sha256.as_str())).collect();
    let mut fresh = vec![false; jobs.len()];
    let mut outcomes: Vec<Option<Outcome>> = (0..jobs.len()).map(|_| None).collect();
    for (&(i, _), put) in on_disk.iter().zip(blobs.put_many(&items)) {
        match put {
            Ok(new) => fresh[i] = new,
            Err(e) => outcomes[i] = Some(Err(e.into())),
        }
    }
    let ready: Vec<usize> = (0..jobs.len()).filter(|&i| outcomes[i].is_none()).collect();
    let completions: Vec<&Completion> = ready.iter().map(|&i| &jobs[i].completion).collect();
    let mut record = |i: usize, done: Result<Completed, MetaError>| {
        outcomes[i] = Some(match done {
            Ok(Completed::Stored) => Ok(Committed::Stored { fresh: fresh[i] }),
            Ok(Completed::OverQuota { room }) => Ok(Committed::OverQuota { room }),
            Err(e) => Err(e.into()),
        });
    };
    let batch = if ready.is_empty() { Ok(Vec::new()) } else { meta.complete_uploads(&completions, warn_at) };
    match batch {
        Ok(done) => ready.iter().zip(done).for_each(|(&i, d)| record(i, Ok(d))),
        Err(error) if ready.len() == 1 => record(ready[0], Err(error)),
        Err(error) => {
            tracing::warn!(%error, uploads = ready.len(), "a group commit failed; committing its uploads one by one");
            for (&i, completion) in ready.iter().zip(&completions) {
                match meta.complete_uploads(&[completion], warn_at) {
                    Ok(mut done) => record(i, done.pop().ok_or(MetaError::Incomplete)),
                    Err(e) => record(i, Err(e)),
                }
            }
        }
    }
    tracing::debug!(uploads = jobs.len(), "group commit");
    // `None` only if the store answered fewer outcomes than it was given.
    let outcomes: Vec<Outcome> = outcomes.into_iter().map(|o| o.unwrap_or(Err(MetaError::Incomplete.into()))).collect();
    for (i, job) in jobs.iter().enumerate() {
        if fresh[i] && !matches!(outcomes[i], Ok(Committed::Stored { .. })) {
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
