//! The JSON body of every event message, with exactly the seed's keys.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{EventType, timestamp};

/// One event, as published on `lockbox.files` (routing key = `event_type`).
///
/// Serializes to exactly `event_type`, `timestamp`, `source`, `user_id`, `file`;
/// `file` is `null` for events about the user rather than one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMessageData {
    pub event_type: EventType,
    #[serde(with = "timestamp")]
    pub timestamp: DateTime<Utc>,
    pub source: String,
    pub user_id: String,
    pub file: Option<FileData>,
}

/// The file an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileData {
    pub id: Uuid,
    /// The display name the user gave the file; never a path.
    pub name: String,
    /// When the file was stored.
    #[serde(with = "timestamp")]
    pub timestamp: DateTime<Utc>,
}

impl FileData {
    pub fn new(id: Uuid, name: impl Into<String>, stored_at: DateTime<Utc>) -> Self {
        Self { id, name: name.into(), timestamp: stored_at }
    }
}

impl FileMessageData {
    /// An event of any type, stamped now.
    pub fn new(
        event_type: EventType,
        source: impl Into<String>,
        user_id: impl Into<String>,
        file: Option<FileData>,
    ) -> Self {
        Self {
            event_type,
            timestamp: timestamp::now(),
            source: source.into(),
            user_id: user_id.into(),
            file,
        }
    }

    /// `file.stored`: an upload completed.
    pub fn file_stored(source: impl Into<String>, user_id: impl Into<String>, file: FileData) -> Self {
        Self::new(EventType::FileStored, source, user_id, Some(file))
    }

    /// `file.deleted`: the owner deleted a file.
    pub fn file_deleted(source: impl Into<String>, user_id: impl Into<String>, file: FileData) -> Self {
        Self::new(EventType::FileDeleted, source, user_id, Some(file))
    }

    /// `storage.quota_warning`: the user crossed the warning threshold; `file` is `null`.
    pub fn quota_warning(source: impl Into<String>, user_id: impl Into<String>) -> Self {
        Self::new(EventType::StorageQuotaWarning, source, user_id, None)
    }

    /// The JSON bytes that go on the wire.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing plain strings, UUIDs and timestamps cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_stamp_utc_rfc3339_and_source() {
        let before = timestamp::now();
        let msg = FileMessageData::quota_warning("file-storage", "u1");
        assert_eq!(msg.source, "file-storage");
        assert!(msg.timestamp >= before);
        let json: serde_json::Value = serde_json::from_slice(&msg.to_json()).unwrap();
        let ts = json["timestamp"].as_str().unwrap();
        assert!(ts.ends_with('Z') && ts.len() == "2026-12-04T10:15:30.123Z".len(), "{ts}");
        assert!(json["file"].is_null());
    }
}
