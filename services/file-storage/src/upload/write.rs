//! Appending one PATCH body to an upload, and finishing the upload on its last byte.

use std::{
    io::{Seek, Write},
    path::PathBuf,
};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use lockbox_events::{FILE_STORAGE_SOURCE, FileData, FileMessageData};
use sha2::{Digest, Sha256};
use tokio::{
    sync::{OwnedMutexGuard, mpsc},
    task::JoinHandle,
};
use uuid::Uuid;

use super::{
    Session, UploadError, Uploads,
    commit::{Committed, Job},
    hasher::{Hasher, Hashes},
    part,
};
use crate::meta::{Completion, FileRow, Finished, OutboxEvent, UploadRow};

/// The result of a write-behind sync thread (a panic there counts as an I/O error).
fn joined(sync: std::thread::JoinHandle<std::io::Result<()>>) -> std::io::Result<()> {
    sync.join().unwrap_or_else(|_| Err(std::io::Error::other("the write-behind sync thread panicked")))
}

/// Where an upload stands after a PATCH.
#[derive(Debug, Clone)]
pub enum Progress {
    /// More bytes are expected.
    Partial { upload: UploadRow },
    /// The last byte arrived: the file is stored and its event is in the outbox.
    Complete { upload: UploadRow, file: FileRow },
}

/// How the body stream ended.
enum Ended {
    Complete,
    /// The client went away (or stalled); what arrived before is on disk.
    Interrupted,
    TooLong,
    /// The writer stopped on an I/O error (reported by [`Writer::finish`]).
    WriteFailed,
}

/// Body chunks queued between the request task (which receives) and the writer thread: enough
/// that receiving, hashing and writing overlap, few enough that memory stays flat whatever
/// the file size (hyper hands over chunks of at most a few hundred KiB).
const WRITE_QUEUE: usize = 16;

/// Every this many bytes the writer starts a sync on another thread (one at a time), so the
/// disk flushes while the body is still arriving and the final fsync of a big upload has
/// little left to do. On the writer's own thread that sync would stall the whole pipeline.
const WRITE_BEHIND: u64 = 32 << 20;

/// The temp file written on a blocking thread, fed through a bounded queue.
struct Writer {
    queue: mpsc::Sender<Bytes>,
    task: JoinHandle<(std::fs::File, std::io::Result<()>)>,
}

impl Writer {
    /// `disk` is held until the last queued chunk is written, whatever happens to the request.
    fn spawn(mut file: std::fs::File, offset: u64, disk: OwnedMutexGuard<()>) -> Self {
        let (queue, mut chunks) = mpsc::channel::<Bytes>(WRITE_QUEUE);
        let task = tokio::task::spawn_blocking(move || {
            let _disk = disk;
            let mut syncing: Option<std::thread::JoinHandle<std::io::Result<()>>> = None;
            let mut write = || {
                file.seek(std::io::SeekFrom::Start(offset))?;
                let mut unsynced = 0u64;
                while let Some(bytes) = chunks.blocking_recv() {
                    file.write_all(&bytes)?;
                    unsynced += bytes.len() as u64;
                    if unsynced >= WRITE_BEHIND && syncing.as_ref().is_none_or(|s| s.is_finished()) {
                        if let Some(done) = syncing.take() {
                            joined(done)?;
                        }
                        let clone = file.try_clone()?;
                        syncing = Some(std::thread::spawn(move || clone.sync_data()));
                        unsynced = 0;
                    }
                }
                Ok(())
            };
            let mut result = write();
            if let Some(done) = syncing.take() {
                result = result.and(joined(done));
            }
            (file, result)
        });
        Self { queue, task }
    }

    /// Queues a chunk; `false` once the writer has stopped on an error (see [`Self::finish`]).
    async fn write(&self, bytes: Bytes) -> bool {
        self.queue.send(bytes).await.is_ok()
    }

    /// Waits for every queued chunk to be written; returns the file and how writing went.
    async fn finish(self) -> Result<(tokio::fs::File, std::io::Result<()>), tokio::task::JoinError> {
        drop(self.queue);
        let (file, result) = self.task.await?;
        Ok((tokio::fs::File::from_std(file), result))
    }
}

