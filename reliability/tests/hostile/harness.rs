//! The hostile-input scenario's harness: both services in-process, the attack's parties, and
//! the tally of attempts and refusals.

use std::{collections::BTreeMap, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
use lockbox_auth::{Claims, TokenKey};
use lockbox_broker::{BrokerConfig, testing};
use lockbox_client::stream::{NotificationClient, StreamConnection};
use lockbox_events::{FrameBody, Notification};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub const SECRET: &str = "hostile-input-secret-0123456789abcdef!";
pub const WAIT: Duration = Duration::from_secs(30);
pub const MAX_FILE: u64 = 1 << 20;
pub const QUOTA: u64 = 2 << 20;

/// Every attempt by category, and how many were refused (or, for names, neutralised).
#[derive(Default)]
pub struct Tally {
    pub by_kind: BTreeMap<&'static str, (u64, u64)>,
    /// Responses to mallory that carried one of alice's markers.
    pub leaks: u64,
}

impl Tally {
    pub fn attempt(&mut self, kind: &'static str, refused: bool) {
        let entry = self.by_kind.entry(kind).or_default();
        entry.0 += 1;
        entry.1 += u64::from(refused);
    }

    pub fn totals(&self) -> (u64, u64) {
        self.by_kind.values().fold((0, 0), |(a, r), (x, y)| (a + x, r + y))
    }

    pub fn notes(&self) -> String {
        let parts: Vec<String> = self.by_kind.iter().map(|(k, (a, r))| format!("{k} {r}/{a}")).collect();
        let (attempts, refused) = self.totals();
        format!(
            "{refused}/{attempts} hostile requests refused with a 4xx and a JSON error saying why, \
             or answered with nothing of the other user's (lists, read requests, OPTIONS, a short body \
             kept as a partial upload), or stored under a cleaned display name (names): {}; \
             {} responses carried another user's data",
            parts.join(", "),
            self.leaks
        )
    }
}

/// What alice has, which no response to mallory may contain.
pub struct Secrets {
    pub user: String,
    pub file_id: String,
    pub file_name: String,
    pub content: String,
    pub upload_url: String,
    pub notification: Notification,
}

impl Secrets {
    pub fn markers(&self) -> [&str; 4] {
        [&self.user, &self.file_id, &self.file_name, &self.content]
    }
}

/// One service running in this process.
pub struct Running<E> {
    pub addr: std::net::SocketAddr,
    pub stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<Result<(), E>>,
}

impl<E: std::fmt::Debug> Running<E> {
    pub async fn start<F>(serve: impl FnOnce(TcpListener, futures_util::future::BoxFuture<'static, ()>) -> F) -> Self
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(
            listener,
            Box::pin(async move {
                let _ = stopped.await;
            }),
        ));
        Self {
            addr,
            stop: Some(stop),
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let result = tokio::time::timeout(WAIT, self.task)
            .await
            .expect("the service stops in time");
        result.expect("the service task").expect("the service ends cleanly");
    }
}

pub struct World {
    pub http: reqwest::Client,
    pub files: Running<lockbox_file_storage::ServeError>,
    pub notes: Running<lockbox_notification::ServeError>,
    pub key: TokenKey,
    pub broker: BrokerConfig,
    pub dir: tempfile::TempDir,
}

impl World {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let broker = testing::isolated_config("hostile");
        let mut fs_config = lockbox_file_storage::config::Config::new(dir.path().join("files"));
        fs_config.token_secret = SECRET.into();
        fs_config.broker = broker.clone();
        fs_config.max_file_bytes = MAX_FILE;
        fs_config.quota_bytes = QUOTA;
        let mut ns_config = lockbox_notification::config::Config::new(dir.path().join("notifications"));
        ns_config.token_secret = SECRET.into();
        ns_config.broker = broker.clone();
        let files = Running::start(move |l, stop| lockbox_file_storage::run(l, fs_config, stop)).await;
        let notes = Running::start(move |l, stop| lockbox_notification::run(l, ns_config, stop)).await;
        Self {
            http: reqwest::Client::new(),
            files,
            notes,
            key: TokenKey::new(SECRET).expect("key"),
            broker,
            dir,
        }
    }

    pub fn token(&self, user: &str) -> String {
        self.key.mint(user, Duration::from_secs(3600)).expect("mint")
    }

    pub fn stream_client(&self, user: &str) -> NotificationClient {
        NotificationClient::new(format!("http://{}", self.notes.addr), self.token(user))
    }

    pub fn tus(&self, method: Method, url: &str, token: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(token)
            .header("tus-resumable", "1.0.0")
    }

    /// A complete one-request upload (creation-with-upload); returns the response.
    pub async fn upload(&self, token: &str, name: &str, body: &[u8]) -> reqwest::Response {
        self.tus(Method::POST, &self.files.url("/v1/uploads"), token)
            .header("upload-length", body.len())
            .header("upload-metadata", format!("filename {}", STANDARD.encode(name)))
            .header("content-type", "application/offset+octet-stream")
            .header(
                "upload-checksum",
                format!("sha256 {}", STANDARD.encode(Sha256::digest(body))),
            )
            .body(body.to_vec())
            .send()
            .await
            .expect("upload request")
    }

    /// An upload of `length` bytes with nothing sent yet; returns its URL.
    pub async fn created(&self, token: &str, length: u64) -> String {
        let response = self
            .tus(Method::POST, &self.files.url("/v1/uploads"), token)
            .header("upload-length", length)
            .send()
            .await
            .expect("create request");
        assert_eq!(response.status(), StatusCode::CREATED, "{:?}", response.text().await);
        self.files
            .url(response.headers()["location"].to_str().expect("ascii location"))
    }

    pub async fn offset(&self, token: &str, url: &str) -> u64 {
        let response = self.tus(Method::HEAD, url, token).send().await.expect("HEAD");
        assert_eq!(response.status(), StatusCode::OK, "HEAD {url}");
        response.headers()["upload-offset"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("a number")
    }

    /// A PATCH of `body` at `offset`, with `Upload-Checksum: <checksum>` if given.
    pub async fn patch(
        &self,
        token: &str,
        url: &str,
        offset: u64,
        body: &[u8],
        checksum: Option<String>,
    ) -> reqwest::Result<reqwest::Response> {
        let mut request = self
            .tus(Method::PATCH, url, token)
            .header("content-type", "application/offset+octet-stream")
            .header("upload-offset", offset);
        if let Some(checksum) = checksum {
            request = request.header("upload-checksum", checksum);
        }
        request.body(body.to_vec()).send().await
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/v1/stream?since=0", self.notes.addr)
    }

    pub async fn file_count(&self, token: &str) -> usize {
        let response = self
            .http
            .get(self.files.url("/v1/files"))
            .bearer_auth(token)
            .send()
            .await
            .expect("list");
        let body: Value = response.json().await.expect("JSON list");
        body["files"].as_array().expect("files array").len()
    }
}

/// Checks a refusal: the expected status, and (but for HEAD) a JSON body naming the fault
/// with `code` and a message; counts it, and counts a leak if any of alice's markers shows.
pub async fn refused(
    tally: &mut Tally,
    secrets: &Secrets,
    kind: &'static str,
    what: &str,
    response: reqwest::Response,
    status: StatusCode,
    code: &str,
) -> Value {
    let got = response.status();
    let headers = format!("{:?}", response.headers());
    let text = response.text().await.expect("response body");
    if secrets
        .markers()
        .iter()
        .any(|m| text.contains(m) || headers.contains(m))
    {
        tally.leaks += 1;
    }
    let body: Value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    let clear = got == status
        && (text.is_empty() && got.is_client_error()
            || body["error"] == code && body["message"].as_str().is_some_and(|m| m.len() > 10));
    tally.attempt(kind, clear);
    assert!(clear, "{what}: expected {status} {code}, got {got} {text}");
    body
}

/// A token the right key signed but that expired a minute ago, or names nobody.
pub fn signed(claims: &Claims) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()).expect("an HS256 key"),
    )
    .expect("encode a JWT")
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// The next notification frame on a connection (heartbeats skipped).
pub async fn next_notification(conn: &mut StreamConnection) -> Notification {
    loop {
        let frame = tokio::time::timeout(WAIT, conn.next_frame())
            .await
            .expect("a frame within the timeout")
            .expect("no stream error")
            .expect("the stream stays open");
        match frame.body {
            FrameBody::Notification { notification } => return notification,
            FrameBody::Heartbeat { .. } => continue,
            other => panic!("expected a notification, got {other:?}"),
        }
    }
}

/// Who attacks whom: mallory (`token`) against alice's things.
pub struct Attack<'a> {
    pub world: &'a World,
    /// Every refusal is scanned for these markers of alice's.
    pub secrets: &'a Secrets,
    pub alice: &'a str,
    pub mallory: &'a str,
    pub alice_token: &'a str,
    pub token: &'a str,
}
