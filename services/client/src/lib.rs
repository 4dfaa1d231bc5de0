//! The Rust client of both LockBox services, used by the `lockbox` CLI, the desktop app, the
//! tests and the benchmarks — never written twice.
//!
//! Modules:
//! - [`upload`]: tus 1.0 uploads to the FileStorageService, with resume and progress callbacks.
//! - [`files`]: the FileStorageService's files API (list, get, download, delete).
//! - [`stream`]: the NotificationService's WebSocket stream (`since`, reconnect) and its REST API.

pub mod files;
pub mod stream;
pub mod upload;
