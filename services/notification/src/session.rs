//! One stream connection: subscribe to live frames, replay from the store, then go live.
//!
//! No gap and no duplicate at the seam: the subscription starts *before* the replay reads the
//! store, so anything committed during the replay is in the live buffer; live notifications
//! with a seq already replayed are skipped. The live buffer is bounded ([`crate::hub`]); a
//! connection that overflows it is closed with [`CLOSE_TOO_SLOW`] and resumes with `since`.
//!
//! Reads made on other devices while this one was away are replayed first (`read_since`), as
//! one `read` frame about the notifications the device already had.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use chrono::{DateTime, Utc};
use futures_util::{
    SinkExt, StreamExt,
    stream::{SplitSink, SplitStream},
};
use lockbox_events::{
    Frame,
    frame::{CLOSE_HEARTBEAT_TIMEOUT, CLOSE_TOO_SLOW},
};
use tokio::{sync::broadcast::error::RecvError, time::Instant};
use tracing::{debug, info, warn};
use uuid::Uuid;

use crate::{
    http::{StreamContext, stream::MAX_CLIENT_MESSAGE},
    metrics::CloseReason,
};

/// Notifications read from the store per replay query.
const REPLAY_PAGE: u32 = 500;
/// A peer that sent nothing (not even a pong) for this many heartbeats is dead.
const MISSED_HEARTBEATS: u32 = 3;
/// WebSocket close code "going away" (server shutdown).
const CLOSE_GOING_AWAY: u16 = 1001;
/// WebSocket close code "internal error".
const CLOSE_INTERNAL: u16 = 1011;
/// WebSocket close code "message too big".
const CLOSE_MESSAGE_TOO_BIG: u16 = 1009;

/// Whether a read failed because the client's message was over [`MAX_CLIENT_MESSAGE`]. axum
/// hides tungstenite's error type (and its version), so this reads tungstenite's
/// `CapacityError` text ("Space limit exceeded: Message too long: …"); the regression test
/// `an_oversized_client_frame_is_refused_at_its_header_with_1009` fails if that text changes.
fn is_too_big(error: &axum::Error) -> bool {
    error.to_string().contains("Message too long")
}

pub struct Session {
    ctx: StreamContext,
    /// Told to the client in the handshake's `x-lockbox-connection` header, so its own
    /// read requests are not echoed back to it.
    id: Uuid,
    user_id: String,
    /// The highest seq sent on this connection.
    last_seq: u64,
    /// Replay reads of notifications up to `since` made at or after this (server time).
    read_since: Option<DateTime<Utc>>,
}

/// The write half, with a timeout: a write that cannot finish means the client stopped
/// reading, which is the same as being too slow.
struct Outbox {
    sink: SplitSink<WebSocket, Message>,
    timeout: Duration,
}

impl Outbox {
    async fn send(&mut self, message: Message) -> Result<(), CloseReason> {
        match tokio::time::timeout(self.timeout, self.sink.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(CloseReason::Client),
            Err(_) => Err(CloseReason::TooSlow),
        }
    }

    async fn frame(&mut self, frame: &Frame) -> Result<(), CloseReason> {
        self.send(Message::Text(frame.to_json().into())).await
    }

    /// Says why in an `error` frame, then closes with `code`; best effort, the peer may be gone.
    async fn close(&mut self, code: u16, error_code: &str, reason: String, why: CloseReason) -> CloseReason {
        // A peer that cannot take the error frame cannot take the close either: don't wait twice.
        if self.frame(&Frame::error(error_code, reason.clone())).await.is_ok() {
            // Close reasons are limited to 123 bytes by the protocol.
            let mut end = reason.len().min(123);
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            let reason = reason[..end].to_owned();
            let _ = self.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
        }
        why
    }
}

impl Session {
    pub fn new(ctx: StreamContext, id: Uuid, user_id: String, since: u64, read_since: Option<DateTime<Utc>>) -> Self {
        Self { ctx, id, user_id, last_seq: since, read_since }
    }

    pub async fn run(mut self, socket: WebSocket) {
        let metrics = self.ctx.metrics.clone();
        metrics.connections.inc();
        let since = self.last_seq;
        info!(user_id = self.user_id, connection = %self.id, since, "stream connected");
        let (sink, mut source) = socket.split();
        let mut outbox = Outbox { sink, timeout: self.ctx.heartbeat * MISSED_HEARTBEATS };
        let reason = self.serve(&mut outbox, &mut source).await.err().unwrap_or(CloseReason::Client);
        metrics.closed(reason);
        metrics.connections.dec();
        info!(user_id = self.user_id, connection = %self.id, since, last_seq = self.last_seq, ?reason, "stream closed");
    }

