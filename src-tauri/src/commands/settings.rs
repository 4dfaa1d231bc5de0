//! Settings commands: read and save settings, sign in with a token.

use std::sync::RwLock;

use serde::Serialize;
use tauri::State;

use crate::{
    feed::FeedHandle,
    settings::{Settings, SettingsFile, TokenStore},
};

pub struct SettingsState {
    pub current: RwLock<Settings>,
    pub file: SettingsFile,
    pub tokens: TokenStore,
}

/// What the settings screen shows. The token itself never goes back to the window.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    pub settings: Settings,
    pub signed_in_as: Option<String>,
}

#[derive(Debug, thiserror::Error, Serialize, specta::Type)]
#[serde(tag = "kind", content = "message", rename_all = "camelCase")]
pub enum SettingsCommandError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Storage(String),
    #[error("that is not a LockBox token (no user in it); mint one with `lockbox token --user <id>`")]
    NotAToken,
    #[error("settings are unavailable after an internal error; restart LockBox")]
    Poisoned,
}

#[tauri::command]
#[specta::specta]
pub fn settings_get(state: State<'_, SettingsState>) -> Result<SettingsView, SettingsCommandError> {
    let settings = state.current.read().map_err(|_| SettingsCommandError::Poisoned)?.clone();
    let signed_in_as = state.tokens.load().as_deref().and_then(crate::session::user_of);
    Ok(SettingsView { settings, signed_in_as })
}

#[tauri::command]
#[specta::specta]
pub fn settings_save(
    state: State<'_, SettingsState>,
    feed: State<'_, FeedHandle>,
    settings: Settings,
) -> Result<(), SettingsCommandError> {
    settings.validate().map_err(|e| SettingsCommandError::Invalid(e.to_string()))?;
    state.file.save(&settings).map_err(|e| SettingsCommandError::Storage(e.to_string()))?;
    *state.current.write().map_err(|_| SettingsCommandError::Poisoned)? = settings;
    feed.restart();
    Ok(())
}

/// Stores a new token; the feed reconnects with it and the next upload uses it. (The inbox
/// stays the one of the user the app started with until the app restarts.)
#[tauri::command]
#[specta::specta]
pub fn settings_set_token(
    state: State<'_, SettingsState>,
    feed: State<'_, FeedHandle>,
    token: String,
) -> Result<String, SettingsCommandError> {
    let user = crate::session::user_of(token.trim()).ok_or(SettingsCommandError::NotAToken)?;
    state.tokens.save(&token).map_err(|e| SettingsCommandError::Storage(e.to_string()))?;
    feed.restart();
    Ok(user)
}
