//! The stream: replay after `since` joined to live with no gap and no duplicate, per-user
//! fan-out, read state across devices, heartbeats.

mod common;

use std::collections::HashSet;

use common::*;
use lockbox_events::{FrameBody, ReadRequest, frame::CLOSE_HEARTBEAT_TIMEOUT};
use lockbox_notification::config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn reconnecting_with_since_replays_exactly_what_was_missed() {
    let h = Harness::new("since").await;
    let service = h.start().await;
    let alice = h.client(&service, "alice");

    let mut conn = alice.connect(0).await.unwrap();
    h.publish("m-0", &stored("alice", "seen.txt")).await;
    let seen = notification_of(next_frame(&mut conn).await);
    assert_eq!(seen.seq, 1);
    conn.close().await.unwrap();

    // Offline: 50 events. Reconnect at once, so the replay races the consumer at the seam.
    let mut ids = Vec::new();
    for i in 1..=50 {
        let id = format!("m-{i}");
        h.publish(&id, &stored("alice", &format!("f{i}.txt"))).await;
        ids.push(id);
    }
    let mut conn = alice.connect(seen.seq).await.unwrap();
    let mut got = Vec::new();
    for _ in 0..50 {
        got.push(notification_of(next_frame(&mut conn).await));
    }
    assert_eq!(got.iter().map(|n| n.seq).collect::<Vec<_>>(), (2..=51).collect::<Vec<_>>());
    assert_eq!(got.iter().map(|n| n.title.clone()).collect::<Vec<_>>(),
        (1..=50).map(|i| format!("f{i}.txt was stored")).collect::<Vec<_>>());
    assert_eq!(got.iter().map(|n| n.id).collect::<HashSet<_>>().len(), 50, "no duplicates");

    // And nothing after them: the next frame is the next event.
    h.publish("sentinel", &stored("alice", "next.txt")).await;
    assert_eq!(notification_of(next_frame(&mut conn).await).seq, 52);

    conn.close().await.unwrap();
    service.stop().await;
    h.cleanup().await;
}

#[tokio::test]
async fn replay_and_live_join_without_gap_or_duplicate_while_events_keep_coming() {
    const N: u64 = 300;
    let h = Harness::new("seam").await;
    let service = h.start().await;
    let alice = h.client(&service, "alice");
    let publishing = async {
        for i in 1..=N {
            h.publish(&format!("m-{i}"), &stored("alice", &format!("f{i}.txt"))).await;
        }
    };
    let receiving = async {
        // Connect while the consumer is storing: some come by replay, the rest live.
        let mut conn = alice.connect(0).await.unwrap();
        let mut seqs = Vec::new();
        while (seqs.len() as u64) < N {
            seqs.push(notification_of(next_frame(&mut conn).await).seq);
        }
        conn.close().await.unwrap();
        seqs
    };
    let ((), seqs) = tokio::join!(publishing, receiving);
    assert_eq!(seqs, (1..=N).collect::<Vec<_>>());

    service.stop().await;
    h.cleanup().await;
}

#[tokio::test]
async fn every_connection_of_a_user_gets_it_and_no_other_user_does() {
    let h = Harness::new("fanout").await;
    let service = h.start().await;
    let mut alice_laptop = h.client(&service, "alice").connect(0).await.unwrap();
    let mut alice_desktop = h.client(&service, "alice").connect(0).await.unwrap();
    let mut bob = h.client(&service, "bob").connect(0).await.unwrap();

    h.publish("a-1", &stored("alice", "mine.pdf")).await;
    // Published after Alice's and consumed in queue order, so if Bob were to see Alice's
    // notification it would come before this one.
    h.publish("b-1", &stored("bob", "bobs.pdf")).await;

    let on_laptop = notification_of(next_frame(&mut alice_laptop).await);
    let on_desktop = notification_of(next_frame(&mut alice_desktop).await);
    assert_eq!(on_laptop, on_desktop);
    assert_eq!((on_laptop.user_id.as_str(), on_laptop.title.as_str()), ("alice", "mine.pdf was stored"));
    let bobs = notification_of(next_frame(&mut bob).await);
    assert_eq!((bobs.user_id.as_str(), bobs.title.as_str(), bobs.seq), ("bob", "bobs.pdf was stored", 1));

    // Neither does the REST API show Bob anything of Alice's.
    let bobs_list = h.client(&service, "bob").list(0, 100).await.unwrap().notifications;
    assert_eq!(bobs_list.iter().map(|n| n.user_id.as_str()).collect::<Vec<_>>(), ["bob"]);

    for conn in [alice_laptop, alice_desktop, bob] {
        conn.close().await.unwrap();
    }
    service.stop().await;
    h.cleanup().await;
}

