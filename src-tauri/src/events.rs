//! Events the Rust side sends to the window (typed through tauri-specta).

use serde::{Deserialize, Serialize};
use tauri_specta::Event;

use crate::inbox::InboxItem;

/// How the live connection to the NotificationService is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum FeedState {
    Connecting,
    Connected,
    /// Lost; trying again with backoff.
    Reconnecting,
    /// Not signed in, or the server refused the token: nothing to retry until the user acts.
    Offline,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, Event)]
#[serde(rename_all = "camelCase")]
pub struct FeedStatus {
    pub state: FeedState,
    /// What went wrong, in words that say what to do.
    pub detail: Option<String>,
}

/// The inbox changed: new notifications arrived, or read state changed.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, Event)]
#[serde(rename_all = "camelCase")]
pub struct InboxChanged {
    pub unread: u32,
    /// Notifications that are new in the cache, newest last.
    pub added: Vec<InboxItem>,
}

/// Something is being dragged over the window (the native drag-drop event).
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, Event)]
#[serde(rename_all = "camelCase")]
pub struct DropHover {
    /// `false` once the drag left or dropped.
    pub active: bool,
    /// Where the pointer is, in CSS pixels of the window.
    pub x: f64,
    pub y: f64,
}

/// Show this inbox item (a toast was clicked).
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, Event)]
#[serde(rename_all = "camelCase")]
pub struct FocusItem {
    pub id: String,
}
