//! Decoding event bytes from the broker, with errors that say what is wrong.

use thiserror::Error;

use crate::FileMessageData;

/// Why a message body is not a valid event. Each variant names the fault so a
/// dead-lettered message can be diagnosed from the log line alone.
#[derive(Debug, Error)]
pub enum DecodeError {
    #[error("event body is not valid UTF-8 JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    #[error("event body is JSON but not a FileMessageData (expected keys event_type, timestamp, source, user_id, file): {0}")]
    Shape(#[source] serde_json::Error),
    #[error("event has an empty {field}")]
    Empty { field: &'static str },
    #[error("a {event_type} event must carry a file, but file is null")]
    MissingFile { event_type: String },
}

impl FileMessageData {
    /// Decodes and validates one event body.
    pub fn from_json(bytes: &[u8]) -> Result<Self, DecodeError> {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(DecodeError::NotJson)?;
        let msg: FileMessageData = serde_json::from_value(value).map_err(DecodeError::Shape)?;
        for (field, text) in [
            ("event_type", msg.event_type.as_str()),
            ("source", msg.source.as_str()),
            ("user_id", msg.user_id.as_str()),
        ] {
            if text.trim().is_empty() {
                return Err(DecodeError::Empty { field });
            }
        }
        if msg.file.is_none() && msg.event_type.requires_file() {
            return Err(DecodeError::MissingFile { event_type: msg.event_type.to_string() });
        }
        Ok(msg)
    }
}

impl TryFrom<&[u8]> for FileMessageData {
    type Error = DecodeError;

    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        Self::from_json(bytes)
    }
}
