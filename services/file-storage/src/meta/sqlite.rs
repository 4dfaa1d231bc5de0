//! [`MetaStore`] on one SQLite file (WAL, `synchronous=FULL`: a commit is on disk before the
//! service answers success; the two writes whose loss is harmless skip the fsync). Small
//! files' content lives here too, in `blobs.data`.

use std::{path::Path, sync::Mutex};

use chrono::{DateTime, Utc};
use lockbox_events::{FILE_STORAGE_SOURCE, FileMessageData};
use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, Row, params};
use rusqlite_migration::{M, Migrations};
use uuid::Uuid;

use super::{
    Completed, Completion, CreateOutcome, DeletedFile, FileRow, Finished, MetaError, MetaStore, OutboxEvent, OutboxRow, StoredFile,
    UploadRow,
};

const MIGRATIONS: &[M<'static>] = &[
    M::up(
        "CREATE TABLE blobs (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        refs INTEGER NOT NULL CHECK (refs > 0)
    );
    CREATE TABLE files (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL REFERENCES blobs(sha256),
        created_at INTEGER NOT NULL
    );
    CREATE INDEX files_by_user ON files (user_id, id DESC);
    CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        length INTEGER NOT NULL,
        offset INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        file_id TEXT,
        sha256 TEXT
    );
    CREATE INDEX uploads_by_user ON uploads (user_id);
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        event_type TEXT NOT NULL,
        body BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        sent_at INTEGER
    );
    CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;",
    ),
    // The quota check of every create and completion sums a user's stored and reserved bytes:
    // covering indexes make that an index-only scan, and only of uploads still in progress
    // (without them each upload read every row of the user's files and finished uploads).
    M::up(
        "CREATE INDEX files_user_size ON files (user_id, size);
         CREATE INDEX uploads_pending_by_user ON uploads (user_id, length) WHERE file_id IS NULL;",
    ),
    // Small files are kept in the database itself (see `upload::inline`): `data` holds the
    // content, NULL means the blob store has it.
    M::up("ALTER TABLE blobs ADD COLUMN data BLOB;"),
    // Each user's stored bytes as a counter the files table's triggers keep, so the quota
    // check of an upload is one lookup, not a sum over every file the user has; the indexes
    // the sums used go (reserved bytes use `uploads_pending_by_user`).
    M::up(
        "CREATE TABLE usage (user_id TEXT PRIMARY KEY, stored_bytes INTEGER NOT NULL) WITHOUT ROWID;
         INSERT INTO usage (user_id, stored_bytes) SELECT user_id, SUM(size) FROM files GROUP BY user_id;
         CREATE TRIGGER files_count_in AFTER INSERT ON files BEGIN
             INSERT INTO usage (user_id, stored_bytes) VALUES (NEW.user_id, NEW.size)
             ON CONFLICT (user_id) DO UPDATE SET stored_bytes = stored_bytes + NEW.size;
         END;
         CREATE TRIGGER files_count_out AFTER DELETE ON files BEGIN
             UPDATE usage SET stored_bytes = stored_bytes - OLD.size WHERE user_id = OLD.user_id;
         END;
         DROP INDEX files_user_size;
         DROP INDEX uploads_by_user;",
    ),
];

/// SQLite behind a mutex: one writer at a time is what SQLite does anyway. The outbox relay
/// reads on a second, read-only connection: WAL lets it read while a group commit writes, so
/// the relay never holds the writer's lock between two commits.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    relay_reads: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, MetaError> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Statement journals in memory, not as temp files: each temp file is a file created
        // and deleted, which costs more than the batch it serves.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(64);
        // 8 MiB of page cache (the default is 2 MiB): inserts find their index pages cached
        // instead of reading them back from the file on every batch. Not more: a transaction
        // that splits a b-tree page parks a page at the lock-page number (balance_nonroot →
        // sqlite3PcacheMove), so its commit scans the cache's whole hash table
        // (pcache1TruncateUnsafe), and that table grows with the cache. At 64 MiB the scan was
        // 15 % of the commit thread and 4 KiB uploads were about 15 % slower.
        conn.pragma_update(None, "cache_size", -8192i64)?;
        Migrations::from_slice(MIGRATIONS).to_latest(&mut conn)?;
        let reads = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        reads.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Self { conn: Mutex::new(conn), relay_reads: Mutex::new(reads) })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, MetaError>) -> Result<T, MetaError> {
        let mut conn = self.conn.lock().map_err(|_| MetaError::Poisoned)?;
        f(&mut conn)
    }

    /// Like [`Self::with`], on the relay's read-only connection.
    fn with_reads<T>(&self, f: impl FnOnce(&Connection) -> Result<T, MetaError>) -> Result<T, MetaError> {
        let conn = self.relay_reads.lock().map_err(|_| MetaError::Poisoned)?;
        f(&conn)
    }

    /// Like [`Self::with`], for writes whose loss at a power cut is harmless (each caller says
    /// why): the commit skips its fsync. WAL with `synchronous=NORMAL` stays consistent, and
    /// the next FULL commit (every completed upload) makes these durable too. Each fsync
    /// saved is one less serialized disk wait per upload.
    fn with_unsynced<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, MetaError>) -> Result<T, MetaError> {
        let mut conn = self.conn.lock().map_err(|_| MetaError::Poisoned)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let result = f(&mut conn);
        conn.pragma_update(None, "synchronous", "FULL")?;
        result
    }
}

