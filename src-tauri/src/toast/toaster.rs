//! The task that shows toasts: new inbox items come in, the [`Folder`] decides between single
//! toasts and a summary, settings decide whether anything shows at all, and
//! tauri-plugin-notification sends it (on Linux: `Notify` on the session bus).
//!
//! Clicking a toast cannot be observed through the plugin on desktop Linux, so "show that
//! item" happens when the window is opened from the tray instead.

use std::time::Instant;

use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::mpsc;

use super::{Folder, Toast, i18n};
use crate::{commands::settings::SettingsState, inbox::InboxItem};

/// Sends new items to the toaster task.
#[derive(Clone)]
pub struct ToastSender(mpsc::UnboundedSender<InboxItem>);

impl ToastSender {
    pub fn toast(&self, item: InboxItem) {
        let _ = self.0.send(item);
    }
}

pub fn spawn(app: AppHandle) -> ToastSender {
    let (tx, rx) = mpsc::unbounded_channel();
    tauri::async_runtime::spawn(run(app, rx));
    ToastSender(tx)
}

async fn run(app: AppHandle, mut rx: mpsc::UnboundedReceiver<InboxItem>) {
    let mut folder = Folder::default();
    loop {
        let deadline = folder.deadline();
        let flush_at = async move {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            item = rx.recv() => match item {
                Some(item) => {
                    for toast in folder.push(item, Instant::now()) {
                        show(&app, toast);
                    }
                }
                None => break,
            },
            _ = flush_at => {
                if let Some(toast) = folder.flush() {
                    show(&app, toast);
                }
            }
        }
    }
}

fn show(app: &AppHandle, toast: Toast<InboxItem>) {
    let Some(settings) = app.try_state::<SettingsState>().and_then(|s| s.current.read().ok().map(|s| s.clone())) else {
        return;
    };
    if !settings.toasts_enabled || settings.do_not_disturb {
        tracing::debug!("toast silenced by settings");
        return;
    }
    let lang = settings.effective_language();
    let text = match &toast {
        Toast::Single(item) => {
            let params = serde_json::from_str(&item.params).unwrap_or_default();
            i18n::render(lang, &item.kind, &params, item.file_name.as_deref())
        }
        Toast::Summary(items) => {
            let stored = items.iter().filter(|i| i.kind == "file.stored").count();
            i18n::render_summary(lang, stored, items.len())
        }
    };
    if let Err(error) = app.notification().builder().title(&text.title).body(&text.body).show() {
        tracing::warn!(%error, "could not show a toast");
    }
}
