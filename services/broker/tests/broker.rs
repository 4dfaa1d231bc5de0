//! Against the real RabbitMQ named by LOCKBOX_AMQP_URL (the test command makes sure one runs).
//! Every test uses its own prefixed exchanges and queues and its own connection name.

use std::time::Duration;

use lockbox_broker::{
    Broker, BrokerConfig, ConsumerSpec, Deliveries, Incoming, Names, Outgoing, PublishError,
    testing::{close_connections_named, delete_topology, isolated_config},
};
use lockbox_events::{FileData, FileMessageData, FILE_STORAGE_SOURCE, timestamp};

const WAIT: Duration = Duration::from_secs(20);

fn stored_event(user: &str, name: &str) -> FileMessageData {
    let file = FileData::new(uuid::Uuid::new_v4(), name, timestamp::now());
    FileMessageData::file_stored(FILE_STORAGE_SOURCE, user, file)
}

async fn next(deliveries: &mut Deliveries) -> Incoming {
    tokio::time::timeout(WAIT, deliveries.recv())
        .await
        .expect("a delivery within the timeout")
        .expect("the supervisor is still running")
}

fn start(config: &BrokerConfig, queues: &[String]) -> (Broker, Vec<Deliveries>) {
    let mut builder = Broker::builder(config.clone());
    let deliveries = queues.iter().map(|q| builder.consume(ConsumerSpec::new(q.clone()).prefetch(8))).collect();
    (builder.start(), deliveries)
}

#[tokio::test]
async fn a_confirmed_publish_is_consumed_with_every_property_set() {
    let config = isolated_config("roundtrip");
    let names = Names::new(config.prefix.clone());
    let (broker, mut deliveries) = start(&config, &[names.file_events_queue()]);
    broker.connected(WAIT).await.unwrap();

    let event = stored_event("alice", "report.pdf");
    let message = Outgoing::event(&names, "outbox-1", &event);
    broker.publisher().publish(&message).await.expect("a positive confirm");

    let incoming = next(&mut deliveries[0]).await;
    assert_eq!(incoming.message_id(), Some("outbox-1"));
    assert_eq!(incoming.kind(), Some("file.stored"));
    assert_eq!(incoming.routing_key(), "file.stored");
    assert_eq!(FileMessageData::try_from(&incoming).unwrap(), event);
    incoming.ack().await.unwrap();

    broker.shutdown().await;
    delete_topology(&config).await;
}

#[tokio::test]
async fn an_unroutable_publish_is_a_failure_not_a_success() {
    let config = isolated_config("unroutable");
    let names = Names::new(config.prefix.clone());
    let (broker, _) = start(&config, &[]);
    broker.connected(WAIT).await.unwrap();

    // The dead-letter exchange is direct: nothing is bound for this key.
    let mut message = Outgoing::event(&names, "lost-1", &stored_event("bob", "x.txt"));
    message.exchange = names.dead_letter_exchange();
    message.routing_key = "nobody-listens".into();
    let err = broker.publisher().publish(&message).await.expect_err("unroutable must fail");
    assert!(matches!(err, PublishError::Unroutable { reply_code: 312, .. }), "{err:?}");

    // The channel stays usable afterwards.
    let ok = Outgoing::event(&names, "ok-1", &stored_event("bob", "y.txt"));
    broker.publisher().publish(&ok).await.unwrap();

    broker.shutdown().await;
    delete_topology(&config).await;
}

#[tokio::test]
async fn many_publishes_are_pipelined_and_arrive_in_order() {
    let config = isolated_config("pipeline");
    let names = Names::new(config.prefix.clone());
    let (broker, mut deliveries) = start(&config, &[names.file_events_queue()]);
    broker.connected(WAIT).await.unwrap();
    let publisher = broker.publisher();

    let mut pending = Vec::new();
    for i in 0..300 {
        let message = Outgoing::event(&names, format!("m-{i}"), &stored_event("carol", &format!("{i}.txt")));
        pending.push(publisher.send(&message).await.unwrap());
    }
    for result in futures_util::future::join_all(pending.into_iter().map(|p| p.confirmed())).await {
        result.unwrap();
    }
    for i in 0..300 {
        let incoming = next(&mut deliveries[0]).await;
        assert_eq!(incoming.message_id(), Some(format!("m-{i}").as_str()));
        incoming.ack().await.unwrap();
    }
    broker.shutdown().await;
    delete_topology(&config).await;
}

#[tokio::test]
async fn the_consumer_survives_the_broker_closing_its_connection() {
    let config = isolated_config("reconnect");
    let names = Names::new(config.prefix.clone());
    let (broker, mut deliveries) = start(&config, &[names.file_events_queue()]);
    broker.connected(WAIT).await.unwrap();
    let publisher = broker.publisher();

    publisher.publish(&Outgoing::event(&names, "before", &stored_event("dave", "a"))).await.unwrap();
    let first = next(&mut deliveries[0]).await;
    assert_eq!(first.message_id(), Some("before"));
    first.ack().await.unwrap();

    let closed = close_connections_named(&config.connection_name).expect("rabbitmqctl works");
    assert_eq!(closed, 1, "exactly our one connection is closed");
    broker.disconnected(WAIT).await.expect("the supervisor notices");
    broker.connected(WAIT).await.expect("and reconnects");

    publisher.publish(&Outgoing::event(&names, "after", &stored_event("dave", "b"))).await.unwrap();
    let later = next(&mut deliveries[0]).await;
    assert_eq!(later.message_id(), Some("after"));
    later.ack().await.unwrap();

    broker.shutdown().await;
    delete_topology(&config).await;
}

#[tokio::test]
async fn a_dead_lettered_message_lands_in_the_dead_letter_queue() {
    let config = isolated_config("dlq");
    let names = Names::new(config.prefix.clone());
    let (broker, mut deliveries) =
        start(&config, &[names.file_events_queue(), names.file_events_dead_queue()]);
    broker.connected(WAIT).await.unwrap();

    let poison = Outgoing::event(&names, "poison-1", &stored_event("erin", "p"));
    broker.publisher().publish(&poison).await.unwrap();
    let incoming = next(&mut deliveries[0]).await;
    incoming.dead_letter().await.unwrap();

    let dead = next(&mut deliveries[1]).await;
    assert_eq!(dead.message_id(), Some("poison-1"));
    assert_eq!(dead.body(), poison.body.as_slice(), "the body is kept for diagnosis");
    dead.ack().await.unwrap();

    broker.shutdown().await;
    delete_topology(&config).await;
}

#[tokio::test]
async fn publishing_while_the_broker_is_unreachable_fails_fast_with_not_connected() {
    let config = BrokerConfig {
        // A port nothing listens on (the discard port of a loopback address).
        amqp_url: "amqp://guest:guest@127.0.0.1:9/%2f".into(),
        connect_timeout: Duration::from_millis(500),
        ..isolated_config("down")
    };
    let names = Names::new(config.prefix.clone());
    let (broker, _) = start(&config, &[]);
    let err = broker
        .publisher()
        .publish(&Outgoing::event(&names, "x", &stored_event("frank", "f")))
        .await
        .expect_err("nothing to publish to");
    assert!(matches!(err, PublishError::NotConnected), "{err:?}");
    assert!(broker.connected(Duration::from_millis(300)).await.is_err());
    broker.shutdown().await;
}
