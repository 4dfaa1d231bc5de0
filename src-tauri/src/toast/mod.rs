//! Native toasts: text rendered by the app from a notification's kind and params, in the
//! user's language, folded into one summary when many arrive at once.
//!
//! - [`i18n`]: [`Language`] and the English and Dutch texts.
//! - [`fold`]: [`Folder`], the rule that turns a burst into one summary toast.
//! - [`queue`]: [`ToastSender`] and [`queue::fold`], the toaster's loop without Tauri.
//! - [`toaster`]: the task that shows them through tauri-plugin-notification.

pub mod fold;
pub mod i18n;
pub mod queue;
pub mod toaster;

pub use fold::{Folder, Toast};
pub use i18n::{Language, ToastText};
pub use queue::{ToastMessage, ToastSender};
