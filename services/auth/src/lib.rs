//! LockBox bearer tokens: HS256 JWTs whose `sub` is the user id, minted by the CLI (and the run
//! command) and verified by both services with the same shared secret.
//!
//! Modules:
//! - [`token`]: [`TokenKey`] mints and verifies; [`Claims`]; [`AuthError`] says what is wrong.
//! - `extract` (feature `axum`): [`AuthUser`], an axum extractor for `Authorization: Bearer`
//!   whose rejection is a JSON 401 naming the fault.

#[cfg(feature = "axum")]
mod extract;
pub mod token;

#[cfg(feature = "axum")]
pub use extract::{AuthRejection, AuthUser};
pub use token::{AuthError, Claims, TokenKey};
