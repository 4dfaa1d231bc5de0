//! Confirmed publishing. [`Publisher::send`] hands one message to the broker and returns a
//! [`PendingConfirm`]; callers may send many before awaiting any confirm (pipelining), and
//! sends on one publisher keep their order.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use lapin::{
    BasicProperties, Confirmation, PublisherConfirm, options::BasicPublishOptions,
};
use lockbox_events::{CONTENT_TYPE, FileMessageData};
use tokio::sync::{Mutex, Notify, watch};

use crate::{Names, PublishError, supervisor::Session};

/// AMQP `delivery_mode` 2: the broker writes the message to disk.
const PERSISTENT: u8 = 2;

/// One message to publish.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub exchange: String,
    pub routing_key: String,
    /// Consumers dedupe on this; for events it is the outbox row id.
    pub message_id: String,
    /// The AMQP `type` property.
    pub kind: String,
    pub timestamp: DateTime<Utc>,
    pub body: Vec<u8>,
}

impl Outgoing {
    /// A file event for `lockbox.files`, routed by its event type.
    pub fn event(names: &Names, message_id: impl Into<String>, event: &FileMessageData) -> Self {
        Self::stored_event(names, message_id, event, event.to_json())
    }

    /// Like [`Self::event`], with `body` the event's JSON as it was stored (the outbox
    /// publishes the committed bytes instead of serializing the event again).
    pub fn stored_event(names: &Names, message_id: impl Into<String>, event: &FileMessageData, body: Vec<u8>) -> Self {
        Self {
            exchange: names.files_exchange(),
            routing_key: event.event_type.to_string(),
            message_id: message_id.into(),
            kind: event.event_type.to_string(),
            timestamp: event.timestamp,
            body,
        }
    }

    fn properties(&self) -> BasicProperties {
        BasicProperties::default()
            .with_message_id(self.message_id.as_str().into())
            .with_type(self.kind.as_str().into())
            .with_content_type(CONTENT_TYPE.into())
            .with_delivery_mode(PERSISTENT)
            .with_timestamp(u64::try_from(self.timestamp.timestamp()).unwrap_or_default())
    }
}

/// A cheap, cloneable handle that publishes on the supervisor's current channel.
#[derive(Clone)]
pub struct Publisher {
    session: watch::Receiver<Option<Session>>,
    /// Serializes sends so that order on the wire is the order of `send` calls.
    send_lock: Arc<Mutex<()>>,
    /// Tells the supervisor the channel is unusable and must be rebuilt.
    broken: Arc<Notify>,
    confirm_timeout: Duration,
}

impl Publisher {
    pub(crate) fn new(
        session: watch::Receiver<Option<Session>>,
        broken: Arc<Notify>,
        confirm_timeout: Duration,
    ) -> Self {
        Self { session, send_lock: Arc::new(Mutex::new(())), broken, confirm_timeout }
    }

    /// Sends one message (persistent, mandatory) and returns its pending confirm.
    /// Fails at once with [`PublishError::NotConnected`] while the broker is away.
    pub async fn send(&self, message: &Outgoing) -> Result<PendingConfirm, PublishError> {
        let channel = self
            .session
            .borrow()
            .as_ref()
            .map(|session| session.publish_channel.clone())
            .ok_or(PublishError::NotConnected)?;
        let _order = self.send_lock.lock().await;
        let options = BasicPublishOptions { mandatory: true, ..BasicPublishOptions::default() };
        let confirm = channel
            .basic_publish(
                message.exchange.as_str().into(),
                message.routing_key.as_str().into(),
                options,
                &message.body,
                message.properties(),
            )
            .await
            .map_err(|e| {
                self.broken.notify_one();
                PublishError::Channel(e)
            })?;
        Ok(PendingConfirm {
            confirm,
            message_id: message.message_id.clone(),
            routing_key: message.routing_key.clone(),
            timeout: self.confirm_timeout,
            broken: self.broken.clone(),
        })
    }

    /// Sends one message and waits for its confirm.
    pub async fn publish(&self, message: &Outgoing) -> Result<(), PublishError> {
        self.send(message).await?.confirmed().await
    }
}

/// The broker's answer to one sent message, still to come.
#[must_use = "a message counts as published only once its confirm is awaited"]
pub struct PendingConfirm {
    confirm: PublisherConfirm,
    message_id: String,
    routing_key: String,
    timeout: Duration,
    broken: Arc<Notify>,
}

impl PendingConfirm {
    pub fn message_id(&self) -> &str {
        &self.message_id
    }

    /// Ok only for a positive confirm of a message that reached at least one queue.
    pub async fn confirmed(self) -> Result<(), PublishError> {
        let Self { confirm, message_id, routing_key, timeout, broken } = self;
        let confirmation = match tokio::time::timeout(timeout, confirm).await {
            Ok(Ok(confirmation)) => confirmation,
            Ok(Err(e)) => {
                broken.notify_one();
                return Err(PublishError::Channel(e));
            }
            Err(_) => {
                // A confirm that never comes means a stuck channel or connection.
                broken.notify_one();
                return Err(PublishError::ConfirmTimeout { message_id, timeout });
            }
        };
        match confirmation {
            Confirmation::Ack(None) => Ok(()),
            // With `mandatory`, an unroutable message is returned and then acked: a failure.
            Confirmation::Ack(Some(returned)) => Err(PublishError::Unroutable {
                message_id,
                routing_key,
                reply_code: returned.reply_code,
                reply_text: returned.reply_text.to_string(),
            }),
            Confirmation::Nack(_) => Err(PublishError::Nacked { message_id }),
            Confirmation::NotRequested => Err(PublishError::ConfirmsNotEnabled { message_id }),
        }
    }
}
