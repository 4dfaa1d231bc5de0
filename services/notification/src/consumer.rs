//! The consume loop: decode at the edge, store + dedupe in one transaction, push, then ack.
//!
//! Deliveries are handled one at a time in queue order (the prefetch lets the broker stream
//! ahead meanwhile), so per-user seqs follow the queue. A store failure is retried here with
//! backoff and the delivery stays unacknowledged: requeueing would count toward the queue's
//! delivery limit and dead-letter good events during a disk hiccup.

use std::{sync::Arc, time::Duration};

use lockbox_broker::{Deliveries, Incoming, backoff::Backoff};
use lockbox_events::{DecodeError, FileMessageData, Frame};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::{
    hub::Hub,
    metrics::{Metrics, Outcome},
    render::render,
    store::{Inserted, Store},
};

/// Why a delivery is poison (dead-lettered, never retried).
#[derive(Debug, thiserror::Error)]
pub enum PoisonError {
    #[error("the body is not a valid event: {0}")]
    Undecodable(#[source] DecodeError),
    #[error("the message has no message_id, so redeliveries could not be told apart")]
    NoMessageId,
}

/// What the consumer needs.
pub struct Consumer {
    pub store: Store,
    pub hub: Hub,
    pub metrics: Arc<Metrics>,
    pub quota_warning_percent: u8,
}

impl Consumer {
    /// Handles deliveries until `cancel` fires or the broker supervisor stops. A delivery in
    /// hand when `cancel` fires is finished first (or left unacknowledged for redelivery).
    pub async fn run(self, mut deliveries: Deliveries, cancel: CancellationToken) {
        loop {
            let incoming = tokio::select! {
                _ = cancel.cancelled() => break,
                next = deliveries.recv() => match next {
                    Some(incoming) => incoming,
                    None => break,
                },
            };
            self.handle(incoming, &cancel).await;
        }
        info!("consumer stopped");
    }

    async fn handle(&self, incoming: Incoming, cancel: &CancellationToken) {
        let message_id = incoming.message_id().unwrap_or_default().to_owned();
        let event = match decode(&incoming) {
            Ok(event) => event,
            Err(poison) => {
                warn!(message_id, kind = incoming.kind(), redelivered = incoming.redelivered(), error = %poison,
                    "dead-lettering a poison message");
                self.metrics.event(Outcome::DeadLettered);
                if let Err(error) = incoming.dead_letter().await {
                    warn!(message_id, %error, "could not dead-letter; the broker will redeliver it");
                }
                return;
            }
        };
        let new = render(&event, self.quota_warning_percent);
        let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(5));
        let inserted = loop {
            match self.store.insert(message_id.clone(), new.clone()).await {
                Ok(inserted) => break inserted,
                Err(error) => {
                    self.metrics.store_retries.inc();
                    error!(message_id, %error, "cannot store notification; retrying (not acknowledged)");
                    tokio::select! {
                        // Unacknowledged: the broker redelivers it to whoever consumes next.
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(backoff.next_delay()) => {}
                    }
                }
            }
        };
        match inserted {
            Inserted::Stored(notification) => {
                self.metrics.event(Outcome::Stored);
                debug!(message_id, user_id = notification.user_id, seq = notification.seq, kind = %notification.kind,
                    "stored notification");
                let user_id = notification.user_id.clone();
                // Pushed only after the commit, so a live frame is always also in the store.
                self.hub.send(&user_id, Frame::notification(*notification));
            }
            Inserted::Duplicate => {
                self.metrics.event(Outcome::Duplicate);
                info!(message_id, redelivered = incoming.redelivered(), "duplicate message; already stored");
            }
        }
        if let Err(error) = incoming.ack().await {
            // Committed but not acknowledged: the redelivery will be recognized as a duplicate.
            warn!(message_id, %error, "could not acknowledge a stored message");
        }
    }
}

fn decode(incoming: &Incoming) -> Result<FileMessageData, PoisonError> {
    if incoming.message_id().is_none_or(|id| id.trim().is_empty()) {
        return Err(PoisonError::NoMessageId);
    }
    FileMessageData::try_from(incoming).map_err(PoisonError::Undecodable)
}
