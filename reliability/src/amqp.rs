//! Looking at queues from outside the services, on the broker under test: how many messages
//! wait in a queue, and what a queue (the dead-letter queue) holds.
use lapin::{
    Connection, ConnectionProperties,
    options::{BasicGetOptions, QueueDeclareOptions},
    types::FieldTable,
};

use crate::SupportError;

fn amqp(what: &str) -> impl FnOnce(lapin::Error) -> SupportError {
    let what = what.to_owned();
    move |source| SupportError::Amqp { what, source }
}

/// One message taken from a queue.
#[derive(Debug, Clone)]
pub struct Taken {
    pub message_id: Option<String>,
    pub body: Vec<u8>,
}

pub struct QueueProbe {
    conn: Connection,
    channel: lapin::Channel,
}

impl QueueProbe {
    pub async fn connect(url: &str) -> Result<Self, SupportError> {
        let conn = Connection::connect(url, ConnectionProperties::default()).await.map_err(amqp("connect"))?;
        let channel = conn.create_channel().await.map_err(amqp("open a channel"))?;
        Ok(Self { conn, channel })
    }

    /// Messages ready in `queue` (not counting deliveries a consumer holds unacknowledged).
    pub async fn ready(&self, queue: &str) -> Result<u32, SupportError> {
        let options = QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() };
        let q = self
            .channel
            .queue_declare(queue.into(), options, FieldTable::default())
            .await
            .map_err(amqp(&format!("passive declare of {queue}")))?;
        Ok(q.message_count())
    }

    /// Takes (and acknowledges) every message in `queue`.
    pub async fn take_all(&self, queue: &str) -> Result<Vec<Taken>, SupportError> {
        let mut taken = Vec::new();
        while let Some(message) = self
            .channel
            .basic_get(queue.into(), BasicGetOptions { no_ack: true })
            .await
            .map_err(amqp(&format!("basic.get from {queue}")))?
        {
            let delivery = message.delivery;
            taken.push(Taken {
                message_id: delivery.properties.message_id().as_ref().map(|id| id.to_string()),
                body: delivery.data,
            });
        }
        Ok(taken)
    }

    pub async fn close(self) {
        let _ = self.conn.close(200, "probe done".into()).await;
    }
}
