//! Consuming with manual acknowledgement. The supervisor feeds every delivery of a
//! [`ConsumerSpec`] into one [`Deliveries`] receiver that survives reconnects.

use lapin::{
    message::Delivery,
    options::{BasicAckOptions, BasicNackOptions},
};
use lockbox_events::{DecodeError, FileMessageData};
use tokio::sync::mpsc;

use crate::BrokerError;

/// What to consume and how many unacknowledged deliveries to hold at once.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    pub queue: String,
    pub prefetch: u16,
}

impl ConsumerSpec {
    pub fn new(queue: impl Into<String>) -> Self {
        Self { queue: queue.into(), prefetch: 32 }
    }

    pub fn prefetch(mut self, prefetch: u16) -> Self {
        self.prefetch = prefetch.max(1);
        self
    }
}

/// The stream of deliveries of one consumer, across reconnects. A delivery that was not
/// acknowledged before a reconnect is redelivered by the broker (with `redelivered` set).
pub struct Deliveries {
    pub(crate) rx: mpsc::Receiver<Incoming>,
}

impl Deliveries {
    /// The next delivery, or `None` once the broker supervisor has shut down.
    pub async fn recv(&mut self) -> Option<Incoming> {
        self.rx.recv().await
    }
}

/// One delivery, to be acknowledged exactly once with [`ack`](Self::ack),
/// [`dead_letter`](Self::dead_letter) or [`requeue`](Self::requeue).
#[derive(Debug)]
pub struct Incoming {
    delivery: Delivery,
}

impl Incoming {
    pub(crate) fn new(delivery: Delivery) -> Self {
        Self { delivery }
    }

    /// The AMQP `message_id` (the producer's dedupe key), if the producer set one.
    pub fn message_id(&self) -> Option<&str> {
        self.delivery.properties.message_id().as_ref().map(|id| id.as_str())
    }

    /// The AMQP `type` property.
    pub fn kind(&self) -> Option<&str> {
        self.delivery.properties.kind().as_ref().map(|k| k.as_str())
    }

    pub fn routing_key(&self) -> &str {
        self.delivery.routing_key.as_str()
    }

    pub fn redelivered(&self) -> bool {
        self.delivery.redelivered
    }

    pub fn body(&self) -> &[u8] {
        &self.delivery.data
    }

    /// Done with it: the broker forgets the message.
    pub async fn ack(&self) -> Result<(), BrokerError> {
        self.delivery.ack(BasicAckOptions::default()).await.map(drop).map_err(|e| self.ack_error(e))
    }

    /// Done with it and with every earlier delivery on its channel not yet settled (AMQP
    /// `multiple`): one frame settles a whole batch handled in order.
    pub async fn ack_through(&self) -> Result<(), BrokerError> {
        let options = BasicAckOptions { multiple: true };
        self.delivery.ack(options).await.map(drop).map_err(|e| self.ack_error(e))
    }

    /// Poison: rejected without requeue, so the queue dead-letters it.
    pub async fn dead_letter(&self) -> Result<(), BrokerError> {
        let options = BasicNackOptions { requeue: false, multiple: false };
        self.delivery.nack(options).await.map(drop).map_err(|e| self.ack_error(e))
    }

    /// Not now (e.g. our store is down): back to the queue; counts toward the delivery limit.
    pub async fn requeue(&self) -> Result<(), BrokerError> {
        let options = BasicNackOptions { requeue: true, multiple: false };
        self.delivery.nack(options).await.map(drop).map_err(|e| self.ack_error(e))
    }

    fn ack_error(&self, source: lapin::Error) -> BrokerError {
        BrokerError::Ack { delivery_tag: self.delivery.delivery_tag, source }
    }
}

impl TryFrom<&Incoming> for FileMessageData {
    type Error = DecodeError;

    fn try_from(incoming: &Incoming) -> Result<Self, Self::Error> {
        FileMessageData::from_json(incoming.body())
    }
}
