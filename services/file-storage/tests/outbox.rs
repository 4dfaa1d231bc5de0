//! The transactional outbox: with RabbitMQ unreachable uploads still succeed, and once it is
//! back every event is published exactly once, in order; /readyz and /metrics show it.

mod common;

use std::{collections::HashSet, time::Duration};

use common::{Events, Proxy, Service, amqp_addr, content, token};
use lockbox_broker::testing;

#[tokio::test]
async fn uploads_succeed_while_the_broker_is_unreachable_and_every_event_arrives_once_after() {
    // The service reaches RabbitMQ only through a proxy that starts "down": every connection
    // is dropped at once, as if the broker were unreachable.
    let proxy = Proxy::start(amqp_addr(), false).await;
    let mut broker = testing::isolated_config("outage");
    let direct = broker.clone();
    broker.amqp_url = format!("amqp://guest:guest@{}/%2f", proxy.addr);
    broker.connect_timeout = Duration::from_secs(2);
    let service = Service::start_with_broker(broker, |_| {}).await;
    // The test consumes directly from the real broker (this declares the queue).
    let mut events = Events::start(&direct).await;
    let alice = token("alice");

    let ready = service.http.get(service.at("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["database"], "ok");
    assert_ne!(ready["broker"], "ok");

    const N: usize = 25;
    let mut uploaded = Vec::new();
    for i in 0..N {
        let (id, _) = service.upload(&alice, &format!("offline-{i}.bin"), &content(1000 + i, i as u8)).await;
        uploaded.push(id);
    }
    assert_eq!(service.metric("lockbox_fs_outbox_backlog").await, N as f64);
    assert_eq!(service.metric("lockbox_fs_events_published_total").await, 0.0);

    proxy.set_up(true);
    let mut seen = Vec::new();
    let mut message_ids = HashSet::new();
    for _ in 0..N {
        let (incoming, event, _) = events.next().await;
        assert!(message_ids.insert(incoming.message_id().unwrap().to_owned()), "a message_id arrived twice");
        seen.push(event.file.unwrap().id.to_string());
    }
    assert_eq!(seen, uploaded, "every event, once, in upload order");

    common::eventually("the outbox is drained", || async { service.metric("lockbox_fs_outbox_backlog").await == 0.0 }).await;
    assert_eq!(service.metric("lockbox_fs_events_published_total").await, N as f64);
    common::eventually("/readyz turns ready", || async {
        service.http.get(service.at("/readyz")).send().await.unwrap().status() == 200
    })
    .await;
    // Nothing more comes: no duplicates.
    events.none(Duration::from_millis(500)).await;

    // New uploads now publish at once (the relay wakes on the commit, no polling delay).
    let (live, _) = service.upload(&alice, "online.bin", b"online").await;
    let (_, event, _) = events.next().await;
    assert_eq!(event.file.unwrap().id.to_string(), live);

    events.stop().await;
    service.stop().await;
}

/// The relay keeps what the broker confirmed as a cursor in memory and writes it in batches
/// (`outbox.rs`); a clean stop writes it, so the next start publishes nothing twice.
#[tokio::test]
async fn a_restart_after_a_clean_stop_publishes_nothing_again() {
    let broker = testing::isolated_config("restart-marks");
    let service = Service::start_with_broker(broker.clone(), |_| {}).await;
    let mut events = Events::start(&broker).await;
    let alice = token("alice");
    let mut uploaded = Vec::new();
    for i in 0..40 {
        let (id, _) = service.upload(&alice, &format!("m-{i}.bin"), &content(100 + i, i as u8)).await;
        uploaded.push(id);
    }
    for id in &uploaded {
        let (_, event, _) = events.next().await;
        assert_eq!(&event.file.unwrap().id.to_string(), id);
    }
    let dir = service.shut_down().await;
    let db = rusqlite::Connection::open(dir.path().join("data/metadata.sqlite3")).unwrap();
    let unsent: i64 = db.query_row("SELECT count(*) FROM outbox WHERE sent_at IS NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(unsent, 0, "a clean stop marks every confirmed event sent");
    drop(db);

    let service = Service::restart(dir, broker).await;
    let (next, _) = service.upload(&alice, "after.bin", b"after").await;
    let (_, event, _) = events.next().await;
    assert_eq!(event.file.unwrap().id.to_string(), next, "the first event after the restart is the new one");
    events.stop().await;
    service.stop().await;
}

#[tokio::test]
async fn health_answers_and_metrics_count_uploads_and_bytes() {
    let service = Service::start("ops", |_| {}).await;
    let mut events = Events::start(&service.broker).await;
    let health: serde_json::Value = service.http.get(service.at("/healthz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    common::eventually("/readyz is ready", || async {
        service.http.get(service.at("/readyz")).send().await.unwrap().status() == 200
    })
    .await;
    service.upload(&token("alice"), "m.bin", &content(12_345, 1)).await;
    events.next().await;
    assert_eq!(service.metric("lockbox_fs_uploads_completed_total").await, 1.0);
    assert_eq!(service.metric("lockbox_fs_upload_bytes_received_total").await, 12_345.0);
    common::eventually("the publish latency is observed", || async {
        service.metric("lockbox_fs_publish_seconds_count").await == 1.0
    })
    .await;
    events.stop().await;
    service.stop().await;
}
