//! Errors of the broker subsystem.

use std::time::Duration;

use thiserror::Error;

/// Connecting, declaring, consuming and acknowledging.
#[derive(Debug, Error)]
pub enum BrokerError {
    #[error("could not connect to RabbitMQ at {url} within {timeout:?}; is it running? (set LOCKBOX_AMQP_URL)")]
    ConnectTimeout { url: String, timeout: Duration },
    #[error("could not connect to RabbitMQ at {url} (is it running? set LOCKBOX_AMQP_URL): {source}")]
    Connect {
        url: String,
        #[source]
        source: lapin::Error,
    },
    #[error("could not declare {what} on RabbitMQ: {source}")]
    Declare {
        what: String,
        #[source]
        source: lapin::Error,
    },
    #[error("could not open a channel: {0}")]
    Channel(#[source] lapin::Error),
    #[error("could not start consuming {queue}: {source}")]
    Consume {
        queue: String,
        #[source]
        source: lapin::Error,
    },
    #[error("could not acknowledge delivery {delivery_tag} (the broker will redeliver it): {source}")]
    Ack {
        delivery_tag: u64,
        #[source]
        source: lapin::Error,
    },
    #[error("the broker was not connected within {0:?}")]
    NotConnectedWithin(Duration),
}

/// Why a publish did not get a positive confirm. Every variant means "not stored by the
/// broker": the caller keeps the message and tries again.
#[derive(Debug, Error)]
pub enum PublishError {
    #[error("not connected to RabbitMQ (reconnecting in the background); the message was not sent")]
    NotConnected,
    #[error("publish failed on the channel: {0}")]
    Channel(#[source] lapin::Error),
    #[error("message {message_id} is unroutable: no queue is bound for routing key {routing_key} ({reply_code} {reply_text}); declare the topology first")]
    Unroutable { message_id: String, routing_key: String, reply_code: u16, reply_text: String },
    #[error("the broker refused message {message_id} (nack); it was not stored")]
    Nacked { message_id: String },
    #[error("no confirm for message {message_id} within {timeout:?}; treat it as not sent")]
    ConfirmTimeout { message_id: String, timeout: Duration },
    #[error("the channel is not in confirm mode; message {message_id} cannot be confirmed")]
    ConfirmsNotEnabled { message_id: String },
}