impl Uploads {
    /// Appends `body` at `offset`. With `checksum` (a SHA-256 of this chunk) a mismatch or an
    /// interrupted body discards the whole chunk; without it, an interrupted body keeps every
    /// byte that arrived so the client can resume (tus semantics).
    pub async fn append<S, E>(
        &self,
        user: &str,
        id: Uuid,
        offset: u64,
        checksum: Option<[u8; 32]>,
        body: S,
    ) -> Result<Progress, UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut session = self.lock(id).await?;
        // A writer left by an earlier request on this upload finishes first.
        let disk = tokio::time::timeout(self.limits.idle_timeout, session.disk.clone().lock_owned())
            .await
            .map_err(|_| UploadError::Busy)?;
        let row = self.owned(user, id).await?;
        if let Some(file_id) = row.file_id {
            return Err(UploadError::AlreadyComplete { file_id });
        }
        if offset != row.offset {
            return Err(UploadError::OffsetMismatch { expected: row.offset, got: offset });
        }
        let path = self.part_path(id);
        let hasher = match session.hashed.take() {
            Some((at, hasher)) if at == row.offset => hasher,
            _ => {
                let (hasher, present) = part::rehash(path.clone(), row.offset).await?;
                if present != row.offset {
                    // The temp file lost its tail (a crash before fsync): resume from what is there.
                    self.blocking(move |m| m.set_upload_offset(id, present)).await?;
                    session.hashed = Some((present, hasher));
                    return Err(UploadError::OffsetMismatch { expected: present, got: offset });
                }
                hasher
            }
        };
        let before = hasher.clone();
        // A chunk from offset 0 is the whole file so far: hash it once, not twice.
        let hashes = Hashes { whole: hasher, chunk: (checksum.is_some() && offset > 0).then(Sha256::new) };

        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .await
            .map_err(UploadError::io("opening an upload temp file"))?;
        // Drop any bytes past the committed offset (from a chunk that could not be discarded).
        let present = file.metadata().await.map_err(UploadError::io("reading an upload temp file"))?.len();
        if present != offset {
            file.set_len(offset).await.map_err(UploadError::io("truncating an upload temp file"))?;
        }
        let writer = Writer::spawn(file.into_std().await, offset, disk);
        let hasher = Hasher::spawn(hashes);

        let remaining = row.length - offset;
        let mut written = 0u64;
        let mut body = body;
        let ended = loop {
            let next = match tokio::time::timeout(self.limits.idle_timeout, body.next()).await {
                Ok(next) => next,
                Err(_) => {
                    tracing::info!(upload = %id, "upload body stalled; keeping what arrived");
                    break Ended::Interrupted;
                }
            };
            let bytes = match next {
                None => break Ended::Complete,
                Some(Ok(bytes)) => bytes,
                Some(Err(error)) => {
                    tracing::info!(upload = %id, %error, "upload body ended early; keeping what arrived");
                    break Ended::Interrupted;
                }
            };
            if written + bytes.len() as u64 > remaining {
                break Ended::TooLong;
            }
            hasher.hash(bytes.clone()).await;
            written += bytes.len() as u64;
            self.metrics.bytes_received.inc_by(bytes.len() as u64);
            if !writer.write(bytes).await {
                break Ended::WriteFailed;
            }
        };
        let (out, wrote) = writer.finish().await?;
        let Hashes { whole, mut chunk } = hasher.finish().await?;
        if let Err(e) = wrote {
            self.discard(out, offset, &mut session, before).await;
            return Err(UploadError::io("writing an upload temp file")(e));
        }

        match ended {
            Ended::TooLong => {
                self.discard(out, offset, &mut session, before).await;
                return Err(UploadError::BodyTooLong { length: row.length });
            }
            Ended::Interrupted if checksum.is_some() => {
                // A partial chunk cannot be verified: none of it counts.
                self.discard(out, offset, &mut session, before).await;
                return Err(UploadError::Interrupted { offset });
            }
            Ended::Complete
                if checksum.is_some_and(|want| {
                    want[..] != chunk.take().map_or_else(|| whole.clone().finalize(), Sha256::finalize)[..]
                }) =>
            {
                self.metrics.checksum_mismatches.inc();
                self.discard(out, offset, &mut session, before).await;
                tracing::info!(upload = %id, offset, "chunk refused: Upload-Checksum mismatch");
                return Err(UploadError::ChecksumMismatch);
            }
            Ended::Interrupted | Ended::Complete | Ended::WriteFailed => {}
        }

