//! The frames of the NotificationService's WebSocket stream (`GET /v1/stream`).
//!
//! Every frame is one JSON text message with a `type` and the protocol version `v`
//! ([`FRAME_VERSION`]); a client ignores frames of a higher `v` or unknown `type` it cannot
//! read rather than failing. Server to client:
//!
//! | `type` | fields | meaning |
//! |---|---|---|
//! | `notification` | `notification`: a [`Notification`] | a stored notification; replayed ones (after `since`) first, in `seq` order, then live ones — never a gap, never twice |
//! | `read` | `ids`, `up_to_seq` (or `null`), `read_at` | the user read these on some device (`POST /v1/notifications/read`); after a reconnect with `read_since`, first the reads the device missed. Idempotent: applying one twice changes nothing |
//! | `heartbeat` | `at` | sent every heartbeat interval, so both sides notice a dead peer |
//! | `error` | `code`, `message` | sent just before the server closes the stream, saying why and what to do |
//!
//! ```json
//! {"type": "notification", "v": 1, "notification": {"id": "…", "seq": 42, …}}
//! {"type": "read", "v": 1, "ids": ["…"], "up_to_seq": null, "read_at": "2026-12-04T10:16:00.000Z"}
//! {"type": "heartbeat", "v": 1, "at": "2026-12-04T10:16:15.000Z"}
//! {"type": "error", "v": 1, "code": "too_slow", "message": "…reconnect with since=42"}
//! ```
//!
//! Close codes the server uses: 1000 (shutdown), 1009 (a client frame was over the server's
//! limit; error code `message_too_big`), [`CLOSE_TOO_SLOW`] (the bounded buffer overflowed:
//! reconnect with `since`), [`CLOSE_HEARTBEAT_TIMEOUT`] (the peer stopped answering).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Notification, timestamp};

/// The version of the frame format this crate reads and writes.
pub const FRAME_VERSION: u16 = 1;

/// Close code: the client did not keep up and its bounded buffer is full.
pub const CLOSE_TOO_SLOW: u16 = 4008;
/// Close code: no pong or other frame from the client within the heartbeat timeout.
pub const CLOSE_HEARTBEAT_TIMEOUT: u16 = 4009;

/// One frame: the version, and what it carries (which fixes `type`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    pub v: u16,
    #[serde(flatten)]
    pub body: FrameBody,
}

/// What a frame carries; serialized with its `type` tag next to `v`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FrameBody {
    Notification {
        notification: Notification,
    },
    Read {
        ids: Vec<Uuid>,
        up_to_seq: Option<u64>,
        #[serde(with = "timestamp")]
        read_at: DateTime<Utc>,
    },
    Heartbeat {
        #[serde(with = "timestamp")]
        at: DateTime<Utc>,
    },
    Error {
        code: String,
        message: String,
    },
}

impl Frame {
    fn new(body: FrameBody) -> Self {
        Self { v: FRAME_VERSION, body }
    }

    pub fn notification(notification: Notification) -> Self {
        Self::new(FrameBody::Notification { notification })
    }

    pub fn read(ids: Vec<Uuid>, up_to_seq: Option<u64>, read_at: DateTime<Utc>) -> Self {
        Self::new(FrameBody::Read { ids, up_to_seq, read_at })
    }

    pub fn heartbeat() -> Self {
        Self::new(FrameBody::Heartbeat { at: timestamp::now() })
    }

    pub fn error(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(FrameBody::Error { code: code.into(), message: message.into() })
    }

    /// The `seq` of a notification frame.
    pub fn seq(&self) -> Option<u64> {
        match &self.body {
            FrameBody::Notification { notification } => Some(notification.seq),
            _ => None,
        }
    }

    /// The JSON text that goes on the socket.
    pub fn to_json(&self) -> String {
        // Strings, numbers, UUIDs and timestamps always serialize.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_type_and_version_side_by_side() {
        let json: serde_json::Value = serde_json::from_str(&Frame::heartbeat().to_json()).unwrap();
        assert_eq!(json["type"], "heartbeat");
        assert_eq!(json["v"], FRAME_VERSION);
        let read = Frame::read(vec![Uuid::nil()], Some(3), timestamp::now());
        assert_eq!(Frame::from_json(&read.to_json()).unwrap(), read);
        let json: serde_json::Value = serde_json::from_str(&read.to_json()).unwrap();
        assert_eq!(json["type"], "read");
        assert_eq!(json["up_to_seq"], 3);
        let err = Frame::error("too_slow", "reconnect");
        assert_eq!(Frame::from_json(&err.to_json()).unwrap(), err);
    }
}
