//! The feed: one task holding the WebSocket to the NotificationService (through
//! `lockbox-client`'s self-reconnecting subscription), resuming with `since=` the highest cached
//! seq. New notifications go into the inbox (idempotent by id), to the toaster and to the
//! window; `read` frames apply read state; reads made here are sent to the server.

use std::sync::{Arc, Mutex};

use lockbox_client::stream::{NotificationClient, StreamEvent};
use lockbox_events::{Frame, FrameBody, Notification, ReadRequest, timestamp};
use tauri::{AppHandle, Manager};
use tauri_specta::Event;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::{
    commands::{inbox::InboxState, settings::SettingsState},
    events::{FeedState, FeedStatus, InboxChanged},
    inbox::InboxItem,
    toast::toaster::ToastSender,
    tray,
    upload::Uploads,
};

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

pub fn spawn(app: AppHandle, toasts: ToastSender, shutdown: CancellationToken) -> FeedHandle {
    let restart = Arc::new(Notify::new());
    let (reads_tx, reads_rx) = mpsc::unbounded_channel();
    let last = Arc::new(Mutex::new(FeedStatus { state: FeedState::Connecting, detail: None }));
    let feed = Feed { app, toasts, restart: restart.clone(), last: last.clone() };
    tauri::async_runtime::spawn(feed.run(reads_rx, shutdown));
    FeedHandle { restart, reads: reads_tx, last }
}

struct Feed {
    app: AppHandle,
    toasts: ToastSender,
    restart: Arc<Notify>,
    last: Arc<Mutex<FeedStatus>>,
}

impl Feed {
    fn status(&self, state: FeedState, detail: Option<String>) {
        tracing::info!(?state, detail = detail.as_deref().unwrap_or(""), "feed");
        let status = FeedStatus { state, detail };
        if let Ok(mut last) = self.last.lock() {
            *last = status.clone();
        }
        let _ = status.emit(&self.app);
    }

    async fn run(self, mut reads: mpsc::UnboundedReceiver<ReadRequest>, shutdown: CancellationToken) {
    let (app, toasts, restart) = (&self.app, &self.toasts, &self.restart);
    loop {
        let wake = restart.notified();
        let Some((url, token)) = target(app) else {
            self.status(FeedState::Offline, Some("Not signed in: paste a token in Settings".into()));
            tokio::select! { _ = wake => continue, _ = shutdown.cancelled() => return }
        };
        let since = with_inbox(app, |inbox| inbox.max_seq()).unwrap_or(0);
        let client = NotificationClient::new(url, token);
        let mut subscription = client.subscribe(u64::try_from(since).unwrap_or(0));
        self.status(FeedState::Connecting, None);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = restart.notified() => break,
                Some(request) = reads.recv() => {
                    if let Err(error) = client.mark_read(&request).await {
                        tracing::warn!(%error, "could not send read state to the server; it stays read here");
                    }
                }
                event = subscription.next() => match event {
                    Some(Ok(StreamEvent::Connected { since })) => {
                        tracing::debug!(since, "feed connected");
                        self.status(FeedState::Connected, None);
                    }
                    Some(Ok(StreamEvent::Disconnected { reason })) => {
                        self.status(FeedState::Reconnecting, Some(format!("Lost the connection ({reason}); retrying")));
                    }
                    Some(Ok(StreamEvent::Frame(frame))) => on_frame(app, toasts, frame),
                    Some(Err(error)) => {
                        self.status(FeedState::Offline, Some(format!("{error}. Check the notification URL and token in Settings")));
                        tokio::select! { _ = restart.notified() => break, _ = shutdown.cancelled() => return }
                    }
                    None => break,
                },
            }
        }
    }
}
}

fn target(app: &AppHandle) -> Option<(String, String)> {
    let settings = app.try_state::<SettingsState>()?;
    let url = settings.current.read().ok()?.notification_url.clone();
    let token = settings.tokens.load()?;
    Some((url, token))
}

fn with_inbox<T>(app: &AppHandle, f: impl FnOnce(&mut crate::inbox::Inbox) -> Result<T, crate::inbox::InboxError>) -> Option<T> {
    let state = app.try_state::<InboxState>()?;
    let mut inbox = state.0.lock().ok()?;
    match f(&mut inbox) {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::error!(%error, "inbox write failed");
            None
        }
    }
}

fn on_frame(app: &AppHandle, toasts: &ToastSender, frame: Frame) {
    match frame.body {
        FrameBody::Notification { notification } => {
            let item = to_item(&notification);
            let Some(fresh) = with_inbox(app, |inbox| inbox.insert(&item)) else { return };
            if !fresh {
                return;
            }
            if let Some(file) = &notification.file {
                mark_notified(app, &file.id.to_string());
            }
            toasts.toast(item.clone());
            changed(app, vec![item]);
        }
        FrameBody::Read { ids, up_to_seq, read_at } => {
            let at = timestamp::format(&read_at);
            let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
            with_inbox(app, |inbox| {
                let mut n = inbox.mark_read(&ids, &at)?;
                if let Some(seq) = up_to_seq {
                    n += inbox.mark_read_up_to(i64::try_from(seq).unwrap_or(i64::MAX), &at)?;
                }
                Ok(n)
            });
            changed(app, Vec::new());
        }
        FrameBody::Heartbeat { .. } => {}
        FrameBody::Error { code, message } => tracing::warn!(code, message, "the notification service reported an error"),
    }
}

/// Tells the window (and tray) the inbox changed.
pub fn changed(app: &AppHandle, added: Vec<InboxItem>) {
    let unread = with_inbox(app, |inbox| inbox.unread_count()).unwrap_or(0);
    tray::set_unread(app, unread);
    let _ = InboxChanged { unread: u32::try_from(unread).unwrap_or(u32::MAX), added }.emit(app);
}

/// The upload of this file reached the end of its timeline.
fn mark_notified(app: &AppHandle, file_id: &str) {
    let Some(uploads) = app.try_state::<Arc<Uploads>>() else { return };
    if let Err(error) = uploads.file_notified(file_id) {
        tracing::warn!(%error, "could not mark an upload notified");
    }
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
