//! Shared by the integration tests: a real service on `127.0.0.1:0` with its data in a temp
//! dir and its own exchange/queue prefix on the real RabbitMQ, a consumer of its events, and
//! raw HTTP helpers.
#![allow(dead_code)]

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use base64::{Engine, engine::general_purpose::STANDARD};
use lockbox_auth::TokenKey;
use lockbox_broker::{Broker, BrokerConfig, ConsumerSpec, Deliveries, Incoming, Names, testing};
use lockbox_events::FileMessageData;
use lockbox_file_storage::{config::Config, run};
use sha2::{Digest, Sha256};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub const SECRET: &str = "test-secret-test-secret-test-secret!";
pub const WAIT: Duration = Duration::from_secs(20);

pub fn key() -> TokenKey {
    TokenKey::new(SECRET).unwrap()
}

pub fn token(user: &str) -> String {
    key().mint(user, Duration::from_secs(3600)).unwrap()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub fn sha256_b64(bytes: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(bytes))
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
pub struct Service {
    pub addr: SocketAddr,
    pub url: String,
    pub dir: tempfile::TempDir,
    pub broker: BrokerConfig,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), lockbox_file_storage::ServeError>>>,
}

impl Service {
    /// Starts the service on an isolated broker prefix; `tweak` adjusts the config.
    pub async fn start(test: &str, tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start_with_broker(testing::isolated_config(test), tweak).await
    }

    pub async fn start_with_broker(broker: BrokerConfig, tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start_in(tempfile::tempdir().unwrap(), broker, tweak).await
    }

    async fn start_in(dir: tempfile::TempDir, broker: BrokerConfig, tweak: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::new(dir.path().join("data"));
        config.token_secret = SECRET.into();
        config.broker = broker.clone();
        tweak(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run(listener, config, async move {
            let _ = stopped.await;
        }));
        Self { addr, url: format!("http://{addr}"), dir, broker, http: reqwest::Client::new(), stop: Some(stop), task: Some(task) }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Stops gracefully, checks `run` returned Ok, and removes the test's topology.
    pub async fn stop(self) {
        let broker = self.broker.clone();
        self.shut_down().await;
        testing::delete_topology(&broker).await;
    }

    /// Signals shutdown without waiting (requests in flight go on).
    pub fn signal_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops gracefully and keeps the data dir (returned) and the topology, for a restart.
    pub async fn shut_down(mut self) -> tempfile::TempDir {
        self.signal_stop();
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
        let Service { dir, .. } = self;
        dir
    }

    /// Starts again on the data dir of a stopped service.
    pub async fn restart(dir: tempfile::TempDir, broker: BrokerConfig) -> Self {
        Self::start_in(dir, broker, |_| {}).await
    }

    /// Files left in a data subdirectory (recursively).
    pub fn files_in(&self, sub: &str) -> Vec<PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() { walk(&path, out) } else { out.push(path) }
            }
        }
        let mut out = Vec::new();
        walk(&self.data().join(sub), &mut out);
        out
    }

    /// A tus POST with optional body (creation-with-upload).
    pub async fn create(&self, token: &str, length: u64, name: Option<&str>) -> reqwest::Response {
        let mut request = self
            .http
            .post(self.at("/v1/uploads"))
            .bearer_auth(token)
            .header("tus-resumable", "1.0.0")
            .header("upload-length", length);
        if let Some(name) = name {
            request = request.header("upload-metadata", format!("filename {}", STANDARD.encode(name)));
        }
        request.send().await.unwrap()
    }

    /// A tus POST carrying `body` (creation-with-upload), with a SHA-256 `Upload-Checksum`
    /// (base64) when given.
    pub async fn create_with(&self, token: &str, name: &str, length: u64, body: Vec<u8>, checksum: Option<String>) -> reqwest::Response {
        let mut request = self
            .http
            .post(self.at("/v1/uploads"))
            .bearer_auth(token)
            .header("tus-resumable", "1.0.0")
            .header("upload-length", length)
            .header("upload-metadata", format!("filename {}", STANDARD.encode(name)))
            .header("content-type", "application/offset+octet-stream");
        if let Some(checksum) = checksum {
            request = request.header("upload-checksum", format!("sha256 {checksum}"));
        }
        request.body(body).send().await.unwrap()
    }

    /// Creates an upload and returns its absolute URL.
    pub async fn create_ok(&self, token: &str, length: u64, name: &str) -> String {
        let response = self.create(token, length, Some(name)).await;
        assert_eq!(response.status(), 201, "{:?}", response.text().await);
        self.at(response.headers()["location"].to_str().unwrap())
    }

    pub async fn patch(&self, token: &str, url: &str, offset: u64, body: Vec<u8>, checksum: Option<String>) -> reqwest::Response {
        let mut request = self
            .http
            .patch(url)
            .bearer_auth(token)
            .header("tus-resumable", "1.0.0")
            .header("content-type", "application/offset+octet-stream")
            .header("upload-offset", offset);
        if let Some(checksum) = checksum {
            request = request.header("upload-checksum", format!("sha256 {checksum}"));
        }
        request.body(body).send().await.unwrap()
    }

    pub async fn head(&self, token: &str, url: &str) -> reqwest::Response {
        self.http.head(url).bearer_auth(token).header("tus-resumable", "1.0.0").send().await.unwrap()
    }

    /// One-request upload; returns (file id, server sha256).
    pub async fn upload(&self, token: &str, name: &str, body: &[u8]) -> (String, String) {
        let url = self.create_ok(token, body.len() as u64, name).await;
        let response = self.patch(token, &url, 0, body.to_vec(), Some(sha256_b64(body))).await;
        assert_eq!(response.status(), 204, "{:?}", response.text().await);
        let h = response.headers();
        (h["lockbox-file-id"].to_str().unwrap().to_owned(), h["lockbox-sha256"].to_str().unwrap().to_owned())
    }

    pub async fn get_json(&self, token: &str, path: &str) -> (u16, serde_json::Value) {
        let response = self.http.get(self.at(path)).bearer_auth(token).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    pub async fn metric(&self, name: &str) -> f64 {
        let text = self.http.get(self.at("/metrics")).send().await.unwrap().text().await.unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("metric {name} not in:\n{text}"))
    }
}

