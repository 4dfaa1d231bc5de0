//! Both services, in this process, on real sockets, with fresh data dirs and exchange/queue
//! names of their own on the real RabbitMQ; plus a tap queue that records every event the
//! FileStorageService put on the broker.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use futures_util::StreamExt;
use lapin::{
    Connection, ConnectionProperties,
    options::{BasicAckOptions, BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions},
    types::FieldTable,
};
use lockbox_auth::TokenKey;
use lockbox_broker::{BrokerConfig, Names, declare_topology, testing::isolated_config};
use tokio::{
    net::TcpListener,
    sync::{mpsc, oneshot},
    task::JoinHandle,
};

pub const SECRET: &str = "e2e-secret-e2e-secret-e2e-secret-0123";

/// A running service: its address and how to stop it.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops it the way Ctrl-C would (graceful shutdown), and waits until it has.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(30), self.task).await;
    }
}

pub struct Services {
    pub broker: BrokerConfig,
    pub data: tempfile::TempDir,
    pub key: TokenKey,
}

impl Services {
    pub fn new() -> Self {
        Self { broker: isolated_config("e2e"), data: tempfile::tempdir().expect("temp dir"), key: TokenKey::new(SECRET).expect("secret") }
    }

    pub fn token(&self, user: &str) -> String {
        self.key.mint(user, Duration::from_secs(3600)).expect("mint")
    }

    pub async fn file_storage(&self) -> Running {
        let mut config = lockbox_file_storage::config::Config::new(self.dir("file-storage"));
        config.token_secret = SECRET.into();
        config.broker = self.broker.clone();
        config.broker.connection_name = format!("{}-fs", self.broker.connection_name);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        spawn(listener, move |l, stop| async move {
            if let Err(e) = lockbox_file_storage::run(l, config, stop).await {
                eprintln!("e2e: file-storage stopped: {e}");
            }
        })
    }

    /// The NotificationService on `addr` (or any free port), on its data dir (kept across
    /// restarts).
    pub async fn notification(&self, addr: Option<SocketAddr>) -> Running {
        let mut config = lockbox_notification::config::Config::new(self.dir("notification"));
        config.token_secret = SECRET.into();
        config.broker = self.broker.clone();
        config.broker.connection_name = format!("{}-ns", self.broker.connection_name);
        let addr = addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = TcpListener::bind(addr).await.expect("bind the notification port");
        spawn(listener, move |l, stop| async move {
            if let Err(e) = lockbox_notification::run(l, config, stop).await {
                eprintln!("e2e: notification stopped: {e}");
            }
        })
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.data.path().join(name)
    }

    /// A queue of the test's own, bound to every event on `lockbox.files`: what reached the
    /// broker, byte for byte.
    pub async fn tap(&self) -> mpsc::UnboundedReceiver<(Option<String>, Vec<u8>)> {
        let names = Names::new(self.broker.prefix.clone());
        let conn = Connection::connect(&self.broker.amqp_url, ConnectionProperties::default()).await.expect("RabbitMQ");
        let channel = conn.create_channel().await.expect("channel");
        declare_topology(&channel, &self.broker).await.expect("topology");
        let queue = format!("{}e2e-tap", self.broker.prefix);
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
}

fn spawn<F, Fut>(listener: TcpListener, serve: F) -> Running
where
    F: FnOnce(TcpListener, std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, Box::pin(async move {
        let _ = stop_rx.await;
    })));
    Running { addr, stop: Some(stop_tx), task }
}
