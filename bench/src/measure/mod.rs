//! One module per measure of issue 7; each runs LockBox and its baseline in the same run,
//! `runs` times, alternating which goes first, and returns its table rows.
//! - [`upload`]: one big upload and many 4 KiB uploads, against nginx PUT.
//! - [`events`]: end-to-end events/s and commit → frame latency, against bare lapin.
//! - [`connections`]: idle WebSocket connections held by one NotificationService.
//! - [`app`]: the app's catch-up into its cache, and inbox queries over 100 000 rows.

pub mod app;
pub mod connections;
pub mod events;
pub mod upload;
