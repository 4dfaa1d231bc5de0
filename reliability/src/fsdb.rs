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

    /// SQLite's `PRAGMA integrity_check`: "ok" for an intact database.
    pub fn integrity(&self) -> Result<String, SupportError> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|source| SupportError::Sql { path: self.path.clone(), source })
    }

    /// Files whose content the database should hold (small ones) but does not hold whole —
    /// missing, of another size or not matching their SHA-256 — each with what is wrong.
    pub fn inline_files_not_whole(&self) -> Result<Vec<String>, SupportError> {
        use sha2::{Digest, Sha256};
        let sql = |source| SupportError::Sql { path: self.path.clone(), source };
        let mut stmt = self
            .conn
            .prepare("SELECT f.id, f.size, f.sha256, b.data FROM files f JOIN blobs b ON b.sha256 = f.sha256")
            .map_err(sql)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<Vec<u8>>>(3)?)))
            .map_err(sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, size, sha, data)| match data {
                None => Some(format!("{id}: not kept in the database")),
                Some(d) if d.len() as i64 != size => Some(format!("{id}: {} of {size} bytes", d.len())),
                Some(d) if hex::encode(Sha256::digest(&d)) != sha => Some(format!("{id}: content does not match its SHA-256")),
                Some(_) => None,
            })
            .collect())
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
