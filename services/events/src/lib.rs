//! The LockBox wire contract, shared by every producer and consumer of events.
//!
//! Serde only: no broker, no IO. Modules:
//! - [`event_type`]: the typed `event_type` (`file.stored`, `file.deleted`,
//!   `storage.quota_warning`, and any other string kept as-is).
//! - [`message`]: [`FileMessageData`] and [`FileData`], the JSON body of every event message,
//!   with constructors that stamp RFC 3339 UTC timestamps.
//! - [`decode`]: turning bytes from the broker into a [`FileMessageData`], with a
//!   [`DecodeError`] that says what is wrong.
//! - [`timestamp`]: the one timestamp format on the wire (RFC 3339, UTC, milliseconds, `Z`).
//! - [`notification`]: [`Notification`], what the NotificationService stores per user and
//!   pushes, and the bodies of its REST API ([`ReadRequest`], [`NotificationPage`], …).
//! - [`frame`]: [`Frame`], the versioned JSON frames of the WebSocket stream (documented
//!   there, with the close codes).

pub mod decode;
pub mod event_type;
pub mod frame;
pub mod message;
pub mod notification;
pub mod timestamp;

pub use decode::DecodeError;
pub use event_type::EventType;
pub use frame::{Frame, FrameBody};
pub use message::{FileData, FileMessageData};
pub use notification::{Notification, NotificationFile, NotificationPage, ReadRequest, ReadResponse, UnreadCount};

/// The `source` of events published by the FileStorageService.
pub const FILE_STORAGE_SOURCE: &str = "file-storage";

/// The AMQP `content_type` of every event message.
pub const CONTENT_TYPE: &str = "application/json";
