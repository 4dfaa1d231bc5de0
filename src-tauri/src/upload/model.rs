//! What the window sees of an upload.

use serde::{Deserialize, Serialize};

/// One file's timeline from drop to toast, keyed by the same id all the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum UploadState {
    Queued,
    Uploading,
    /// The server committed the file (its answer carried the file id and SHA-256).
    Stored,
    /// The server's SHA-256 equals the one computed here.
    Verified,
    /// The notification of this file reached the inbox.
    Notified,
    Failed,
    Cancelled,
}

impl UploadState {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadState::Queued => "queued",
            UploadState::Uploading => "uploading",
            UploadState::Stored => "stored",
            UploadState::Verified => "verified",
            UploadState::Notified => "notified",
            UploadState::Failed => "failed",
            UploadState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "uploading" => UploadState::Uploading,
            "stored" => UploadState::Stored,
            "verified" => UploadState::Verified,
            "notified" => UploadState::Notified,
            "failed" => UploadState::Failed,
            "cancelled" => UploadState::Cancelled,
            _ => UploadState::Queued,
        }
    }

    /// Whether a worker should (still) pick this item up.
    pub fn is_pending(self) -> bool {
        matches!(self, UploadState::Queued | UploadState::Uploading)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct UploadItem {
    pub id: String,
    /// All files of one drop share a batch, for the batch progress bar.
    pub batch_id: String,
    pub path: String,
    /// The name shown and sent to the server (relative to the dropped folder, if any).
    pub name: String,
    #[specta(type = f64)]
    pub size: u64,
    #[specta(type = f64)]
    pub sent: u64,
    pub state: UploadState,
    pub file_id: Option<String>,
    pub local_sha256: Option<String>,
    pub server_sha256: Option<String>,
    /// Why it failed, in words that say what to do.
    pub error: Option<String>,
}

impl UploadItem {
    /// A new item at the start of its timeline.
    pub fn queued(id: String, batch_id: String, path: String, name: String, size: u64) -> Self {
        Self {
            id,
            batch_id,
            path,
            name,
            size,
            sent: 0,
            state: UploadState::Queued,
            file_id: None,
            local_sha256: None,
            server_sha256: None,
            error: None,
        }
    }
}

/// What the upload channel sends to the window.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum UploadUpdate {
    /// Everything, sent once when the window subscribes.
    Snapshot { items: Vec<UploadItem> },
    /// An item changed state (or was added).
    Item { item: UploadItem },
    /// Bytes moved (throttled).
    Progress {
        id: String,
        #[specta(type = f64)]
        sent: u64,
        #[specta(type = f64)]
        size: u64,
    },
}
