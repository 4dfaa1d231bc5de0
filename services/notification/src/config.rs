//! Configuration, merged CLI > environment > TOML file > defaults.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Parser;
use lockbox_broker::BrokerConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Parser)]
#[command(name = "lockbox-notification", version, about = "LockBox NotificationService")]
struct Cli {
    /// TOML config file; CLI flags and environment variables override it.
    #[arg(long, env = "LOCKBOX_NS_CONFIG")]
    config: Option<PathBuf>,
    /// Print the merged configuration and exit.
    #[arg(long)]
    dump_config: bool,
    /// Address to listen on.
    #[arg(long, env = "LOCKBOX_NS_LISTEN")]
    listen: Option<SocketAddr>,
    /// Where the notification database lives.
    #[arg(long, env = "LOCKBOX_NS_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// RabbitMQ URL.
    #[arg(long, env = "LOCKBOX_AMQP_URL")]
    amqp_url: Option<String>,
    /// Prefix for every exchange and queue name.
    #[arg(long, env = "LOCKBOX_AMQP_PREFIX")]
    amqp_prefix: Option<String>,
    /// How many unacknowledged deliveries the consumer holds at once.
    #[arg(long, env = "LOCKBOX_NS_PREFETCH")]
    prefetch: Option<u16>,
    /// Notifications older than this many days are deleted.
    #[arg(long, env = "LOCKBOX_NS_RETENTION_DAYS")]
    retention_days: Option<u32>,
    /// Frames buffered per stream connection before a slow client is closed.
    #[arg(long, env = "LOCKBOX_NS_STREAM_BUFFER")]
    stream_buffer: Option<usize>,
    /// Seconds between heartbeats on each stream connection.
    #[arg(long, env = "LOCKBOX_NS_HEARTBEAT_SECS")]
    heartbeat_secs: Option<u64>,
    // The token secret has no flag on purpose: a flag would show it in `ps`.
}

/// The file form: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    token_secret: Option<String>,
    prefetch: Option<u16>,
    retention_days: Option<u32>,
    stream_buffer: Option<usize>,
    heartbeat_secs: Option<u64>,
    quota_warning_percent: Option<u8>,
    broker: Option<BrokerConfig>,
}

/// The merged configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// The HS256 secret shared with the FileStorageService (`LOCKBOX_TOKEN_SECRET`).
    pub token_secret: String,
    /// Unacknowledged deliveries held at once; more lets the broker stream ahead of the store.
    pub prefetch: u16,
    /// Days a notification is kept (counted from its event's timestamp).
    pub retention_days: u32,
    /// Frames a stream connection may lag behind before it is closed as too slow.
    pub stream_buffer: usize,
    /// Seconds between heartbeats; a peer silent for three intervals is closed as dead.
    pub heartbeat_secs: u64,
    /// The threshold the FileStorageService warns at; events carry no number, so the
    /// default text needs it from here.
    pub quota_warning_percent: u8,
    pub broker: BrokerConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, #[source] source: std::io::Error },
    #[error("config file {path} is not valid: {source}")]
    Parse { path: PathBuf, #[source] source: toml::de::Error },
}

/// The environment variable holding the token secret.
pub const TOKEN_SECRET_ENV: &str = "LOCKBOX_TOKEN_SECRET";

impl Config {
    pub const DEFAULT_LISTEN: &str = "127.0.0.1:8720";

    /// Defaults for a service on this machine, with data under `data_dir`. The token secret is
    /// empty: set it (the service refuses to start without one).
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            listen: Self::DEFAULT_LISTEN.parse().unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8720))),
            data_dir,
            token_secret: String::new(),
            prefetch: 64,
            retention_days: 365,
            stream_buffer: 256,
            heartbeat_secs: 15,
            quota_warning_percent: 90,
            broker: BrokerConfig::default(),
        }
    }

    pub fn heartbeat_interval(&self) -> Duration {
        Duration::from_secs(self.heartbeat_secs.max(1))
    }

    pub fn retention(&self) -> chrono::Duration {
        chrono::Duration::days(i64::from(self.retention_days))
    }

    /// Parses the process's arguments and environment. `Ok(None)`: `--dump-config` printed
    /// the configuration and the process should exit.
    pub fn load() -> Result<Option<Self>, ConfigError> {
        let cli = Cli::parse();
        let file = match &cli.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigError::Read { path: path.clone(), source })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.clone(), source })?
            }
            None => FileConfig::default(),
        };
        let mut config = Self::new(PathBuf::from("lockbox-data/notification"));
        config.broker = file.broker.unwrap_or_default();
        if let Some(listen) = cli.listen.or(file.listen) {
            config.listen = listen;
        }
        if let Some(dir) = cli.data_dir.or(file.data_dir) {
            config.data_dir = dir;
        }
        if let Some(secret) = std::env::var(TOKEN_SECRET_ENV).ok().or(file.token_secret) {
            config.token_secret = secret;
        }
        if let Some(prefetch) = cli.prefetch.or(file.prefetch) {
            config.prefetch = prefetch;
        }
        if let Some(days) = cli.retention_days.or(file.retention_days) {
            config.retention_days = days;
        }
        if let Some(buffer) = cli.stream_buffer.or(file.stream_buffer) {
            config.stream_buffer = buffer.max(1);
        }
        if let Some(secs) = cli.heartbeat_secs.or(file.heartbeat_secs) {
            config.heartbeat_secs = secs.max(1);
        }
        if let Some(percent) = file.quota_warning_percent {
            config.quota_warning_percent = percent;
        }
        if let Some(url) = cli.amqp_url {
            config.broker.amqp_url = url;
        }
        if let Some(prefix) = cli.amqp_prefix {
            config.broker.prefix = prefix;
        }
        config.broker.connection_name = "lockbox-notification".into();
        if cli.dump_config {
            let mut shown = config.clone();
            shown.broker.amqp_url = shown.broker.redacted_url();
            if !shown.token_secret.is_empty() {
                shown.token_secret = "***".into();
            }
            println!("{}", toml::to_string_pretty(&shown).unwrap_or_default());
            return Ok(None);
        }
        Ok(Some(config))
    }
}