    async fn serve(&mut self, outbox: &mut Outbox, source: &mut SplitStream<WebSocket>) -> Result<(), CloseReason> {
        // Subscribe first: see the module docs.
        let mut live = self.ctx.hub.subscribe(&self.user_id);
        self.replay_reads(outbox).await?;
        self.replay(outbox).await?;

        let heartbeat = self.ctx.heartbeat;
        let mut tick = tokio::time::interval_at(Instant::now() + heartbeat, heartbeat);
        let mut last_heard = Instant::now();
        loop {
            tokio::select! {
                _ = self.ctx.shutdown.cancelled() => {
                    let reason = format!("server shutting down; reconnect with since={}", self.last_seq);
                    return Err(outbox.close(CLOSE_GOING_AWAY, "shutdown", reason, CloseReason::Shutdown).await);
                }
                push = live.recv() => match push {
                    Ok(push) => {
                        if push.except == Some(self.id) {
                            continue;
                        }
                        let frame = &push.frame;
                        if let Some(seq) = frame.seq() {
                            if seq <= self.last_seq {
                                continue; // already replayed
                            }
                            self.last_seq = seq;
                        }
                        outbox.frame(frame).await?;
                        self.ctx.metrics.frames_sent.inc();
                    }
                    Err(RecvError::Lagged(missed)) => {
                        warn!(user_id = self.user_id, missed, last_seq = self.last_seq, "closing a stream too slow to keep up");
                        let reason = format!("too slow: buffer full; reconnect with since={}", self.last_seq);
                        return Err(outbox.close(CLOSE_TOO_SLOW, "too_slow", reason, CloseReason::TooSlow).await);
                    }
                    Err(RecvError::Closed) => return Err(CloseReason::Shutdown),
                },
                _ = tick.tick() => {
                    if last_heard.elapsed() > heartbeat * MISSED_HEARTBEATS {
                        let reason = format!("no answer to {MISSED_HEARTBEATS} heartbeats; reconnect with since={}", self.last_seq);
                        return Err(outbox.close(CLOSE_HEARTBEAT_TIMEOUT, "heartbeat_timeout", reason, CloseReason::HeartbeatTimeout).await);
                    }
                    // A ping makes any client answer (pong) without application code; the
                    // heartbeat frame lets the client detect a dead server the same way.
                    outbox.send(Message::Ping(Default::default())).await?;
                    outbox.frame(&Frame::heartbeat()).await?;
                }
                message = source.next() => match message {
                    Some(Ok(Message::Close(_))) | None => return Ok(()),
                    Some(Err(error)) if is_too_big(&error) => {
                        warn!(user_id = self.user_id, %error, "closing a stream whose client sent an oversized message");
                        let reason = format!(
                            "a client message was over {} bytes (clients send only pongs and close frames); reconnect with since={}",
                            MAX_CLIENT_MESSAGE, self.last_seq
                        );
                        // tungstenite refuses at the frame header, before buffering the payload.
                        // Whatever of it is still unread when the socket closes makes the kernel
                        // answer with a reset, which may overtake this error frame.
                        return Err(outbox.close(CLOSE_MESSAGE_TOO_BIG, "message_too_big", reason, CloseReason::Client).await);
                    }
                    Some(Err(error)) => {
                        debug!(user_id = self.user_id, %error, "stream read failed");
                        return Err(CloseReason::Client);
                    }
                    // Pongs, pings and anything else prove the peer is alive.
                    Some(Ok(_)) => last_heard = Instant::now(),
                },
            }
        }
    }

    /// Reads the device missed of notifications it already has (seq <= since), in one `read`
    /// frame. Read frames are idempotent, so overlapping a live one is harmless.
    async fn replay_reads(&mut self, outbox: &mut Outbox) -> Result<(), CloseReason> {
        let Some(read_since) = self.read_since.filter(|_| self.last_seq > 0) else { return Ok(()) };
        match self.ctx.store.read_since(self.user_id.clone(), self.last_seq, read_since).await {
            Ok(sync) => match sync.latest {
                Some(latest) => outbox.frame(&Frame::read(sync.ids, None, latest)).await,
                None => Ok(()),
            },
            Err(error) => {
                warn!(user_id = self.user_id, %error, "read replay failed");
                let reason = format!("store unavailable; reconnect with since={}", self.last_seq);
                Err(outbox.close(CLOSE_INTERNAL, "store_unavailable", reason, CloseReason::Error).await)
            }
        }
    }

    /// Sends every stored notification after `last_seq`, page by page.
    async fn replay(&mut self, outbox: &mut Outbox) -> Result<(), CloseReason> {
        loop {
            let page = match self.ctx.store.list(self.user_id.clone(), self.last_seq, REPLAY_PAGE).await {
                Ok(page) => page,
                Err(error) => {
                    warn!(user_id = self.user_id, %error, "replay failed");
                    let reason = format!("store unavailable; reconnect with since={}", self.last_seq);
                    return Err(outbox.close(CLOSE_INTERNAL, "store_unavailable", reason, CloseReason::Error).await);
                }
            };
            let full = page.len() == REPLAY_PAGE as usize;
            for notification in page {
                self.last_seq = notification.seq;
                outbox.frame(&Frame::notification(notification)).await?;
                self.ctx.metrics.replayed.inc();
                self.ctx.metrics.frames_sent.inc();
            }
            if !full {
                return Ok(());
            }
        }
    }
}
