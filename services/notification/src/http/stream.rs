//! `GET /v1/stream?since=<seq>`: authenticates the handshake (the token comes in its
//! `Authorization` header, never in the URL) and hands the socket to [`crate::session`].

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{Query, State, WebSocketUpgrade, rejection::QueryRejection},
    http::HeaderValue,
    response::Response,
};
use lockbox_auth::AuthUser;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use uuid::Uuid;

use crate::{hub::Hub, http::ApiError, metrics::Metrics, session::Session, store::Store};

/// The handshake response header naming the connection; a client sends it back on
/// `POST /v1/notifications/read` so the read frame goes only to its *other* connections.
pub const CONNECTION_ID_HEADER: &str = "x-lockbox-connection";

/// The largest message (and frame) a client may send. Clients send only pongs and close
/// frames, so anything bigger is hostile; without a limit the server would buffer 64 MiB.
pub const MAX_CLIENT_MESSAGE: usize = 64 * 1024;
/// Bytes read from a stream socket at a time (bigger client messages still arrive whole).
const WS_READ_BUFFER: usize = 4 * 1024;

/// What a stream connection needs.
#[derive(Clone)]
pub struct StreamContext {
    pub store: Store,
    pub hub: Hub,
    pub metrics: Arc<Metrics>,
    pub heartbeat: Duration,
    /// Fires on shutdown: every connection closes with 1001 and a resume hint.
    pub shutdown: CancellationToken,
    /// Lets shutdown wait for connections to finish closing.
    pub tracker: TaskTracker,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// Replay every stored notification with a greater seq first; 0 = everything kept.
    since: Option<u64>,
    /// Server time (RFC 3339) from which to replay reads of notifications up to `since` made on
    /// other devices, in one `read` frame; a reconnecting client passes the latest server
    /// time it saw (a `read` frame's `read_at`, a heartbeat's `at`, the handshake's `date`).
    #[serde(default, with = "lockbox_events::notification::optional_timestamp")]
    read_since: Option<DateTime<Utc>>,
}

// The token is checked first, so a bad one is a 401 whatever else is wrong.
pub async fn upgrade(
    AuthUser(user): AuthUser,
    ws: WebSocketUpgrade,
    State(ctx): State<StreamContext>,
    query: Result<Query<StreamQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(ApiError::BadQuery)?;
    let since = query.since.unwrap_or(0);
    let tracker = ctx.tracker.clone();
    let id = Uuid::now_v7();
    // tungstenite's default buffers are 128 KiB each way per connection; frames here are small
    // JSON and clients send only pongs and closes, so small buffers keep an idle connection
    // at a few KiB (10 000 of them are one process's job). A write buffer of 0 writes each
    // frame at once, which `send` does anyway (it flushes).
    let ws = ws
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .read_buffer_size(WS_READ_BUFFER)
        .write_buffer_size(0);
    let mut response = ws.on_upgrade(move |socket| tracker.track_future(Session::new(ctx, id, user, since, query.read_since).run(socket)));
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert(CONNECTION_ID_HEADER, value);
    }
    Ok(response)
}
