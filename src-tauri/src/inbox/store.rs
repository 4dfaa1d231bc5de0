//! The inbox store. One connection, used from one thread at a time (the caller wraps it in a
//! mutex and calls it off the async threads).

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use serde::{Deserialize, Serialize};

use super::schema::migrations;

#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("cannot open the inbox database {path}: {source}")]
    Open { path: String, #[source] source: rusqlite::Error },
    #[error("cannot migrate the inbox database: {0}")]
    Migrate(#[from] rusqlite_migration::Error),
    #[error("inbox database error: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// One cached notification, as the window shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct InboxItem {
    pub id: String,
    #[specta(type = f64)]
    pub seq: i64,
    pub kind: String,
    pub file_id: Option<String>,
    pub file_name: Option<String>,
    /// JSON object with what a client needs to render its own text.
    pub params: String,
    pub title: String,
    pub body: String,
    pub created_at: String,
    pub read_at: Option<String>,
}

/// What the list shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct InboxFilter {
    pub unread_only: bool,
    /// Full-text search over titles and file names; words match as prefixes.
    pub query: Option<String>,
}

/// A window of the list, newest first, with the total the filter matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct InboxPage {
    pub items: Vec<InboxItem>,
    #[specta(type = f64)]
    pub total: u64,
    #[specta(type = f64)]
    pub offset: u64,
}

pub struct Inbox {
    conn: Connection,
    user_id: String,
}

const COLUMNS: &str = "id, seq, kind, file_id, file_name, params, title, body, created_at, read_at";

impl Inbox {
    /// Opens (creating and migrating) the inbox of `user_id` at `path`.
    pub fn open(path: &Path, user_id: &str) -> Result<Self, InboxError> {
        let conn = Connection::open(path)
            .map_err(|source| InboxError::Open { path: path.display().to_string(), source })?;
        Self::with_connection(conn, user_id)
    }

    pub fn in_memory(user_id: &str) -> Result<Self, InboxError> {
        Self::with_connection(Connection::open_in_memory()?, user_id)
    }

    fn with_connection(mut conn: Connection, user_id: &str) -> Result<Self, InboxError> {
        // WAL: the UI's reads never wait for the feed's writes.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations().to_latest(&mut conn)?;
        Ok(Self { conn, user_id: user_id.to_owned() })
    }

    /// Inserts unless a notification with that id is cached already. Returns whether it was new.
    pub fn insert(&mut self, item: &InboxItem) -> Result<bool, InboxError> {
        let changed = self.conn.execute(
            "INSERT INTO notifications (id, user_id, seq, kind, file_id, file_name, params, title, body, created_at, read_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT DO NOTHING",
            params![
                item.id, self.user_id, item.seq, item.kind, item.file_id, item.file_name,
                item.params, item.title, item.body, item.created_at, item.read_at
            ],
        )?;
        Ok(changed == 1)
    }

