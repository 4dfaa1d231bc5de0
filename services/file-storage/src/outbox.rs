//! The outbox relay: publishes outbox rows in order with publisher confirms, many in flight,
//! and marks a row sent only after its confirm. It sleeps on a [`Notify`] that every commit
//! with an outbox row pokes (no polling on the hot path), and backs off while the broker is
//! away; the uploads never wait for it.

use std::{sync::Arc, time::Instant};

use lockbox_broker::{BrokerState, Names, Outgoing, PublishError, Publisher, backoff::Backoff};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use crate::{
    meta::{MetaError, MetaStore},
    metrics::Metrics,
};

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Meta(#[from] MetaError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("a blocking storage task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

pub struct Relay {
    pub meta: Arc<dyn MetaStore>,
    pub publisher: Publisher,
    pub names: Names,
    pub wake: Arc<Notify>,
    pub broker_state: watch::Receiver<BrokerState>,
    pub backoff: Backoff,
    /// Rows taken per round: that many confirms may be in flight at once.
    pub batch: u32,
    pub metrics: Metrics,
    /// Counts the rounds that found the outbox empty, so shutdown can wait for a drain.
    pub idle_rounds: watch::Sender<u64>,
}

impl Relay {
    /// Runs until `cancel`; rows not yet confirmed stay in the outbox for the next start.
    pub async fn run(mut self, cancel: CancellationToken) {
        loop {
            let outcome = tokio::select! {
                _ = cancel.cancelled() => return,
                outcome = self.round() => outcome,
            };
            match outcome {
                Ok(0) => {
                    self.backoff.reset();
                    self.idle_rounds.send_modify(|n| *n += 1);
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = self.wake.notified() => {}
                    }
                }
                Ok(_) => self.backoff.reset(),
                Err(error) => {
                    let delay = self.backoff.next_delay();
                    tracing::warn!(%error, retry_in = ?delay, "outbox relay could not publish; events wait in the outbox");
                    let mut state = self.broker_state.clone();
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        // Wait at least the backoff, and until the broker is back.
                        _ = async {
                            tokio::time::sleep(delay).await;
                            let _ = state.wait_for(|s| *s == BrokerState::Connected).await;
                        } => {}
                    }
                }
            }
        }
    }

    /// Publishes one batch; returns how many rows were confirmed.
    async fn round(&self) -> Result<usize, RelayError> {
        let meta = self.meta.clone();
        let batch = self.batch;
        let rows = tokio::task::spawn_blocking(move || meta.pending_outbox(batch)).await??;
        if rows.is_empty() {
            return Ok(0);
        }
        // Send all, then await the confirms in order: pipelined, and order kept on the wire.
        let mut pending = Vec::with_capacity(rows.len());
        let mut failure = None;
        for row in &rows {
            let message = Outgoing::event(&self.names, row.id.to_string(), &row.event);
            match self.publisher.send(&message).await {
                Ok(confirm) => pending.push((row.seq, Instant::now(), confirm)),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let mut confirmed = Vec::with_capacity(pending.len());
        for (seq, sent, confirm) in pending {
            match confirm.confirmed().await {
                Ok(()) => {
                    self.metrics.publish_seconds.observe(sent.elapsed().as_secs_f64());
                    confirmed.push(seq);
                }
                Err(e) => {
                    // Later rows may be confirmed too but are resent: consumers dedupe on
                    // message_id, and the prefix rule keeps "sent" meaning "all before it sent".
                    failure.get_or_insert(e);
                    break;
                }
            }
        }
        let count = confirmed.len();
        let meta = self.meta.clone();
        tokio::task::spawn_blocking(move || meta.mark_sent(&confirmed)).await??;
        self.metrics.events_published.inc_by(count as u64);
        tracing::debug!(count, "outbox rows confirmed");
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(count),
        }
    }
}
