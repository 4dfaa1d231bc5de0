//! The real parts every measure uses: services in-process on `127.0.0.1:0` with data in temp
//! dirs, tokens, broker names of their own on the real RabbitMQ, a TCP proxy that can hold the
//! broker away, and the RSS of a process.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use lockbox_auth::TokenKey;
use lockbox_broker::{BrokerConfig, testing};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use crate::BenchError;

/// The secret both services verify tokens with (the bench mints its own).
pub const SECRET: &str = "lockbox-bench-secret-lockbox-bench-secret";
/// How long any single wait may take before the bench gives up with a named timeout.
pub const WAIT: Duration = Duration::from_secs(120);

pub fn token(user: &str) -> Result<String, BenchError> {
    let key = TokenKey::new(SECRET).map_err(|source| BenchError::Token { source })?;
    key.mint(user, Duration::from_secs(24 * 3600)).map_err(|source| BenchError::Token { source })
}

/// Names of its own on the real broker; reconnects fast (the proxy comes and goes).
pub fn broker(name: &str) -> BrokerConfig {
    BrokerConfig {
        reconnect_min: Duration::from_millis(20),
        reconnect_max: Duration::from_millis(100),
        ..testing::isolated_config(&format!("bench-{name}"))
    }
}

/// Incompressible-enough deterministic content.
pub fn content(len: usize, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A service running in this process.
pub struct Running {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), String>>,
    name: &'static str,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Graceful stop; the service must end cleanly. Returns its data dir, removed on drop.
    pub async fn stop(mut self) -> Result<tempfile::TempDir, BenchError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let name = self.name;
        match crate::error::within(WAIT, format!("the {name} service to stop"), &mut self.task).await? {
            Ok(Ok(())) => Ok(self.dir),
            Ok(Err(message)) => Err(BenchError::Service { service: name, message }),
            Err(join) => Err(BenchError::Service { service: name, message: join.to_string() }),
        }
    }
}

async fn listener() -> Result<(TcpListener, SocketAddr), BenchError> {
    let listener = TcpListener::bind("127.0.0.1:0").await.map_err(BenchError::io("binding 127.0.0.1:0"))?;
    let addr = listener.local_addr().map_err(BenchError::io("the listener's address"))?;
    Ok((listener, addr))
}

fn tempdir() -> Result<tempfile::TempDir, BenchError> {
    tempfile::Builder::new().prefix("lockbox-bench-").tempdir().map_err(BenchError::io("a temp dir"))
}

/// The FileStorageService with room for the bench's uploads.
pub async fn file_storage(broker: BrokerConfig) -> Result<Running, BenchError> {
    let dir = tempdir()?;
    let mut config = lockbox_file_storage::config::Config::new(dir.path().join("data"));
    config.token_secret = SECRET.into();
    config.broker = broker;
    config.quota_bytes = 1 << 40;
    config.max_file_bytes = 1 << 36;
    let (listener, addr) = listener().await?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        lockbox_file_storage::run(listener, config, async move {
            let _ = stopped.await;
        })
        .await
        .map_err(|e| e.to_string())
    });
    Ok(Running { addr, dir, stop: Some(stop), task, name: "file-storage" })
}

/// The NotificationService with the service's defaults.
pub async fn notification(broker: BrokerConfig) -> Result<Running, BenchError> {
    let dir = tempdir()?;
    let mut config = lockbox_notification::config::Config::new(dir.path().join("notification"));
    config.token_secret = SECRET.into();
    config.broker = broker;
    let (listener, addr) = listener().await?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        lockbox_notification::run(listener, config, async move {
            let _ = stopped.await;
        })
        .await
        .map_err(|e| e.to_string())
    });
    Ok(Running { addr, dir, stop: Some(stop), task, name: "notification" })
}

/// The host:port of an AMQP URL (for the proxy to forward to).
pub fn amqp_addr(url: &str) -> Result<SocketAddr, BenchError> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let hostport = rest.split('/').next().unwrap_or("127.0.0.1:5672").replace("localhost", "127.0.0.1");
    let hostport = if hostport.contains(':') { hostport } else { format!("{hostport}:5672") };
    hostport.parse().map_err(|_| BenchError::Invalid(format!("cannot read host:port from the AMQP URL {url}")))
}

/// The same AMQP URL pointed at another host:port.
pub fn amqp_via(url: &str, via: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("amqp", url));
    let (auth, rest) = rest.rsplit_once('@').map_or(("", rest), |(a, r)| (a, r));
    let path = rest.split_once('/').map_or("", |(_, p)| p);
    let at = if auth.is_empty() { String::new() } else { format!("{auth}@") };
    format!("{scheme}://{at}{via}/{path}")
}

/// A TCP proxy to the broker that drops connections while "down": events wait in the outbox.
pub struct Proxy {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Result<Self, BenchError> {
        let (listener, addr) = listener().await?;
        let up = Arc::new(AtomicBool::new(false));
        let state = up.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !state.load(Ordering::SeqCst) {
                    continue; // dropped: the client sees the broker as unreachable
                }
                let _ = inbound.set_nodelay(true);
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = outbound.set_nodelay(true);
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Ok(Self { addr, up, task })
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

/// Resident set size of a process, in KiB (`/proc/<pid>/status`, VmRSS).
pub fn rss_kib(pid: u32) -> Result<u64, BenchError> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(BenchError::io(path.clone()))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| BenchError::Invalid(format!("no VmRSS in {path}")))
}

/// Raises this process's open-file limit to its hard limit (10 000 sockets each way).
pub fn raise_nofile() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read/write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
    }
    limit.rlim_cur
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amqp_urls() {
        let url = "amqp://guest:guest@localhost:5672/%2f";
        assert_eq!(amqp_addr(url).expect("parses"), "127.0.0.1:5672".parse().expect("addr"));
        assert_eq!(amqp_via(url, "127.0.0.1:1234".parse().expect("addr")), "amqp://guest:guest@127.0.0.1:1234/%2f");
    }
}
