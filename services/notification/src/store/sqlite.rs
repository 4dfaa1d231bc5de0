//! The embedded store: one SQLite file in WAL mode, migrated on open. SQLite calls block, so
//! every operation runs on tokio's blocking pool, never on an async worker thread.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, Utc};
use lockbox_events::{EventType, Notification, NotificationFile};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use rusqlite_migration::{M, Migrations};
use uuid::Uuid;

use super::{
    Inserted, NewNotification, NotificationStore, Pruned, ReadOutcome, ReadSelector, ReadSync, StoreError,
    StoreFuture,
};

/// Append-only: never edit a shipped migration, add one.
const MIGRATIONS: &[M<'static>] = &[M::up(
    r#"
    -- The last seq handed out per user; kept apart from the notifications so retention
    -- deleting old rows never lets a seq be reused.
    CREATE TABLE user_seq (
        user_id  TEXT PRIMARY KEY,
        last_seq INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE notifications (
        id         TEXT PRIMARY KEY,
        user_id    TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        kind       TEXT NOT NULL,
        file_id    TEXT,
        file_name  TEXT,
        params     TEXT NOT NULL,
        title      TEXT NOT NULL,
        body       TEXT NOT NULL,
        created_at INTEGER NOT NULL, -- unix milliseconds
        read_at    INTEGER,          -- unix milliseconds, NULL while unread
        message_id TEXT NOT NULL,
        UNIQUE (user_id, seq)
    ) STRICT;
    CREATE INDEX notifications_unread ON notifications (user_id, seq) WHERE read_at IS NULL;
    CREATE INDEX notifications_created ON notifications (created_at);

    -- AMQP message ids already turned into a notification: the dedupe record.
    CREATE TABLE processed_messages (
        message_id   TEXT PRIMARY KEY,
        processed_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX processed_messages_at ON processed_messages (processed_at);
    "#,
)];

const COLUMNS: &str = "id, seq, user_id, kind, file_id, file_name, params, title, body, created_at, read_at";

/// The SQLite store. Cheap to clone; all clones share one connection.
#[derive(Clone)]
pub struct SqliteStore {
    // One connection: SQLite has one writer anyway, and the service's reads are small.
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish()
    }
}

impl SqliteStore {
    pub const FILE_NAME: &str = "notifications.sqlite3";

