//! LockBox desktop app: the Rust side of the window.
//!
//! Module map:
//! - this file — [`run`]: plugins, managed state, tray, then the window from `tauri.conf.json`
//!   (`main`, "LockBox"). The front end is `ui/dist`, always embedded (tauri's
//!   `custom-protocol` feature), so no dev server is ever needed.
//! - [`commands`] — what the window may invoke, one module per area, each with its own
//!   serializable error enum.
//! - [`bindings`] — the tauri-specta builder; `ui/src/bindings.ts` is generated from it.
//! - [`feed`] — the WebSocket to the NotificationService: inbox, toasts, read sync.
//! - [`inbox`] — the SQLite inbox cache (migrations, FTS5 search, read state).
//! - [`settings`] — service URLs, toasts, do-not-disturb, language; the token file.
//! - [`toast`] — toast texts in English and Dutch, and folding bursts into a summary.
//! - [`drop`] — the native drag-and-drop: hover to the window, paths to the queue.
//! - [`session`] — the signed-in user, from the token.
//! - [`tray`] — the tray icon and its unread count.
//! - [`upload`] — the persisted upload queue and its manager.
//! - [`events`] — typed events to the window (feed status, inbox changes, drop hover).
//! - `capabilities/default.json` — what the `main` window may call: `core:default` only.

pub mod bindings;
pub mod commands;
pub mod drop;
pub mod events;
pub mod feed;
pub mod inbox;
pub mod session;
pub mod settings;
pub mod toast;
pub mod tray;
pub mod upload;

use std::{
    path::PathBuf,
    sync::{Arc, Mutex, RwLock},
};

use tauri::Manager;

use crate::{
    commands::{inbox::InboxState, settings::SettingsState},
    settings::{Settings, SettingsFile, TokenStore},
};

/// The compiled-in app context: config, embedded `ui/dist` assets, icons, capabilities.
fn context() -> tauri::Context<tauri::Wry> {
    tauri::generate_context!()
}

/// Where the app keeps its data: `LOCKBOX_DESKTOP_DATA_DIR` (tests, several profiles), else
/// the platform's app data dir.
fn data_dir(app: &tauri::AppHandle) -> tauri::Result<PathBuf> {
    match std::env::var_os("LOCKBOX_DESKTOP_DATA_DIR") {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => app.path().app_data_dir(),
    }
}

/// Logs to stderr, or to the file `LOCKBOX_LOG_FILE` names (for runs whose output nobody
/// reads, like the end-to-end test's WebDriver session). `RUST_LOG` sets the level.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let file = std::env::var_os("LOCKBOX_LOG_FILE")
        .and_then(|path| std::fs::OpenOptions::new().create(true).append(true).open(path).ok());
    let _ = match file {
        Some(file) => builder.with_ansi(false).with_writer(Mutex::new(file)).try_init(),
        None => builder.try_init(),
    };
}

/// Build the app and run it until its last window closes.
pub fn run() -> Result<(), tauri::Error> {
    init_logging();
    let specta = bindings::builder();
    tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(specta.invoke_handler())
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::DragDrop(drop) = event {
                drop::on_drag_drop(window, drop);
            }
        })
        .setup(move |app| {
            specta.mount_events(app);
            let handle = app.handle().clone();
            let dir = data_dir(&handle)?;
            std::fs::create_dir_all(&dir)?;

            let tokens = TokenStore::new(&dir);
            // The run command signs the app in as the local user.
            if let Ok(token) = std::env::var("LOCKBOX_TOKEN") {
                tokens.save(&token)?;
            }
            let user = tokens.load().as_deref().and_then(session::user_of);
            let file = SettingsFile::new(&dir);
            let settings = file.load(Settings::from_env_defaults()).unwrap_or_else(|error| {
                tracing::warn!(%error, "using default settings");
                Settings::from_env_defaults()
            });
            tracing::info!(data_dir = %dir.display(), user = user.as_deref().unwrap_or("(signed out)"), "LockBox starting");

            let inbox = inbox::Inbox::open(&dir.join("inbox.sqlite3"), user.as_deref().unwrap_or(""))?;
            let unread = inbox.unread_count()?;
            let inbox = Arc::new(Mutex::new(inbox));
            app.manage(InboxState(inbox.clone()));
            let uploads = Arc::new(upload::Uploads::new(upload::UploadQueue::open(&dir.join("uploads.sqlite3"))?));
            app.manage(uploads.clone());
            app.manage(SettingsState { current: RwLock::new(settings), file, tokens });
            let tray = tray::install(&handle)?;
            app.manage(tray);
            tray::set_unread(&handle, unread);

            let shutdown = tokio_util::sync::CancellationToken::new();
            let toasts = toast::toaster::spawn(handle.clone());
            app.manage(feed::spawn(handle.clone(), inbox, uploads.clone(), toasts, shutdown.clone()));
            let target = Arc::new(upload::worker::SettingsTarget(handle.clone()));
            // The workers run for the app's lifetime; their handles are only for tests.
            drop(upload::worker::spawn(uploads, target, upload::worker::CONCURRENCY, shutdown));
            Ok(())
        })
        .run(context())
}

#[cfg(test)]
mod tests {
    use super::context;

    #[test]
    fn context_embeds_the_built_ui_and_one_lockbox_window() {
        let ctx = context();
        let config = ctx.config();
        assert_eq!(config.product_name.as_deref(), Some("LockBox"));
        assert_eq!(config.identifier, "nl.lockbox.desktop");

        let windows = &config.app.windows;
        assert_eq!(windows.len(), 1);
        assert_eq!(windows[0].label, "main");
        assert_eq!(windows[0].title, "LockBox");

        let index = ctx
            .assets()
            .get(&"index.html".into())
            .expect("ui/dist/index.html is embedded (run `npm run build:ui` first)");
        let index = String::from_utf8_lossy(&index);
        assert!(index.contains("<title>LockBox</title>"), "{index}");
    }
}
