//! Turning an event into the notification a user sees: `params` for clients that localize,
//! English `title`/`body` for those that do not.

use lockbox_events::{EventType, FileMessageData, NotificationFile};
use serde_json::{Map, Value, json};

use crate::store::NewNotification;

/// Builds the notification for `event`. Unknown event types get a generic text; they are
/// never an error.
pub fn render(event: &FileMessageData, quota_warning_percent: u8) -> NewNotification {
    let file = event.file.as_ref().map(|f| NotificationFile { id: f.id, name: f.name.clone() });
    let mut params = Map::new();
    params.insert("event_type".into(), json!(event.event_type.as_str()));
    if let Some(file) = &file {
        params.insert("file_id".into(), json!(file.id));
        params.insert("file_name".into(), json!(file.name));
    }
    let name = file.as_ref().map(|f| f.name.as_str());
    let (title, body) = match (&event.event_type, name) {
        (EventType::FileStored, Some(name)) => {
            (format!("{name} was stored"), format!("{name} is now safe in your LockBox."))
        }
        (EventType::FileDeleted, Some(name)) => {
            (format!("{name} was deleted"), format!("{name} was removed from your LockBox."))
        }
        (EventType::StorageQuotaWarning, _) => {
            params.insert("percent".into(), Value::from(quota_warning_percent));
            (
                "Your storage is almost full".to_owned(),
                format!("You have used {quota_warning_percent} % of your storage"),
            )
        }
        (other, Some(name)) => (format!("{name}: {other}"), format!("Something happened to {name} ({other}).")),
        (other, None) => ("LockBox activity".to_owned(), format!("Something happened in your LockBox ({other}).")),
    };
    NewNotification {
        user_id: event.user_id.clone(),
        kind: event.event_type.clone(),
        file,
        params,
        title,
        body,
        created_at: event.timestamp,
    }
}

#[cfg(test)]
mod tests {
    use lockbox_events::{FileData, timestamp};
    use uuid::Uuid;

    use super::*;

    fn file(name: &str) -> FileData {
        FileData::new(Uuid::new_v4(), name, timestamp::now())
    }

    #[test]
    fn known_events_get_their_english_text_and_params() {
        let n = render(&FileMessageData::file_stored("fs", "u", file("report.pdf")), 90);
        assert_eq!(n.title, "report.pdf was stored");
        assert_eq!(n.params["file_name"], "report.pdf");
        let n = render(&FileMessageData::file_deleted("fs", "u", file("report.pdf")), 90);
        assert_eq!(n.title, "report.pdf was deleted");
        let n = render(&FileMessageData::quota_warning("fs", "u"), 90);
        assert_eq!(n.body, "You have used 90 % of your storage");
        assert_eq!(n.params["percent"], 90);
        assert!(n.file.is_none());
    }

    #[test]
    fn unknown_events_get_a_generic_text() {
        let event = FileMessageData::new(EventType::from("file.shared"), "fs", "u", Some(file("a.txt")));
        let n = render(&event, 90);
        assert_eq!(n.kind.as_str(), "file.shared");
        assert_eq!(n.params["event_type"], "file.shared");
        assert!(n.body.contains("a.txt"));
    }
}