    /// Opens (creating and migrating) `notifications.sqlite3` under `data_dir`, off the async
    /// threads.
    pub async fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let dir = data_dir.to_path_buf();
        tokio::task::spawn_blocking(move || Self::open_blocking(&dir)).await.map_err(StoreError::Worker)?
    }

    fn open_blocking(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|source| StoreError::CreateDir { path: data_dir.to_path_buf(), source })?;
        let path = data_dir.join(Self::FILE_NAME);
        let open_err = |source| StoreError::Open { path: path.clone(), source };
        let mut conn = Connection::open(&path).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
        // WAL + NORMAL: a commit survives a process crash; only an OS crash may lose the last
        // commits, and those messages were not acknowledged yet, so the broker redelivers them.
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(open_err)?;
        Migrations::from_slice(MIGRATIONS).to_latest(&mut conn).map_err(StoreError::Migrate)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)), path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` on the blocking pool with the connection.
    fn blocking<T, F>(&self, work: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = self.conn.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                // A panic mid-transaction rolled that transaction back; the connection is fine.
                let mut conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                work(&mut conn)
            })
            .await
            .map_err(StoreError::Worker)?
        })
    }
}

impl NotificationStore for SqliteStore {
    fn insert_batch(&self, batch: Vec<(String, NewNotification)>) -> StoreFuture<'_, Vec<Inserted>> {
        self.blocking(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let results = batch
                .into_iter()
                .map(|(message_id, new)| insert_one(&tx, message_id, new))
                .collect::<Result<Vec<_>, _>>()?;
            tx.commit()?;
            Ok(results)
        })
    }

    fn list(&self, user_id: String, since: u64, limit: u32) -> StoreFuture<'_, Vec<Notification>> {
        self.blocking(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM notifications WHERE user_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
            ))?;
            let rows = stmt.query_map(params![user_id, to_i64(since), limit], read_row)?;
            rows.map(|row| row?).collect()
        })
    }

    fn mark_read(&self, user_id: String, which: ReadSelector, at: DateTime<Utc>) -> StoreFuture<'_, ReadOutcome> {
        self.blocking(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let at = at.timestamp_millis();
            let ids: Vec<String> = match which {
                ReadSelector::Ids(ids) => {
                    let list = serde_json::Value::from(ids.iter().map(Uuid::to_string).collect::<Vec<_>>()).to_string();
                    let mut stmt = tx.prepare_cached(
                        "UPDATE notifications SET read_at = ?3
                         WHERE user_id = ?1 AND read_at IS NULL AND id IN (SELECT value FROM json_each(?2))
                         RETURNING id",
                    )?;
                    stmt.query_map(params![user_id, list, at], |row| row.get(0))?.collect::<Result<_, _>>()?
                }
                ReadSelector::UpToSeq(seq) => {
                    let mut stmt = tx.prepare_cached(
                        "UPDATE notifications SET read_at = ?3
                         WHERE user_id = ?1 AND read_at IS NULL AND seq <= ?2
                         RETURNING id",
                    )?;
                    stmt.query_map(params![user_id, to_i64(seq), at], |row| row.get(0))?.collect::<Result<_, _>>()?
                }
            };
            let unread = count_unread(&tx, &user_id)?;
            tx.commit()?;
            let ids = ids.iter().map(|id| parse_uuid(id, "notification id")).collect::<Result<_, _>>()?;
            Ok(ReadOutcome { ids, unread })
        })
    }

    fn unread_count(&self, user_id: String) -> StoreFuture<'_, u64> {
        self.blocking(move |conn| count_unread(conn, &user_id))
    }

    fn read_since(&self, user_id: String, up_to_seq: u64, since: DateTime<Utc>) -> StoreFuture<'_, ReadSync> {
        self.blocking(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, read_at FROM notifications
                 WHERE user_id = ?1 AND seq <= ?2 AND read_at >= ?3 ORDER BY seq",
            )?;
            let rows = stmt.query_map(params![user_id, to_i64(up_to_seq), since.timestamp_millis()], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })?;
            let mut sync = ReadSync::default();
            for row in rows {
                let (id, read_at) = row?;
                sync.ids.push(parse_uuid(&id, "notification id")?);
                let read_at = millis(read_at, "read_at")?;
                sync.latest = sync.latest.max(Some(read_at));
            }
            Ok(sync)
        })
    }

    fn prune(&self, before: DateTime<Utc>) -> StoreFuture<'_, Pruned> {
        self.blocking(move |conn| {
            let before = before.timestamp_millis();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let notifications = tx.execute("DELETE FROM notifications WHERE created_at < ?1", params![before])?;
            // The broker never redelivers a message this old, so its dedupe record can go too.
            let message_ids = tx.execute("DELETE FROM processed_messages WHERE processed_at < ?1", params![before])?;
            tx.commit()?;
            Ok(Pruned { notifications: notifications as u64, message_ids: message_ids as u64 })
        })
    }

    fn check(&self) -> StoreFuture<'_, ()> {
        self.blocking(|conn| {
            conn.query_row("SELECT 1", [], |_| Ok(())).optional()?;
            Ok(())
        })
    }
}

/// One notification inside the caller's transaction.
fn insert_one(tx: &Connection, message_id: String, new: NewNotification) -> Result<Inserted, StoreError> {
    let now = Utc::now().timestamp_millis();
    let fresh = tx.prepare_cached(
        "INSERT INTO processed_messages (message_id, processed_at) VALUES (?1, ?2)
         ON CONFLICT (message_id) DO NOTHING",
    )?
    .execute(params![message_id, now])?;
    if fresh == 0 {
        return Ok(Inserted::Duplicate);
    }
    let seq: i64 = tx
        .prepare_cached(
            "INSERT INTO user_seq (user_id, last_seq) VALUES (?1, 1)
             ON CONFLICT (user_id) DO UPDATE SET last_seq = last_seq + 1
             RETURNING last_seq",
        )?
        .query_row(params![new.user_id], |row| row.get(0))?;
    let id = Uuid::now_v7();
    let params_json = serde_json::Value::Object(new.params.clone()).to_string();
    tx.prepare_cached(
        "INSERT INTO notifications
           (id, user_id, seq, kind, file_id, file_name, params, title, body, created_at, read_at, message_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL, ?11)",
    )?
    .execute(params![
        id.to_string(),
        new.user_id,
        seq,
        new.kind.as_str(),
        new.file.as_ref().map(|f| f.id.to_string()),
        new.file.as_ref().map(|f| f.name.clone()),
        params_json,
        new.title,
        new.body,
        new.created_at.timestamp_millis(),
        message_id,
    ])?;
    Ok(Inserted::Stored(Box::new(Notification {
        id,
        seq: u64::try_from(seq).unwrap_or_default(),
        user_id: new.user_id,
        kind: new.kind,
        file: new.file,
        params: new.params,
        title: new.title,
        body: new.body,
        created_at: new.created_at,
        read_at: None,
    })))
}

fn count_unread(conn: &Connection, user_id: &str) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM notifications WHERE user_id = ?1 AND read_at IS NULL",
        params![user_id],
        |row| row.get(0),
    )?;
    Ok(u64::try_from(n).unwrap_or_default())
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn parse_uuid(text: &str, what: &'static str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|e| StoreError::Corrupt { what, detail: format!("{text:?}: {e}") })
}

fn millis(ms: i64, what: &'static str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or(StoreError::Corrupt { what, detail: format!("{ms} ms") })
}

/// One row of [`COLUMNS`]; the outer error is SQLite's, the inner one a row we cannot read.
fn read_row(row: &Row<'_>) -> rusqlite::Result<Result<Notification, StoreError>> {
    let id: String = row.get(0)?;
    let seq: i64 = row.get(1)?;
    let user_id: String = row.get(2)?;
    let kind: String = row.get(3)?;
    let file_id: Option<String> = row.get(4)?;
    let file_name: Option<String> = row.get(5)?;
    let params: String = row.get(6)?;
    let title: String = row.get(7)?;
    let body: String = row.get(8)?;
    let created_at: i64 = row.get(9)?;
    let read_at: Option<i64> = row.get(10)?;
    Ok((|| {
        let file = match (file_id, file_name) {
            (Some(id), Some(name)) => Some(NotificationFile { id: parse_uuid(&id, "file id")?, name }),
            _ => None,
        };
        let params = match serde_json::from_str(&params) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Err(StoreError::Corrupt { what: "params", detail: params }),
        };
        Ok(Notification {
            id: parse_uuid(&id, "notification id")?,
            seq: u64::try_from(seq).unwrap_or_default(),
            user_id,
            kind: EventType::from(kind),
            file,
            params,
            title,
            body,
            created_at: millis(created_at, "created_at")?,
            read_at: read_at.map(|ms| millis(ms, "read_at")).transpose()?,
        })
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(user: &str) -> NewNotification {
        NewNotification {
            user_id: user.into(),
            kind: EventType::FileStored,
            file: Some(NotificationFile { id: Uuid::new_v4(), name: "report.pdf".into() }),
            params: serde_json::Map::new(),
            title: "report.pdf was stored".into(),
            body: "b".into(),
            created_at: lockbox_events::timestamp::now(),
        }
    }

    #[tokio::test]
    async fn seqs_are_per_user_dedupe_holds_and_reads_are_scoped() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let Inserted::Stored(a1) = store.insert("m1".into(), new("alice")).await.unwrap() else { panic!() };
        assert_eq!(store.insert("m1".into(), new("alice")).await.unwrap(), Inserted::Duplicate);
        // Within one batch too.
        let batch = store.insert_batch(vec![("m9".into(), new("carol")), ("m9".into(), new("carol"))]).await.unwrap();
        assert!(matches!(batch.as_slice(), [Inserted::Stored(c), Inserted::Duplicate] if c.seq == 1));
        let Inserted::Stored(b1) = store.insert("m2".into(), new("bob")).await.unwrap() else { panic!() };
        let Inserted::Stored(a2) = store.insert("m3".into(), new("alice")).await.unwrap() else { panic!() };
        assert_eq!((a1.seq, b1.seq, a2.seq), (1, 1, 2));
        assert_eq!(store.list("alice".into(), 0, 10).await.unwrap(), vec![*a1.clone(), *a2.clone()]);

        // Bob cannot read Alice's notification by id.
        let out = store.mark_read("bob".into(), ReadSelector::Ids(vec![a1.id]), Utc::now()).await.unwrap();
        assert_eq!(out, ReadOutcome { ids: vec![], unread: 1 });
        let out = store.mark_read("alice".into(), ReadSelector::UpToSeq(1), Utc::now()).await.unwrap();
        assert_eq!(out, ReadOutcome { ids: vec![a1.id], unread: 1 });
        assert_eq!(store.unread_count("alice".into()).await.unwrap(), 1);
        let before = Utc::now() - chrono::Duration::seconds(60);
        let sync = store.read_since("alice".into(), 1, before).await.unwrap();
        assert_eq!(sync.ids, vec![a1.id]);
        assert!(store.read_since("alice".into(), 0, before).await.unwrap().ids.is_empty());
        assert!(store.read_since("alice".into(), 9, Utc::now() + chrono::Duration::seconds(60)).await.unwrap().ids.is_empty());

        // Retention deletes old rows, but seqs keep counting up.
        let pruned = store.prune(Utc::now() + chrono::Duration::days(1)).await.unwrap();
        assert_eq!(pruned.notifications, 4);
        let Inserted::Stored(a3) = store.insert("m4".into(), new("alice")).await.unwrap() else { panic!() };
        assert_eq!(a3.seq, 3);
    }
}
