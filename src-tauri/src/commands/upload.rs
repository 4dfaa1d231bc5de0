//! Upload commands: subscribe to the queue, add files (chosen or dropped), cancel, retry.

use std::{path::PathBuf, sync::Arc};

use serde::Serialize;
use tauri::{AppHandle, State, ipc::Channel};
use tauri_plugin_dialog::DialogExt;

use crate::upload::{UploadItem, UploadUpdate, Uploads, UploadsError};

#[derive(Debug, thiserror::Error, Serialize, specta::Type)]
#[serde(tag = "kind", content = "message", rename_all = "camelCase")]
pub enum UploadCommandError {
    #[error("{0}")]
    Queue(String),
    #[error("no upload with that id; it may have been cleared")]
    NotFound,
}

impl From<UploadsError> for UploadCommandError {
    fn from(e: UploadsError) -> Self {
        match e {
            UploadsError::Queue(crate::upload::QueueError::NotFound(_)) => UploadCommandError::NotFound,
            other => UploadCommandError::Queue(other.to_string()),
        }
    }
}

/// What was queued, and what could not be read.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Enqueued {
    pub items: Vec<UploadItem>,
    pub problems: Vec<String>,
}

/// Streams the queue to the window: a snapshot, then every change and (throttled) progress.
#[tauri::command]
#[specta::specta]
pub fn upload_subscribe(uploads: State<'_, Arc<Uploads>>, on_update: Channel<UploadUpdate>) -> Result<(), UploadCommandError> {
    Ok(uploads.subscribe(on_update)?)
}

/// Queues files and folders by path.
#[tauri::command]
#[specta::specta]
pub fn upload_enqueue(uploads: State<'_, Arc<Uploads>>, paths: Vec<String>) -> Result<Enqueued, UploadCommandError> {
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    let (items, problems) = uploads.enqueue(&paths)?;
    Ok(Enqueued { items, problems })
}

/// "Choose files…": the native file picker, for keyboard users. Runs on the Rust side, so the
/// window needs no dialog permission.
#[tauri::command]
#[specta::specta]
pub async fn upload_choose_files(app: AppHandle, uploads: State<'_, Arc<Uploads>>) -> Result<Enqueued, UploadCommandError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog().file().set_title("Choose files to upload").pick_files(move |picked| {
        let _ = tx.send(picked);
    });
    let picked = rx.await.ok().flatten().unwrap_or_default();
    let paths: Vec<PathBuf> = picked.into_iter().filter_map(|p| p.into_path().ok()).collect();
    if paths.is_empty() {
        return Ok(Enqueued { items: Vec::new(), problems: Vec::new() });
    }
    let (items, problems) = uploads.enqueue(&paths)?;
    Ok(Enqueued { items, problems })
}

#[tauri::command]
#[specta::specta]
pub fn upload_cancel(uploads: State<'_, Arc<Uploads>>, id: String) -> Result<UploadItem, UploadCommandError> {
    Ok(uploads.cancel(&id)?)
}

#[tauri::command]
#[specta::specta]
pub fn upload_retry(uploads: State<'_, Arc<Uploads>>, id: String) -> Result<UploadItem, UploadCommandError> {
    Ok(uploads.retry(&id)?)
}

/// Removes finished uploads (notified, verified or cancelled) from the list.
#[tauri::command]
#[specta::specta]
pub fn upload_clear_finished(uploads: State<'_, Arc<Uploads>>) -> Result<Vec<UploadItem>, UploadCommandError> {
    Ok(uploads.clear_finished()?)
}
