//! Shared by the desktop integration tests: the real services in-process on `127.0.0.1:0`
//! (real SQLite in temp dirs, real RabbitMQ at LOCKBOX_AMQP_URL on a prefix of the test's own),
//! tokens, test content, a TCP proxy that can hold, cut or stall a connection, and waits on
//! the upload queue's updates.
#![allow(dead_code)] // each test file uses a different part

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use lockbox_auth::TokenKey;
use lockbox_broker::BrokerConfig;
use lockbox_desktop_lib::upload::{UploadItem, UploadUpdate, Uploads, worker::Target};
use sha2::{Digest, Sha256};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::{broadcast, oneshot, watch},
    task::JoinHandle,
};

pub const SECRET: &str = "desktop-tests-secret-0123456789abcdef!";
pub const WAIT: Duration = Duration::from_secs(30);
pub const MIB: usize = 1 << 20;

pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
}

pub fn token(user: &str) -> String {
    TokenKey::new(SECRET).unwrap().mint(user, Duration::from_secs(3600)).unwrap()
}

pub fn user() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Deterministic, incompressible-enough test content.
pub fn content(len: usize, seed: u8) -> Vec<u8> {
    let mut state = u32::from(seed).wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect()
}

/// A running FileStorageService.
pub struct FileStorage {
    pub url: String,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), lockbox_file_storage::ServeError>>,
}

impl FileStorage {
    pub async fn start(broker: &BrokerConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = lockbox_file_storage::config::Config::new(dir.path().join("data"));
        config.token_secret = SECRET.into();
        config.broker = broker.clone();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(lockbox_file_storage::run(listener, config, async move {
            let _ = stopped.await;
        }));
        Self { url, dir, stop: Some(stop), task }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(WAIT, &mut self.task).await.expect("file storage stopped in time").unwrap().unwrap();
    }
}

/// A running NotificationService; its data dir belongs to the test, so it can restart on it.
pub struct Notifications {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), lockbox_notification::ServeError>>,
}

impl Notifications {
    pub fn config(dir: &std::path::Path, broker: &BrokerConfig) -> lockbox_notification::config::Config {
        let mut config = lockbox_notification::config::Config::new(dir.join("notification"));
        config.token_secret = SECRET.into();
        config.broker = broker.clone();
        config
    }

    pub async fn start(dir: &std::path::Path, broker: &BrokerConfig) -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").await.unwrap(), dir, broker)
    }

    pub fn start_on(listener: TcpListener, dir: &std::path::Path, broker: &BrokerConfig) -> Self {
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(lockbox_notification::run(listener, Self::config(dir, broker), async move {
            let _ = stopped.await;
        }));
        Self { addr, stop: Some(stop), task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Graceful shutdown; the service must end cleanly.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(WAIT, &mut self.task).await.expect("notification service stopped in time").unwrap().unwrap();
    }
}

/// A [`Target`] the test can repoint.
pub struct TestTarget {
    pub url: Mutex<String>,
    pub token: String,
}

impl TestTarget {
    pub fn new(url: &str, token: &str) -> Arc<Self> {
        Arc::new(Self { url: Mutex::new(url.to_owned()), token: token.to_owned() })
    }

    pub fn set_url(&self, url: &str) {
        *self.url.lock().unwrap() = url.to_owned();
    }
}

impl Target for TestTarget {
    fn target(&self) -> Result<(String, String), String> {
        Ok((self.url.lock().unwrap().clone(), self.token.clone()))
    }
}

/// Waits until the queue's items satisfy `done`, re-checking at each update (never polling).
pub async fn wait_until(
    uploads: &Uploads,
    updates: &mut broadcast::Receiver<UploadUpdate>,
    what: &str,
    mut done: impl FnMut(&[UploadItem]) -> bool,
) -> Vec<UploadItem> {
    let wait = async {
        loop {
            let items = uploads.with_queue(|q| q.all()).unwrap();
            if done(&items) {
                return items;
            }
            match updates.recv().await {
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("the upload queue went away"),
            }
        }
    };
    match tokio::time::timeout(WAIT, wait).await {
        Ok(items) => items,
        Err(_) => panic!("timed out waiting for {what}; queue: {:#?}", uploads.with_queue(|q| q.all()).unwrap()),
    }
}

