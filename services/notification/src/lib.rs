//! LockBox NotificationService: stores each uploaded file and publishes its event to RabbitMQ
//! without ever waiting on the consumers.
//!
//! Modules:
//! - [`config`]: configuration, merged CLI > env > file, printable with `--dump-config`.
//! - [`http`]: the axum router ([`http::app`]) and its handlers.
//!
//! [`run`] serves a bound listener until `shutdown` resolves, so tests bind `127.0.0.1:0`.

pub mod config;
pub mod http;

use std::future::Future;

use tokio::net::TcpListener;

use crate::config::Config;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves the NotificationService on `listener` until `shutdown` resolves, then finishes the
/// requests in flight.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, data_dir = %config.data_dir.display(), "lockbox-notification listening");
    axum::serve(listener, http::app()).with_graceful_shutdown(shutdown).await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
