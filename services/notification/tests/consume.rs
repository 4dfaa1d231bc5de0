//! Consuming: an event becomes a frame, redeliveries and broker trouble never double or lose
//! a notification, poison goes to the dead-letter queue.

mod common;

use std::time::Duration;

use common::*;
use lockbox_broker::testing::close_connections_named;
use lockbox_client::stream::{ReconnectPolicy, StreamError};
use lockbox_events::{EventType, FILE_STORAGE_SOURCE, FileMessageData};
use lockbox_notification::config::Config;

#[tokio::test]
async fn an_event_becomes_a_frame_with_params_and_english_text() {
    let h = Harness::new("event-frame").await;
    let service = h.start().await;
    let alice = h.client(&service, "alice");
    let mut sub = alice.subscribe(0);

    let event = stored("alice", "report.pdf");
    h.publish("m-1", &event).await;
    let n = next_notification(&mut sub).await;
    assert_eq!((n.seq, n.user_id.as_str(), n.kind.clone()), (1, "alice", EventType::FileStored));
    let file = n.file.clone().expect("a file notification");
    assert_eq!((file.id, file.name.as_str()), (event.file.as_ref().unwrap().id, "report.pdf"));
    assert_eq!(n.title, "report.pdf was stored");
    assert_eq!(n.params["file_name"], "report.pdf");
    assert_eq!(n.created_at, event.timestamp);
    assert!(n.read_at.is_none());

    // No file, and an event type this service has never heard of: both still notify.
    h.publish("m-2", &FileMessageData::quota_warning(FILE_STORAGE_SOURCE, "alice")).await;
    let quota = next_notification(&mut sub).await;
    assert_eq!((quota.seq, quota.file.is_none()), (2, true));
    assert_eq!(quota.body, "You have used 90 % of your storage");
    let shared = FileMessageData { event_type: EventType::from("file.shared"), ..stored("alice", "a.txt") };
    h.publish("m-3", &shared).await;
    let generic = next_notification(&mut sub).await;
    assert_eq!((generic.seq, generic.kind.as_str()), (3, "file.shared"));
    assert!(generic.body.contains("a.txt"), "{}", generic.body);

    // The REST view is the same store.
    let page = alice.list(0, 10).await.unwrap();
    assert_eq!(page.notifications.iter().map(|n| n.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(page.notifications[0], n);
    assert_eq!(page.next_since, None);

    drop(sub);
    service.stop().await;
    h.cleanup().await;
}

#[tokio::test]
async fn a_redelivered_message_makes_one_notification() {
    let h = Harness::new("redelivery").await;
    let service = h.start().await;
    let alice = h.client(&service, "alice");
    let mut sub = alice.subscribe(0);

    let event = stored("alice", "twice.pdf");
    h.publish("same-id", &event).await;
    h.publish("same-id", &event).await;
    h.publish("next-id", &stored("alice", "after.pdf")).await;

    let first = next_notification(&mut sub).await;
    let second = next_notification(&mut sub).await;
    assert_eq!((first.seq, first.title.as_str()), (1, "twice.pdf was stored"));
    // The queue is consumed in order: once "after" arrives, the duplicate was handled.
    assert_eq!((second.seq, second.title.as_str()), (2, "after.pdf was stored"));
    assert_eq!(alice.list(0, 10).await.unwrap().notifications.len(), 2);
    let metrics = service.metrics().await;
    assert!(metrics.contains(r#"lockbox_notification_events_total{outcome="duplicate"} 1"#), "{metrics}");

    drop(sub);
    service.stop().await;
    h.cleanup().await;
}

#[tokio::test]
async fn a_poison_message_is_dead_lettered_and_the_next_one_still_arrives() {
    let h = Harness::new("poison").await;
    let service = h.start().await;
    let alice = h.client(&service, "alice");
    let mut sub = alice.subscribe(0);
    let (dlq, mut dead) = h.dead_letters().await;

    h.publish_raw("poison-1", "file.stored", b"{ not json").await;
    h.publish_raw("poison-2", "file.stored", br#"{"event_type": "file.stored"}"#).await;
    h.publish("good-1", &stored("alice", "fine.pdf")).await;

    let n = next_notification(&mut sub).await;
    assert_eq!((n.seq, n.title.as_str()), (1, "fine.pdf was stored"));
    let mut dead_ids = Vec::new();
    for _ in 0..2 {
        let letter = next_delivery(&mut dead).await;
        dead_ids.push(letter.message_id().unwrap_or_default().to_owned());
        letter.ack().await.unwrap();
    }
    dead_ids.sort();
    assert_eq!(dead_ids, ["poison-1", "poison-2"]);
    let metrics = service.metrics().await;
    assert!(metrics.contains(r#"lockbox_notification_events_total{outcome="dead_lettered"} 2"#), "{metrics}");

    drop(sub);
    dlq.shutdown().await;
    service.stop().await;
    h.cleanup().await;
}

#[tokio::test]
async fn the_broker_closing_the_consumers_connection_loses_nothing() {
    let h = Harness::new("broker-closes").await;
    // Few deliveries in hand at a time, so the close lands between and during deliveries.
    let service = Service::start(Config { prefetch: 4, ..h.config() }).await;
    let alice = h.client(&service, "alice");
    let mut sub = alice.subscribe(0);

    // Events flow the whole time the broker is closing the service's connection (rabbitmqctl
    // takes a while) and after, while the service reconnects.
    let publishing = async {
        let name = h.broker_config.connection_name.clone();
        let closing = tokio::task::spawn_blocking(move || close_connections_named(&name));
        let mut n = 0u64;
        while !closing.is_finished() || n < 10 {
            n += 1;
            h.publish(&format!("m-{n}"), &stored("alice", &format!("f{n}.txt"))).await;
        }
        assert_eq!(closing.await.unwrap().unwrap(), 1, "exactly the service's connection is closed");
        for _ in 0..100 {
            n += 1;
            h.publish(&format!("m-{n}"), &stored("alice", &format!("f{n}.txt"))).await;
        }
        h.publish("sentinel", &stored("alice", "last.txt")).await;
        n
    };
    let receiving = async {
        let mut got = Vec::new();
        loop {
            let n = next_notification(&mut sub).await;
            if n.title == "last.txt was stored" {
                return (got, n.seq);
            }
            got.push((n.seq, n.title));
        }
    };
    let (published, (got, sentinel_seq)) = tokio::join!(publishing, receiving);
    let expected: Vec<_> = (1..=published).map(|i| (i, format!("f{i}.txt was stored"))).collect();
    assert!(got == expected, "lost, doubled or reordered: got {} of {published}", got.len());
    assert_eq!(sentinel_seq, published + 1);
    let seqs: Vec<_> = list_all(&alice).await.iter().map(|n| n.seq).collect();
    assert_eq!(seqs, (1..=published + 1).collect::<Vec<_>>());

    let metrics = service.metrics().await;
    let duplicates = metrics.lines().find(|l| l.contains(r#"outcome="duplicate""#)).unwrap_or("no duplicates");
    eprintln!("broker-closes: {published} events across a forced reconnect; {duplicates}");

    drop(sub);
    service.stop().await;
    h.cleanup().await;
}

#[tokio::test]
async fn a_killed_service_restarted_on_the_same_data_delivers_waiting_messages_once() {
    let h = Harness::new("restart").await;
    let first = h.start().await;
    let addr = first.addr;
    // One subscription throughout: it must notice the crash, reconnect to the new process and
    // resume after the highest seq it saw.
    let mut sub = h.client(&first, "alice").subscribe_with(
        0,
        ReconnectPolicy { min: Duration::from_millis(50), max: Duration::from_millis(500), ..ReconnectPolicy::default() },
    );
    for i in 1..=10 {
        h.publish(&format!("m-{i}"), &stored("alice", &format!("f{i}.txt"))).await;
    }
    for seq in 1..=10 {
        assert_eq!(next_notification(&mut sub).await.seq, seq);
    }
    first.kill().await;

    // Down: these wait in the durable queue.
    for i in 11..=40 {
        h.publish(&format!("m-{i}"), &stored("alice", &format!("f{i}.txt"))).await;
    }
    let listener = tokio::net::TcpListener::bind(addr).await.expect("the port is free again");
    let second = Service::start_on(listener, h.config()).await;
    for seq in 11..=40 {
        let n = next_notification(&mut sub).await;
        assert_eq!((n.seq, n.title), (seq, format!("f{seq}.txt was stored")));
    }
    h.publish("sentinel", &stored("alice", "last.txt")).await;
    assert_eq!(next_notification(&mut sub).await.seq, 41);
    assert_eq!(sub.highest_seq(), 41);
    let all = h.client(&second, "alice").list(0, 100).await.unwrap().notifications;
    assert_eq!(all.iter().map(|n| n.seq).collect::<Vec<_>>(), (1..=41).collect::<Vec<_>>());

    drop(sub);
    second.stop().await;
    h.cleanup().await;
}

#[tokio::test]
async fn a_stream_without_a_valid_token_is_refused_before_the_upgrade() {
    let h = Harness::new("auth").await;
    let service = h.start().await;
    let anonymous = lockbox_client::stream::NotificationClient::new(format!("http://{}", service.addr), "not-a-token");
    match anonymous.connect(0).await {
        Err(StreamError::Refused { status, body }) => {
            assert_eq!(status.as_u16(), 401);
            assert!(body.contains("token_malformed"), "{body}");
        }
        Err(other) => panic!("expected a 401, got {other}"),
        Ok(_) => panic!("a bad token must not open a stream"),
    }
    service.stop().await;
    h.cleanup().await;
}
