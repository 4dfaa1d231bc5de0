//! The app side: the desktop crate's own feed core ([`Feed`]) writing a real inbox file with
//! its own [`Inbox`] store, exactly as the app does, minus the window. What the app would toast
//! is observed at the [`FeedSink`] seam: the sink hands each new item to the app's own toaster
//! loop (`toast::queue::fold`, the one the window runs), whose `show` records each toast
//! instead of sending it over D-Bus.
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use lockbox_desktop_lib::{
    events::{FeedState, FeedStatus},
    feed::{Feed, FeedSink, FeedSource},
    inbox::{Inbox, InboxItem},
    toast::{
        Toast, ToastMessage, ToastSender,
        queue::{self, Step},
    },
};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::SupportError;

/// A toast the app would have shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    Single,
    /// A summary of this many notifications.
    Summary(usize),
}

/// What the sink saw.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// Items the feed reported new (each should come once).
    pub added: u64,
    pub connects: u64,
    pub last_state: Option<FeedState>,
}

struct Sink {
    seen: watch::Sender<Seen>,
    toasts: ToastSender,
}

impl FeedSink for Sink {
    fn status(&self, status: &FeedStatus) {
        self.seen.send_modify(|s| s.last_state = Some(status.state));
    }
    fn connected(&self, _since: u64) {
        self.toasts.catch_up();
        self.seen.send_modify(|s| s.connects += 1);
    }
    fn added(&self, items: Vec<InboxItem>, _unread: u64) {
        let n = items.len() as u64;
        for item in items {
            self.toasts.toast(item);
        }
        self.seen.send_modify(|s| s.added += n);
    }
    fn read_changed(&self, _unread: u64) {}
}

struct Source {
    url: String,
    token: String,
}

impl FeedSource for Source {
    fn target(&self) -> Option<(String, String)> {
        Some((self.url.clone(), self.token.clone()))
    }
}

/// A running app feed over a real inbox file.
pub struct App {
    pub inbox_path: PathBuf,
    seen: watch::Receiver<Seen>,
    toasts: Arc<Mutex<Vec<Shown>>>,
    /// Catch-ups the toaster began, and whether one is still holding toasts back.
    catching_up: watch::Receiver<(u64, bool)>,
    shutdown: CancellationToken,
    toaster: tokio::task::JoinHandle<()>,
}

impl App {
    /// Opens (or reopens) the inbox in `dir` (made if missing) and connects the feed to `url`
    /// as `user`.
    pub fn start(dir: &Path, user: &str, token: &str, url: &str) -> Result<Self, SupportError> {
        std::fs::create_dir_all(dir).map_err(SupportError::io(dir))?;
        let inbox_path = dir.join("inbox.sqlite3");
        let inbox = Inbox::open(&inbox_path, user)
            .map_err(|e| SupportError::Command { what: "opening the app inbox".into(), detail: e.to_string() })?;
        let (seen_tx, seen) = watch::channel(Seen::default());
        let (toast_tx, toast_rx) = ToastSender::channel();
        let toasts = Arc::new(Mutex::new(Vec::new()));
        let (catching_tx, catching_up) = watch::channel((0, false));
        let toaster = tokio::spawn(fold_toasts(toast_rx, toasts.clone(), catching_tx));
        let shutdown = CancellationToken::new();
        let feed = Feed {
            inbox: Arc::new(Mutex::new(inbox)),
            source: Arc::new(Source { url: url.to_owned(), token: token.to_owned() }),
            uploads: None,
            sink: Arc::new(Sink { seen: seen_tx, toasts: toast_tx }),
        };
        drop(feed.spawn(shutdown.clone()));
        Ok(Self { inbox_path, seen, toasts, catching_up, shutdown, toaster })
    }

    /// [`Self::start`], then waits for the feed's first connection.
    pub async fn start_connected(dir: &Path, user: &str, token: &str, url: &str, limit: Duration) -> Result<Self, SupportError> {
        let app = Self::start(dir, user, token, url)?;
        app.wait_seen("connected", limit, |s| s.connects >= 1).await?;
        Ok(app)
    }

    pub fn seen(&self) -> Seen {
        self.seen.borrow().clone()
    }

    /// Waits until the sink's figures satisfy `done`.
    pub async fn wait_seen(&self, what: &str, limit: Duration, done: impl FnMut(&Seen) -> bool) -> Result<Seen, SupportError> {
        let mut rx = self.seen.clone();
        match tokio::time::timeout(limit, rx.wait_for(done)).await {
            Ok(Ok(seen)) => Ok(seen.clone()),
            _ => Err(SupportError::timeout(format!("the app: {what} (saw {:?})", self.seen()), limit)),
        }
    }

