//! The NotificationService's WebSocket stream (`since`, reconnect) and its REST API.
//!
//! - [`NotificationClient`]: one service and one token; REST calls ([`list`](NotificationClient::list),
//!   [`mark_read`](NotificationClient::mark_read), [`unread_count`](NotificationClient::unread_count))
//!   and stream connections.
//! - [`StreamConnection`]: one WebSocket connection yielding typed [`Frame`]s. The token goes in
//!   the `Authorization` header of the handshake, never in the URL.
//! - [`Subscription`]: a stream that reconnects by itself, with jittered exponential backoff,
//!   resuming with `since=<highest seq seen>`, so the caller sees every notification once.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use chrono::{DateTime, Utc};
use lockbox_events::{Frame, FrameBody, NotificationPage, ReadRequest, ReadResponse, UnreadCount};
use rand::Rng;
use tokio::{net::TcpStream, sync::mpsc, task::JoinHandle};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{
        self, Message,
        client::IntoClientRequest,
        http::{HeaderValue, StatusCode, header::AUTHORIZATION},
        protocol::{CloseFrame, frame::coding::CloseCode},
    },
};

/// The handshake response header naming a stream connection.
pub const CONNECTION_ID_HEADER: &str = "x-lockbox-connection";

/// What went wrong talking to the NotificationService.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("invalid service URL {url:?}: expected http://host:port")]
    BadUrl { url: String },
    #[error("the token cannot go in an HTTP header")]
    BadToken,
    #[error("the service refused the stream ({status}): {body}")]
    Refused { status: StatusCode, body: String },
    #[error("WebSocket failed: {0}")]
    WebSocket(#[source] Box<tungstenite::Error>),
    #[error("the server sent a frame this client cannot read ({error}): {text}")]
    BadFrame { text: String, #[source] error: serde_json::Error },
    #[error("request to the NotificationService failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the NotificationService answered {status}: {body}")]
    Status { status: reqwest::StatusCode, body: String },
}

impl StreamError {
    /// Refusals that a retry cannot fix (a bad or expired token, a bad request).
    pub fn is_permanent(&self) -> bool {
        match self {
            StreamError::Refused { status, .. } => status.is_client_error(),
            StreamError::BadUrl { .. } | StreamError::BadToken => true,
            _ => false,
        }
    }
}

impl From<tungstenite::Error> for StreamError {
    fn from(error: tungstenite::Error) -> Self {
        match error {
            tungstenite::Error::Http(response) => {
                let status = response.status();
                let body = response.body().as_deref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
                StreamError::Refused { status, body }
            }
            other => StreamError::WebSocket(Box::new(other)),
        }
    }
}

/// A client of one NotificationService for one user (the token's).
#[derive(Clone)]
pub struct NotificationClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl NotificationClient {
    /// `base_url` is `http://host:port` (no trailing path).
    pub fn new(base_url: impl Into<String>, token: impl Into<String>) -> Self {
        let base = base_url.into().trim_end_matches('/').to_owned();
        Self { base, token: token.into(), http: reqwest::Client::new() }
    }

    fn stream_url(&self, since: u64, read_since: Option<DateTime<Utc>>) -> Result<String, StreamError> {
        let rest = self
            .base
            .strip_prefix("http://")
            .map(|r| format!("ws://{r}"))
            .or_else(|| self.base.strip_prefix("https://").map(|r| format!("wss://{r}")))
            .ok_or_else(|| StreamError::BadUrl { url: self.base.clone() })?;
        Ok(match read_since {
            Some(at) => format!("{rest}/v1/stream?since={since}&read_since={}", lockbox_events::timestamp::format(&at)),
            None => format!("{rest}/v1/stream?since={since}"),
        })
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// Opens one stream connection replaying everything after `since`.
    pub async fn connect(&self, since: u64) -> Result<StreamConnection, StreamError> {
        self.connect_with(since, None).await
    }

    /// Opens one stream connection replaying everything after `since`, and first, in one
    /// `read` frame, the reads made since `read_since` (server time, e.g.
    /// [`StreamConnection::server_time`] of an earlier connection) of notifications up to `since`.
    pub async fn connect_with(&self, since: u64, read_since: Option<DateTime<Utc>>) -> Result<StreamConnection, StreamError> {
        let mut request = self.stream_url(since, read_since)?.into_client_request()?;
        let auth = HeaderValue::from_str(&self.bearer()).map_err(|_| StreamError::BadToken)?;
        request.headers_mut().insert(AUTHORIZATION, auth);
        let (ws, response) = tokio_tungstenite::connect_async(request).await?;
        let header = |name| response.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok());
        let id = header(CONNECTION_ID_HEADER).map(str::to_owned);
        // HTTP dates have whole seconds: step back one so no read of that second is missed.
        let server_time = header("date")
            .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
            .map(|d| d.with_timezone(&Utc) - chrono::Duration::seconds(1));
        Ok(StreamConnection { ws, id, server_time, close: None })
    }

    /// A stream that reconnects by itself; see [`Subscription`].
    pub fn subscribe(&self, since: u64) -> Subscription {
        Subscription::start(self.clone(), since, ReconnectPolicy::default())
    }

    /// [`subscribe`](Self::subscribe) with a chosen backoff.
    pub fn subscribe_with(&self, since: u64, policy: ReconnectPolicy) -> Subscription {
        Subscription::start(self.clone(), since, policy)
    }

    /// `GET /v1/notifications?since=&limit=`.
    pub async fn list(&self, since: u64, limit: u32) -> Result<NotificationPage, StreamError> {
        let url = format!("{}/v1/notifications?since={since}&limit={limit}", self.base);
        json(self.http.get(url).header(AUTHORIZATION, self.bearer()).send().await?).await
    }

    /// `POST /v1/notifications/read`; every stream connection of the user gets a `read` frame.
    pub async fn mark_read(&self, request: &ReadRequest) -> Result<ReadResponse, StreamError> {
        self.mark_read_from(None, request).await
    }

    /// `POST /v1/notifications/read` on behalf of the connection with id `from`
    /// ([`StreamConnection::id`]): that connection gets no `read` frame, the others do.
    pub async fn mark_read_from(&self, from: Option<&str>, request: &ReadRequest) -> Result<ReadResponse, StreamError> {
        let url = format!("{}/v1/notifications/read", self.base);
        let mut post = self.http.post(url).header(AUTHORIZATION, self.bearer()).json(request);
        if let Some(id) = from {
            post = post.header(CONNECTION_ID_HEADER, id);
        }
        json(post.send().await?).await
    }

    /// `GET /v1/notifications/unread_count`.
    pub async fn unread_count(&self) -> Result<u64, StreamError> {
        let url = format!("{}/v1/notifications/unread_count", self.base);
        let count: UnreadCount = json(self.http.get(url).header(AUTHORIZATION, self.bearer()).send().await?).await?;
        Ok(count.unread)
    }
}

async fn json<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> Result<T, StreamError> {
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        return Err(StreamError::Status { status, body });
    }
    Ok(response.json().await?)
}

