//! The persisted queue. A restart finds every pending item (with its tus upload URL, so the
//! upload resumes where it stopped) and puts it back in line.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};

use super::model::{UploadItem, UploadState};

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("cannot open the upload queue {path}: {source}")]
    Open { path: String, #[source] source: rusqlite::Error },
    #[error("cannot migrate the upload queue: {0}")]
    Migrate(#[from] rusqlite_migration::Error),
    #[error("upload queue database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("no upload with id {0}")]
    NotFound(String),
}

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![M::up(
        "CREATE TABLE uploads (
             id            TEXT PRIMARY KEY,
             position      INTEGER NOT NULL,
             batch_id      TEXT NOT NULL,
             path          TEXT NOT NULL,
             name          TEXT NOT NULL,
             size          INTEGER NOT NULL,
             sent          INTEGER NOT NULL DEFAULT 0,
             state         TEXT NOT NULL,
             upload_url    TEXT,
             file_id       TEXT,
             local_sha256  TEXT,
             server_sha256 TEXT,
             error         TEXT
         );
         CREATE INDEX uploads_position ON uploads (position);",
    )])
}

pub struct UploadQueue {
    conn: Connection,
}

const COLUMNS: &str = "id, batch_id, path, name, size, sent, state, file_id, local_sha256, server_sha256, error";

impl UploadQueue {
    pub fn open(path: &Path) -> Result<Self, QueueError> {
        let conn = Connection::open(path).map_err(|source| QueueError::Open { path: path.display().to_string(), source })?;
        Self::with_connection(conn)
    }

    pub fn in_memory() -> Result<Self, QueueError> {
        Self::with_connection(Connection::open_in_memory()?)
    }

    fn with_connection(mut conn: Connection) -> Result<Self, QueueError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations().to_latest(&mut conn)?;
        Ok(Self { conn })
    }

    pub fn add(&mut self, item: &UploadItem) -> Result<(), QueueError> {
        self.conn.execute(
            "INSERT INTO uploads (id, position, batch_id, path, name, size, sent, state)
             VALUES (?1, (SELECT coalesce(max(position), 0) + 1 FROM uploads), ?2, ?3, ?4, ?5, 0, ?6)",
            params![item.id, item.batch_id, item.path, item.name, to_i64(item.size), item.state.as_str()],
        )?;
        Ok(())
    }

    pub fn get(&self, id: &str) -> Result<UploadItem, QueueError> {
        let sql = format!("SELECT {COLUMNS} FROM uploads WHERE id = ?1");
        self.conn.query_row(&sql, [id], row_to_item).optional()?.ok_or_else(|| QueueError::NotFound(id.to_owned()))
    }

    /// Every item, in queue order.
    pub fn all(&self) -> Result<Vec<UploadItem>, QueueError> {
        let sql = format!("SELECT {COLUMNS} FROM uploads ORDER BY position");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let items = stmt.query_map([], row_to_item)?.collect::<Result<Vec<_>, _>>()?;
        Ok(items)
    }

    /// Items a worker should run, in order: queued ones, and ones that were uploading when the
    /// app stopped (they resume from their tus URL).
    pub fn pending(&self) -> Result<Vec<UploadItem>, QueueError> {
        Ok(self.all()?.into_iter().filter(|i| i.state.is_pending()).collect())
    }

    pub fn upload_url(&self, id: &str) -> Result<Option<String>, QueueError> {
        Ok(self.conn.query_row("SELECT upload_url FROM uploads WHERE id = ?1", [id], |r| r.get(0)).optional()?.flatten())
    }

    pub fn set_upload_url(&mut self, id: &str, url: Option<&str>) -> Result<(), QueueError> {
        self.conn.execute("UPDATE uploads SET upload_url = ?2 WHERE id = ?1", params![id, url])?;
        Ok(())
    }

    pub fn set_state(&mut self, id: &str, state: UploadState, error: Option<&str>) -> Result<UploadItem, QueueError> {
        let n = self.conn.execute("UPDATE uploads SET state = ?2, error = ?3 WHERE id = ?1", params![id, state.as_str(), error])?;
        if n == 0 {
            return Err(QueueError::NotFound(id.to_owned()));
        }
        self.get(id)
    }

    pub fn set_sent(&mut self, id: &str, sent: u64) -> Result<(), QueueError> {
        self.conn.execute("UPDATE uploads SET sent = ?2 WHERE id = ?1", params![id, to_i64(sent)])?;
        Ok(())
    }

    pub fn set_local_sha256(&mut self, id: &str, sha: &str) -> Result<(), QueueError> {
        self.conn.execute("UPDATE uploads SET local_sha256 = ?2 WHERE id = ?1", params![id, sha])?;
        Ok(())
    }

    /// The server committed the file.
    pub fn set_stored(&mut self, id: &str, file_id: &str, server_sha256: &str) -> Result<UploadItem, QueueError> {
        self.conn.execute(
            "UPDATE uploads SET state = 'stored', file_id = ?2, server_sha256 = ?3, sent = size, upload_url = NULL WHERE id = ?1",
            params![id, file_id, server_sha256],
        )?;
        self.get(id)
    }

    /// The item whose server file id is `file_id` (to mark it notified when its notification
    /// arrives).
    pub fn by_file_id(&self, file_id: &str) -> Result<Option<UploadItem>, QueueError> {
        let sql = format!("SELECT {COLUMNS} FROM uploads WHERE file_id = ?1");
        Ok(self.conn.query_row(&sql, [file_id], row_to_item).optional()?)
    }

    /// Back in line after a failure or a cancel. A failed upload keeps its tus URL, so it
    /// resumes where it stopped (a cancelled one was terminated and starts over).
    pub fn retry(&mut self, id: &str) -> Result<UploadItem, QueueError> {
        let n = self.conn.execute(
            "UPDATE uploads SET state = 'queued', error = NULL, file_id = NULL, server_sha256 = NULL
             WHERE id = ?1 AND state IN ('failed', 'cancelled')",
            [id],
        )?;
        if n == 0 {
            return Err(QueueError::NotFound(id.to_owned()));
        }
        self.get(id)
    }
}

