//! The local inbox: a SQLite cache of the user's notifications, so the window works offline
//! and reconnects resume from the highest cached `seq`.
//!
//! - [`schema`]: migrations (rusqlite_migration), FTS5 index kept in step by triggers.
//! - [`store`]: [`Inbox`]: idempotent insert, pages, search, read state.

pub mod schema;
pub mod store;

pub use store::{Inbox, InboxError, InboxFilter, InboxItem, InboxPage};
