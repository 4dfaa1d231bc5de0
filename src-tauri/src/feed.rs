//! The feed: one task holding the WebSocket to the NotificationService (through
//! `lockbox-client`'s self-reconnecting subscription), resuming with `since=` the highest cached
//! seq. New notifications go into the inbox (idempotent by id) and to a [`FeedSink`]; `read`
//! frames apply read state; reads made here are sent to the server.
//!
//! The core ([`Feed`]) knows nothing of Tauri, so it runs against a real NotificationService
//! in tests; [`spawn`] wires it to the app (settings, toasts, tray, window events).

use std::sync::{Arc, Mutex};

use lockbox_client::stream::{NotificationClient, StreamError, StreamEvent, Subscription};
use lockbox_events::{Frame, FrameBody, Notification, ReadRequest, timestamp};
use tauri::{AppHandle, Manager};
use tauri_specta::Event;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::{
    commands::{inbox::InboxState, settings::SettingsState},
    events::{FeedState, FeedStatus, InboxChanged},
    inbox::{Inbox, InboxError, InboxItem},
    toast::ToastSender,
    tray,
    upload::Uploads,
};

/// Notifications at most per inbox transaction when a burst (a catch-up) arrives.
const MAX_BATCH: usize = 1000;

/// Where the feed connects, read at each (re)start so settings changes apply.
pub trait FeedSource: Send + Sync + 'static {
    /// The NotificationService URL and the bearer token; `None` when signed out.
    fn target(&self) -> Option<(String, String)>;
}

/// What the feed tells the rest of the app.
pub trait FeedSink: Send + Sync + 'static {
    /// The connection's status changed.
    fn status(&self, status: &FeedStatus);
    /// A stream connection is up, replaying everything after `since`.
    fn connected(&self, _since: u64) {}
    /// Notifications new to the inbox (each once), in seq order; `unread` is the new count.
    fn added(&self, items: Vec<InboxItem>, unread: u64);
    /// Read state changed from a `read` frame.
    fn read_changed(&self, unread: u64);
}

/// The feed's parts; [`Feed::spawn`] runs it.
pub struct Feed {
    pub inbox: Arc<Mutex<Inbox>>,
    pub source: Arc<dyn FeedSource>,
    /// Uploads to mark `notified` when their file's notification arrives.
    pub uploads: Option<Arc<Uploads>>,
    pub sink: Arc<dyn FeedSink>,
}

/// Talks to the feed task from commands.
pub struct FeedHandle {
    restart: Arc<Notify>,
    reads: mpsc::UnboundedSender<ReadRequest>,
    /// The last status sent, for a window that starts listening after it was sent.
    last: Arc<Mutex<FeedStatus>>,
}

impl FeedHandle {
    /// Reconnect now (the token or URL changed). `notify_one` keeps a permit, so a restart
    /// asked for while the task is busy is not lost.
    pub fn restart(&self) {
        self.restart.notify_one();
    }

    /// Sends read state made on this device to the server (and so to the other devices).
    pub fn send_read(&self, request: ReadRequest) {
        let _ = self.reads.send(request);
    }

    pub fn status(&self) -> FeedStatus {
        self.last.lock().map(|s| s.clone()).unwrap_or(FeedStatus { state: FeedState::Connecting, detail: None })
    }
}

/// Starts the app's feed: settings as the source; window events, toasts and tray as the sink.
pub fn spawn(app: AppHandle, inbox: Arc<Mutex<Inbox>>, uploads: Arc<Uploads>, toasts: ToastSender, shutdown: CancellationToken) -> FeedHandle {
    let feed = Feed {
        inbox,
        source: Arc::new(SettingsSource(app.clone())),
        uploads: Some(uploads),
        sink: Arc::new(AppSink { app, toasts }),
    };
    feed.spawn(shutdown)
}

impl Feed {
    /// Runs the feed until `shutdown`.
    pub fn spawn(self, shutdown: CancellationToken) -> FeedHandle {
        let restart = Arc::new(Notify::new());
        let (reads_tx, reads_rx) = mpsc::unbounded_channel();
        let last = Arc::new(Mutex::new(FeedStatus { state: FeedState::Connecting, detail: None }));
        let task = Task { feed: self, restart: restart.clone(), last: last.clone() };
        tauri::async_runtime::spawn(task.run(reads_rx, shutdown));
        FeedHandle { restart, reads: reads_tx, last }
    }
}