#[tokio::test]
async fn reading_on_one_device_reads_on_all() {
    let h = Harness::new("read").await;
    let service = h.start().await;
    let alice = h.client(&service, "alice");
    let mut a = alice.connect(0).await.unwrap();
    let mut b = alice.connect(0).await.unwrap();
    for i in 1..=3 {
        h.publish(&format!("m-{i}"), &stored("alice", &format!("f{i}.txt"))).await;
    }
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(notification_of(next_frame(&mut a).await).id);
        notification_of(next_frame(&mut b).await);
    }
    assert_eq!(alice.unread_count().await.unwrap(), 3);

    // Device A reads everything up to seq 3: B hears of it, A (which knows) does not.
    let response = alice.mark_read_from(a.id(), &ReadRequest::UpToSeq { up_to_seq: 3 }).await.unwrap();
    assert_eq!((response.ids.clone(), response.unread), (ids.clone(), 0));
    match next_frame(&mut b).await.body {
        FrameBody::Read { ids: read, up_to_seq, read_at } => {
            assert_eq!((read, up_to_seq, read_at), (ids.clone(), Some(3), response.read_at));
        }
        other => panic!("expected a read frame on device B, got {other:?}"),
    }
    assert_eq!(alice.unread_count().await.unwrap(), 0);
    let stored_state = alice.list(0, 10).await.unwrap().notifications;
    assert!(stored_state.iter().all(|n| n.read_at == Some(response.read_at)));

    // By id; reading twice changes nothing and pushes nothing.
    h.publish("m-4", &stored("alice", "f4.txt")).await;
    let fourth = notification_of(next_frame(&mut a).await);
    notification_of(next_frame(&mut b).await);
    let response = alice.mark_read_from(a.id(), &ReadRequest::Ids { ids: vec![fourth.id, ids[0]] }).await.unwrap();
    assert_eq!((response.ids, response.unread), (vec![fourth.id], 0));
    match next_frame(&mut b).await.body {
        FrameBody::Read { ids: read, up_to_seq: None, .. } => assert_eq!(read, vec![fourth.id]),
        other => panic!("expected a read frame, got {other:?}"),
    }
    // A got no read frame for its own reads: its next frame is the next notification.
    h.publish("m-5", &stored("alice", "f5.txt")).await;
    assert_eq!(notification_of(next_frame(&mut a).await).seq, 5);

    // Bob cannot read Alice's notifications.
    let bob = h.client(&service, "bob").mark_read(&ReadRequest::UpToSeq { up_to_seq: 100 }).await.unwrap();
    assert!(bob.ids.is_empty());

    a.close().await.unwrap();
    b.close().await.unwrap();
    service.stop().await;
    h.cleanup().await;
}

#[tokio::test]
async fn a_device_that_was_offline_learns_of_reads_made_elsewhere_when_it_reconnects() {
    let h = Harness::new("read-offline").await;
    let service = h.start().await;
    let alice = h.client(&service, "alice");
    let mut laptop = alice.connect(0).await.unwrap();
    for i in 1..=3 {
        h.publish(&format!("m-{i}"), &stored("alice", &format!("f{i}.txt"))).await;
    }
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(notification_of(next_frame(&mut laptop).await).id);
    }
    let server_time = laptop.server_time().expect("the handshake's date");
    laptop.close().await.unwrap();

    // While the laptop is away, the phone reads two of them.
    alice.mark_read(&ReadRequest::Ids { ids: vec![ids[0], ids[2]] }).await.unwrap();
    h.publish("m-4", &stored("alice", "f4.txt")).await;

    let mut laptop = alice.connect_with(3, Some(server_time)).await.unwrap();
    match next_frame(&mut laptop).await.body {
        FrameBody::Read { ids: read, up_to_seq: None, .. } => assert_eq!(read, vec![ids[0], ids[2]]),
        other => panic!("expected the missed reads first, got {other:?}"),
    }
    assert_eq!(notification_of(next_frame(&mut laptop).await).seq, 4);

    // Without read_since, only notifications are replayed.
    let mut fresh = alice.connect(3).await.unwrap();
    assert_eq!(notification_of(next_frame(&mut fresh).await).seq, 4);

    laptop.close().await.unwrap();
    fresh.close().await.unwrap();
    service.stop().await;
    h.cleanup().await;
}

