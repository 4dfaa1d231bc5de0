//! Small files kept in the metadata database. A creation-with-upload whose whole file (at
//! most [`Limits::inline_max`](super::Limits::inline_max) bytes) comes in its body is read
//! into memory, hashed, and committed as ONE transaction — the upload row, the blob row with
//! its bytes, the file row and the event — shared with whatever else finishes at the same
//! time. There is no temp file, rename or directory sync.
//!
//! Why: for a file of a few KiB, making a new file durable costs far more than its bytes.
//! There is an inode to allocate, a directory lock to take and each directory to fsync; on
//! the test machines `open(O_CREAT)` alone was a third of the CPU at 16 concurrent uploads.
//! A few database pages in a group-committed WAL cost much less. MinIO keeps objects under
//! 128 KiB inline in their metadata for the same reason.
//!
//! A body that arrives short, long, stalled or with a wrong checksum is replayed into the
//! streaming path (create, then append), so it gets the same tus semantics as any other size.

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt, stream};
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{UploadError, Uploads};
use crate::meta::{FileRow, Finished, UploadRow};

/// Bytes all requests together may hold in memory for inline uploads; past it a body streams
/// to a temp file like a big one, so many slow clients cannot exhaust memory.
pub const INLINE_BUDGET: u64 = 64 << 20;

/// The budget is counted in KiB (a semaphore has `u32` permits).
const UNIT: u64 = 1024;

pub(super) fn budget() -> Semaphore {
    Semaphore::new(usize::try_from(INLINE_BUDGET / UNIT).unwrap_or(usize::MAX))
}

/// What became of a body offered for inline storage.
pub enum Inline {
    /// Stored: the upload (complete) and its file.
    Stored(Box<(UploadRow, FileRow)>),
    /// Not stored: hand this to the streaming path in place of the body it read.
    Replay(Replay),
}

/// The bytes read so far, and how the body ended when that was not cleanly.
pub type Replay = stream::Iter<std::vec::IntoIter<Result<Bytes, String>>>;

fn replay(read: BytesMut, error: Option<String>) -> Replay {
    let mut items = vec![Ok(read.freeze())];
    items.extend(error.map(Err));
    stream::iter(items)
}

/// Memory reserved for one inline body; released when dropped.
pub struct Budget {
    _permit: OwnedSemaphorePermit,
}

impl Uploads {
    /// Room to hold a body of `length` bytes in memory, if the file is small enough to be
    /// kept inline, may be stored at all, and the budget has room now.
    pub fn inline_budget(&self, length: u64) -> Option<Budget> {
        if length == 0 || length > self.limits.inline_max || length > self.limits.max_file_bytes {
            return None;
        }
        let units = u32::try_from(length.div_ceil(UNIT)).ok()?;
        self.inline_budget.clone().try_acquire_many_owned(units).ok().map(|permit| Budget { _permit: permit })
    }

    /// Reads the whole body of a creation-with-upload of `length` bytes and stores it inline.
    /// Answers [`Inline::Replay`] when the body is not exactly the file, or its checksum
    /// (a SHA-256 of the body) does not match: the streaming path then says what is wrong.
    pub async fn store_inline<S, E>(
        &self,
        _budget: Budget,
        user: &str,
        length: u64,
        raw_name: Option<&str>,
        checksum: Option<[u8; 32]>,
        mut body: S,
    ) -> Result<Inline, UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let capacity = usize::try_from(length).unwrap_or(usize::MAX);
        let mut read = BytesMut::with_capacity(capacity);
        loop {
            let next = match tokio::time::timeout(self.limits.idle_timeout, body.next()).await {
                Ok(next) => next,
                Err(_) => return Ok(Inline::Replay(replay(read, Some("the body stalled".into())))),
            };
            match next {
                None => break,
                Some(Ok(bytes)) => {
                    read.extend_from_slice(&bytes);
                    if read.len() > capacity {
                        return Ok(Inline::Replay(replay(read, None))); // too long: refused there
                    }
                }
                Some(Err(error)) => return Ok(Inline::Replay(replay(read, Some(error.to_string())))),
            }
        }
        let sha256 = Sha256::digest(&read);
        if read.len() != capacity || checksum.is_some_and(|want| want[..] != sha256[..]) {
            return Ok(Inline::Replay(replay(read, None)));
        }
        self.metrics.bytes_received.inc_by(length);

        let mut upload = self.new_row(user, length, raw_name);
        let finished = Finished::New { row: upload.clone(), quota: self.limits.quota_bytes };
        let file = self.store_file(&upload, finished, hex::encode(sha256), None, Some(read.freeze())).await?;
        self.metrics.uploads_created.inc();
        upload.offset = length;
        upload.file_id = Some(file.id);
        upload.sha256 = Some(file.sha256.clone());
        Ok(Inline::Stored(Box::new((upload, file))))
    }
}
