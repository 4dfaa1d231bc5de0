//! The SHA-256 of a PATCH body, computed on a blocking thread beside the writer's. Hashing
//! is the slowest stage of a big upload (1.1–1.4 GB/s on one core here, the same with sha2,
//! ring or OpenSSL; receiving and writing are several times faster); on the request task it
//! capped the whole upload at what one core does receiving and hashing together.

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::{sync::mpsc, task::JoinHandle};

/// Chunks queued for the hasher: like the writer's queue, enough to overlap, bounded so that
/// memory stays flat (the chunks are shared with the writer's queue, not copied).
const HASH_QUEUE: usize = 16;

/// The running hashes of an upload: of the whole file so far, and of this request's chunk
/// when it carries an `Upload-Checksum` of its own.
pub(super) struct Hashes {
    pub whole: Sha256,
    pub chunk: Option<Sha256>,
}

/// A thread that feeds every chunk it is given into [`Hashes`], in order.
pub(super) struct Hasher {
    queue: mpsc::Sender<Bytes>,
    task: JoinHandle<Hashes>,
}

impl Hasher {
    pub fn spawn(mut hashes: Hashes) -> Self {
        let (queue, mut chunks) = mpsc::channel::<Bytes>(HASH_QUEUE);
        let task = tokio::task::spawn_blocking(move || {
            while let Some(bytes) = chunks.blocking_recv() {
                hashes.whole.update(&bytes);
                if let Some(chunk) = hashes.chunk.as_mut() {
                    chunk.update(&bytes);
                }
            }
            hashes
        });
        Self { queue, task }
    }

    /// Queues a chunk. The thread only stops once the queue is dropped (or if it panicked,
    /// which [`Self::finish`] reports), so a failed send needs no handling here.
    pub async fn hash(&self, bytes: Bytes) {
        let _ = self.queue.send(bytes).await;
    }

    /// Waits until every queued chunk is hashed.
    pub async fn finish(self) -> Result<Hashes, tokio::task::JoinError> {
        drop(self.queue);
        self.task.await
    }
}
