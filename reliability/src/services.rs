//! The real services in-process, for scenarios that do not need to kill them: each serves a
//! listener bound to `127.0.0.1:0` (or a given address, to come back on the same port) and
//! stops gracefully on request.
use std::{net::SocketAddr, path::Path};

use lockbox_broker::BrokerConfig;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use crate::{SupportError, common::SECRET};

/// A running service of either kind.
pub struct InProcess<E> {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), E>>,
}

impl<E: std::fmt::Display> InProcess<E> {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Graceful shutdown; the service must end cleanly.
    pub async fn stop(mut self) -> Result<(), SupportError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let limit = std::time::Duration::from_secs(30);
        match tokio::time::timeout(limit, &mut self.task).await {
            Err(_) => Err(SupportError::timeout("the service to stop", limit)),
            Ok(Err(join)) => Err(SupportError::Command { what: "the service task".into(), detail: join.to_string() }),
            Ok(Ok(Err(e))) => Err(SupportError::Command { what: "the service".into(), detail: e.to_string() }),
            Ok(Ok(Ok(()))) => Ok(()),
        }
    }
}

async fn bind(addr: Option<SocketAddr>) -> Result<TcpListener, SupportError> {
    let addr = addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
    TcpListener::bind(addr).await.map_err(SupportError::io(addr.to_string()))
}

pub type FileStorage = InProcess<lockbox_file_storage::ServeError>;
pub type Notifications = InProcess<lockbox_notification::ServeError>;

/// The FileStorageService's defaults, with the suite's secret, `data_dir` and `broker`.
pub fn file_storage_config(data_dir: &Path, broker: &BrokerConfig) -> lockbox_file_storage::config::Config {
    let mut config = lockbox_file_storage::config::Config::new(data_dir.to_path_buf());
    config.token_secret = SECRET.into();
    config.broker = BrokerConfig { connection_name: "lockbox-file-storage".into(), ..broker.clone() };
    config
}

pub fn notification_config(data_dir: &Path, broker: &BrokerConfig) -> lockbox_notification::config::Config {
    let mut config = lockbox_notification::config::Config::new(data_dir.to_path_buf());
    config.token_secret = SECRET.into();
    config.broker = BrokerConfig { connection_name: "lockbox-notification".into(), ..broker.clone() };
    config
}

pub async fn start_file_storage(config: lockbox_file_storage::config::Config) -> Result<FileStorage, SupportError> {
    let listener = bind(None).await?;
    let addr = listener.local_addr().map_err(SupportError::io("listener"))?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(lockbox_file_storage::run(listener, config, async move {
        let _ = stopped.await;
    }));
    Ok(InProcess { addr, stop: Some(stop), task })
}

pub async fn start_notifications(
    config: lockbox_notification::config::Config,
    addr: Option<SocketAddr>,
) -> Result<Notifications, SupportError> {
    let listener = bind(addr).await?;
    let addr = listener.local_addr().map_err(SupportError::io("listener"))?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(lockbox_notification::run(listener, config, async move {
        let _ = stopped.await;
    }));
    Ok(InProcess { addr, stop: Some(stop), task })
}