impl UploadQueue {
    /// Deletes items at the end of their timeline (or cancelled). Returns how many.
    pub fn remove_finished(&mut self) -> Result<usize, QueueError> {
        Ok(self.conn.execute("DELETE FROM uploads WHERE state IN ('notified', 'verified', 'cancelled')", [])?)
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn row_to_item(row: &rusqlite::Row<'_>) -> rusqlite::Result<UploadItem> {
    let size: i64 = row.get(4)?;
    let sent: i64 = row.get(5)?;
    let state: String = row.get(6)?;
    Ok(UploadItem {
        id: row.get(0)?,
        batch_id: row.get(1)?,
        path: row.get(2)?,
        name: row.get(3)?,
        size: u64::try_from(size).unwrap_or_default(),
        sent: u64::try_from(sent).unwrap_or_default(),
        state: UploadState::parse(&state),
        file_id: row.get(7)?,
        local_sha256: row.get(8)?,
        server_sha256: row.get(9)?,
        error: row.get(10)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str) -> UploadItem {
        UploadItem::queued(id.into(), "b1".into(), format!("/tmp/{id}"), id.into(), 10)
    }

    #[test]
    fn the_queue_survives_a_restart_with_its_resume_urls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("uploads.sqlite3");
        {
            let mut q = UploadQueue::open(&path).unwrap();
            for id in ["a", "b", "c"] {
                q.add(&item(id)).unwrap();
            }
            q.set_state("a", UploadState::Uploading, None).unwrap();
            q.set_upload_url("a", Some("http://h/v1/uploads/1")).unwrap();
            q.set_sent("a", 4).unwrap();
            q.set_stored("b", "file-b", "abc").unwrap();
        }
        let q = UploadQueue::open(&path).unwrap();
        let pending: Vec<_> = q.pending().unwrap().into_iter().map(|i| (i.id, i.sent)).collect();
        assert_eq!(pending, [("a".to_owned(), 4), ("c".to_owned(), 0)]);
        assert_eq!(q.upload_url("a").unwrap().as_deref(), Some("http://h/v1/uploads/1"));
        assert_eq!(q.by_file_id("file-b").unwrap().map(|i| i.state), Some(UploadState::Stored));
    }

    #[test]
    fn only_failed_or_cancelled_items_can_be_retried() {
        let mut q = UploadQueue::in_memory().unwrap();
        q.add(&item("a")).unwrap();
        assert!(matches!(q.retry("a"), Err(QueueError::NotFound(_))));
        q.set_state("a", UploadState::Failed, Some("disk full")).unwrap();
        let again = q.retry("a").unwrap();
        assert_eq!((again.state, again.error), (UploadState::Queued, None));
        q.add(&item("b")).unwrap();
        q.set_state("b", UploadState::Notified, None).unwrap();
        assert_eq!(q.remove_finished().unwrap(), 1);
        assert_eq!(q.all().unwrap().into_iter().map(|i| i.id).collect::<Vec<_>>(), ["a"]);
    }
}
