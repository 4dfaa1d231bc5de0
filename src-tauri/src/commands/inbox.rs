//! Inbox commands: the list (paged, filtered, searched), unread count, read state.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use tauri::State;

use lockbox_events::ReadRequest;
use tauri::AppHandle;

use crate::{
    feed::{self, FeedHandle},
    inbox::{Inbox, InboxError, InboxFilter, InboxPage},
};

/// The managed inbox of the signed-in user (shared with the feed).
pub struct InboxState(pub Arc<Mutex<Inbox>>);

#[derive(Debug, thiserror::Error, Serialize, specta::Type)]
#[serde(tag = "kind", content = "message", rename_all = "camelCase")]
pub enum InboxCommandError {
    #[error("the inbox could not be read: {0}. Restart LockBox; if it persists, remove the inbox file")]
    Database(String),
    #[error("the inbox is busy after an internal error; restart LockBox")]
    Poisoned,
}

impl From<InboxError> for InboxCommandError {
    fn from(e: InboxError) -> Self {
        InboxCommandError::Database(e.to_string())
    }
}

fn with_inbox<T>(state: &InboxState, f: impl FnOnce(&mut Inbox) -> Result<T, InboxError>) -> Result<T, InboxCommandError> {
    let mut inbox = state.0.lock().map_err(|_| InboxCommandError::Poisoned)?;
    Ok(f(&mut inbox)?)
}

/// `limit` items from `offset`, newest first.
#[tauri::command]
#[specta::specta]
pub fn inbox_page(state: State<'_, InboxState>, filter: InboxFilter, offset: u32, limit: u32) -> Result<InboxPage, InboxCommandError> {
    with_inbox(&state, |inbox| inbox.page(&filter, u64::from(offset), limit.min(500)))
}

#[tauri::command]
#[specta::specta]
pub fn inbox_unread_count(state: State<'_, InboxState>) -> Result<u32, InboxCommandError> {
    with_inbox(&state, |inbox| inbox.unread_count()).map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// Marks these read here; the feed tells the server, which tells the user's other devices.
#[tauri::command]
#[specta::specta]
pub fn inbox_mark_read(
    app: AppHandle,
    state: State<'_, InboxState>,
    feed: State<'_, FeedHandle>,
    ids: Vec<String>,
) -> Result<u32, InboxCommandError> {
    let now = lockbox_events::timestamp::format(&lockbox_events::timestamp::now());
    let changed = with_inbox(&state, |inbox| inbox.mark_read(&ids, &now))?;
    let ids: Vec<uuid::Uuid> = ids.iter().filter_map(|id| uuid::Uuid::parse_str(id).ok()).collect();
    if changed > 0 && !ids.is_empty() {
        feed.send_read(ReadRequest::Ids { ids });
    }
    feed::changed(&app, Vec::new());
    Ok(u32::try_from(changed).unwrap_or(u32::MAX))
}

#[tauri::command]
#[specta::specta]
pub fn inbox_mark_all_read(
    app: AppHandle,
    state: State<'_, InboxState>,
    feed: State<'_, FeedHandle>,
) -> Result<u32, InboxCommandError> {
    let now = lockbox_events::timestamp::format(&lockbox_events::timestamp::now());
    let (top, changed) = with_inbox(&state, |inbox| {
        let top = inbox.max_seq()?;
        Ok((top, inbox.mark_read_up_to(top, &now)?))
    })?;
    if top > 0 {
        feed.send_read(ReadRequest::UpToSeq { up_to_seq: u64::try_from(top).unwrap_or(0) });
    }
    feed::changed(&app, Vec::new());
    Ok(u32::try_from(changed).unwrap_or(u32::MAX))
}
