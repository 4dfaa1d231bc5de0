//! The typed `event_type` of an event message.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What happened. Known types get a variant; any other string is kept as-is in
/// [`EventType::Other`] so a newer producer never crashes an older consumer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventType {
    /// A file was stored (an upload completed).
    FileStored,
    /// A file was deleted by its owner.
    FileDeleted,
    /// The user crossed the quota warning threshold (`file` is `null`).
    StorageQuotaWarning,
    /// Any other event type, kept verbatim.
    Other(String),
}

impl EventType {
    pub const FILE_STORED: &'static str = "file.stored";
    pub const FILE_DELETED: &'static str = "file.deleted";
    pub const STORAGE_QUOTA_WARNING: &'static str = "storage.quota_warning";

    /// The wire name, which is also the AMQP routing key and `type` property.
    pub fn as_str(&self) -> &str {
        match self {
            EventType::FileStored => Self::FILE_STORED,
            EventType::FileDeleted => Self::FILE_DELETED,
            EventType::StorageQuotaWarning => Self::STORAGE_QUOTA_WARNING,
            EventType::Other(other) => other,
        }
    }

    /// Whether messages of this type must carry a `file`.
    pub fn requires_file(&self) -> bool {
        matches!(self, EventType::FileStored | EventType::FileDeleted)
    }
}

impl From<&str> for EventType {
    fn from(value: &str) -> Self {
        match value {
            Self::FILE_STORED => EventType::FileStored,
            Self::FILE_DELETED => EventType::FileDeleted,
            Self::STORAGE_QUOTA_WARNING => EventType::StorageQuotaWarning,
            other => EventType::Other(other.to_owned()),
        }
    }
}

impl From<String> for EventType {
    fn from(value: String) -> Self {
        match EventType::from(value.as_str()) {
            EventType::Other(_) => EventType::Other(value),
            known => known,
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(EventType::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_map_to_variants_and_back() {
        for (name, ty) in [
            ("file.stored", EventType::FileStored),
            ("file.deleted", EventType::FileDeleted),
            ("storage.quota_warning", EventType::StorageQuotaWarning),
        ] {
            assert_eq!(EventType::from(name), ty);
            assert_eq!(ty.as_str(), name);
        }
    }

    #[test]
    fn unknown_names_are_kept_verbatim() {
        let ty = EventType::from("file.shared".to_owned());
        assert_eq!(ty, EventType::Other("file.shared".into()));
        assert_eq!(serde_json::to_string(&ty).unwrap(), "\"file.shared\"");
    }
}
