//! Reading a FileStorageService's own database (read-only, from outside, like an operator),
//! to count what it committed: file rows, outbox rows and which of them were confirmed.
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::SupportError;

pub struct FsDb {
    path: PathBuf,
    conn: Connection,
}

/// Counts of one service database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FsCounts {
    pub files: u64,
    pub uploads: u64,
    pub outbox: u64,
    /// Outbox rows the relay marked published (confirmed by the broker).
    pub confirmed: u64,
    pub blobs: u64,
}

impl FsDb {
    /// `data_dir` is the service's data dir (holding `metadata.sqlite3`).
    pub fn open(data_dir: &Path) -> Result<Self, SupportError> {
        let path = data_dir.join("metadata.sqlite3");
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|source| SupportError::Sql { path: path.clone(), source })?;
        let _ = conn.busy_timeout(std::time::Duration::from_secs(5));
        Ok(Self { path, conn })
    }

    fn count(&self, sql: &str) -> Result<u64, SupportError> {
        self.count_with(sql, [])
    }

    fn count_with(&self, sql: &str, params: impl rusqlite::Params) -> Result<u64, SupportError> {
        self.conn
            .query_row(sql, params, |r| r.get::<_, i64>(0).map(i64::unsigned_abs))
            .map_err(|source| SupportError::Sql { path: self.path.clone(), source })
    }

    pub fn counts(&self) -> Result<FsCounts, SupportError> {
        Ok(FsCounts {
            files: self.count("SELECT count(*) FROM files")?,
            uploads: self.count("SELECT count(*) FROM uploads")?,
            outbox: self.count("SELECT count(*) FROM outbox")?,
            confirmed: self.count("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL")?,
            blobs: self.count("SELECT count(*) FROM blobs")?,
        })
    }

    /// Outbox rows that mention `file_id` (in the event body).
    pub fn events_for(&self, file_id: &str) -> Result<u64, SupportError> {
        self.count_with("SELECT count(*) FROM outbox WHERE CAST(body AS TEXT) LIKE ?1", [format!("%{file_id}%")])
    }

    pub fn files_with_id(&self, file_id: &str) -> Result<u64, SupportError> {
        self.count_with("SELECT count(*) FROM files WHERE id = ?1", [file_id])
    }

    /// Waits until the relay has confirmed every outbox row; the counts when it had.
    pub async fn all_confirmed(&self, limit: std::time::Duration) -> Result<FsCounts, SupportError> {
        let (counts, _) = crate::wait::until("the relay confirms every event", limit, || {
            let counts = self.counts().ok();
            async move { counts.filter(|c| c.confirmed == c.outbox) }
        })
        .await?;
        Ok(counts)
    }
}