/// One WebSocket connection to the stream.
pub struct StreamConnection {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    id: Option<String>,
    server_time: Option<DateTime<Utc>>,
    close: Option<CloseFrame>,
}

impl StreamConnection {
    /// The server's id of this connection (the handshake's `x-lockbox-connection` header).
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The latest server time this connection has seen (handshake `date`, heartbeats, reads):
    /// pass it as `read_since` when reconnecting.
    pub fn server_time(&self) -> Option<DateTime<Utc>> {
        self.server_time
    }

    /// The next frame; `Ok(None)` once the server closed the stream (see
    /// [`close_frame`](Self::close_frame) for why). Pings are answered while waiting.
    pub async fn next_frame(&mut self) -> Result<Option<Frame>, StreamError> {
        while let Some(message) = self.ws.next().await {
            match message? {
                Message::Text(text) => {
                    let frame = Frame::from_json(&text)
                        .map_err(|error| StreamError::BadFrame { text: text.to_string(), error })?;
                    let seen = match &frame.body {
                        FrameBody::Heartbeat { at } => Some(*at),
                        FrameBody::Read { read_at, .. } => Some(*read_at),
                        _ => None,
                    };
                    self.server_time = self.server_time.max(seen);
                    return Ok(Some(frame));
                }
                Message::Close(frame) => {
                    self.close = frame;
                    return Ok(None);
                }
                // tungstenite queues the pong itself; the next read flushes it.
                _ => {}
            }
        }
        Ok(None)
    }

    /// The close frame the server sent, if it closed the stream.
    pub fn close_frame(&self) -> Option<&CloseFrame> {
        self.close.as_ref()
    }

    /// Closes the connection politely.
    pub async fn close(mut self) -> Result<(), StreamError> {
        let frame = CloseFrame { code: CloseCode::Normal, reason: "bye".into() };
        self.ws.send(Message::Close(Some(frame))).await?;
        while let Some(Ok(_)) = self.ws.next().await {}
        Ok(())
    }
}

/// How a [`Subscription`] waits between reconnects: uniform in `[min, min·2^attempt]`,
/// capped at `max` ("full jitter", so many apps do not come back in lockstep); and how long
/// a silent connection may stay open (the server sends heartbeats, 15 s apart by default).
#[derive(Debug, Clone, Copy)]
pub struct ReconnectPolicy {
    pub min: Duration,
    pub max: Duration,
    /// No frame (not even a heartbeat) for this long: the server is gone; reconnect.
    pub idle_timeout: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self { min: Duration::from_millis(200), max: Duration::from_secs(30), idle_timeout: Duration::from_secs(45) }
    }
}

impl ReconnectPolicy {
    fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self.min.saturating_mul(1u32 << attempt.min(16)).min(self.max.max(self.min));
        let span = ceiling.saturating_sub(self.min);
        self.min + span.mul_f64(rand::rng().random_range(0.0..=1.0))
    }
}

