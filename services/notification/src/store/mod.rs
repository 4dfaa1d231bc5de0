//! Where notifications live: a small async trait, so a shared backend (PostgreSQL, for
//! several replicas) is a new implementation and not a rewrite. [`sqlite`] is the embedded one.

pub mod sqlite;

use std::{future::Future, pin::Pin, sync::Arc};

use chrono::{DateTime, Utc};
use lockbox_events::{EventType, Notification, NotificationFile};
use uuid::Uuid;

pub use sqlite::SqliteStore;

/// A boxed future, so the trait stays object-safe (`Arc<dyn NotificationStore>`).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The store the service uses, whatever the backend.
pub type Store = Arc<dyn NotificationStore>;

/// A notification before the store gave it an id and a seq.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub user_id: String,
    pub kind: EventType,
    pub file: Option<NotificationFile>,
    pub params: serde_json::Map<String, serde_json::Value>,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// What [`NotificationStore::insert`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    /// Stored, with its id and per-user seq.
    Stored(Box<Notification>),
    /// This message id was processed before; nothing was written.
    Duplicate,
}

/// Which notifications a read marks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadSelector {
    Ids(Vec<Uuid>),
    UpToSeq(u64),
}

/// What a read changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOutcome {
    /// The notifications that were unread and now are read.
    pub ids: Vec<Uuid>,
    /// Unread notifications the user still has.
    pub unread: u64,
}

/// Reads a device missed while offline.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadSync {
    pub ids: Vec<Uuid>,
    pub latest: Option<DateTime<Utc>>,
}

/// What a retention pass deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pruned {
    pub notifications: u64,
    pub message_ids: u64,
}

/// The operations the service needs. Every method is scoped to one user where it reads or
/// changes notifications, so no caller can touch another user's rows.
pub trait NotificationStore: Send + Sync + 'static {
    /// Stores each notification and records its message id as processed, all in one
    /// transaction (all or nothing); a message id seen before (also earlier in the same batch)
    /// writes nothing and yields [`Inserted::Duplicate`]. Results are in input order.
    fn insert_batch(&self, batch: Vec<(String, NewNotification)>) -> StoreFuture<'_, Vec<Inserted>>;

    /// [`insert_batch`](Self::insert_batch) of one.
    fn insert(&self, message_id: String, new: NewNotification) -> StoreFuture<'_, Inserted> {
        let batch = self.insert_batch(vec![(message_id, new)]);
        Box::pin(async move {
            let mut results = batch.await?;
            results.pop().ok_or(StoreError::Corrupt { what: "insert result", detail: "empty".into() })
        })
    }

    /// The user's notifications with `seq > since`, in seq order, at most `limit`.
    fn list(&self, user_id: String, since: u64, limit: u32) -> StoreFuture<'_, Vec<Notification>>;

    /// Marks the selected notifications of the user read at `at` (already-read ones keep
    /// their first `read_at`).
    fn mark_read(&self, user_id: String, which: ReadSelector, at: DateTime<Utc>) -> StoreFuture<'_, ReadOutcome>;

    fn unread_count(&self, user_id: String) -> StoreFuture<'_, u64>;

    /// Ids of the user's notifications with `seq <= up_to_seq` read at or after `since`, and
    /// the latest such `read_at`: what a reconnecting device missed of reads made elsewhere.
    fn read_since(&self, user_id: String, up_to_seq: u64, since: DateTime<Utc>) -> StoreFuture<'_, ReadSync>;

    /// Deletes notifications and processed-message records older than `before`. Seqs are not
    /// reused afterwards.
    fn prune(&self, before: DateTime<Utc>) -> StoreFuture<'_, Pruned>;

    /// Cheap liveness probe for `/readyz`.
    fn check(&self) -> StoreFuture<'_, ()>;
}

/// Failures of the store. None of them is the caller's fault: the HTTP layer answers 503 and
/// the consumer retries without acknowledging.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data directory {path}: {source}")]
    CreateDir { path: std::path::PathBuf, #[source] source: std::io::Error },
    #[error("cannot open the notification database {path}: {source}")]
    Open { path: std::path::PathBuf, #[source] source: rusqlite::Error },
    #[error("cannot migrate the notification database to the current schema: {0}")]
    Migrate(#[source] rusqlite_migration::Error),
    #[error("notification database query failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("a stored row is not valid ({what}): {detail}")]
    Corrupt { what: &'static str, detail: String },
    #[error("the store's worker thread failed: {0}")]
    Worker(#[source] tokio::task::JoinError),
}
