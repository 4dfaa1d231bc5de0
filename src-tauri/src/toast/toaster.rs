//! The task that shows toasts: [`queue::fold`](super::queue::fold) decides between single
//! toasts and a summary, settings decide whether anything shows at all, and
//! tauri-plugin-notification sends it (on Linux: `Notify` on the session bus).
//!
//! Clicking a toast cannot be observed through the plugin on desktop Linux, so "show that
//! item" happens when the window is opened from the tray instead.

use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;

use super::{
    Toast, i18n,
    queue::{self, ToastSender},
};
use crate::{commands::settings::SettingsState, inbox::InboxItem};

pub fn spawn(app: AppHandle) -> ToastSender {
    let (sender, rx) = ToastSender::channel();
    tauri::async_runtime::spawn(queue::fold(rx, move |toast| show(&app, toast), |_, _| {}));
    sender
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