#[tokio::test]
async fn the_rest_api_pages_and_says_what_is_wrong() {
    let h = Harness::new("rest").await;
    let service = h.start().await;
    let alice = h.client(&service, "alice");
    let mut conn = alice.connect(0).await.unwrap();
    for i in 1..=5 {
        h.publish(&format!("m-{i}"), &stored("alice", &format!("f{i}.txt"))).await;
    }
    for _ in 0..5 {
        notification_of(next_frame(&mut conn).await);
    }
    let first = alice.list(0, 2).await.unwrap();
    assert_eq!((first.notifications.len(), first.next_since), (2, Some(2)));
    let last = alice.list(4, 2).await.unwrap();
    assert_eq!((last.notifications.len(), last.next_since), (1, None));

    let http = reqwest::Client::new();
    let bad_limit = http.get(service.url("/v1/notifications?limit=0")).bearer_auth(h.token("alice")).send().await.unwrap();
    assert_eq!(bad_limit.status(), 400);
    let body: serde_json::Value = bad_limit.json().await.unwrap();
    assert_eq!(body["error"], "limit_out_of_range");
    let bad_body = http.post(service.url("/v1/notifications/read")).bearer_auth(h.token("alice"))
        .json(&serde_json::json!({"all": true})).send().await.unwrap();
    assert_eq!(bad_body.status(), 422);
    let no_token = http.get(service.url("/v1/notifications/unread_count")).send().await.unwrap();
    assert_eq!(no_token.status(), 401);

    conn.close().await.unwrap();
    service.stop().await;
    h.cleanup().await;
}