    /// Inserts many in one transaction; returns the ones that were new, in order.
    pub fn insert_all(&mut self, items: &[InboxItem]) -> Result<Vec<InboxItem>, InboxError> {
        let tx = self.conn.transaction()?;
        let mut fresh = Vec::new();
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO notifications (id, user_id, seq, kind, file_id, file_name, params, title, body, created_at, read_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT DO NOTHING",
            )?;
            for item in items {
                let changed = stmt.execute(params![
                    item.id, self.user_id, item.seq, item.kind, item.file_id, item.file_name,
                    item.params, item.title, item.body, item.created_at, item.read_at
                ])?;
                if changed == 1 {
                    fresh.push(item.clone());
                }
            }
        }
        tx.commit()?;
        Ok(fresh)
    }

    /// The highest cached seq: where the stream resumes (`since=`).
    pub fn max_seq(&self) -> Result<i64, InboxError> {
        Ok(self.conn.query_row(
            "SELECT coalesce(max(seq), 0) FROM notifications WHERE user_id = ?1",
            [&self.user_id],
            |r| r.get(0),
        )?)
    }

    pub fn count(&self) -> Result<u64, InboxError> {
        self.count_where("")
    }

    pub fn unread_count(&self) -> Result<u64, InboxError> {
        self.count_where(" AND read_at IS NULL")
    }

    fn count_where(&self, extra: &str) -> Result<u64, InboxError> {
        let sql = format!("SELECT count(*) FROM notifications WHERE user_id = ?1{extra}");
        let n: i64 = self.conn.query_row(&sql, [&self.user_id], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    pub fn get(&self, id: &str) -> Result<Option<InboxItem>, InboxError> {
        let sql = format!("SELECT {COLUMNS} FROM notifications WHERE user_id = ?1 AND id = ?2");
        Ok(self.conn.query_row(&sql, params![self.user_id, id], row_to_item).optional()?)
    }

    /// `limit` items from `offset`, newest first, matching `filter`.
    pub fn page(&self, filter: &InboxFilter, offset: u64, limit: u32) -> Result<InboxPage, InboxError> {
        let (from, mut args) = self.filtered(filter);
        let total: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM {from}"),
            params_from_iter(args.iter()),
            |r| r.get(0),
        )?;
        let total = u64::try_from(total).unwrap_or_default();
        args.push(Value::Integer(i64::from(limit)));
        args.push(Value::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
        let sql = format!(
            "SELECT {cols} FROM {from} ORDER BY n.seq DESC LIMIT ? OFFSET ?",
            cols = COLUMNS.split(", ").map(|c| format!("n.{c}")).collect::<Vec<_>>().join(", ")
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let items = stmt.query_map(params_from_iter(args.iter()), row_to_item)?.collect::<Result<Vec<_>, _>>()?;
        Ok(InboxPage { items, total, offset })
    }

    /// The FROM/WHERE clause and its arguments for a filter.
    fn filtered(&self, filter: &InboxFilter) -> (String, Vec<Value>) {
        let mut args = vec![Value::Text(self.user_id.clone())];
        let mut from = String::from("notifications n");
        let mut wheres = vec!["n.user_id = ?"];
        if let Some(expr) = filter.query.as_deref().and_then(fts_query) {
            from.push_str(" JOIN notifications_fts f ON f.rowid = n.rowid");
            wheres.push("notifications_fts MATCH ?");
            args.push(Value::Text(expr));
        }
        if filter.unread_only {
            wheres.push("n.read_at IS NULL");
        }
        (format!("{from} WHERE {}", wheres.join(" AND ")), args)
    }

    /// Marks these ids read at `at` (unless already read). Returns how many changed.
    pub fn mark_read(&mut self, ids: &[String], at: &str) -> Result<usize, InboxError> {
        let tx = self.conn.transaction()?;
        let mut changed = 0;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE notifications SET read_at = ?1 WHERE user_id = ?2 AND id = ?3 AND read_at IS NULL",
            )?;
            for id in ids {
                changed += stmt.execute(params![at, self.user_id, id])?;
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Marks everything up to and including `seq` read.
    pub fn mark_read_up_to(&mut self, seq: i64, at: &str) -> Result<usize, InboxError> {
        Ok(self.conn.execute(
            "UPDATE notifications SET read_at = ?1 WHERE user_id = ?2 AND seq <= ?3 AND read_at IS NULL",
            params![at, self.user_id, seq],
        )?)
    }
}

/// Turns what a person types into a safe FTS5 expression: every word a quoted prefix term,
/// so `report 20` finds "report-2026.pdf" and no input is an FTS syntax error.
fn fts_query(input: &str) -> Option<String> {
    let terms: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

fn row_to_item(row: &rusqlite::Row<'_>) -> rusqlite::Result<InboxItem> {
    Ok(InboxItem {
        id: row.get(0)?,
        seq: row.get(1)?,
        kind: row.get(2)?,
        file_id: row.get(3)?,
        file_name: row.get(4)?,
        params: row.get(5)?,
        title: row.get(6)?,
        body: row.get(7)?,
        created_at: row.get(8)?,
        read_at: row.get(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(seq: i64, name: &str) -> InboxItem {
        InboxItem {
            id: format!("n-{seq}"),
            seq,
            kind: "file.stored".into(),
            file_id: Some(format!("f-{seq}")),
            file_name: Some(name.into()),
            params: format!(r#"{{"file_name":"{name}"}}"#),
            title: format!("{name} was stored"),
            body: "Your file is safe in LockBox.".into(),
            created_at: "2026-12-04T10:15:30.123Z".into(),
            read_at: None,
        }
    }

    #[test]
    fn inserts_are_idempotent_by_notification_id() {
        let mut inbox = Inbox::in_memory("alice").unwrap();
        assert!(inbox.insert(&item(1, "a.txt")).unwrap());
        assert!(!inbox.insert(&item(1, "a.txt")).unwrap(), "a replayed notification is not cached twice");
        let fresh = inbox.insert_all(&[item(1, "a.txt"), item(2, "b.txt")]).unwrap();
        assert_eq!(fresh.iter().map(|i| i.seq).collect::<Vec<_>>(), [2]);
        assert_eq!(inbox.count().unwrap(), 2);
        assert_eq!(inbox.max_seq().unwrap(), 2);
    }

    #[test]
    fn migrations_upgrade_an_existing_file_and_keep_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox.sqlite3");
        {
            // A database from the first release: only the first migration applied.
            let mut conn = Connection::open(&path).unwrap();
            let first = Migrations::new(vec![migrations_first()]);
            first.to_latest(&mut conn).unwrap();
            conn.execute(
                "INSERT INTO notifications (id, user_id, seq, kind, title, body, created_at, file_name)
                 VALUES ('old', 'alice', 7, 'file.stored', 'holiday.jpg was stored', 'b', 't', 'holiday.jpg')",
                [],
            )
            .unwrap();
        }
        let inbox = Inbox::open(&path, "alice").unwrap();
        assert_eq!(inbox.max_seq().unwrap(), 7);
        let found = inbox.page(&InboxFilter { query: Some("holi".into()), ..Default::default() }, 0, 10).unwrap();
        assert_eq!(found.total, 1, "rows cached before the FTS migration are searchable after it");
    }

    fn migrations_first() -> rusqlite_migration::M<'static> {
        rusqlite_migration::M::up(
            "CREATE TABLE notifications (
                 id TEXT PRIMARY KEY, user_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL,
                 file_id TEXT, file_name TEXT, params TEXT NOT NULL DEFAULT '{}', title TEXT NOT NULL,
                 body TEXT NOT NULL, created_at TEXT NOT NULL, read_at TEXT
             );
             CREATE UNIQUE INDEX notifications_user_seq ON notifications (user_id, seq);",
        )
    }

    use rusqlite_migration::Migrations;

    #[test]
    fn search_finds_titles_and_file_names_by_prefix_and_survives_odd_input() {
        let mut inbox = Inbox::in_memory("alice").unwrap();
        inbox.insert_all(&[item(1, "report-2026.pdf"), item(2, "holiday.jpg"), item(3, "Réport final.docx")]).unwrap();
        let search = |q: &str| {
            let page = inbox.page(&InboxFilter { query: Some(q.into()), ..Default::default() }, 0, 10).unwrap();
            page.items.iter().map(|i| i.seq).collect::<Vec<_>>()
        };
        assert_eq!(search("report"), [3, 1], "diacritics fold, newest first");
        assert_eq!(search("holi"), [2]);
        assert_eq!(search("report 2026"), [1]);
        assert_eq!(search("\"unbalanced ( AND"), Vec::<i64>::new());
        assert_eq!(search("   ").len(), 3, "an empty query shows everything");
    }

    #[test]
    fn read_state_and_the_unread_filter() {
        let mut inbox = Inbox::in_memory("alice").unwrap();
        inbox.insert_all(&(1..=5).map(|s| item(s, "x")).collect::<Vec<_>>()).unwrap();
        assert_eq!(inbox.unread_count().unwrap(), 5);
        assert_eq!(inbox.mark_read(&["n-2".into(), "n-2".into()], "t").unwrap(), 1);
        assert_eq!(inbox.mark_read_up_to(3, "t").unwrap(), 2);
        assert_eq!(inbox.unread_count().unwrap(), 2);
        let unread = inbox.page(&InboxFilter { unread_only: true, query: None }, 0, 10).unwrap();
        assert_eq!(unread.items.iter().map(|i| i.seq).collect::<Vec<_>>(), [5, 4]);
        assert_eq!(inbox.get("n-2").unwrap().unwrap().read_at.as_deref(), Some("t"));
    }

    #[test]
    fn another_users_rows_are_invisible() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox.sqlite3");
        Inbox::open(&path, "bob").unwrap().insert(&item(1, "bobs.txt")).unwrap();
        let alice = Inbox::open(&path, "alice").unwrap();
        assert_eq!(alice.count().unwrap(), 0);
        assert_eq!(alice.max_seq().unwrap(), 0);
    }

    #[test]
    fn a_page_deep_in_100_000_rows_is_exact() {
        let mut inbox = Inbox::in_memory("alice").unwrap();
        let rows: Vec<InboxItem> = (1..=100_000).map(|s| item(s, &format!("file-{s}.bin"))).collect();
        inbox.insert_all(&rows).unwrap();
        let page = inbox.page(&InboxFilter::default(), 99_950, 100).unwrap();
        assert_eq!(page.total, 100_000);
        assert_eq!(page.items.len(), 50);
        assert_eq!(page.items.first().map(|i| i.seq), Some(50));
        assert_eq!(page.items.last().map(|i| i.seq), Some(1));
        let hits = inbox.page(&InboxFilter { query: Some("file 99999".into()), ..Default::default() }, 0, 5).unwrap();
        assert_eq!(hits.items.first().map(|i| i.seq), Some(99_999));
    }
}
