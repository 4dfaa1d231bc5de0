//! Deleting notifications past the retention period, once at start and then hourly.

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::store::Store;

const EVERY: Duration = Duration::from_secs(3600);

/// Prunes until `cancel` fires.
pub async fn run(store: Store, keep: chrono::Duration, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        match store.prune(Utc::now() - keep).await {
            Ok(pruned) if pruned.notifications + pruned.message_ids > 0 => {
                info!(notifications = pruned.notifications, message_ids = pruned.message_ids, "retention pruned");
            }
            Ok(_) => {}
            Err(error) => warn!(%error, "retention pass failed; trying again in an hour"),
        }
    }
}