#[tokio::test]
async fn a_peer_that_stops_answering_heartbeats_is_closed_with_a_reason() {
    let h = Harness::new("heartbeat").await;
    let service = Service::start(Config { heartbeat_secs: 1, ..h.config() }).await;
    // A raw socket: it completes the handshake and then never reads, so it never answers a
    // ping (a WebSocket library would answer for us).
    let mut raw = tokio::net::TcpStream::connect(service.addr).await.unwrap();
    let request = format!(
        "GET /v1/stream?since=0 HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Authorization: Bearer {}\r\n\r\n",
        service.addr,
        h.token("alice")
    );
    raw.write_all(request.as_bytes()).await.unwrap();
    // Reading raw bytes answers nothing; the server must give up on us and close.
    let mut bytes = Vec::new();
    tokio::time::timeout(WAIT, raw.read_to_end(&mut bytes)).await.expect("closed by the server").unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    assert!(text.contains("\"type\":\"heartbeat\""), "{text}");
    assert!(text.contains("\"code\":\"heartbeat_timeout\""), "{text}");
    let close_code = CLOSE_HEARTBEAT_TIMEOUT.to_be_bytes();
    assert!(bytes.windows(3).any(|w| w == [0x88, w[1], close_code[0]] ), "a close frame with code 4009");
    let metrics = service.metrics().await;
    assert!(metrics.contains(r#"lockbox_notification_stream_closed_total{reason="heartbeat_timeout"} 1"#), "{metrics}");

    service.stop().await;
    h.cleanup().await;
}

#[tokio::test]
async fn a_client_too_slow_to_keep_up_is_closed_with_a_reason_and_catches_up_with_since() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

    const N: u64 = 200;
    let h = Harness::new("slow").await;
    // Tiny socket buffers on both ends, so a client that does not read blocks the server's
    // writes after a few frames instead of after megabytes.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_send_buffer_size(4096).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let service = Service::start_on(socket.listen(64).unwrap(), Config { stream_buffer: 8, ..h.config() }).await;

    let client_socket = tokio::net::TcpSocket::new_v4().unwrap();
    client_socket.set_recv_buffer_size(4096).unwrap();
    let tcp = client_socket.connect(service.addr).await.unwrap();
    let mut request = format!("ws://{}/v1/stream?since=0", service.addr).into_client_request().unwrap();
    let auth = HeaderValue::from_str(&format!("Bearer {}", h.token("alice"))).unwrap();
    request.headers_mut().insert("authorization", auth);
    let (mut slow, _) = tokio_tungstenite::client_async(request, tcp).await.unwrap();

    // A healthy device of the same user reads everything, so we know all N were pushed.
    let alice = h.client(&service, "alice");
    let mut fast = alice.connect(0).await.unwrap();
    let publishing = async {
        for i in 1..=N {
            h.publish(&format!("m-{i}"), &stored("alice", &format!("f{i}.txt"))).await;
        }
    };
    let reading = async {
        for seq in 1..=N {
            assert_eq!(notification_of(next_frame(&mut fast).await).seq, seq);
        }
    };
    tokio::join!(publishing, reading);

    // Now the slow one reads: what fitted in its buffers, then the reason, then the close.
    let mut last_seq = 0;
    let mut error = None;
    let close = loop {
        let message = tokio::time::timeout(WAIT, slow.next()).await.expect("a message in time");
        match message.expect("open").expect("readable") {
            Message::Text(text) => match lockbox_events::Frame::from_json(&text).unwrap().body {
                FrameBody::Notification { notification } => {
                    assert_eq!(notification.seq, last_seq + 1, "in order until the cut");
                    last_seq = notification.seq;
                }
                FrameBody::Error { code, message } => error = Some((code, message)),
                FrameBody::Heartbeat { .. } => {}
                other => panic!("unexpected {other:?}"),
            },
            Message::Close(frame) => break frame.expect("a close frame with a reason"),
            _ => {}
        }
    };
    assert!(last_seq < N, "the slow client was cut off before the end");
    let (code, message) = error.expect("an error frame before the close");
    assert_eq!(code, "too_slow");
    assert!(message.contains(&format!("since={last_seq}")), "{message}");
    assert_eq!(u16::from(close.code), lockbox_events::frame::CLOSE_TOO_SLOW);

    // Reconnecting with since catches up on exactly the rest.
    let mut again = alice.connect(last_seq).await.unwrap();
    for seq in last_seq + 1..=N {
        assert_eq!(notification_of(next_frame(&mut again).await).seq, seq);
    }

    fast.close().await.unwrap();
    again.close().await.unwrap();
    service.stop().await;
    h.cleanup().await;
}

#[tokio::test]
async fn shutdown_closes_streams_with_a_resume_hint() {
    let h = Harness::new("shutdown").await;
    let service = h.start().await;
    let mut conn = h.client(&service, "alice").connect(0).await.unwrap();
    h.publish("m-1", &stored("alice", "a.txt")).await;
    notification_of(next_frame(&mut conn).await);
    let stopping = tokio::spawn(service.stop());
    match next_frame(&mut conn).await.body {
        FrameBody::Error { code, message } => {
            assert_eq!(code, "shutdown");
            assert!(message.contains("since=1"), "{message}");
        }
        other => panic!("expected an error frame, got {other:?}"),
    }
    assert!(tokio::time::timeout(WAIT, conn.next_frame()).await.unwrap().unwrap().is_none());
    assert_eq!(conn.close_frame().map(|c| u16::from(c.code)), Some(1001));
    stopping.await.unwrap();
    h.cleanup().await;
}

/// Regression (hostile-input scenario): a client's 1 MiB message was buffered and ignored (the
/// limit was tungstenite's 64 MiB). Now a frame over `MAX_CLIENT_MESSAGE` is refused at its
/// header, before any payload is read: an error frame says why, then a close with 1009.
#[tokio::test]
async fn an_oversized_client_frame_is_refused_at_its_header_with_1009() {
    let h = Harness::new("oversized").await;
    let service = h.start().await;
    let mut raw = tokio::net::TcpStream::connect(service.addr).await.unwrap();
    let request = format!(
        "GET /v1/stream?since=0 HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Authorization: Bearer {}\r\n\r\n",
        service.addr,
        h.token("alice")
    );
    raw.write_all(request.as_bytes()).await.unwrap();
    // Only the header of a masked text frame announcing one byte more than allowed; no
    // payload follows, so nothing is left unread when the server closes.
    let size = lockbox_notification::http::stream::MAX_CLIENT_MESSAGE as u64 + 1;
    let mut header = vec![0x81, 0x80 | 127];
    header.extend_from_slice(&size.to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    raw.write_all(&header).await.unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(WAIT, raw.read_to_end(&mut bytes)).await.expect("closed by the server").unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    assert!(text.contains("\"code\":\"message_too_big\"") && text.contains("65536 bytes"), "{text}");
    assert!(text.contains("reconnect with since=0"), "{text}");
    let close_code = 1009u16.to_be_bytes();
    assert!(bytes.windows(4).any(|w| w[0] == 0x88 && w[2..] == close_code), "a close frame with code 1009");
    service.stop().await;
    h.cleanup().await;
}
