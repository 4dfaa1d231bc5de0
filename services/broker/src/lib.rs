//! RabbitMQ glue for LockBox, on lapin 4. One AMQP connection per process, owned by a
//! supervisor task that rebuilds connection, channels and consumers after any error.
//!
//! Modules:
//! - [`config`]: [`BrokerConfig`] (AMQP URL, name prefix, timeouts, delivery limit).
//! - [`names`]: [`Names`], the exchange and queue names of the topology, prefixed.
//! - [`topology`]: [`declare_topology`], the exchanges and queues of ARCHITECTURE.md.
//! - [`supervisor`]: [`Broker`], the task that owns the connection and reconnects with
//!   jittered backoff.
//! - [`publisher`]: [`Publisher`], confirmed, mandatory, persistent publishes that may be
//!   pipelined; [`Outgoing`] is one message.
//! - [`consumer`]: [`ConsumerSpec`] and [`Incoming`], a delivery with manual ack/nack that
//!   decodes into the typed event at the edge.
//! - [`backoff`]: jittered exponential backoff.
//! - [`error`]: [`BrokerError`] and [`PublishError`].
//! - `testing` (feature `testing`): unique prefixes and broker-side connection closing.

pub mod backoff;
pub mod config;
pub mod consumer;
pub mod error;
pub mod names;
pub mod publisher;
pub mod supervisor;
#[cfg(feature = "testing")]
pub mod testing;
pub mod topology;

pub use config::{BrokerConfig, RECONNECT_PROMISE};
pub use consumer::{ConsumerSpec, Deliveries, Incoming};
pub use error::{BrokerError, PublishError};
pub use names::Names;
pub use publisher::{Outgoing, PendingConfirm, Publisher};
pub use supervisor::{Broker, BrokerBuilder, BrokerState};
pub use topology::declare_topology;
