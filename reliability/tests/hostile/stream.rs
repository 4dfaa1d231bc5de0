//! The NotificationService's input: bad queries and read bodies, oversized WebSocket frames.

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

use super::harness::*;

/// Bad notification queries and read bodies.
pub async fn notification_input(a: &Attack<'_>, tally: &mut Tally) {
    let (world, secrets, token) = (a.world, a.secrets, a.token);
    // Bad input to the notifications API and the stream handshake.
    let kind = "notification API input";
    let read_url = world.notes.url("/v1/notifications/read");
    let too_many: Vec<uuid::Uuid> = (0..1001).map(|_| uuid::Uuid::new_v4()).collect();
    for (request, status, code, what) in [
        (
            world.http.get(world.notes.url("/v1/notifications?limit=100000")),
            StatusCode::BAD_REQUEST,
            "limit_out_of_range",
            "limit too big",
        ),
        (
            world.http.get(world.notes.url("/v1/notifications?since=-1")),
            StatusCode::BAD_REQUEST,
            "bad_query",
            "negative since",
        ),
        (
            world.http.get(world.notes.url("/v1/notifications?user_id=alice")),
            StatusCode::BAD_REQUEST,
            "bad_query",
            "a user_id parameter",
        ),
        (
            world.http.get(world.notes.url("/v1/stream?since=abc")),
            StatusCode::BAD_REQUEST,
            "bad_query",
            "stream since not a number",
        ),
        (
            world
                .http
                .post(&read_url)
                .header("content-type", "application/json")
                .body("{not json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_read_body",
            "read body not JSON",
        ),
        (
            world.http.post(&read_url).json(&json!({"ids": [], "up_to_seq": 1})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_read_body",
            "ids and up_to_seq",
        ),
        (
            world.http.post(&read_url).json(&json!({"ids": too_many})),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_ids",
            "1001 ids",
        ),
        (
            world
                .http
                .post(&read_url)
                .header("x-lockbox-connection", "../alice")
                .json(&json!({"ids": []})),
            StatusCode::BAD_REQUEST,
            "bad_connection_id",
            "bad connection id",
        ),
    ] {
        let r = request
            .bearer_auth(token)
            .header("upgrade", "websocket")
            .header("connection", "upgrade")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .send()
            .await
            .expect("request");
        refused(tally, secrets, kind, what, r, status, code).await;
    }
}

/// Oversized WebSocket frames.
pub async fn oversized_frames(a: &Attack<'_>, tally: &mut Tally) {
    let (world, token) = (a.world, a.token);
    let ws_url = world.ws_url();
    // Oversized WebSocket frames from a client. A frame over the limit is refused at its
    // header: with only the header sent, the answer is deterministic (an error frame saying
    // why, then a close with 1009).
    let mut raw = tokio::net::TcpStream::connect(world.notes.addr).await.expect("connect");
    let handshake = format!(
        "GET /v1/stream?since=0 HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n",
        world.notes.addr
    );
    raw.write_all(handshake.as_bytes()).await.expect("handshake");
    let mut header = vec![0x81, 0x80 | 127];
    header.extend_from_slice(&(1u64 << 20).to_be_bytes());
    header.extend_from_slice(&[7, 7, 7, 7]);
    raw.write_all(&header).await.expect("a frame header announcing 1 MiB");
    let mut bytes = Vec::new();
    tokio::time::timeout(WAIT, raw.read_to_end(&mut bytes))
        .await
        .expect("closed by the server in time")
        .expect("read");
    let text = String::from_utf8_lossy(&bytes);
    let ok = text.contains("\"code\":\"message_too_big\"")
        && text.contains("reconnect with since=")
        && bytes
            .windows(4)
            .any(|w| w[0] == 0x88 && w[2..] == 1009u16.to_be_bytes());
    tally.attempt("oversized ws frames", ok);
    assert!(ok, "a 1 MiB frame header: an error frame and a 1009 close, got {text}");
    // Whole 1 MiB messages: the server stops reading at the header and ends the stream. Its
    // error frame may be lost to the reset the unread rest of the message causes, so only the
    // end of the stream is required here.
    for (what, message) in [
        ("text", tungstenite::Message::Text("x".repeat(1 << 20).into())),
        ("binary", tungstenite::Message::Binary(vec![0u8; 1 << 20].into())),
    ] {
        let mut request = ws_url.as_str().into_client_request().expect("ws request");
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().expect("header"));
        let (mut ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("mallory's raw stream");
        // The server may reset the connection while the client is still writing.
        let sent = ws.send(message).await;
        let ended = tokio::time::timeout(WAIT, async {
            if sent.is_err() {
                return;
            }
            loop {
                match ws.next().await {
                    None | Some(Err(_)) | Some(Ok(tungstenite::Message::Close(_))) => return,
                    Some(Ok(_)) => continue,
                }
            }
        })
        .await;
        tally.attempt("oversized ws frames", ended.is_ok());
        assert!(
            ended.is_ok(),
            "the server kept a stream open after a 1 MiB {what} message"
        );
    }
}