/// `execute` through the connection's statement cache: statements run for every upload are
/// parsed once, not each time (parsing was a good part of a group commit's time).
fn exec(c: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?.execute(params)
}

/// `query_row` through the statement cache.
fn one<T>(c: &Connection, sql: &str, params: impl rusqlite::Params, row: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    c.prepare_cached(sql)?.query_row(params, row)
}

/// One completion inside a transaction (see [`MetaStore::complete_uploads`]). Later ones of a
/// batch see the earlier ones' bytes, so a quota warning fires once, on the crossing file.
fn complete_in(tx: &Connection, done: &Completion, warn_at: u64) -> Result<Completed, MetaError> {
    let f = &done.file;
    let before = stored_bytes(tx, &f.user_id)?;
    match &done.upload {
        Finished::Existing(id) => {
            exec(
                tx,
                "UPDATE uploads SET offset = length, file_id = ?2, sha256 = ?3 WHERE id = ?1",
                params![id.to_string(), f.id.to_string(), f.sha256],
            )?;
        }
        Finished::New { row, quota } => {
            let room = quota.saturating_sub(before.saturating_add(reserved_bytes(tx, &row.user_id)?));
            if row.length > room {
                return Ok(Completed::OverQuota { room });
            }
            let u = UploadRow { offset: row.length, file_id: Some(f.id), sha256: Some(f.sha256.clone()), ..row.clone() };
            insert_upload(tx, &u)?;
        }
    }
    // A blob already stored keeps its place (file or row): equal content, equal bytes.
    exec(
        tx,
        "INSERT INTO blobs (sha256, size, refs, data) VALUES (?1, ?2, 1, ?3)
         ON CONFLICT (sha256) DO UPDATE SET refs = refs + 1",
        params![f.sha256, int(f.size), done.inline.as_deref()],
    )?;
    exec(
        tx,
        &format!("INSERT INTO files ({FILE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![f.id.to_string(), f.user_id, f.name, int(f.size), f.sha256, ms(&f.created_at)],
    )?;
    insert_outbox(tx, &done.event)?;
    let after = before.saturating_add(f.size);
    if before < warn_at && after >= warn_at {
        insert_outbox(tx, &OutboxEvent::new(&FileMessageData::quota_warning(FILE_STORAGE_SOURCE, f.user_id.clone())))?;
    }
    Ok(Completed::Stored)
}

fn ms(ts: &DateTime<Utc>) -> i64 {
    ts.timestamp_millis()
}

fn from_ms(value: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(value).unwrap_or_default()
}

fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn uint(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

fn uuid(column: &'static str, raw: String) -> Result<Uuid, MetaError> {
    Uuid::parse_str(&raw).map_err(|_| MetaError::Corrupt { column, value: raw })
}

type RawUpload = (String, String, String, i64, i64, i64, i64, Option<String>, Option<String>);

fn raw_upload(row: &Row<'_>) -> rusqlite::Result<RawUpload> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?, row.get(7)?, row.get(8)?))
}

fn upload_from(raw: RawUpload) -> Result<UploadRow, MetaError> {
    let (id, user_id, name, length, offset, created_at, expires_at, file_id, sha256) = raw;
    Ok(UploadRow {
        id: uuid("uploads.id", id)?,
        user_id,
        name,
        length: uint(length),
        offset: uint(offset),
        created_at: from_ms(created_at),
        expires_at: from_ms(expires_at),
        file_id: file_id.map(|f| uuid("uploads.file_id", f)).transpose()?,
        sha256,
    })
}

type RawFile = (String, String, String, i64, String, i64);

fn raw_file(row: &Row<'_>) -> rusqlite::Result<RawFile> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
}

fn file_from(raw: RawFile) -> Result<FileRow, MetaError> {
    let (id, user_id, name, size, sha256, created_at) = raw;
    Ok(FileRow { id: uuid("files.id", id)?, user_id, name, size: uint(size), sha256, created_at: from_ms(created_at) })
}

const FILE_COLUMNS: &str = "id, user_id, name, size, sha256, created_at";

fn stored_bytes(tx: &Connection, user: &str) -> Result<u64, MetaError> {
    let stored: Option<i64> =
        one(tx, "SELECT stored_bytes FROM usage WHERE user_id = ?1", [user], |r| r.get(0)).optional()?;
    Ok(uint(stored.unwrap_or_default()))
}

/// Bytes reserved by the user's unfinished uploads.
fn reserved_bytes(tx: &Connection, user: &str) -> Result<u64, MetaError> {
    let sum: i64 = one(
        tx,
        "SELECT COALESCE(SUM(length), 0) FROM uploads WHERE user_id = ?1 AND file_id IS NULL",
        [user],
        |r| r.get(0),
    )?;
    Ok(uint(sum))
}

fn insert_upload(tx: &Connection, u: &UploadRow) -> Result<(), MetaError> {
    exec(
        tx,
        "INSERT INTO uploads (id, user_id, name, length, offset, created_at, expires_at, file_id, sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            u.id.to_string(),
            u.user_id,
            u.name,
            int(u.length),
            int(u.offset),
            ms(&u.created_at),
            ms(&u.expires_at),
            u.file_id.map(|f| f.to_string()),
            u.sha256
        ],
    )?;
    Ok(())
}

fn insert_outbox(tx: &Connection, event: &OutboxEvent) -> Result<(), MetaError> {
    exec(
        tx,
        "INSERT INTO outbox (id, event_type, body, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![event.id.to_string(), event.event_type.as_str(), event.body, ms(&event.timestamp)],
    )?;
    Ok(())
}

impl MetaStore for SqliteStore {
    fn ping(&self) -> Result<(), MetaError> {
        self.with(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).map(drop)?))
    }

    fn create_upload(&self, u: &UploadRow, quota: u64) -> Result<CreateOutcome, MetaError> {
        // Unsynced: a creation lost in a crash is an upload the client resumes into a 404 and
        // starts over (its temp file is swept at startup); a creation-with-upload is made
        // durable by its own completing commit.
        self.with_unsynced(|c| {
            let tx = c.transaction()?;
            let used = stored_bytes(&tx, &u.user_id)?.saturating_add(reserved_bytes(&tx, &u.user_id)?);
            let room = quota.saturating_sub(used);
            if u.length > room {
                return Ok(CreateOutcome::OverQuota { room });
            }
            insert_upload(&tx, u)?;
            tx.commit()?;
            Ok(CreateOutcome::Created)
        })
    }

    fn upload(&self, id: Uuid) -> Result<Option<UploadRow>, MetaError> {
        self.with(|c| {
            let raw = c
                .query_row(
                    "SELECT id, user_id, name, length, offset, created_at, expires_at, file_id, sha256 FROM uploads WHERE id = ?1",
                    [id.to_string()],
                    raw_upload,
                )
                .optional()?;
            raw.map(upload_from).transpose()
        })
    }

    fn set_upload_offset(&self, id: Uuid, offset: u64) -> Result<(), MetaError> {
        self.with(|c| {
            c.execute("UPDATE uploads SET offset = ?2 WHERE id = ?1", params![id.to_string(), int(offset)])?;
            Ok(())
        })
    }

    fn delete_upload(&self, id: Uuid) -> Result<bool, MetaError> {
        self.with(|c| Ok(c.execute("DELETE FROM uploads WHERE id = ?1", [id.to_string()])? > 0))
    }

    fn expired_uploads(&self, now_ms: i64) -> Result<Vec<Uuid>, MetaError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT id FROM uploads WHERE expires_at < ?1")?;
            let ids = stmt.query_map([now_ms], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
            ids.into_iter().map(|id| uuid("uploads.id", id)).collect()
        })
    }

    fn upload_ids(&self) -> Result<Vec<Uuid>, MetaError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT id FROM uploads")?;
            let ids = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
            ids.into_iter().map(|id| uuid("uploads.id", id)).collect()
        })
    }

    fn complete_uploads(&self, completions: &[&Completion], warn_at: u64) -> Result<Vec<Completed>, MetaError> {
        self.with(|c| {
            // No savepoint per completion: each would copy every page it touches into the
            // statement journal. A refusal writes nothing; an error rolls the whole batch back.
            let tx = c.transaction()?;
            let outcomes = completions.iter().map(|done| complete_in(&tx, done, warn_at)).collect::<Result<Vec<_>, _>>()?;
            tx.commit()?;
            Ok(outcomes)
        })
    }

    fn blob_referenced(&self, sha256: &str) -> Result<bool, MetaError> {
        self.with(|c| {
            Ok(c.query_row("SELECT COUNT(*) FROM blobs WHERE sha256 = ?1", [sha256], |r| r.get::<_, i64>(0))? > 0)
        })
    }

    fn list_files(&self, user: &str, before: Option<Uuid>, limit: u32) -> Result<Vec<FileRow>, MetaError> {
        self.with(|c| {
            // File ids are UUIDv7: their text order is their creation order.
            let before = before.map(|b| b.to_string()).unwrap_or_else(|| "g".to_owned());
            let mut stmt = c.prepare(&format!(
                "SELECT {FILE_COLUMNS} FROM files WHERE user_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3"
            ))?;
            let rows = stmt.query_map(params![user, before, limit], raw_file)?.collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().map(file_from).collect()
        })
    }

    fn stored_file(&self, user: &str, id: Uuid) -> Result<Option<StoredFile>, MetaError> {
        self.with(|c| {
            let raw = c
                .query_row(
                    "SELECT f.id, f.user_id, f.name, f.size, f.sha256, f.created_at, b.data
                     FROM files f JOIN blobs b ON b.sha256 = f.sha256 WHERE f.id = ?1 AND f.user_id = ?2",
                    params![id.to_string(), user],
                    |r| Ok((raw_file(r)?, r.get::<_, Option<Vec<u8>>>(6)?)),
                )
                .optional()?;
            raw.map(|(file, data)| Ok(StoredFile { file: file_from(file)?, inline: data.map(Bytes::from) })).transpose()
        })
    }

    fn file(&self, user: &str, id: Uuid) -> Result<Option<FileRow>, MetaError> {
        self.with(|c| {
            let raw = c
                .query_row(
                    &format!("SELECT {FILE_COLUMNS} FROM files WHERE id = ?1 AND user_id = ?2"),
                    params![id.to_string(), user],
                    raw_file,
                )
                .optional()?;
            raw.map(file_from).transpose()
        })
    }

    fn delete_file(
        &self,
        user: &str,
        id: Uuid,
        event: &dyn Fn(&FileRow) -> FileMessageData,
    ) -> Result<Option<DeletedFile>, MetaError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let raw = tx
                .query_row(
                    &format!("SELECT {FILE_COLUMNS} FROM files WHERE id = ?1 AND user_id = ?2"),
                    params![id.to_string(), user],
                    raw_file,
                )
                .optional()?;
            let Some(file) = raw.map(file_from).transpose()? else { return Ok(None) };
            tx.execute("DELETE FROM files WHERE id = ?1", [id.to_string()])?;
            let refs: i64 = tx.query_row("SELECT refs FROM blobs WHERE sha256 = ?1", [&file.sha256], |r| r.get(0))?;
            let blob_unreferenced = refs <= 1;
            if blob_unreferenced {
                tx.execute("DELETE FROM blobs WHERE sha256 = ?1", [&file.sha256])?;
            } else {
                tx.execute("UPDATE blobs SET refs = refs - 1 WHERE sha256 = ?1", [&file.sha256])?;
            }
            insert_outbox(&tx, &OutboxEvent::new(&event(&file)))?;
            tx.commit()?;
            Ok(Some(DeletedFile { file, blob_unreferenced }))
        })
    }

    fn pending_outbox(&self, after: i64, limit: u32) -> Result<Vec<OutboxRow>, MetaError> {
        self.with_reads(|c| {
            let mut stmt = c.prepare_cached("SELECT seq, id, body FROM outbox WHERE sent_at IS NULL AND seq > ?1 ORDER BY seq LIMIT ?2")?;
            let rows = stmt
                .query_map(params![after, limit], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Vec<u8>>(2)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(seq, id, body)| {
                    let event = FileMessageData::from_json(&body).map_err(|_| MetaError::Corrupt {
                        column: "outbox.body",
                        value: String::from_utf8_lossy(&body).into_owned(),
                    })?;
                    Ok(OutboxRow { seq, id: uuid("outbox.id", id)?, event, body })
                })
                .collect()
        })
    }

    fn mark_sent(&self, through: i64) -> Result<(), MetaError> {
        // Unsynced: a "sent" mark lost in a crash republishes those events, which consumers
        // dedupe on message_id (delivery is at-least-once anyway).
        self.with_unsynced(|c| {
            exec(c, "UPDATE outbox SET sent_at = ?2 WHERE sent_at IS NULL AND seq <= ?1", params![through, ms(&Utc::now())])?;
            Ok(())
        })
    }

    fn outbox_backlog(&self) -> Result<u64, MetaError> {
        self.with_reads(|c| Ok(uint(c.query_row("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL", [], |r| r.get(0))?)))
    }

    fn prune_sent(&self, before_ms: i64) -> Result<usize, MetaError> {
        self.with(|c| Ok(c.execute("DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?1", [before_ms])?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(Migrations::from_slice(MIGRATIONS).validate().is_ok());
    }

    fn row(user: &str, length: u64) -> UploadRow {
        let now = Utc::now();
        UploadRow {
            id: Uuid::new_v4(),
            user_id: user.into(),
            name: "f".into(),
            length,
            offset: 0,
            created_at: now,
            expires_at: now,
            file_id: None,
            sha256: None,
        }
    }

    fn complete(store: &SqliteStore, done: &Completion, warn_at: u64) -> Completed {
        let mut outcomes = store.complete_uploads(&[done], warn_at).unwrap();
        assert_eq!(outcomes.len(), 1);
        outcomes.pop().unwrap()
    }

    /// A creation-with-upload finished in the same transaction that inserts it.
    fn created(store: &SqliteStore, user: &str, length: u64, inline: Option<&'static [u8]>) -> Completion {
        let mut done = upload(store, user, 0);
        assert!(store.delete_upload(done.upload_id()).unwrap());
        done.upload = Finished::New { row: row(user, length), quota: 1000 };
        done.file.size = length;
        done.file.sha256 = format!("{length:064x}");
        done.inline = inline.map(Bytes::from_static);
        done
    }

    fn upload(store: &SqliteStore, user: &str, length: u64) -> Completion {
        let now = Utc::now();
        let row = row(user, length);
        assert_eq!(store.create_upload(&row, 1000).unwrap(), CreateOutcome::Created);
        let file = FileRow { id: Uuid::now_v7(), user_id: user.into(), name: "f".into(), size: length, sha256: "ab".repeat(32), created_at: now };
        let event = FileMessageData::file_stored(FILE_STORAGE_SOURCE, user, lockbox_events::FileData::new(file.id, "f", now));
        Completion { upload: Finished::Existing(row.id), file, event: OutboxEvent::new(&event), inline: None }
    }

    #[test]
    fn completing_counts_blob_references_and_deleting_releases_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("m.sqlite3")).unwrap();
        let (a, b) = (upload(&store, "u", 100), upload(&store, "u", 100));
        assert_eq!(complete(&store, &a, 900), Completed::Stored);
        assert_eq!(complete(&store, &b, 900), Completed::Stored);
        assert_eq!(store.outbox_backlog().unwrap(), 2);
        let deleted = |id| store.delete_file("u", id, &|f: &FileRow| FileMessageData::file_deleted(FILE_STORAGE_SOURCE, "u", lockbox_events::FileData::new(f.id, "f", f.created_at)));
        assert!(!deleted(a.file.id).unwrap().unwrap().blob_unreferenced, "b still uses the blob");
        assert!(store.blob_referenced(&a.file.sha256).unwrap());
        assert!(deleted(b.file.id).unwrap().unwrap().blob_unreferenced);
        assert!(!store.blob_referenced(&a.file.sha256).unwrap());
        assert!(deleted(b.file.id).unwrap().is_none());

        let pending = store.pending_outbox(0, 10).unwrap();
        assert_eq!(pending.len(), 4, "2 stored + 2 deleted");
        assert!(pending.windows(2).all(|w| w[0].seq < w[1].seq));
        let after = store.pending_outbox(pending[1].seq, 10).unwrap();
        assert_eq!(after.iter().map(|r| r.seq).collect::<Vec<_>>(), [pending[2].seq, pending[3].seq], "only rows after the cursor");
        store.mark_sent(pending[1].seq).unwrap();
        assert_eq!(store.outbox_backlog().unwrap(), 2, "marked through the second row");
        assert_eq!(store.pending_outbox(0, 10).unwrap().len(), 2);
        store.mark_sent(pending[3].seq).unwrap();
        assert_eq!(store.outbox_backlog().unwrap(), 0);
        assert_eq!(store.prune_sent(0).unwrap(), 0, "nothing sent before the epoch");
        assert_eq!(store.prune_sent(i64::MAX).unwrap(), 4);
    }

    #[test]
    fn the_quota_counts_unfinished_uploads() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("m.sqlite3")).unwrap();
        let first = upload(&store, "u", 600);
        let second = row("u", 500);
        assert_eq!(store.create_upload(&second, 1000).unwrap(), CreateOutcome::OverQuota { room: 400 });
        assert_eq!(complete(&store, &first, 900), Completed::Stored);
        assert_eq!(store.create_upload(&second, 1000).unwrap(), CreateOutcome::OverQuota { room: 400 }, "stored now, same room");
        assert_eq!(store.create_upload(&row("v", 500), 1000).unwrap(), CreateOutcome::Created);
    }

    #[test]
    fn a_batch_stores_all_but_the_refused_and_a_failing_one_stores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("m.sqlite3")).unwrap();
        let good = upload(&store, "u", 100);
        let mut clashing = upload(&store, "u", 100);
        clashing.file.id = good.file.id; // the files table's primary key refuses it
        let too_big = created(&store, "u", 900, None);
        let small = created(&store, "u", 4, Some(b"abcd"));

        assert!(store.complete_uploads(&[&good, &clashing], 10_000).is_err());
        assert_eq!(store.outbox_backlog().unwrap(), 0, "an error rolls the whole batch back");
        assert!(store.stored_file("u", good.file.id).unwrap().is_none());

        let outcomes = store.complete_uploads(&[&good, &too_big, &small], 10_000).unwrap();
        // Of 1000: 100 stored by `good`, 100 reserved by `clashing`'s unfinished upload.
        assert_eq!(outcomes, [Completed::Stored, Completed::OverQuota { room: 800 }, Completed::Stored]);
        assert_eq!(store.outbox_backlog().unwrap(), 2, "one event per stored file, none for the refused one");
        let kept = store.stored_file("u", small.file.id).unwrap().unwrap();
        assert_eq!(kept.inline.as_deref(), Some(&b"abcd"[..]), "a small file's content is in the database");
        let done = store.upload(small.upload_id()).unwrap().unwrap();
        assert_eq!((done.offset, done.file_id), (4, Some(small.file.id)), "inserted complete");
        assert!(store.stored_file("u", good.file.id).unwrap().unwrap().inline.is_none(), "the blob store has this one");
        assert!(store.stored_file("v", small.file.id).unwrap().is_none(), "another user's file is not found");
        assert!(store.upload(too_big.upload_id()).unwrap().is_none(), "nothing of the refused one");
    }

    #[test]
    fn the_usage_counter_starts_from_the_files_already_stored_and_follows_every_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sqlite3");
        {
            let mut conn = Connection::open(&path).unwrap();
            Migrations::from_slice(MIGRATIONS).to_version(&mut conn, 3).unwrap();
            conn.execute_batch(
                "INSERT INTO blobs (sha256, size, refs) VALUES ('a', 100, 2), ('b', 50, 1);
                 INSERT INTO files (id, user_id, name, size, sha256, created_at) VALUES
                     ('f1', 'u', 'x', 100, 'a', 0), ('f2', 'u', 'y', 100, 'a', 0), ('f3', 'v', 'z', 50, 'b', 0);",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let used = |user: &str| store.with(|c| stored_bytes(c, user)).unwrap();
        assert_eq!((used("u"), used("v"), used("w")), (200, 50, 0));
        let more = upload(&store, "u", 300);
        assert_eq!(complete(&store, &more, 10_000), Completed::Stored);
        assert_eq!(used("u"), 500);
        let event = |f: &FileRow| FileMessageData::file_deleted(FILE_STORAGE_SOURCE, "u", lockbox_events::FileData::new(f.id, "f", f.created_at));
        store.delete_file("u", more.file.id, &event).unwrap().unwrap();
        assert_eq!(used("u"), 200);
    }
}
