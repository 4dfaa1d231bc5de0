//! LockBox NotificationService: consumes the FileStorageService's file events at its own pace,
//! turns each into a per-user notification (stored once, however often it is delivered) and
//! pushes it live to every connected app of that user.
//!
//! Modules:
//! - [`config`]: configuration, merged CLI > env > file, printable with `--dump-config`.
//! - [`store`]: the [`store::NotificationStore`] trait and its SQLite backend.
//! - [`render`]: event → notification (`params` for localizing clients, English defaults).
//! - [`consumer`]: the consume loop (decode at the edge, store + dedupe, push, ack; poison →
//!   dead-letter queue).
//! - [`hub`]: per-user fan-out of frames to this process's stream connections.
//! - [`session`]: one WebSocket connection (replay after `since`, then live; heartbeats; slow
//!   clients closed).
//! - [`retention`]: the hourly pruning of old notifications.
//! - [`metrics`]: Prometheus metrics.
//! - [`http`]: the axum router ([`http::app`]) and its handlers.
//!
//! [`run`] serves a bound listener until `shutdown` resolves, so tests bind `127.0.0.1:0`.

pub mod config;
pub mod consumer;
pub mod http;
pub mod hub;
pub mod metrics;
pub mod render;
pub mod retention;
pub mod session;
pub mod store;

use std::{future::Future, sync::Arc, time::Duration};

use lockbox_auth::{AuthError, TokenKey};
use lockbox_broker::{Broker, ConsumerSpec, Names};
use tokio::net::TcpListener;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    config::Config,
    consumer::Consumer,
    http::{AppState, Readiness, StreamContext},
    hub::Hub,
    metrics::Metrics,
    store::{SqliteStore, Store, StoreError},
};

/// How long shutdown waits for stream connections to say goodbye.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot verify tokens: {0} (set {env} to the FileStorageService's secret)", env = config::TOKEN_SECRET_ENV)]
    TokenKey(#[source] AuthError),
    #[error("cannot open the notification store: {0}")]
    Store(#[from] StoreError),
}

/// Serves the NotificationService on `listener` until `shutdown` resolves: opens the store,
/// starts the broker supervisor and the consumer, serves HTTP and WebSockets; then closes the
/// streams, finishes the delivery in hand and disconnects. Dropping the returned future
/// (a crash, as far as the broker can tell) leaves unacknowledged deliveries to be redelivered.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let key = TokenKey::new(config.token_secret.as_bytes()).map_err(ServeError::TokenKey)?;
    let store: Store = Arc::new(SqliteStore::open(&config.data_dir).await?);
    let metrics = Arc::new(Metrics::new());
    let hub = Hub::new(config.stream_buffer);
    let cancel = CancellationToken::new();
    // If this future is dropped, everything it started stops too.
    let _stop_on_drop = cancel.clone().drop_guard();

    let names = Names::new(config.broker.prefix.clone());
    let mut builder = Broker::builder(config.broker.clone());
    let deliveries = builder.consume(ConsumerSpec::new(names.file_events_queue()).prefetch(config.prefetch));
    let broker = builder.start();

    let tracker = TaskTracker::new();
    let state = AppState {
        key,
        store: store.clone(),
        hub: hub.clone(),
        metrics: metrics.clone(),
        readiness: Readiness { store: store.clone(), broker: broker.watch_state() },
        stream: StreamContext {
            store: store.clone(),
            hub: hub.clone(),
            metrics: metrics.clone(),
            heartbeat: config.heartbeat_interval(),
            shutdown: cancel.child_token(),
            tracker: tracker.clone(),
        },
    };
    let consumer = Consumer {
        store: store.clone(),
        hub,
        metrics,
        quota_warning_percent: config.quota_warning_percent,
        // A batch is pushed without yielding in between, so it must fit in a connection's
        // buffer: a client that keeps up is never cut off by one burst.
        max_batch: usize::from(config.prefetch.max(1)).min(config.stream_buffer.max(1)),
    };
    let consuming = tokio::spawn(consumer.run(deliveries, cancel.child_token()));
    let pruning = tokio::spawn(retention::run(store, config.retention(), cancel.child_token()));

    let addr = listener.local_addr()?;
    tracing::info!(%addr, data_dir = %config.data_dir.display(), queue = names.file_events_queue(),
        prefetch = config.prefetch, "lockbox-notification listening");
    let stop = cancel.clone();
    let served = axum::serve(listener, http::app(state))
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = shutdown => {}
                _ = stop.cancelled() => {}
            }
            // Upgraded sockets are not the server's any more: tell them ourselves.
            stop.cancel();
        })
        .await;

    cancel.cancel();
    tracker.close();
    if tokio::time::timeout(CLOSE_GRACE, tracker.wait()).await.is_err() {
        tracing::warn!(open = tracker.len(), "stream connections did not close in time");
    }
    let _ = consuming.await;
    let _ = pruning.await;
    broker.shutdown().await;
    tracing::info!("lockbox-notification stopped");
    served?;
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
