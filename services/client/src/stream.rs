//! The NotificationService's WebSocket stream (`since`, reconnect) and its REST API.
