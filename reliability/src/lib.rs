//! LockBox reliability and security suite. Each scenario is an integration test under `tests/`
//! that injects real faults (a throwaway RabbitMQ node, SIGKILL, a full filesystem, hostile
//! input) and records its figures; `scripts/reliability.sh` runs every scenario at full size
//! and renders `docs/RELIABILITY.md` from the records. `cargo test` runs the shortened size.
//!
//! Modules:
//! - [`report`]: [`Record`], one scenario's figures, written as JSON next to the build, and
//!   [`scale`], the quick/full size switch.
pub mod report;

pub use report::{Mode, Record, ReportError, scale};
