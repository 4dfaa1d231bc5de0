//! The names of the topology, with the configured prefix.

/// Exchange and queue names, derived once from the prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    prefix: String,
}

impl Names {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self { prefix: prefix.into() }
    }

    fn name(&self, base: &str) -> String {
        format!("{}{base}", self.prefix)
    }

    /// Durable topic exchange of file events; routing key = event type.
    pub fn files_exchange(&self) -> String {
        self.name("lockbox.files")
    }

    /// Dead-letter exchange (direct; routing key = the queue that dead-lettered).
    pub fn dead_letter_exchange(&self) -> String {
        self.name("lockbox.dlx")
    }

    /// The NotificationService's quorum queue of file events.
    pub fn file_events_queue(&self) -> String {
        self.name("lockbox.notification.file-events")
    }

    /// Where poison and over-delivered file events end up.
    pub fn file_events_dead_queue(&self) -> String {
        self.name("lockbox.notification.file-events.dead")
    }

    /// Exchange on which NotificationService replicas share stored notifications.
    pub fn notifications_exchange(&self) -> String {
        self.name("lockbox.notifications")
    }
}
