//! The NotificationService in a child process (`lockbox-bench serve-notification`), so the
//! connection measure reads the RSS of the service alone, not of the 10 000 clients too.
//! The child prints `listening <addr>` and serves until its stdin closes.

use std::{path::PathBuf, process::Stdio, time::Duration};

use lockbox_broker::BrokerConfig;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader},
    process::{Child, ChildStdin, Command},
};

use crate::{BenchError, error::within, world};

/// Runs in the child: the service on 127.0.0.1:0 with the given names and data dir.
pub async fn serve(prefix: String, data_dir: PathBuf) -> Result<(), BenchError> {
    world::raise_nofile();
    let mut config = lockbox_notification::config::Config::new(data_dir);
    config.token_secret = world::SECRET.into();
    config.broker = BrokerConfig { prefix, connection_name: format!("lockbox-bench-child-{}", std::process::id()), ..BrokerConfig::from_env() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(BenchError::io("binding 127.0.0.1:0"))?;
    let addr = listener.local_addr().map_err(BenchError::io("the listener's address"))?;
    println!("listening {addr}");
    let stdin_closed = async {
        let mut sink = Vec::new();
        let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    };
    lockbox_notification::run(listener, config, stdin_closed).await.map_err(|e| BenchError::Child(e.to_string()))
}

/// The parent's handle on a child service.
pub struct ChildService {
    pub addr: std::net::SocketAddr,
    pub pid: u32,
    child: Child,
    stdin: Option<ChildStdin>,
    _dir: tempfile::TempDir,
}

impl ChildService {
    pub async fn start(exe: &std::path::Path, prefix: &str) -> Result<Self, BenchError> {
        let dir = tempfile::Builder::new().prefix("lockbox-bench-child-").tempdir().map_err(BenchError::io("a temp dir"))?;
        let mut child = Command::new(exe)
            .arg("serve-notification")
            .arg("--prefix")
            .arg(prefix)
            .arg("--data-dir")
            .arg(dir.path().join("notification"))
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(BenchError::io(format!("starting {} serve-notification", exe.display())))?;
        let pid = child.id().ok_or_else(|| BenchError::Child("exited at once".into()))?;
        let stdout = child.stdout.take().ok_or_else(|| BenchError::Child("no stdout".into()))?;
        let mut lines = BufReader::new(stdout).lines();
        let line = within(Duration::from_secs(30), "the child service to listen", lines.next_line())
            .await?
            .map_err(BenchError::io("the child's stdout"))?
            .ok_or_else(|| BenchError::Child("exited before listening".into()))?;
        let addr = line
            .strip_prefix("listening ")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| BenchError::Child(format!("said {line:?} instead of `listening <addr>`")))?;
        let stdin = child.stdin.take();
        Ok(Self { addr, pid, child, stdin, _dir: dir })
    }

    /// Closes its stdin (a graceful stop) and waits for it to exit cleanly.
    pub async fn stop(mut self) -> Result<(), BenchError> {
        drop(self.stdin.take());
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(BenchError::Child(format!("exited with {status}"))),
            Ok(Err(e)) => Err(BenchError::Child(e.to_string())),
            Err(_) => {
                let _ = self.child.kill().await;
                Err(BenchError::Child("did not stop within 30 s of its stdin closing".into()))
            }
        }
    }
}
