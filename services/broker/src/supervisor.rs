//! The task that owns the process's one AMQP connection. It connects (with a timeout),
//! declares the topology, opens the publish channel and every consumer, then waits for
//! anything to break; after any connection or channel error it tears everything down and
//! starts over with jittered backoff. lapin's own recovery is not used.

use std::{sync::Arc, time::Duration};

use futures_util::StreamExt;
use lapin::{
    Channel, Connection, ConnectionProperties, Event,
    options::{BasicConsumeOptions, BasicQosOptions, ConfirmSelectOptions},
    types::FieldTable,
};
use tokio::{
    sync::{Notify, mpsc, watch},
    task::JoinSet,
};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::{
    BrokerConfig, BrokerError, ConsumerSpec, Deliveries, Incoming, Publisher, backoff::Backoff,
    declare_topology,
};

/// What a publish needs of the current connection.
#[derive(Clone)]
pub(crate) struct Session {
    pub(crate) publish_channel: Channel,
}

/// Whether the supervisor currently holds a working connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerState {
    Connecting,
    Connected,
    Stopped,
}

/// Collects consumers before the supervisor starts.
pub struct BrokerBuilder {
    config: BrokerConfig,
    consumers: Vec<(ConsumerSpec, mpsc::Sender<Incoming>)>,
}

impl BrokerBuilder {
    /// Registers a consumer; its deliveries arrive on the returned receiver.
    pub fn consume(&mut self, spec: ConsumerSpec) -> Deliveries {
        let (tx, rx) = mpsc::channel(usize::from(spec.prefetch));
        self.consumers.push((spec, tx));
        Deliveries { rx }
    }

    /// Spawns the supervisor on the current tokio runtime.
    pub fn start(self) -> Broker {
        let (session_tx, session_rx) = watch::channel(None);
        let (state_tx, state_rx) = watch::channel(BrokerState::Connecting);
        let broken = Arc::new(Notify::new());
        let cancel = CancellationToken::new();
        let publisher = Publisher::new(session_rx, broken.clone(), self.config.confirm_timeout);
        let supervisor = Supervisor {
            config: self.config,
            consumers: self.consumers,
            session: session_tx,
            state: state_tx,
            broken,
            cancel: cancel.clone(),
        };
        let task = tokio::spawn(supervisor.run());
        Broker { publisher, state: state_rx, cancel, task: Some(task) }
    }
}

