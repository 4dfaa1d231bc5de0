//! The harness shared by the integration tests: a real RabbitMQ (LOCKBOX_AMQP_URL) with names
//! unique to each test, a real SQLite in a temp dir, the service on 127.0.0.1:0, and the real
//! stream client of `lockbox-client`.

#![allow(dead_code)] // each test file uses a different part

use std::{net::SocketAddr, time::Duration};

use lockbox_auth::TokenKey;
use lockbox_broker::{
    Broker, BrokerConfig, ConsumerSpec, Deliveries, Incoming, Names, Outgoing,
    testing::{delete_topology, isolated_config},
};
use lockbox_client::stream::{NotificationClient, StreamConnection, Subscription};
use lockbox_events::{FILE_STORAGE_SOURCE, FileData, FileMessageData, Frame, FrameBody, Notification, timestamp};
use lockbox_notification::{ServeError, config::Config, run};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub const WAIT: Duration = Duration::from_secs(30);
pub const SECRET: &str = "notification-tests-secret-0123456789abcdef";

/// One test's world: its broker names, a publisher standing in for the FileStorageService,
/// and a data dir that survives service restarts.
pub struct Harness {
    pub broker_config: BrokerConfig,
    pub names: Names,
    publisher: Broker,
    pub dir: tempfile::TempDir,
    key: TokenKey,
}

impl Harness {
    pub async fn new(test: &str) -> Self {
        // The service's logs, shown with a failing test's output (RUST_LOG to change the level).
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
        let broker_config = isolated_config(test);
        let names = Names::new(broker_config.prefix.clone());
        // Its own connection name, so closing the service's connection leaves this one alone.
        let publisher_config = BrokerConfig {
            connection_name: format!("publisher-{}", uuid::Uuid::new_v4().simple()),
            ..broker_config.clone()
        };
        let publisher = Broker::builder(publisher_config).start();
        publisher.connected(WAIT).await.expect("the test broker connection (is RabbitMQ running?)");
        Self { broker_config, names, publisher, dir: tempfile::tempdir().unwrap(), key: TokenKey::new(SECRET).unwrap() }
    }

    pub fn config(&self) -> Config {
        let mut config = Config::new(self.dir.path().join("notification"));
        config.token_secret = SECRET.into();
        config.broker = self.broker_config.clone();
        config
    }

    pub async fn start(&self) -> Service {
        Service::start(self.config()).await
    }

    pub fn token(&self, user: &str) -> String {
        self.key.mint(user, Duration::from_secs(3600)).unwrap()
    }

    pub fn client(&self, service: &Service, user: &str) -> NotificationClient {
        NotificationClient::new(format!("http://{}", service.addr), self.token(user))
    }

    /// Publishes `event` as the FileStorageService would (confirmed, persistent).
    pub async fn publish(&self, message_id: &str, event: &FileMessageData) {
        let message = Outgoing::event(&self.names, message_id, event);
        self.publisher.publisher().publish(&message).await.expect("a confirmed publish");
    }

    /// Publishes many events pipelined (all sent, then all confirms awaited).
    pub async fn publish_many(&self, events: &[(String, FileMessageData)]) {
        let publisher = self.publisher.publisher();
        let mut pending = Vec::with_capacity(events.len());
        for (id, event) in events {
            pending.push(publisher.send(&Outgoing::event(&self.names, id.clone(), event)).await.expect("sent"));
        }
        for confirm in pending {
            confirm.confirmed().await.expect("a confirmed publish");
        }
    }

    /// Publishes arbitrary bytes on the files exchange.
    pub async fn publish_raw(&self, message_id: &str, kind: &str, body: &[u8]) {
        let message = Outgoing {
            exchange: self.names.files_exchange(),
            routing_key: kind.into(),
            message_id: message_id.into(),
            kind: kind.into(),
            timestamp: timestamp::now(),
            body: body.to_vec(),
        };
        self.publisher.publisher().publish(&message).await.expect("a confirmed publish");
    }

    /// A consumer of the dead-letter queue, on a connection of its own.
    pub async fn dead_letters(&self) -> (Broker, Deliveries) {
        let config = BrokerConfig {
            connection_name: format!("dlq-reader-{}", uuid::Uuid::new_v4().simple()),
            ..self.broker_config.clone()
        };
        let mut builder = Broker::builder(config);
        let deliveries = builder.consume(ConsumerSpec::new(self.names.file_events_dead_queue()));
        let broker = builder.start();
        broker.connected(WAIT).await.unwrap();
        (broker, deliveries)
    }

    pub async fn cleanup(self) {
        self.publisher.shutdown().await;
        delete_topology(&self.broker_config).await;
    }
}

/// A running service.
pub struct Service {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServeError>>,
}

impl Service {
    pub async fn start(config: Config) -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").await.unwrap(), config).await
    }

    pub async fn start_on(listener: TcpListener, config: Config) -> Self {
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run(listener, config, async move {
            let _ = stopped.await;
        }));
        Self { addr, stop: Some(stop), task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Graceful shutdown; the service must end cleanly.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(WAIT, &mut self.task).await.expect("stopped in time").unwrap().unwrap();
    }

    /// Like a crash: the service's future is dropped mid-flight, nothing is finished.
    pub async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }

    pub async fn metrics(&self) -> String {
        reqwest::get(self.url("/metrics")).await.unwrap().text().await.unwrap()
    }
}

pub fn stored(user: &str, name: &str) -> FileMessageData {
    FileMessageData::file_stored(FILE_STORAGE_SOURCE, user, FileData::new(uuid::Uuid::new_v4(), name, timestamp::now()))
}

/// The next notification on a subscription, or a failed test. Heartbeats are skipped, and so
/// are error frames: they announce a close, after which the subscription reconnects.
pub async fn next_notification(sub: &mut Subscription) -> Notification {
    loop {
        let frame = tokio::time::timeout(WAIT, sub.next_frame())
            .await
            .expect("a frame within the timeout")
            .expect("the subscription is alive")
            .expect("no stream error");
        match frame.body {
            FrameBody::Notification { notification } => return notification,
            FrameBody::Heartbeat { .. } | FrameBody::Error { .. } => continue,
            other => panic!("expected a notification frame, got {other:?}"),
        }
    }
}

/// The next frame on one connection that is not a heartbeat.
pub async fn next_frame(conn: &mut StreamConnection) -> Frame {
    loop {
        let frame = tokio::time::timeout(WAIT, conn.next_frame())
            .await
            .expect("a frame within the timeout")
            .expect("no stream error")
            .expect("the server did not close the stream");
        if !matches!(frame.body, FrameBody::Heartbeat { .. }) {
            return frame;
        }
    }
}

pub fn notification_of(frame: Frame) -> Notification {
    match frame.body {
        FrameBody::Notification { notification } => notification,
        other => panic!("expected a notification frame, got {other:?}"),
    }
}

/// Every stored notification of the client's user, paging with `next_since`.
pub async fn list_all(client: &NotificationClient) -> Vec<Notification> {
    let mut all = Vec::new();
    let mut since = 0;
    loop {
        let page = client.list(since, 1000).await.unwrap();
        all.extend(page.notifications);
        match page.next_since {
            Some(next) => since = next,
            None => return all,
        }
    }
}

/// Waits for the next delivery on `deliveries`.
pub async fn next_delivery(deliveries: &mut Deliveries) -> Incoming {
    tokio::time::timeout(WAIT, deliveries.recv()).await.expect("a delivery within the timeout").expect("consumer alive")
}
