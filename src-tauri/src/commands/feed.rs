//! Feed commands.

use tauri::State;

use crate::{events::FeedStatus, feed::FeedHandle};

/// The connection's current status (the window may start listening after it last changed).
#[tauri::command]
#[specta::specta]
pub fn feed_status(feed: State<'_, FeedHandle>) -> FeedStatus {
    feed.status()
}
