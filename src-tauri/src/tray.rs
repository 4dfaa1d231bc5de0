//! The tray icon: its menu shows the unread count and opens the window.

use tauri::{
    AppHandle, Manager, Wry,
    menu::{Menu, MenuItem},
    tray::TrayIconBuilder,
};

/// The tray's unread line, kept to update it.
pub struct TrayState(pub MenuItem<Wry>);

pub fn install(app: &AppHandle) -> tauri::Result<TrayState> {
    let unread = MenuItem::with_id(app, "unread", "No unread notifications", false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open LockBox", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&unread, &open, &quit])?;
    let mut tray = TrayIconBuilder::with_id("lockbox").menu(&menu).tooltip("LockBox").on_menu_event(|app, event| {
        match event.id().as_ref() {
            "open" => show_main_window(app),
            "quit" => app.exit(0),
            _ => {}
        }
    });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(TrayState(unread))
}

/// Updates the tray's unread line.
pub fn set_unread(app: &AppHandle, unread: u64) {
    if let Some(state) = app.try_state::<TrayState>() {
        let text = match unread {
            0 => "No unread notifications".to_owned(),
            1 => "1 unread notification".to_owned(),
            n => format!("{n} unread notifications"),
        };
        let _ = state.0.set_text(text);
    }
}

pub fn show_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
