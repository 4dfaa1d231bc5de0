//! LockBox reliability and security suite. Each scenario is an integration test under `tests/`
//! that injects real faults (a throwaway RabbitMQ node, SIGKILL, a full filesystem, hostile
//! input) and records its figures; `scripts/reliability.sh` runs every scenario at full size
//! and renders `docs/RELIABILITY.md` from the records. `cargo test` runs the shortened size.
//!
//! Modules:
//! - [`report`]: [`Record`], one scenario's figures, written as JSON next to the build, and
//!   [`scale`], the quick/full size switch.
//! - [`render`]: `docs/RELIABILITY.md` from the records (used by the `reliability-report` bin).
//! - [`rabbit`]: [`rabbit::RabbitNode`], a throwaway RabbitMQ node to kill and restart.
//! - [`procs`]: the real service binaries as child processes (SIGKILL, restart, memory).
//! - [`services`]: the real services in-process on `127.0.0.1:0`.
//! - [`stack`]: the file storage binary, the notification service and a connected app, for
//!   the file storage crash scenarios.
//! - [`amqp`]: queue depths and the dead-letter queue's contents, seen from the broker.
//! - [`app`]: the desktop crate's feed, inbox file and toast folding, without a window.
//! - [`load`]: concurrent tus uploaders that record every accepted file id.
//! - [`fsdb`]: counts read from a FileStorageService's own database.
//! - [`tally`]: lost / duplicated from accepted ids versus arrived rows.
//! - [`tmpfs`]: a small filesystem of the test's own (mounted tmpfs), for a full disk.
//! - [`wait`]: waiting on another process's condition with a deadline.
//! - [`common`]: the suite's token secret, users, tokens and test content.
//! - [`error`]: the support code's error type, [`SupportError`].
pub mod amqp;
pub mod app;
pub mod common;
pub mod error;
pub mod fsdb;
pub mod load;
pub mod procs;
pub mod rabbit;
pub mod render;
pub mod report;
pub mod services;
pub mod stack;
pub mod tally;
pub mod tmpfs;
pub mod wait;

pub use error::SupportError;
pub use report::{Mode, Record, ReportError, scale};
