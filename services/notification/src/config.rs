//! Configuration, merged CLI > environment > TOML file > defaults.

use std::{net::SocketAddr, path::PathBuf};

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
}

/// The file form: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    broker: Option<BrokerConfig>,
}

/// The merged configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
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
    pub const DEFAULT_LISTEN: &str = "127.0.0.1:8720";

    /// Defaults for a service on this machine, with data under `data_dir`.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            listen: Self::DEFAULT_LISTEN.parse().unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8720))),
            data_dir,
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
        let mut config = Self::new(PathBuf::from("lockbox-data/notification"));
        config.broker = file.broker.unwrap_or_default();
        if let Some(listen) = cli.listen.or(file.listen) {
            config.listen = listen;
        }
        if let Some(dir) = cli.data_dir.or(file.data_dir) {
            config.data_dir = dir;
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
            println!("{}", toml::to_string_pretty(&shown).unwrap_or_default());
            return Ok(None);
        }
        Ok(Some(config))
    }
}
