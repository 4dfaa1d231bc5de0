//! Configuration, merged CLI > environment > TOML file > defaults.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Parser;
use lockbox_broker::BrokerConfig;
use serde::{Deserialize, Serialize};

const GIB: u64 = 1024 * 1024 * 1024;

#[derive(Debug, Parser)]
#[command(name = "lockbox-file-storage", version, about = "LockBox FileStorageService")]
struct Cli {
    /// TOML config file; CLI flags and environment variables override it.
    #[arg(long, env = "LOCKBOX_FS_CONFIG")]
    config: Option<PathBuf>,
    /// Print the merged configuration and exit.
    #[arg(long)]
    dump_config: bool,
    /// Address to listen on.
    #[arg(long, env = "LOCKBOX_FS_LISTEN")]
    listen: Option<SocketAddr>,
    /// Where blobs and the metadata database live.
    #[arg(long, env = "LOCKBOX_FS_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// RabbitMQ URL.
    #[arg(long, env = "LOCKBOX_AMQP_URL")]
    amqp_url: Option<String>,
    /// Prefix for every exchange and queue name.
    #[arg(long, env = "LOCKBOX_AMQP_PREFIX")]
    amqp_prefix: Option<String>,
    /// The HS256 secret bearer tokens are verified with (at least 32 bytes).
    #[arg(long, env = "LOCKBOX_TOKEN_SECRET", hide_env_values = true)]
    token_secret: Option<String>,
    /// Per-user quota in bytes.
    #[arg(long, env = "LOCKBOX_FS_QUOTA_BYTES")]
    quota_bytes: Option<u64>,
    /// Largest accepted file in bytes (`Tus-Max-Size`).
    #[arg(long, env = "LOCKBOX_FS_MAX_FILE_BYTES")]
    max_file_bytes: Option<u64>,
    /// Seconds after which an unfinished upload expires and its data is removed.
    #[arg(long, env = "LOCKBOX_FS_UPLOAD_EXPIRY_SECS")]
    upload_expiry_secs: Option<u64>,
    /// Files up to this many bytes sent whole in one creation-with-upload are kept in the
    /// metadata database instead of a blob file (0: never).
    #[arg(long, env = "LOCKBOX_FS_INLINE_MAX_BYTES")]
    inline_max_bytes: Option<u64>,
}

/// The file form: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    token_secret: Option<String>,
    quota_bytes: Option<u64>,
    max_file_bytes: Option<u64>,
    upload_expiry_secs: Option<u64>,
    inline_max_bytes: Option<u64>,
    reap_interval_ms: Option<u64>,
    idle_timeout_ms: Option<u64>,
    shutdown_drain_ms: Option<u64>,
    outbox_batch: Option<u32>,
    quota_warning_ratio: Option<f64>,
    broker: Option<BrokerConfig>,
}

/// The merged configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Shared with the NotificationService and the CLI; never printed.
    #[serde(serialize_with = "redacted")]
    pub token_secret: String,
    pub quota_bytes: u64,
    pub max_file_bytes: u64,
    /// Files up to this size that arrive whole in one creation-with-upload are kept in the
    /// metadata database: for small files that is far cheaper than a new durable file.
    pub inline_max_bytes: u64,
    /// `Upload-Expires` is creation time plus this.
    #[serde(rename = "upload_expiry_secs", with = "secs")]
    pub upload_expiry: Duration,
    /// How often expired uploads are swept.
    #[serde(rename = "reap_interval_ms", with = "millis")]
    pub reap_interval: Duration,
    /// How long a PATCH may wait for the next body bytes (or for another request on the same
    /// upload) before what arrived is kept and the request ends.
    #[serde(rename = "idle_timeout_ms", with = "millis")]
    pub idle_timeout: Duration,
    /// How long shutdown waits for the relay to publish what the last requests committed.
    #[serde(rename = "shutdown_drain_ms", with = "millis")]
    pub shutdown_drain: Duration,
    /// Outbox rows published per round: how many confirms may be in flight at once.
    pub outbox_batch: u32,
    /// Share of the quota whose crossing publishes `storage.quota_warning`.
    pub quota_warning_ratio: f64,
    pub broker: BrokerConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, #[source] source: std::io::Error },
    #[error("config file {path} is not valid: {source}")]
    Parse { path: PathBuf, #[source] source: toml::de::Error },
}

impl Config {
    pub const DEFAULT_LISTEN: &str = "127.0.0.1:8710";

    /// Defaults for a service on this machine, with data under `data_dir`. The token secret is
    /// empty, which [`crate::run`] refuses: set one.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            listen: Self::DEFAULT_LISTEN.parse().unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8710))),
            data_dir,
            token_secret: String::new(),
            quota_bytes: 10 * GIB,
            max_file_bytes: 5 * GIB,
            inline_max_bytes: 64 * 1024,
            upload_expiry: Duration::from_secs(24 * 3600),
            reap_interval: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            shutdown_drain: Duration::from_secs(5),
            outbox_batch: 256,
            quota_warning_ratio: 0.9,
            broker: BrokerConfig::default(),
        }
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
        let mut config = Self::new(PathBuf::from("lockbox-data/file-storage"));
        config.broker = file.broker.unwrap_or_default();
        if let Some(listen) = cli.listen.or(file.listen) {
            config.listen = listen;
        }
        if let Some(dir) = cli.data_dir.or(file.data_dir) {
            config.data_dir = dir;
        }
        if let Some(secret) = cli.token_secret.or(file.token_secret) {
            config.token_secret = secret;
        }
        if let Some(quota) = cli.quota_bytes.or(file.quota_bytes) {
            config.quota_bytes = quota;
        }
        if let Some(max) = cli.max_file_bytes.or(file.max_file_bytes) {
            config.max_file_bytes = max;
        }
        if let Some(max) = cli.inline_max_bytes.or(file.inline_max_bytes) {
            config.inline_max_bytes = max;
        }
        if let Some(secs) = cli.upload_expiry_secs.or(file.upload_expiry_secs) {
            config.upload_expiry = Duration::from_secs(secs);
        }
        if let Some(ms) = file.reap_interval_ms {
            config.reap_interval = Duration::from_millis(ms);
        }
        if let Some(ms) = file.idle_timeout_ms {
            config.idle_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = file.shutdown_drain_ms {
            config.shutdown_drain = Duration::from_millis(ms);
        }
        if let Some(ratio) = file.quota_warning_ratio {
            config.quota_warning_ratio = ratio.clamp(0.0, 1.0);
        }
        if let Some(batch) = file.outbox_batch {
            config.outbox_batch = batch.max(1);
        }
        if let Some(url) = cli.amqp_url {
            config.broker.amqp_url = url;
        }
        if let Some(prefix) = cli.amqp_prefix {
            config.broker.prefix = prefix;
        }
        config.broker.connection_name = "lockbox-file-storage".into();
        if cli.dump_config {
            let mut shown = config.clone();
            shown.broker.amqp_url = shown.broker.redacted_url();
            println!("{}", toml::to_string_pretty(&shown).unwrap_or_default());
            return Ok(None);
        }
        Ok(Some(config))
    }
}

fn redacted<S: serde::Serializer>(secret: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if secret.is_empty() { "" } else { "***" })
}

/// Durations in the dump under the same keys and units as in the file, so a dump can be
/// used as a config file (with the real secret put back).
mod secs {
    use std::time::Duration;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }
}

mod millis {
    use std::time::Duration;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}
