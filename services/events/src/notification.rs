//! The notification the NotificationService stores and pushes: one per event, per user.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{EventType, timestamp};

/// One stored notification.
///
/// ```json
/// {"id": "0193…", "seq": 42, "user_id": "9b2f…", "kind": "file.stored",
///  "file": {"id": "c0a8…", "name": "report.pdf"},
///  "params": {"file_name": "report.pdf"},
///  "title": "report.pdf was stored", "body": "report.pdf is now safe in your LockBox.",
///  "created_at": "2026-12-04T10:15:30.123Z", "read_at": null}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: Uuid,
    /// Per user, strictly increasing, never reused (also not after retention deleted older
    /// ones): a client resumes its stream with `since=<highest seq it has>`.
    pub seq: u64,
    pub user_id: String,
    /// The event type this notification was made from; unknown types are kept verbatim.
    pub kind: EventType,
    /// The file the event is about; `null` for events about the user.
    pub file: Option<NotificationFile>,
    /// What a client needs to render its own localized text, keyed by name
    /// (e.g. `file_name`, `percent`, `event_type`).
    pub params: serde_json::Map<String, serde_json::Value>,
    /// English default text for simple clients.
    pub title: String,
    pub body: String,
    /// When the event happened (the event's timestamp).
    #[serde(with = "timestamp")]
    pub created_at: DateTime<Utc>,
    /// When the user read it on any device; `null` while unread.
    #[serde(with = "optional_timestamp")]
    pub read_at: Option<DateTime<Utc>>,
}

/// The file a notification is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationFile {
    pub id: Uuid,
    pub name: String,
}

impl Notification {
    pub fn is_read(&self) -> bool {
        self.read_at.is_some()
    }
}

/// The body of `POST /v1/notifications/read`: either explicit ids (`{"ids": [...]}`), or
/// everything up to and including a seq (`{"up_to_seq": 42}`); never both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[serde(try_from = "ReadRequestWire")]
pub enum ReadRequest {
    Ids { ids: Vec<Uuid> },
    UpToSeq { up_to_seq: u64 },
}

/// The accepted JSON shape, checked into a [`ReadRequest`] (an untagged enum alone would
/// silently ignore an extra key).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadRequestWire {
    ids: Option<Vec<Uuid>>,
    up_to_seq: Option<u64>,
}

impl TryFrom<ReadRequestWire> for ReadRequest {
    type Error = &'static str;

    fn try_from(wire: ReadRequestWire) -> Result<Self, Self::Error> {
        match (wire.ids, wire.up_to_seq) {
            (Some(ids), None) => Ok(ReadRequest::Ids { ids }),
            (None, Some(up_to_seq)) => Ok(ReadRequest::UpToSeq { up_to_seq }),
            (Some(_), Some(_)) => Err("send either ids or up_to_seq, not both"),
            (None, None) => Err("send ids or up_to_seq"),
        }
    }
}

/// The answer of `POST /v1/notifications/read`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadResponse {
    /// The notifications this request marked read (already-read ones are not repeated).
    pub ids: Vec<Uuid>,
    #[serde(with = "timestamp")]
    pub read_at: DateTime<Utc>,
    /// How many notifications of the user are still unread.
    pub unread: u64,
}

/// A page of `GET /v1/notifications?since=&limit=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationPage {
    /// In `seq` order, all with `seq > since`.
    pub notifications: Vec<Notification>,
    /// Pass as `since` to get the next page; `null` when this page was the last.
    pub next_since: Option<u64>,
}

/// The answer of `GET /v1/notifications/unread_count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadCount {
    pub unread: u64,
}

/// `Option<DateTime<Utc>>` in the wire format of [`timestamp`], `null` for `None`.
pub mod optional_timestamp {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ts: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
        match ts {
            Some(ts) => serializer.serialize_str(&crate::timestamp::format(ts)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped(#[serde(with = "crate::timestamp")] DateTime<Utc>);
        Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|Wrapped(ts)| ts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_null_file_and_read_at() {
        let n = Notification {
            id: Uuid::now_v7(),
            seq: 7,
            user_id: "alice".into(),
            kind: EventType::StorageQuotaWarning,
            file: None,
            params: serde_json::json!({"percent": 90}).as_object().cloned().unwrap_or_default(),
            title: "Storage almost full".into(),
            body: "You have used 90 % of your storage".into(),
            created_at: timestamp::now(),
            read_at: None,
        };
        let json = serde_json::to_value(&n).unwrap();
        assert!(json["file"].is_null() && json["read_at"].is_null());
        assert_eq!(json["kind"], "storage.quota_warning");
        let back: Notification = serde_json::from_value(json).unwrap();
        assert_eq!(back, n);
        let read = Notification { read_at: Some(timestamp::now()), ..n };
        let back: Notification = serde_json::from_str(&serde_json::to_string(&read).unwrap()).unwrap();
        assert_eq!(back, read);
    }

    #[test]
    fn read_requests_are_ids_or_up_to_seq() {
        let ids: ReadRequest = serde_json::from_str(r#"{"ids": []}"#).unwrap();
        assert_eq!(ids, ReadRequest::Ids { ids: vec![] });
        let up: ReadRequest = serde_json::from_str(r#"{"up_to_seq": 9}"#).unwrap();
        assert_eq!(up, ReadRequest::UpToSeq { up_to_seq: 9 });
        assert!(serde_json::from_str::<ReadRequest>(r#"{"all": true}"#).is_err());
        assert!(serde_json::from_str::<ReadRequest>(r#"{"ids": [], "up_to_seq": 1}"#).is_err());
        assert_eq!(serde_json::to_string(&up).unwrap(), r#"{"up_to_seq":9}"#);
    }
}
