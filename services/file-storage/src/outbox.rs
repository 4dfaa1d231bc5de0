//! The outbox relay: publishes outbox rows in order with publisher confirms, many in flight,
//! and marks a row sent only after its confirm. It sleeps on a [`Notify`] that every commit
//! with an outbox row pokes (no polling on the hot path), and backs off while the broker is
//! away; the uploads never wait for it.
//!
//! What is confirmed is a cursor in memory (the relay reads only rows after it); the cursor
//! is written to the database at most every [`MARK_EVERY`] under load, and whenever the
//! outbox has been empty for [`SETTLE`]. Each write is a transaction between two group
//! commits, so writing it per round slowed every upload. A crash loses at most the marks of
//! the last [`MARK_EVERY`]: those events are published again, and consumers dedupe them on
//! `message_id` (delivery is at-least-once anyway).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

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

/// The longest the confirmed cursor waits in memory while events keep coming.
pub const MARK_EVERY: Duration = Duration::from_millis(200);
/// How long the outbox stays empty before the cursor is written and the relay counts as idle:
/// a steady trickle of events (each round finding one row) keeps its marks batched.
pub const SETTLE: Duration = Duration::from_millis(20);

/// The relay's confirmed cursor and how much of it the database holds.
#[derive(Debug, Default)]
struct Marks {
    /// Every row up to this seq is confirmed by the broker.
    confirmed: i64,
    /// Every row up to this seq is marked sent in the database.
    written: i64,
    /// When the oldest confirm not yet written came.
    since: Option<Instant>,
}

impl Marks {
    fn confirm(&mut self, seq: i64) {
        self.confirmed = seq;
        self.since.get_or_insert_with(Instant::now);
    }

    fn unwritten(&self) -> bool {
        self.confirmed > self.written
    }

    fn due(&self) -> bool {
        self.since.is_some_and(|since| since.elapsed() >= MARK_EVERY)
    }
}

impl Relay {
    /// Runs until `cancel`; rows not yet confirmed stay in the outbox for the next start.
    pub async fn run(mut self, cancel: CancellationToken) {
        let mut marks = Marks::default();
        loop {
            let outcome = tokio::select! {
                _ = cancel.cancelled() => break,
                outcome = self.round(&mut marks) => outcome,
            };
            if outcome.is_err() || marks.due() {
                self.write_marks(&mut marks).await;
            }
            match outcome {
                Ok(0) => {
                    self.backoff.reset();
                    if marks.unwritten() {
                        tokio::select! {
                            _ = cancel.cancelled() => break,
                            _ = self.wake.notified() => continue,
                            _ = tokio::time::sleep(SETTLE) => self.write_marks(&mut marks).await,
                        }
                    }
                    self.idle_rounds.send_modify(|n| *n += 1);
                    tokio::select! {
                        _ = cancel.cancelled() => break,
                        _ = self.wake.notified() => {}
                    }
                }
                Ok(_) => self.backoff.reset(),
                Err(error) => {
                    let delay = self.backoff.next_delay();
                    tracing::warn!(%error, retry_in = ?delay, "outbox relay could not publish; events wait in the outbox");
                    let mut state = self.broker_state.clone();
                    tokio::select! {
                        _ = cancel.cancelled() => break,
                        // Wait at least the backoff, and until the broker is back.
                        _ = async {
                            tokio::time::sleep(delay).await;
                            let _ = state.wait_for(|s| *s == BrokerState::Connected).await;
                        } => {}
                    }
                }
            }
        }
        // So the next start does not publish again what was confirmed.
        self.write_marks(&mut marks).await;
    }

    /// Writes the confirmed cursor to the database. On failure it stays in memory (the relay
    /// goes on after it) and is written with the next marks.
    async fn write_marks(&self, marks: &mut Marks) {
        if !marks.unwritten() {
            return;
        }
        let (meta, through) = (self.meta.clone(), marks.confirmed);
        match tokio::task::spawn_blocking(move || meta.mark_sent(through)).await {
            Ok(Ok(())) => {
                marks.written = through;
                marks.since = None;
            }
            Ok(Err(error)) => tracing::warn!(%error, through, "could not mark published events as sent; retrying with the next marks"),
            Err(error) => tracing::warn!(%error, through, "the task marking published events failed; retrying with the next marks"),
        }
    }

    /// Publishes one batch of the rows after the cursor; returns how many were confirmed.
    async fn round(&self, marks: &mut Marks) -> Result<usize, RelayError> {
        let (meta, after, batch) = (self.meta.clone(), marks.confirmed, self.batch);
        let rows = tokio::task::spawn_blocking(move || meta.pending_outbox(after, batch)).await??;
        if rows.is_empty() {
            return Ok(0);
        }
        // Send all, then await the confirms in order: pipelined, and order kept on the wire.
        let mut pending = Vec::with_capacity(rows.len());
        let mut failure = None;
        for row in rows {
            let message = Outgoing::stored_event(&self.names, row.id.to_string(), &row.event, row.body);
            match self.publisher.send(&message).await {
                Ok(confirm) => pending.push((row.seq, Instant::now(), confirm)),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let mut count = 0;
        for (seq, sent, confirm) in pending {
            match confirm.confirmed().await {
                Ok(()) => {
                    self.metrics.publish_seconds.observe(sent.elapsed().as_secs_f64());
                    marks.confirm(seq);
                    count += 1;
                }
                Err(e) => {
                    // Later rows may be confirmed too but are resent: consumers dedupe on
                    // message_id, and the prefix rule keeps the cursor meaning "all before it sent".
                    failure.get_or_insert(e);
                    break;
                }
            }
        }
        self.metrics.events_published.inc_by(count as u64);
        tracing::debug!(count, "outbox rows confirmed");
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(count),
        }
    }
}
