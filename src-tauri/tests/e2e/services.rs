//! The broker side of the world the test builds: exchange/queue names of its own on the real
//! RabbitMQ, and a tap queue that records every event the FileStorageService put on the
//! broker. The services themselves are the desktop tests' (`tests/common`): in this process,
//! on real sockets, with fresh data dirs.

use futures_util::StreamExt;
use lapin::{
    Connection, ConnectionProperties,
    options::{BasicAckOptions, BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions},
    types::FieldTable,
};
use lockbox_broker::{BrokerConfig, Names, declare_topology, testing::isolated_config};
use tokio::sync::mpsc;

pub fn broker() -> BrokerConfig {
    isolated_config("e2e")
}

/// A queue of the test's own, bound to every event on `lockbox.files`: what reached the
/// broker, byte for byte.
pub async fn tap(broker: &BrokerConfig) -> mpsc::UnboundedReceiver<(Option<String>, Vec<u8>)> {
    let names = Names::new(broker.prefix.clone());
    let conn = Connection::connect(&broker.amqp_url, ConnectionProperties::default()).await.expect("RabbitMQ");
    let channel = conn.create_channel().await.expect("channel");
    declare_topology(&channel, broker).await.expect("topology");
    let queue = format!("{}e2e-tap", broker.prefix);
    let options = QueueDeclareOptions { exclusive: true, auto_delete: true, ..Default::default() };
    channel.queue_declare(queue.as_str().into(), options, FieldTable::default()).await.expect("tap queue");
    channel
        .queue_bind(queue.as_str().into(), names.files_exchange().as_str().into(), "#".into(), QueueBindOptions::default(), FieldTable::default())
        .await
        .expect("bind tap");
    let mut consumer = channel
        .basic_consume(queue.as_str().into(), "e2e-tap".into(), BasicConsumeOptions::default(), FieldTable::default())
        .await
        .expect("consume tap");
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let _keep = (conn, channel);
        while let Some(Ok(delivery)) = consumer.next().await {
            let id = delivery.properties.message_id().as_ref().map(|m| m.to_string());
            let _ = delivery.ack(BasicAckOptions::default()).await;
            if tx.send((id, delivery.data.clone())).is_err() {
                break;
            }
        }
    });
    rx
}
