//! What the user configures, and the token.
//!
//! - [`prefs`]: [`Settings`] (service URLs, toasts, do-not-disturb, language) in a JSON file
//!   in the app's config dir.
//! - [`token`]: [`TokenStore`], the bearer token in a file only the user can read — never in
//!   the inbox database, never in a log.

pub mod prefs;
pub mod token;

pub use prefs::{Settings, SettingsError, SettingsFile};
pub use token::{TokenStore, TokenStoreError};
