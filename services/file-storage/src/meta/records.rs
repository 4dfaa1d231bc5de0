//! The rows the metadata store reads and writes.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use lockbox_events::{EventType, FileMessageData};
use serde::Serialize;
use uuid::Uuid;

/// An upload in progress (or completed and kept until it expires, so a client whose last
/// response was lost can still learn the file id with HEAD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRow {
    pub id: Uuid,
    pub user_id: String,
    /// Sanitized display name.
    pub name: String,
    pub length: u64,
    pub offset: u64,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Set once the upload completed.
    pub file_id: Option<Uuid>,
    pub sha256: Option<String>,
}

/// Whether [`MetaStore::create_upload`](super::MetaStore::create_upload) inserted the upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    /// The upload does not fit; `room` bytes are left in the quota.
    OverQuota { room: u64 },
}

/// A stored file as the files API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRow {
    pub id: Uuid,
    #[serde(skip)]
    pub user_id: String,
    pub name: String,
    pub size: u64,
    pub sha256: String,
    #[serde(with = "lockbox_events::timestamp")]
    pub created_at: DateTime<Utc>,
}

/// What finishing an upload writes in one transaction.
#[derive(Debug, Clone)]
pub struct Completion {
    pub upload: Finished,
    pub file: FileRow,
    /// The `file.stored` event; its outbox row id becomes the AMQP `message_id`.
    pub event: OutboxEvent,
    /// The content of a small file the database keeps itself; `None`: the blob store has it.
    pub inline: Option<Bytes>,
}

impl Completion {
    pub fn upload_id(&self) -> Uuid {
        match &self.upload {
            Finished::Existing(id) => *id,
            Finished::New { row, .. } => row.id,
        }
    }
}

/// The upload a [`Completion`] finishes.
#[derive(Debug, Clone)]
pub enum Finished {
    /// Created earlier by [`MetaStore::create_upload`](super::MetaStore::create_upload).
    Existing(Uuid),
    /// Created and finished by one request: inserted complete, if the user's stored bytes,
    /// their unfinished uploads and this one fit in `quota` (checked in the same transaction).
    New { row: UploadRow, quota: u64 },
}

/// How one completion of a batch went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completed {
    Stored,
    /// A [`Finished::New`] upload does not fit; `room` bytes are left. Nothing was written.
    OverQuota { room: u64 },
}

/// A stored file and, for a small one, its content (kept in the database).
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub file: FileRow,
    pub inline: Option<Bytes>,
}

/// A file just deleted.
#[derive(Debug, Clone)]
pub struct DeletedFile {
    pub file: FileRow,
    /// No file references the blob any more: it may be removed from the blob store.
    pub blob_unreferenced: bool,
}

/// An event as its outbox row stores it: the row id (the AMQP `message_id`) and the JSON
/// body. Built by the request task, so the commit thread (the one serial step of every
/// upload) only inserts bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    pub id: Uuid,
    pub event_type: EventType,
    pub body: Vec<u8>,
    pub timestamp: DateTime<Utc>,
}

impl OutboxEvent {
    pub fn new(event: &FileMessageData) -> Self {
        Self { id: Uuid::now_v7(), event_type: event.event_type.clone(), body: event.to_json(), timestamp: event.timestamp }
    }
}

/// One event waiting for (or past) its confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// Publish order.
    pub seq: i64,
    /// The AMQP `message_id` consumers dedupe on (a UUID, unique across databases).
    pub id: Uuid,
    /// The event, decoded from `body` (which proves the stored bytes are a valid event).
    pub event: FileMessageData,
    /// The JSON as committed: what is published.
    pub body: Vec<u8>,
}
