//! Inbox schema, as ordered migrations. Never edit a shipped migration: add one.

use rusqlite_migration::{M, Migrations};

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            "CREATE TABLE notifications (
                 id         TEXT PRIMARY KEY,
                 user_id    TEXT NOT NULL,
                 seq        INTEGER NOT NULL,
                 kind       TEXT NOT NULL,
                 file_id    TEXT,
                 file_name  TEXT,
                 params     TEXT NOT NULL DEFAULT '{}',
                 title      TEXT NOT NULL,
                 body       TEXT NOT NULL,
                 created_at TEXT NOT NULL,
                 read_at    TEXT
             );
             CREATE UNIQUE INDEX notifications_user_seq ON notifications (user_id, seq);",
        ),
        // Full-text search over titles and file names, as an external-content FTS5 table.
        M::up(
            "CREATE VIRTUAL TABLE notifications_fts USING fts5(
                 title, file_name, content = 'notifications', content_rowid = 'rowid',
                 tokenize = 'unicode61 remove_diacritics 2'
             );
             CREATE TRIGGER notifications_ai AFTER INSERT ON notifications BEGIN
                 INSERT INTO notifications_fts (rowid, title, file_name)
                 VALUES (new.rowid, new.title, coalesce(new.file_name, ''));
             END;
             CREATE TRIGGER notifications_ad AFTER DELETE ON notifications BEGIN
                 INSERT INTO notifications_fts (notifications_fts, rowid, title, file_name)
                 VALUES ('delete', old.rowid, old.title, coalesce(old.file_name, ''));
             END;
             CREATE TRIGGER notifications_au AFTER UPDATE OF title, file_name ON notifications BEGIN
                 INSERT INTO notifications_fts (notifications_fts, rowid, title, file_name)
                 VALUES ('delete', old.rowid, old.title, coalesce(old.file_name, ''));
                 INSERT INTO notifications_fts (rowid, title, file_name)
                 VALUES (new.rowid, new.title, coalesce(new.file_name, ''));
             END;
             -- Index the rows cached before this migration too.
             INSERT INTO notifications_fts (notifications_fts) VALUES ('rebuild');",
        ),
        M::up("CREATE INDEX notifications_unread ON notifications (user_id, seq) WHERE read_at IS NULL;"),
    ])
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        assert!(super::migrations().validate().is_ok());
    }
}
