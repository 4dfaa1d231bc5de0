//! The consume loop: decode at the edge, store + dedupe in one transaction, push, then ack
//! the batch.
//!
//! Deliveries are handled in queue order, so per-user seqs follow the queue. Whatever has
//! already arrived (up to the prefetch) is stored in one transaction: one commit for a burst
//! instead of one per message, which matters when catching up on a backlog. A store failure
//! is retried here with backoff and the deliveries stay unacknowledged: requeueing would count
//! toward the queue's delivery limit and dead-letter good events during a disk hiccup.

use std::{sync::Arc, time::Duration};

use futures_util::FutureExt;

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
    /// The most deliveries stored in one transaction (the prefetch: no more can be in hand).
    pub max_batch: usize,
}

impl Consumer {
    /// Handles deliveries until `cancel` fires or the broker supervisor stops. Deliveries in
    /// hand when `cancel` fires are finished first (or left unacknowledged for redelivery).
    pub async fn run(self, mut deliveries: Deliveries, cancel: CancellationToken) {
        loop {
            let first = tokio::select! {
                _ = cancel.cancelled() => break,
                next = deliveries.recv() => match next {
                    Some(incoming) => incoming,
                    None => break,
                },
            };
            let mut batch = vec![first];
            // Take what is already here, without waiting for more.
            while batch.len() < self.max_batch {
                match deliveries.recv().now_or_never() {
                    Some(Some(incoming)) => batch.push(incoming),
                    _ => break,
                }
            }
            self.handle(batch, &cancel).await;
        }
        info!("consumer stopped");
    }

    async fn handle(&self, batch: Vec<Incoming>, cancel: &CancellationToken) {
        let mut valid = Vec::with_capacity(batch.len());
        for incoming in batch {
            match decode(&incoming) {
                Ok(event) => valid.push((incoming, event)),
                Err(poison) => self.dead_letter(&incoming, &poison).await,
            }
        }
        if valid.is_empty() {
            return;
        }
        let rows: Vec<_> = valid
            .iter()
            .map(|(incoming, event)| {
                (incoming.message_id().unwrap_or_default().to_owned(), render(event, self.quota_warning_percent))
            })
            .collect();
        let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(5));
        let results = loop {
            match self.store.insert_batch(rows.clone()).await {
                Ok(results) => break results,
                Err(error) => {
                    self.metrics.store_retries.inc();
                    error!(first_message_id = rows[0].0, count = rows.len(), %error,
                        "cannot store notifications; retrying (not acknowledged)");
                    tokio::select! {
                        // Unacknowledged: the broker redelivers them to whoever consumes next.
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(backoff.next_delay()) => {}
                    }
                }
            }
        };
        for ((incoming, _), inserted) in valid.iter().zip(results) {
            let message_id = incoming.message_id().unwrap_or_default();
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
        }
        // The batch arrived in order and is committed: one `multiple` ack settles all of it
        // (earlier deliveries of the channel were settled by earlier batches, poison ones
        // above), instead of one ack round trip per message.
        if let Some((last, _)) = valid.last()
            && let Err(error) = last.ack_through().await
        {
            // Committed but not acknowledged: the redeliveries will be recognized as duplicates.
            warn!(last_message_id = last.message_id().unwrap_or_default(), count = valid.len(), %error,
                "could not acknowledge stored messages");
        }
    }

    async fn dead_letter(&self, incoming: &Incoming, poison: &PoisonError) {
        let message_id = incoming.message_id().unwrap_or_default();
        warn!(message_id, kind = incoming.kind(), redelivered = incoming.redelivered(), error = %poison,
            "dead-lettering a poison message");
        self.metrics.event(Outcome::DeadLettered);
        if let Err(error) = incoming.dead_letter().await {
            warn!(message_id, %error, "could not dead-letter; the broker will redeliver it");
        }
    }
}

fn decode(incoming: &Incoming) -> Result<FileMessageData, PoisonError> {
    if incoming.message_id().is_none_or(|id| id.trim().is_empty()) {
        return Err(PoisonError::NoMessageId);
    }
    FileMessageData::try_from(incoming).map_err(PoisonError::Undecodable)
}
