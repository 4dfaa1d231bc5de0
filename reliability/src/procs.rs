//! The real service binaries as child processes, for scenarios that SIGKILL them or measure
//! their memory alone. The binaries are built (or found fresh) once per test binary with
//! `cargo build --bins` in the profile the test runs in, so a plain `cargo test -p
//! lockbox-reliability` never runs a stale service.
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::Duration,
};

use lockbox_broker::BrokerConfig;

use crate::{SupportError, common::SECRET, wait};

/// Which service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    FileStorage,
    Notification,
}

impl Kind {
    fn binary(self) -> &'static str {
        match self {
            Kind::FileStorage => "lockbox-file-storage",
            Kind::Notification => "lockbox-notification",
        }
    }

    fn config_env(self) -> &'static str {
        match self {
            Kind::FileStorage => "LOCKBOX_FS_CONFIG",
            Kind::Notification => "LOCKBOX_NS_CONFIG",
        }
    }
}

/// Where this test binary's profile keeps its executables (`target/<profile>`).
fn profile_dir() -> Result<PathBuf, SupportError> {
    let exe = std::env::current_exe().map_err(SupportError::io("current_exe"))?;
    // target/<profile>/deps/<test>-<hash>
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| SupportError::Command { what: "locating target/<profile>".into(), detail: exe.display().to_string() })
}

/// Builds both service binaries once (a no-op when `cargo test --workspace` just built them).
fn built() -> Result<&'static PathBuf, SupportError> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let result = BUILT.get_or_init(|| {
        let dir = profile_dir().map_err(|e| e.to_string())?;
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let mut command = Command::new(&cargo);
        command.args(["build", "--quiet", "--bins", "-p", "lockbox-file-storage", "-p", "lockbox-notification", "--manifest-path"]);
        command.arg(&manifest);
        if dir.file_name().is_some_and(|n| n == "release") {
            command.arg("--release");
        }
        let status = command.status().map_err(|e| format!("cannot run {cargo}: {e}"))?;
        if !status.success() {
            return Err(format!("cargo build of the service binaries failed ({status}); run it by hand to see why"));
        }
        Ok(dir)
    });
    result.as_ref().map_err(|detail| SupportError::Command { what: "building the service binaries".into(), detail: detail.clone() })
}

/// A service running as a child process of the test.
pub struct ServiceProcess {
    pub kind: Kind,
    pub addr: SocketAddr,
    config_file: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    http: reqwest::Client,
    pub starts: u32,
}

/// What the config file holds besides the broker.
pub struct ProcessConfig<'a> {
    pub data_dir: &'a Path,
    pub broker: &'a BrokerConfig,
    /// Extra top-level keys (e.g. `idle_timeout_ms`).
    pub extra: toml::Table,
}

impl ServiceProcess {
    /// Writes the config next to `data_dir`, starts the binary on a free port and waits for
    /// `/healthz`.
    pub async fn start(kind: Kind, config: ProcessConfig<'_>) -> Result<Self, SupportError> {
        let port = crate::rabbit::free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let parent = config.data_dir.parent().unwrap_or(config.data_dir);
        let config_file = parent.join(format!("{}.toml", kind.binary()));
        let mut table = config.extra;
        table.insert("listen".into(), addr.to_string().into());
        table.insert("data_dir".into(), config.data_dir.display().to_string().into());
        table.insert("token_secret".into(), SECRET.into());
        let broker = toml::Table::try_from(config.broker)
            .map_err(|e| SupportError::Command { what: "writing the broker config".into(), detail: e.to_string() })?;
        table.insert("broker".into(), broker.into());
        std::fs::write(&config_file, table.to_string()).map_err(SupportError::io(&config_file))?;
        let mut service = Self {
            kind,
            addr,
            config_file,
            log: parent.join(format!("{}.log", kind.binary())),
            child: None,
            http: reqwest::Client::new(),
            starts: 0,
        };
        service.spawn().await?;
        Ok(service)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    async fn spawn(&mut self) -> Result<(), SupportError> {
        let binary = built()?.join(self.kind.binary());
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).map_err(SupportError::io(&self.log))?;
        let err = log.try_clone().map_err(SupportError::io(&self.log))?;
        let mut command = Command::new(&binary);
        // Everything comes from the config file; the test's environment must not override it.
        for var in ["LOCKBOX_AMQP_URL", "LOCKBOX_AMQP_PREFIX", "LOCKBOX_FS_LISTEN", "LOCKBOX_FS_DATA_DIR", "LOCKBOX_NS_LISTEN", "LOCKBOX_NS_DATA_DIR"] {
            command.env_remove(var);
        }
        command
            .env(self.kind.config_env(), &self.config_file)
            .env("LOCKBOX_TOKEN_SECRET", SECRET)
            .env("RUST_LOG", std::env::var("LOCKBOX_SERVICE_LOG").unwrap_or_else(|_| "info".into()))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err);
        let child = command.spawn().map_err(|source| SupportError::Spawn { program: binary.display().to_string(), source })?;
        tracing::info!(service = self.kind.binary(), pid = child.id(), addr = %self.addr, "service process started");
        self.child = Some(child);
        self.starts += 1;
        let url = format!("{}/healthz", self.url());
        let http = self.http.clone();
        wait::until(&format!("{} to answer /healthz (log: {})", self.kind.binary(), self.log.display()), Duration::from_secs(60), || {
            let (http, url) = (http.clone(), url.clone());
            async move { wait::http_ok(&http, &url).await.then_some(()) }
        })
        .await?;
        Ok(())
    }

    /// SIGKILL: no shutdown code runs, as in a crash or an OOM kill.
    pub fn kill(&mut self) -> Result<(), SupportError> {
        if let Some(mut child) = self.child.take() {
            child.kill().map_err(SupportError::io(self.kind.binary()))?;
            child.wait().map_err(SupportError::io(self.kind.binary()))?;
            tracing::info!(service = self.kind.binary(), "service process killed (SIGKILL)");
        }
        Ok(())
    }

    /// Starts the binary again with the same config (same port and data dir).
    pub async fn restart(&mut self) -> Result<(), SupportError> {
        self.kill()?;
        self.spawn().await
    }

    /// `/readyz` answers 200 (database and broker connected).
    pub async fn ready(&self) -> bool {
        wait::http_ok(&self.http, &format!("{}/readyz", self.url())).await
    }

    /// One sample of the service's `/metrics` (OpenMetrics text): the value of the line that
    /// starts with `series`, e.g. `lockbox_notification_events_total{outcome="duplicate"}`.
    pub async fn metric(&self, series: &str) -> Option<f64> {
        wait::metric(&self.http, &self.url(), series).await
    }

    /// Resident memory of the process, from `/proc/<pid>/status`.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}
