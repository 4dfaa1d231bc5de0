//! File metadata, upload state and the transactional outbox, behind [`MetaStore`] so another
//! database (PostgreSQL) can be added as a backend. The one implementation is [`SqliteStore`].
//!
//! The methods are blocking; async callers run them on `spawn_blocking`.

mod records;
mod sqlite;

use lockbox_events::FileMessageData;
pub use records::{Completed, Completion, CreateOutcome, DeletedFile, FileRow, Finished, OutboxEvent, OutboxRow, StoredFile, UploadRow};
pub use sqlite::SqliteStore;
use uuid::Uuid;

/// A failure of the metadata store.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("the metadata database failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("could not migrate the metadata database: {0}")]
    Migrate(#[from] rusqlite_migration::Error),
    #[error("the metadata database holds an invalid value in {column}: {value:?}")]
    Corrupt { column: &'static str, value: String },
    #[error("the metadata database lock is poisoned (a thread panicked while holding it)")]
    Poisoned,
    #[error("the metadata store answered a batch without an outcome for every item (a bug); retry the upload")]
    Incomplete,
}

impl MetaError {
    /// The disk (or the database's own limit) is full: the write was refused, nothing changed.
    pub fn is_storage_full(&self) -> bool {
        matches!(self, MetaError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DiskFull)
    }
}

/// Everything the service keeps about files, uploads and events to publish.
pub trait MetaStore: Send + Sync + 'static {
    /// A cheap query that proves the database answers (for `/readyz`).
    fn ping(&self) -> Result<(), MetaError>;

    /// Inserts a new upload if the user's stored bytes, their other unfinished uploads and
    /// this one fit in `quota` (checked in the same transaction, so racing creates cannot
    /// overbook).
    fn create_upload(&self, upload: &UploadRow, quota: u64) -> Result<CreateOutcome, MetaError>;
    fn upload(&self, id: Uuid) -> Result<Option<UploadRow>, MetaError>;
    fn set_upload_offset(&self, id: Uuid, offset: u64) -> Result<(), MetaError>;
    /// Removes an upload row (termination or expiry). `false` if there was none.
    fn delete_upload(&self, id: Uuid) -> Result<bool, MetaError>;
    /// Uploads whose `expires_at` (unix ms) is before `now_ms`.
    fn expired_uploads(&self, now_ms: i64) -> Result<Vec<Uuid>, MetaError>;
    /// All upload ids, to find temp files nobody owns after a crash.
    fn upload_ids(&self) -> Result<Vec<Uuid>, MetaError>;

    /// Finishes uploads in ONE transaction (group commit). For each: references the blob
    /// (inserting it with its content when inline), inserts the file row, marks the upload
    /// complete (or inserts it complete, after the quota check) and inserts the `file.stored`
    /// outbox row — plus a `storage.quota_warning` row when the file makes the user cross
    /// `warn_at` bytes. One outcome per completion, in order; a refused one writes nothing.
    /// `Err` if any of them failed: then none of them is stored (retry them one by one).
    fn complete_uploads(&self, completions: &[&Completion], warn_at: u64) -> Result<Vec<Completed>, MetaError>;
    /// Whether any file row still references the blob.
    fn blob_referenced(&self, sha256: &str) -> Result<bool, MetaError>;

    /// The user's files, newest first, strictly older than `before` when given.
    fn list_files(&self, user: &str, before: Option<Uuid>, limit: u32) -> Result<Vec<FileRow>, MetaError>;
    /// One file with its content when the database keeps it, only if `user` owns it.
    fn stored_file(&self, user: &str, id: Uuid) -> Result<Option<StoredFile>, MetaError>;
    /// One file, only if `user` owns it.
    fn file(&self, user: &str, id: Uuid) -> Result<Option<FileRow>, MetaError>;
    /// ONE transaction: removes the file row, drops its blob reference and inserts the
    /// `file.deleted` outbox row built by `event`. `None` if the user has no such file.
    fn delete_file(
        &self,
        user: &str,
        id: Uuid,
        event: &dyn Fn(&FileRow) -> FileMessageData,
    ) -> Result<Option<DeletedFile>, MetaError>;

    /// Unsent outbox rows after `after` (a seq; 0 for all) in publish order, at most `limit`.
    /// Reads only: it never waits for a commit in progress.
    fn pending_outbox(&self, after: i64, limit: u32) -> Result<Vec<OutboxRow>, MetaError>;
    /// Marks every row up to `through` (a seq) as confirmed by the broker: the relay publishes
    /// in order and confirms a prefix, so one cursor says it all.
    fn mark_sent(&self, through: i64) -> Result<(), MetaError>;
    /// How many rows wait for a confirm.
    fn outbox_backlog(&self) -> Result<u64, MetaError>;
    /// Deletes rows confirmed before `before_ms` (unix ms); returns how many.
    fn prune_sent(&self, before_ms: i64) -> Result<usize, MetaError>;
}