/// What a [`Subscription`] yields.
#[derive(Debug)]
pub enum StreamEvent {
    /// A frame; notifications arrive once each, in seq order, across reconnects.
    Frame(Frame),
    /// The connection dropped; the subscription reconnects after a pause.
    Disconnected { reason: String },
    /// Connected (again), resuming after `since`.
    Connected { since: u64 },
}

/// A self-reconnecting stream. Dropping it closes the connection.
pub struct Subscription {
    rx: mpsc::Receiver<Result<StreamEvent, StreamError>>,
    highest: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Subscription {
    fn start(client: NotificationClient, since: u64, policy: ReconnectPolicy) -> Self {
        let (tx, rx) = mpsc::channel(256);
        let highest = Arc::new(AtomicU64::new(since));
        let task = tokio::spawn(reconnect_loop(client, highest.clone(), policy, tx));
        Self { rx, highest, task }
    }

    /// The next event; `None` after a permanent error (returned just before) or when the
    /// subscription ended.
    pub async fn next(&mut self) -> Option<Result<StreamEvent, StreamError>> {
        self.rx.recv().await
    }

    /// The next event if one has already arrived, without waiting: lets a consumer take a
    /// burst (a replay after reconnecting) in one go.
    pub fn try_next(&mut self) -> Option<Result<StreamEvent, StreamError>> {
        self.rx.try_recv().ok()
    }

    /// The next frame, skipping connection events; `None` when the subscription ended.
    pub async fn next_frame(&mut self) -> Option<Result<Frame, StreamError>> {
        loop {
            match self.rx.recv().await? {
                Ok(StreamEvent::Frame(frame)) => return Some(Ok(frame)),
                Ok(_) => continue,
                Err(error) => return Some(Err(error)),
            }
        }
    }

    /// The highest notification seq delivered so far (what a reconnect resumes after).
    pub fn highest_seq(&self) -> u64 {
        self.highest.load(Ordering::SeqCst)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn reconnect_loop(
    client: NotificationClient,
    highest: Arc<AtomicU64>,
    policy: ReconnectPolicy,
    tx: mpsc::Sender<Result<StreamEvent, StreamError>>,
) {
    let mut attempt = 0u32;
    // Server time last seen; reads made after it on other devices are replayed on reconnect.
    let mut read_since: Option<DateTime<Utc>> = None;
    loop {
        let since = highest.load(Ordering::SeqCst);
        let reason = match client.connect_with(since, read_since).await {
            Ok(mut connection) => {
                attempt = 0;
                if tx.send(Ok(StreamEvent::Connected { since })).await.is_err() {
                    return;
                }
                loop {
                    let next = tokio::time::timeout(policy.idle_timeout, connection.next_frame()).await;
                    read_since = read_since.max(connection.server_time());
                    let Ok(next) = next else {
                        break format!("no frame for {:?}; the server looks dead", policy.idle_timeout);
                    };
                    match next {
                        Ok(Some(frame)) => {
                            if let Some(seq) = frame.seq() {
                                // Never hand out a notification twice, whatever the server does.
                                if seq <= highest.load(Ordering::SeqCst) {
                                    continue;
                                }
                                highest.store(seq, Ordering::SeqCst);
                            }
                            if tx.send(Ok(StreamEvent::Frame(frame))).await.is_err() {
                                return;
                            }
                        }
                        Ok(None) => {
                            break connection
                                .close_frame()
                                .map(|c| format!("closed by server ({}): {}", u16::from(c.code), c.reason))
                                .unwrap_or_else(|| "connection ended".to_owned());
                        }
                        Err(error) => break error.to_string(),
                    }
                }
            }
            Err(error) if error.is_permanent() => {
                let _ = tx.send(Err(error)).await;
                return;
            }
            Err(error) => error.to_string(),
        };
        tracing::debug!(reason, since = highest.load(Ordering::SeqCst), "notification stream lost; reconnecting");
        if tx.send(Ok(StreamEvent::Disconnected { reason })).await.is_err() {
            return;
        }
        tokio::time::sleep(policy.delay(attempt)).await;
        attempt = attempt.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_within_its_bounds() {
        let policy = ReconnectPolicy { min: Duration::from_millis(100), max: Duration::from_secs(2), ..ReconnectPolicy::default() };
        for attempt in 0..20 {
            let d = policy.delay(attempt);
            assert!(d >= policy.min && d <= policy.max, "{attempt}: {d:?}");
        }
    }

    #[test]
    fn the_stream_url_carries_since_but_never_the_token() {
        let client = NotificationClient::new("http://127.0.0.1:8720/", "secret-token");
        let url = client.stream_url(42, None).unwrap();
        assert_eq!(url, "ws://127.0.0.1:8720/v1/stream?since=42");
        assert!(!url.contains("secret-token"));
        let at = DateTime::from_timestamp_millis(1_796_360_000_123).unwrap();
        let url = client.stream_url(42, Some(at)).unwrap();
        assert!(url.ends_with("&read_since=2026-12-04T04:53:20.123Z"), "{url}");
        assert!(NotificationClient::new("ftp://x", "t").stream_url(0, None).is_err());
    }
}