/// What a [`Proxy`] does with the bytes the client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    Pass,
    /// Forward nothing until the plan changes.
    Hold,
    /// Forward `after` more bytes, then close that connection (a network drop); then pass.
    Cut { after: u64 },
    /// Forward `after` more bytes, then swallow the rest of that connection (a hung network);
    /// then pass for new connections.
    Stall { after: u64 },
}

#[derive(Debug, Clone, Default)]
pub struct ProxyStats {
    pub connections: usize,
    /// Connections waiting on [`Plan::Hold`].
    pub held: usize,
    /// Cuts and stalls that happened.
    pub hits: usize,
    /// Bytes forwarded client → server, over all connections.
    pub forwarded: u64,
}

/// A TCP proxy between the app and a service.
pub struct Proxy {
    pub url: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

struct Shared {
    plan: watch::Sender<Plan>,
    used: Mutex<u64>,
    stats: watch::Sender<ProxyStats>,
}

enum Step {
    Forward,
    Wait,
    Hit { forward: usize, stall: bool },
}

impl Shared {
    fn decide(&self, len: usize) -> Step {
        let mut used = self.used.lock().unwrap();
        let plan = *self.plan.borrow();
        let (after, stall) = match plan {
            Plan::Pass => return Step::Forward,
            Plan::Hold => return Step::Wait,
            Plan::Cut { after } => (after, false),
            Plan::Stall { after } => (after, true),
        };
        let left = after - *used;
        if len as u64 <= left {
            *used += len as u64;
            return Step::Forward;
        }
        *used = 0;
        self.plan.send_replace(Plan::Pass);
        Step::Hit { forward: usize::try_from(left).unwrap(), stall }
    }
}

impl Proxy {
    pub async fn start(upstream: &str) -> Self {
        let upstream: SocketAddr = upstream.trim_start_matches("http://").parse().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            plan: watch::channel(Plan::Pass).0,
            used: Mutex::new(0),
            stats: watch::channel(ProxyStats::default()).0,
        });
        let task = tokio::spawn({
            let shared = shared.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    tokio::spawn(serve(client, upstream, shared.clone()));
                }
            }
        });
        Self { url, shared, task }
    }

    pub fn set_plan(&self, plan: Plan) {
        *self.shared.used.lock().unwrap() = 0;
        self.shared.plan.send_replace(plan);
    }

    pub fn stats(&self) -> ProxyStats {
        self.shared.stats.borrow().clone()
    }

    /// Waits until the stats satisfy `done`.
    pub async fn wait_for(&self, what: &str, done: impl FnMut(&ProxyStats) -> bool) -> ProxyStats {
        let mut rx = self.shared.stats.subscribe();
        match tokio::time::timeout(WAIT, rx.wait_for(done)).await {
            Ok(Ok(stats)) => stats.clone(),
            _ => panic!("timed out waiting for the proxy: {what}; stats: {:?}", self.stats()),
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(client: TcpStream, upstream: SocketAddr, shared: Arc<Shared>) {
    let Ok(server) = TcpStream::connect(upstream).await else { return };
    shared.stats.send_modify(|s| s.connections += 1);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let down = tokio::io::copy(&mut server_read, &mut client_write);
    let up = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            loop {
                match shared.decide(n) {
                    Step::Forward => {
                        if server_write.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                        shared.stats.send_modify(|s| s.forwarded += n as u64);
                        break;
                    }
                    Step::Wait => {
                        shared.stats.send_modify(|s| s.held += 1);
                        let mut plan = shared.plan.subscribe();
                        let _ = plan.wait_for(|p| *p != Plan::Hold).await;
                        shared.stats.send_modify(|s| s.held -= 1);
                    }
                    Step::Hit { forward, stall } => {
                        let _ = server_write.write_all(&buf[..forward]).await;
                        shared.stats.send_modify(|s| {
                            s.forwarded += forward as u64;
                            s.hits += 1;
                        });
                        // Swallow until the client gives up; closing then ends the server's
                        // request too.
                        while stall && matches!(client_read.read(&mut buf).await, Ok(n) if n > 0) {}
                        return;
                    }
                }
            }
        }
    };
    tokio::select! {
        _ = down => {}
        () = up => {}
    }
}
