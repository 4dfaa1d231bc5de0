//! The upload queue, on the Rust side: persisted in SQLite so it survives an app restart.
//!
//! - [`model`]: [`UploadItem`] and its [`UploadState`] timeline
//!   (queued → uploading → stored → verified → notified, or failed / cancelled).
//! - [`queue`]: [`UploadQueue`], the SQLite table of items and their tus upload URLs.
//! - [`manager`]: [`Uploads`], the queue as the app runs it (window channels, worker wake-up).
//! - [`worker`]: the workers that send queued files with the tus client (concurrency 3).
//! - [`walk`]: turning dropped paths (files and folders) into the files to upload.

pub mod manager;
pub mod model;
pub mod queue;
pub mod walk;
pub mod worker;

pub use manager::{Uploads, UploadsError};
pub use model::{UploadItem, UploadState, UploadUpdate};
pub use queue::{QueueError, UploadQueue};