/// A consumer of the service's events on the real broker (the NotificationService's queue,
/// with the service's prefix). Start it before the uploads so the queue exists.
pub struct Events {
    broker: Broker,
    deliveries: Deliveries,
}

impl Events {
    pub async fn start(config: &BrokerConfig) -> Self {
        let mut direct = config.clone();
        direct.amqp_url = BrokerConfig::from_env().amqp_url;
        direct.connection_name = format!("{}-consumer", config.connection_name);
        let mut builder = Broker::builder(direct);
        let deliveries = builder.consume(ConsumerSpec::new(Names::new(config.prefix.clone()).file_events_queue()));
        let broker = builder.start();
        broker.connected(WAIT).await.expect("the test consumer connects to RabbitMQ (is it running? ./scripts/test.sh starts one)");
        Self { broker, deliveries }
    }

    /// The next event, acknowledged.
    pub async fn next(&mut self) -> (Incoming, FileMessageData, serde_json::Value) {
        let incoming = tokio::time::timeout(WAIT, self.deliveries.recv())
            .await
            .expect("an event within the timeout")
            .expect("the consumer is running");
        incoming.ack().await.unwrap();
        let event = FileMessageData::try_from(&incoming).unwrap();
        let json: serde_json::Value = serde_json::from_slice(incoming.body()).unwrap();
        (incoming, event, json)
    }

    /// Asserts no event arrives within `within` (used after every expected one was seen).
    pub async fn none(&mut self, within: Duration) {
        if let Ok(Some(extra)) = tokio::time::timeout(within, self.deliveries.recv()).await {
            panic!("unexpected event: {}", String::from_utf8_lossy(extra.body()));
        }
    }

    pub async fn stop(self) {
        self.broker.shutdown().await;
    }
}

/// The exact key sets of the seed's messages.
pub fn assert_seed_keys(json: &serde_json::Value) {
    let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["event_type", "file", "source", "timestamp", "user_id"]);
    if let Some(file) = json["file"].as_object() {
        let mut keys: Vec<_> = file.keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["id", "name", "timestamp"]);
    } else {
        assert!(json["file"].is_null());
    }
}

/// Polls `check` until it holds, failing after `WAIT` (for effects with no event to await,
/// like a sweep removing files).
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A TCP proxy to RabbitMQ that can be "down" (connections are dropped at once) or "up".
pub struct Proxy {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: SocketAddr, up: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let flag = Arc::new(AtomicBool::new(up));
        let state = flag.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !state.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Self { addr, up: flag, task }
    }

    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The host:port of `LOCKBOX_AMQP_URL`.
pub fn amqp_addr() -> SocketAddr {
    let url = BrokerConfig::from_env().amqp_url;
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(&url);
    let rest = rest.rsplit_once('@').map(|(_, r)| r).unwrap_or(rest);
    let hostport = rest.split('/').next().unwrap_or("127.0.0.1:5672");
    let hostport = if hostport.contains(':') { hostport.to_owned() } else { format!("{hostport}:5672") };
    let hostport = hostport.replace("localhost", "127.0.0.1");
    hostport.parse().unwrap()
}