/// Handle to the supervisor. Dropping it does not stop the task; call [`Broker::shutdown`].
pub struct Broker {
    publisher: Publisher,
    state: watch::Receiver<BrokerState>,
    cancel: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Broker {
    pub fn builder(config: BrokerConfig) -> BrokerBuilder {
        BrokerBuilder { config, consumers: Vec::new() }
    }

    pub fn publisher(&self) -> Publisher {
        self.publisher.clone()
    }

    pub fn state(&self) -> BrokerState {
        *self.state.borrow()
    }

    /// A receiver that changes whenever the connection comes or goes (for `/readyz`).
    pub fn watch_state(&self) -> watch::Receiver<BrokerState> {
        self.state.clone()
    }

    /// Waits until the supervisor is connected, or fails after `timeout`.
    pub async fn connected(&self, timeout: Duration) -> Result<(), BrokerError> {
        self.wait_state(timeout, |s| s == BrokerState::Connected).await
    }

    /// Waits until the supervisor has noticed a lost connection (for tests and readiness).
    pub async fn disconnected(&self, timeout: Duration) -> Result<(), BrokerError> {
        self.wait_state(timeout, |s| s != BrokerState::Connected).await
    }

    async fn wait_state(&self, timeout: Duration, done: impl Fn(BrokerState) -> bool) -> Result<(), BrokerError> {
        let mut state = self.state.clone();
        tokio::time::timeout(timeout, state.wait_for(|s| done(*s)))
            .await
            .ok()
            .and_then(Result::ok)
            .map(drop)
            .ok_or(BrokerError::NotConnectedWithin(timeout))
    }

    /// Closes the connection and stops the supervisor; consumers' receivers then end.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

struct Supervisor {
    config: BrokerConfig,
    consumers: Vec<(ConsumerSpec, mpsc::Sender<Incoming>)>,
    session: watch::Sender<Option<Session>>,
    state: watch::Sender<BrokerState>,
    broken: Arc<Notify>,
    cancel: CancellationToken,
}

impl Supervisor {
    async fn run(self) {
        let mut backoff = Backoff::new(self.config.reconnect_min, self.config.reconnect_max);
        let url = self.config.redacted_url();
        while !self.cancel.is_cancelled() {
            match self.connect().await {
                Ok((connection, consumers)) => {
                    backoff.reset();
                    info!(url, "connected to RabbitMQ");
                    self.state.send_replace(BrokerState::Connected);
                    let reason = self.hold(&connection, consumers).await;
                    self.session.send_replace(None);
                    if self.cancel.is_cancelled() {
                        let _ = connection.close(200, "shutting down".into()).await;
                        break;
                    }
                    self.state.send_replace(BrokerState::Connecting);
                    warn!(url, reason, "lost RabbitMQ connection; reconnecting");
                    let _ = connection.close(200, "reconnecting".into()).await;
                }
                Err(error) => {
                    warn!(url, %error, "RabbitMQ unavailable; retrying");
                }
            }
            let delay = backoff.next_delay();
            debug!(?delay, "reconnect backoff");
            tokio::select! {
                _ = self.cancel.cancelled() => break,
                _ = tokio::time::sleep(delay) => {}
            }
        }
        self.session.send_replace(None);
        self.state.send_replace(BrokerState::Stopped);
    }

    /// One full setup: connection, topology, publish channel, consumers.
    async fn connect(&self) -> Result<(Connection, JoinSet<String>), BrokerError> {
        let url = self.config.redacted_url();
        let properties = ConnectionProperties::default()
            .with_connection_name(self.config.connection_name.as_str().into());
        let connection = tokio::time::timeout(
            self.config.connect_timeout,
            Connection::connect(&self.config.amqp_url, properties),
        )
        .await
        .map_err(|_| BrokerError::ConnectTimeout { url: url.clone(), timeout: self.config.connect_timeout })?
        .map_err(|source| BrokerError::Connect { url, source })?;

        let topology = connection.create_channel().await.map_err(BrokerError::Channel)?;
        declare_topology(&topology, &self.config).await?;
        let _ = topology.close(200, "topology declared".into()).await;

        let publish_channel = connection.create_channel().await.map_err(BrokerError::Channel)?;
        publish_channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(BrokerError::Channel)?;

        let mut consumers = JoinSet::new();
        for (spec, tx) in &self.consumers {
            let channel = connection.create_channel().await.map_err(BrokerError::Channel)?;
            channel
                .basic_qos(spec.prefetch, BasicQosOptions::default())
                .await
                .map_err(BrokerError::Channel)?;
            let consumer = channel
                .basic_consume(
                    spec.queue.as_str().into(),
                    format!("{}-{}", self.config.connection_name, spec.queue).into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(|source| BrokerError::Consume { queue: spec.queue.clone(), source })?;
            consumers.spawn(forward(channel, consumer, tx.clone(), spec.queue.clone()));
        }
        self.session.send_replace(Some(Session { publish_channel }));
        Ok((connection, consumers))
    }

    /// Waits until something breaks (or shutdown); returns why.
    async fn hold(&self, connection: &Connection, mut consumers: JoinSet<String>) -> String {
        let mut events = connection.events_listener();
        let reason = loop {
            tokio::select! {
                _ = self.cancel.cancelled() => break "shutdown".to_owned(),
                _ = self.broken.notified() => break "publish channel failed".to_owned(),
                Some(ended) = consumers.join_next() => {
                    break ended.unwrap_or_else(|e| format!("consumer task failed: {e}"));
                }
                event = events.next() => match event {
                    Some(Event::Error(error)) => break format!("connection error: {error}"),
                    Some(Event::ConnectionBlocked(why)) => warn!(why, "broker blocked our connection (resource alarm); publishes will time out"),
                    Some(Event::ConnectionUnblocked) => info!("broker unblocked our connection"),
                    Some(_) => {}
                    None => break "connection event stream ended".to_owned(),
                },
            }
        };
        consumers.abort_all();
        reason
    }
}

/// Moves deliveries from one lapin consumer into the long-lived receiver; returns why it stopped.
async fn forward(
    _channel: Channel,
    mut consumer: lapin::Consumer,
    tx: mpsc::Sender<Incoming>,
    queue: String,
) -> String {
    while let Some(delivery) = consumer.next().await {
        match delivery {
            Ok(delivery) => {
                if tx.send(Incoming::new(delivery)).await.is_err() {
                    // Nobody reads any more; unacked deliveries return to the queue on close.
                    std::future::pending::<()>().await;
                }
            }
            Err(error) => return format!("consumer of {queue} failed: {error}"),
        }
    }
    format!("consumer of {queue} was cancelled by the broker")
}
