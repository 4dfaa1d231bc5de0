//! The broker baselines: a bare lapin publisher (pipelined confirms, persistent, like the
//! outbox relay) and a bare consumer (manual ack, the NotificationService's prefetch) on a
//! quorum queue declared exactly like ours (`lockbox_broker::declare_topology`). No store, no
//! WebSocket: what the broker alone costs on this machine.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use lapin::{
    BasicProperties, Channel, Connection, ConnectionProperties,
    options::{BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions},
    types::FieldTable,
};
use lockbox_broker::{BrokerConfig, Names, declare_topology};
use lockbox_events::{FILE_STORAGE_SOURCE, FileData, FileMessageData, timestamp};

use crate::{BenchError, error::within, world::WAIT};

/// The NotificationService's default prefetch.
const PREFETCH: u16 = 64;

fn amqp(source: lapin::Error) -> BenchError {
    BenchError::Amqp { source }
}

struct Bare {
    connection: Connection,
    publish: Channel,
    consume: Channel,
    names: Names,
}

impl Bare {
    async fn open(config: &BrokerConfig) -> Result<Self, BenchError> {
        let connection = Connection::connect(&config.amqp_url, ConnectionProperties::default()).await.map_err(amqp)?;
        let topology = connection.create_channel().await.map_err(amqp)?;
        declare_topology(&topology, config).await.map_err(|source| BenchError::Broker { source })?;
        let publish = connection.create_channel().await.map_err(amqp)?;
        publish.confirm_select(ConfirmSelectOptions::default()).await.map_err(amqp)?;
        let consume = connection.create_channel().await.map_err(amqp)?;
        consume.basic_qos(PREFETCH, BasicQosOptions::default()).await.map_err(amqp)?;
        Ok(Self { connection, publish, consume, names: Names::new(config.prefix.clone()) })
    }

    /// A persistent, mandatory publish of a real event body; returns the pending confirm.
    async fn publish(&self, i: usize, body: &[u8]) -> Result<lapin::PublisherConfirm, BenchError> {
        let properties = BasicProperties::default()
            .with_message_id(i.to_string().as_str().into())
            .with_type("file.stored".into())
            .with_content_type("application/json".into())
            .with_delivery_mode(2);
        let options = BasicPublishOptions { mandatory: true, ..BasicPublishOptions::default() };
        self.publish
            .basic_publish(self.names.files_exchange().as_str().into(), "file.stored".into(), options, body, properties)
            .await
            .map_err(amqp)
    }

    /// Consumes `n` deliveries, acking each; returns when each arrived, by message id.
    async fn consume(&self, n: usize) -> Result<tokio::task::JoinHandle<Result<HashMap<usize, Instant>, BenchError>>, BenchError> {
        let mut consumer = self
            .consume
            .basic_consume(
                self.names.file_events_queue().as_str().into(),
                "bench-bare".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(amqp)?;
        Ok(tokio::spawn(async move {
            let mut seen = HashMap::with_capacity(n);
            while seen.len() < n {
                let delivery = within(WAIT, "a bare delivery", consumer.next())
                    .await?
                    .ok_or_else(|| BenchError::Invalid("the bare consumer ended".into()))?
                    .map_err(amqp)?;
                let at = Instant::now();
                let id = delivery.properties.message_id().as_ref().and_then(|m| m.as_str().parse().ok()).unwrap_or(usize::MAX);
                delivery.ack(BasicAckOptions::default()).await.map_err(amqp)?;
                seen.insert(id, at);
            }
            Ok(seen)
        }))
    }

    async fn close(self) {
        let _ = self.connection.close(200, "bench done".into()).await;
    }
}

fn body() -> Vec<u8> {
    FileMessageData::file_stored(FILE_STORAGE_SOURCE, "bench-bare", FileData::new(uuid::Uuid::new_v4(), "bare.bin", timestamp::now())).to_json()
}

async fn confirmed(confirm: lapin::PublisherConfirm) -> Result<(), BenchError> {
    match within(WAIT, "a publisher confirm", confirm).await?.map_err(amqp)? {
        lapin::Confirmation::Ack(None) => Ok(()),
        other => Err(BenchError::Invalid(format!("the broker did not confirm a bare publish: {other:?}"))),
    }
}

/// Events/s through the bare broker path: `n` published pipelined, consumed and acked;
/// the rate between the first and the last delivery (connection setup excluded).
pub async fn throughput(config: &BrokerConfig, n: usize) -> Result<f64, BenchError> {
    let bare = Bare::open(config).await?;
    let consuming = bare.consume(n).await?;
    let body = body();
    let mut pending = Vec::with_capacity(n);
    for i in 0..n {
        pending.push(bare.publish(i, &body).await?);
    }
    for confirm in pending {
        confirmed(confirm).await?;
    }
    let seen = within(WAIT, "the bare consumer", consuming).await?.map_err(|e| BenchError::Invalid(e.to_string()))??;
    bare.close().await;
    let first = seen.values().min().copied();
    let last = seen.values().max().copied();
    Ok(match (first, last) {
        (Some(first), Some(last)) if n > 1 => (n - 1) as f64 / last.duration_since(first).as_secs_f64(),
        _ => f64::NAN,
    })
}

/// Events/s the broker takes from a bare publisher alone: `n` persistent events published
/// pipelined, `window` confirms in flight at most (the relay's batch), nobody consuming —
/// what the small-uploads measure asks of the broker, with nothing else to do.
pub async fn publish_rate(config: &BrokerConfig, n: usize, window: usize) -> Result<f64, BenchError> {
    let bare = Bare::open(config).await?;
    let body = body();
    let started = Instant::now();
    let mut pending = std::collections::VecDeque::with_capacity(window);
    for i in 0..n {
        if pending.len() == window.max(1)
            && let Some(confirm) = pending.pop_front()
        {
            confirmed(confirm).await?;
        }
        pending.push_back(bare.publish(i, &body).await?);
    }
    for confirm in pending {
        confirmed(confirm).await?;
    }
    let took = started.elapsed();
    bare.close().await;
    Ok(n as f64 / took.as_secs_f64())
}

/// Publish → delivery latency of the bare path at `rate` messages/s; each publish's confirm
/// is awaited (as the relay does) off the pacing loop. Returns latencies in ms.
pub async fn latency(config: &BrokerConfig, n: usize, rate: f64) -> Result<Vec<f64>, BenchError> {
    let bare = Bare::open(config).await?;
    let consuming = bare.consume(n).await?;
    let body = body();
    let mut sent = HashMap::with_capacity(n);
    let mut confirms = Vec::with_capacity(n);
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for i in 0..n {
        ticker.tick().await;
        sent.insert(i, Instant::now());
        let confirm = bare.publish(i, &body).await?;
        confirms.push(tokio::spawn(confirmed(confirm)));
    }
    for confirm in confirms {
        confirm.await.map_err(|e| BenchError::Invalid(e.to_string()))??;
    }
    let seen = within(WAIT, "the bare consumer", consuming).await?.map_err(|e| BenchError::Invalid(e.to_string()))??;
    bare.close().await;
    Ok(sent
        .iter()
        .filter_map(|(i, at)| seen.get(i).map(|got| got.saturating_duration_since(*at).as_secs_f64() * 1000.0))
        .collect())
}