struct Task {
    feed: Feed,
    restart: Arc<Notify>,
    last: Arc<Mutex<FeedStatus>>,
}

impl Task {
    fn status(&self, state: FeedState, detail: Option<String>) {
        tracing::info!(?state, detail = detail.as_deref().unwrap_or(""), "feed");
        let status = FeedStatus { state, detail };
        if let Ok(mut last) = self.last.lock() {
            *last = status.clone();
        }
        self.feed.sink.status(&status);
    }

    fn with_inbox<T>(&self, f: impl FnOnce(&mut Inbox) -> Result<T, InboxError>) -> Option<T> {
        with_inbox(&self.feed.inbox, f)
    }

    async fn run(self, mut reads: mpsc::UnboundedReceiver<ReadRequest>, shutdown: CancellationToken) {
        let restart = self.restart.clone();
        loop {
            let wake = restart.notified();
            let Some((url, token)) = self.feed.source.target() else {
                self.status(FeedState::Offline, Some("Not signed in: paste a token in Settings".into()));
                tokio::select! { () = wake => continue, () = shutdown.cancelled() => return }
            };
            // The highest cached seq, so a restart neither misses nor repeats anything.
            let since = self.with_inbox(|inbox| inbox.max_seq()).unwrap_or(0);
            let client = NotificationClient::new(url, token);
            let mut subscription = client.subscribe(u64::try_from(since).unwrap_or(0));
            self.status(FeedState::Connecting, None);
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = restart.notified() => break,
                    Some(request) = reads.recv() => {
                        if let Err(error) = client.mark_read(&request).await {
                            tracing::warn!(%error, "could not send read state to the server; it stays read here");
                        }
                    }
                    event = subscription.next() => {
                        let event = match event {
                            // A replay comes as a burst: take what else already arrived, so a
                            // catch-up is a few transactions, not one per notification.
                            Some(Ok(StreamEvent::Frame(frame))) => match self.on_burst(frame, &mut subscription) {
                                Some(next) => next,
                                None => continue,
                            },
                            Some(other) => other,
                            None => break,
                        };
                        match event {
                            Ok(StreamEvent::Frame(frame)) => self.on_frames(vec![frame]),
                            Ok(StreamEvent::Connected { since }) => self.on_connected(since),
                            Ok(StreamEvent::Disconnected { reason }) => self.on_disconnected(&reason),
                            Err(error) => {
                                self.on_error(&error);
                                tokio::select! { () = restart.notified() => break, () = shutdown.cancelled() => return }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `first` and the frames that already arrived after it (up to [`MAX_BATCH`]) into the
    /// inbox; returns the non-frame event that ended the burst, if one did.
    fn on_burst(&self, first: Frame, subscription: &mut Subscription) -> Option<Result<StreamEvent, StreamError>> {
        let mut frames = vec![first];
        let mut after = None;
        while frames.len() < MAX_BATCH {
            match subscription.try_next() {
                Some(Ok(StreamEvent::Frame(frame))) => frames.push(frame),
                other => {
                    after = other;
                    break;
                }
            }
        }
        self.on_frames(frames);
        after
    }

    fn on_connected(&self, since: u64) {
        tracing::debug!(since, "feed connected");
        self.feed.sink.connected(since);
        self.status(FeedState::Connected, None);
    }

    fn on_disconnected(&self, reason: &str) {
        self.status(FeedState::Reconnecting, Some(format!("Lost the connection ({reason}); retrying")));
    }

    fn on_error(&self, error: &StreamError) {
        self.status(FeedState::Offline, Some(format!("{error}. Check the notification URL and token in Settings")));
    }

    /// Frames in arrival order: each run of notifications goes into the inbox in one
    /// transaction (one unread count, one `added`); other frames are applied between runs.
    fn on_frames(&self, frames: Vec<Frame>) {
        let mut run = Vec::new();
        for frame in frames {
            match frame.body {
                FrameBody::Notification { notification } => run.push(notification),
                _ => {
                    self.on_notifications(std::mem::take(&mut run));
                    self.on_frame(frame);
                }
            }
        }
        self.on_notifications(run);
    }

    fn on_notifications(&self, notifications: Vec<Notification>) {
        if notifications.is_empty() {
            return;
        }
        let items: Vec<InboxItem> = notifications.iter().map(to_item).collect();
        let Some(fresh) = self.with_inbox(|inbox| inbox.insert_all(&items)) else { return };
        // Redelivered ones (already cached) are not new: no toast, no `added`.
        if fresh.is_empty() {
            return;
        }
        for file_id in fresh.iter().filter_map(|item| item.file_id.as_deref()) {
            self.mark_notified(file_id);
        }
        let unread = self.with_inbox(|inbox| inbox.unread_count()).unwrap_or(0);
        self.feed.sink.added(fresh, unread);
    }

    fn on_frame(&self, frame: Frame) {
        match frame.body {
            FrameBody::Notification { notification } => self.on_notifications(vec![notification]),
            FrameBody::Read { ids, up_to_seq, read_at } => {
                let at = timestamp::format(&read_at);
                let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
                self.with_inbox(|inbox| {
                    let mut n = inbox.mark_read(&ids, &at)?;
                    if let Some(seq) = up_to_seq {
                        n += inbox.mark_read_up_to(i64::try_from(seq).unwrap_or(i64::MAX), &at)?;
                    }
                    Ok(n)
                });
                let unread = self.with_inbox(|inbox| inbox.unread_count()).unwrap_or(0);
                self.feed.sink.read_changed(unread);
            }
            FrameBody::Heartbeat { .. } => {}
            FrameBody::Error { code, message } => tracing::warn!(code, message, "the notification service reported an error"),
        }
    }

    /// The upload of this file reached the end of its timeline.
    fn mark_notified(&self, file_id: &str) {
        let Some(uploads) = &self.feed.uploads else { return };
        if let Err(error) = uploads.file_notified(file_id) {
            tracing::warn!(%error, "could not mark the upload notified");
        }
    }
}

fn with_inbox<T>(inbox: &Mutex<Inbox>, f: impl FnOnce(&mut Inbox) -> Result<T, InboxError>) -> Option<T> {
    let mut inbox = inbox.lock().ok()?;
    match f(&mut inbox) {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::error!(%error, "inbox write failed");
            None
        }
    }
}

/// The app's settings and token file.
struct SettingsSource(AppHandle);

impl FeedSource for SettingsSource {
    fn target(&self) -> Option<(String, String)> {
        let settings = self.0.try_state::<SettingsState>()?;
        let url = settings.current.read().ok()?.notification_url.clone();
        let token = settings.tokens.load()?;
        Some((url, token))
    }
}

/// The app: toasts, tray, window events.
struct AppSink {
    app: AppHandle,
    toasts: ToastSender,
}

impl FeedSink for AppSink {
    fn status(&self, status: &FeedStatus) {
        let _ = status.emit(&self.app);
    }

    fn connected(&self, _since: u64) {
        self.toasts.catch_up();
    }

    fn added(&self, items: Vec<InboxItem>, unread: u64) {
        for item in &items {
            self.toasts.toast(item.clone());
        }
        emit_changed(&self.app, unread, items);
    }

    fn read_changed(&self, unread: u64) {
        emit_changed(&self.app, unread, Vec::new());
    }
}

fn emit_changed(app: &AppHandle, unread: u64, added: Vec<InboxItem>) {
    tray::set_unread(app, unread);
    let _ = InboxChanged { unread: u32::try_from(unread).unwrap_or(u32::MAX), added }.emit(app);
}

/// Tells the window (and tray) the inbox changed (after a read made here).
pub fn changed(app: &AppHandle, added: Vec<InboxItem>) {
    let Some(state) = app.try_state::<InboxState>() else { return };
    let unread = with_inbox(&state.0, |inbox| inbox.unread_count()).unwrap_or(0);
    emit_changed(app, unread, added);
}

fn to_item(n: &Notification) -> InboxItem {
    InboxItem {
        id: n.id.to_string(),
        seq: i64::try_from(n.seq).unwrap_or(i64::MAX),
        kind: n.kind.to_string(),
        file_id: n.file.as_ref().map(|f| f.id.to_string()),
        file_name: n.file.as_ref().map(|f| f.name.clone()),
        params: serde_json::Value::Object(n.params.clone()).to_string(),
        title: n.title.clone(),
        body: n.body.clone(),
        created_at: timestamp::format(&n.created_at),
        read_at: n.read_at.as_ref().map(timestamp::format),
    }
}
