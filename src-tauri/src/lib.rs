//! LockBox desktop app: the Rust side of the window.
//!
//! Module map:
//! - this file — [`run`] builds the Tauri application from `tauri.conf.json` (one window,
//!   `main`, titled "LockBox") and runs it. The front end is `ui/dist`, always embedded in the
//!   binary (tauri's `custom-protocol` feature), so no dev server is ever needed.
//! - `capabilities/default.json` — what the `main` window may call: `core:default` only.

/// The compiled-in app context: config, embedded `ui/dist` assets, icons, capabilities.
fn context() -> tauri::Context<tauri::Wry> {
    tauri::generate_context!()
}

/// Build the app and run it until its last window closes.
pub fn run() -> Result<(), tauri::Error> {
    tauri::Builder::default().run(context())
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