    /// Waits until the feed has added at least `n` items.
    pub async fn wait_added(&self, n: u64, limit: Duration) -> Result<Seen, SupportError> {
        self.wait_seen(&format!("{n} notifications added"), limit, |s| s.added >= n).await
    }

    /// Waits until the toaster began a catch-up for every connect so far and ended it (the
    /// replay went quiet).
    pub async fn wait_caught_up(&self, limit: Duration) -> Result<(), SupportError> {
        let connects = self.seen().connects;
        let mut rx = self.catching_up.clone();
        match tokio::time::timeout(limit, rx.wait_for(|(began, catching)| *began >= connects && !*catching)).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(SupportError::timeout("the toaster to finish catching up", limit)),
        }
    }

    /// Toasts the app would have shown so far.
    pub fn toasts(&self) -> Vec<Shown> {
        self.toasts.lock().map(|t| t.clone()).unwrap_or_default()
    }

    /// Closes the app: the feed stops, the toaster finishes its last window.
    pub async fn stop(self) -> Vec<Shown> {
        self.shutdown.cancel();
        // The feed task owns the sink (and so the toast sender); when it ends the toaster
        // flushes what it holds and ends too.
        let _ = tokio::time::timeout(Duration::from_secs(10), self.toaster).await;
        self.toasts.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

/// The app's own toaster loop ([`queue::fold`]) with the D-Bus call replaced by a record.
async fn fold_toasts(rx: mpsc::UnboundedReceiver<ToastMessage>, shown: Arc<Mutex<Vec<Shown>>>, catching_up: watch::Sender<(u64, bool)>) {
    let record = |toast: Toast<InboxItem>| {
        if let Ok(mut shown) = shown.lock() {
            shown.push(match toast {
                Toast::Single(_) => Shown::Single,
                Toast::Summary(items) => Shown::Summary(items.len()),
            });
        }
    };
    let stepped = |step: Step, folder: &lockbox_desktop_lib::toast::Folder<InboxItem>| {
        catching_up.send_modify(|(began, catching)| {
            if step == Step::CatchUp {
                *began += 1;
            }
            *catching = folder.catching_up();
        });
    };
    queue::fold(rx, record, stepped).await;
}

/// The inbox file opened with a connection of our own, read-only (as a second process would),
/// so counts are what is on disk, not what the feed believes.
fn read_only(inbox_path: &Path) -> Result<rusqlite::Connection, SupportError> {
    rusqlite::Connection::open_with_flags(inbox_path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|source| SupportError::Sql { path: inbox_path.to_path_buf(), source })
}

/// `file.stored` rows of the inbox file per file id (one per accepted upload is right).
pub fn inbox_rows_by_file(inbox_path: &Path) -> Result<HashMap<String, u64>, SupportError> {
    let sql = |source| SupportError::Sql { path: inbox_path.to_path_buf(), source };
    let conn = read_only(inbox_path)?;
    let mut stmt = conn
        .prepare("SELECT coalesce(file_id, ''), count(*) FROM notifications WHERE kind = 'file.stored' GROUP BY file_id")
        .map_err(sql)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.unsigned_abs())))
        .map_err(sql)?
        .collect::<Result<HashMap<_, _>, _>>()
        .map_err(sql)?;
    Ok(rows)
}

/// Rows of the inbox file of `kind` about `file_id`.
pub fn inbox_rows_of(inbox_path: &Path, kind: &str, file_id: &str) -> Result<u64, SupportError> {
    let sql = |source| SupportError::Sql { path: inbox_path.to_path_buf(), source };
    let conn = read_only(inbox_path)?;
    conn.query_row("SELECT count(*) FROM notifications WHERE kind = ?1 AND file_id = ?2", [kind, file_id], |r| {
        r.get::<_, i64>(0).map(i64::unsigned_abs)
    })
    .map_err(sql)
}

/// Every row of the inbox file and the highest seq.
pub fn inbox_totals(inbox_path: &Path) -> Result<(u64, u64), SupportError> {
    let sql = |source| SupportError::Sql { path: inbox_path.to_path_buf(), source };
    let conn = read_only(inbox_path)?;
    conn.query_row("SELECT count(*), coalesce(max(seq), 0) FROM notifications", [], |r| {
        Ok((r.get::<_, i64>(0)?.unsigned_abs(), r.get::<_, i64>(1)?.unsigned_abs()))
    })
        .map_err(sql)
}