        let new_offset = offset + written;
        let last = new_offset == row.length && matches!(ended, Ended::Complete);
        // The last chunk is synced by `finish` with the whole file.
        let synced = if last { Ok(()) } else { out.sync_data().await };
        if let Err(e) = synced {
            self.discard(out, offset, &mut session, before).await;
            return Err(UploadError::io("syncing an upload temp file")(e));
        }
        drop(out);
        if !last {
            // The offset is recorded only once the bytes are on disk; the completing
            // transaction records the last one itself.
            self.blocking(move |m| m.set_upload_offset(id, new_offset)).await?;
        }
        let mut upload = UploadRow { offset: new_offset, ..row };
        if matches!(ended, Ended::Interrupted) {
            session.hashed = Some((new_offset, whole));
            return Err(UploadError::Interrupted { offset: new_offset });
        }
        if new_offset < upload.length {
            session.hashed = Some((new_offset, whole));
            return Ok(Progress::Partial { upload });
        }
        let sha256 = hex::encode(whole.finalize());
        let file = self.finish(&upload, sha256).await?;
        upload.file_id = Some(file.id);
        upload.sha256 = Some(file.sha256.clone());
        Ok(Progress::Complete { upload, file })
    }

    /// Undoes a chunk: the temp file and the hash go back to `offset`.
    async fn discard(&self, file: tokio::fs::File, offset: u64, session: &mut Session, before: Sha256) {
        if let Err(error) = file.set_len(offset).await {
            // The next PATCH truncates to the committed offset again before writing.
            tracing::warn!(%error, offset, "could not truncate a discarded chunk");
        }
        session.hashed = Some((offset, before));
    }

    /// The last byte is on disk: into the blob store, then ONE transaction for the file row
    /// and its outbox row (shared with uploads finishing at the same time, see `commit`).
    /// Anything failing here leaves no file, no blob, no event.
    pub(super) async fn finish(&self, upload: &UploadRow, sha256: String) -> Result<FileRow, UploadError> {
        let id = upload.id;
        let path = self.part_path(id);
        let file = tokio::fs::File::open(&path).await.map_err(UploadError::io("reopening a finished upload"))?;
        file.sync_all().await.map_err(UploadError::io("syncing a finished upload"))?;
        drop(file);
        match self.store_file(upload, Finished::Existing(id), sha256, Some(path), None).await {
            Ok(file) => {
                self.forget(id);
                Ok(file)
            }
            Err(e) => {
                self.remove(id).await?;
                Err(e)
            }
        }
    }

    /// Commits `upload` as a file of content `sha256` whose bytes are in `part` or `inline`:
    /// the file row, the `file.stored` event and what `finished` says of the upload row.
    pub(super) async fn store_file(
        &self,
        upload: &UploadRow,
        finished: Finished,
        sha256: String,
        part: Option<PathBuf>,
        inline: Option<Bytes>,
    ) -> Result<FileRow, UploadError> {
        let stored_at = lockbox_events::timestamp::now();
        let row = FileRow {
            id: Uuid::now_v7(),
            user_id: upload.user_id.clone(),
            name: upload.name.clone(),
            size: upload.length,
            sha256,
            created_at: stored_at,
        };
        let event = FileMessageData::file_stored(
            FILE_STORAGE_SOURCE,
            upload.user_id.clone(),
            FileData::new(row.id, row.name.clone(), stored_at),
        );
        let is_inline = inline.is_some();
        let completion = Completion { upload: finished, file: row.clone(), event: OutboxEvent::new(&event), inline };
        let fresh = match self.group.commit(Job { completion, part }).await? {
            Committed::Stored { fresh } => fresh,
            Committed::OverQuota { room } => return Err(UploadError::OverQuota { length: upload.length, room }),
        };
        self.outbox.notify_one();
        self.metrics.uploads_completed.inc();
        if is_inline {
            self.metrics.uploads_inline.inc();
        }
        tracing::info!(
            upload = %upload.id, file = %row.id, user = %row.user_id, size = row.size, sha256 = %row.sha256,
            dedupe = !fresh, inline = is_inline, "file stored"
        );
        Ok(row)
    }
}
