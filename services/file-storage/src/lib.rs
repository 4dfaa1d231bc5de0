//! LockBox FileStorageService: stores each uploaded file and publishes its event to RabbitMQ
//! without ever waiting on the consumers.
//!
//! Modules:
//! - [`config`]: configuration, merged CLI > env > file, printable with `--dump-config`.
//! - [`http`]: the axum router ([`http::app`]) and its handlers (tus, files API, operations).
//! - [`upload`]: tus uploads independent of HTTP: temp files, running SHA-256, finishing.
//! - [`files`]: stored files per user: list, get, open, delete.
//! - [`meta`]: the metadata store trait and its SQLite implementation (files, uploads, outbox).
//! - [`blob`]: the content-addressed blob store trait and its local-disk implementation.
//! - [`outbox`]: the relay that publishes outbox rows with publisher confirms.
//! - [`recovery`]: the startup sweep of temp files and blobs a crash left behind.
//! - [`metrics`]: Prometheus metrics.
//!
//! [`run`] serves a bound listener until `shutdown` resolves, so tests bind `127.0.0.1:0`.

pub mod blob;
pub mod config;
pub mod files;
pub mod http;
pub mod meta;
pub mod metrics;
pub mod outbox;
pub mod recovery;
pub mod upload;

use std::{future::Future, sync::Arc};

use lockbox_auth::{AuthError, TokenKey};
use lockbox_broker::{Broker, Names, backoff::Backoff};
use tokio::{net::TcpListener, sync::Notify};
use tokio_util::sync::CancellationToken;

use crate::{
    blob::{BlobError, BlobStore, LocalBlobStore},
    config::Config,
    files::Files,
    http::{AppState, ops::Ops},
    meta::{MetaError, MetaStore, SqliteStore},
    metrics::Metrics,
    outbox::Relay,
    upload::{Limits, UploadError, Uploads},
};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot use the token secret (set LOCKBOX_TOKEN_SECRET to at least 32 bytes): {0}")]
    TokenSecret(#[source] AuthError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the metadata database: {0}")]
    Meta(#[from] MetaError),
    #[error("cannot open the blob store: {0}")]
    Blob(#[from] BlobError),
    #[error("cannot prepare uploads: {0}")]
    Upload(#[from] UploadError),
    #[error("the startup sweep failed: {0}")]
    Recovery(#[source] tokio::task::JoinError),
}

/// Serves the FileStorageService on `listener` until `shutdown` resolves, then finishes the
/// requests in flight, stops the relay (unconfirmed events stay in the outbox) and the broker.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let key = TokenKey::new(&config.token_secret).map_err(ServeError::TokenSecret)?;
    let dir = &config.data_dir;
    std::fs::create_dir_all(dir).map_err(|source| ServeError::DataDir { path: dir.clone(), source })?;
    let meta: Arc<dyn MetaStore> = Arc::new(SqliteStore::open(&dir.join("metadata.sqlite3"))?);
    let blobs: Arc<dyn BlobStore> = Arc::new(LocalBlobStore::open(dir.join("blobs"))?);
    let metrics = Metrics::new();
    let wake = Arc::new(Notify::new());
    let commit_lock = Arc::new(tokio::sync::Mutex::new(()));
    let limits = Limits {
        quota_bytes: config.quota_bytes,
        max_file_bytes: config.max_file_bytes,
        expiry: config.upload_expiry,
        warn_at_bytes: (config.quota_bytes as f64 * config.quota_warning_ratio) as u64,
        idle_timeout: config.idle_timeout,
        inline_max: config.inline_max_bytes,
    };
    let uploads = Arc::new(Uploads::new(
        meta.clone(),
        blobs.clone(),
        dir.join("uploads"),
        limits,
        commit_lock.clone(),
        wake.clone(),
        metrics.clone(),
    )?);
    let (parts, orphan_blobs) = recovery::sweep(&uploads, meta.clone(), blobs.clone()).await?;
    if parts + orphan_blobs > 0 {
        tracing::info!(parts, blobs = orphan_blobs, "removed temp files and blobs left by an earlier run");
    }
    let files = Arc::new(Files::new(meta.clone(), blobs, commit_lock, wake.clone()));

    // The broker connects in the background: the service serves uploads without it.
    let broker = Broker::builder(config.broker.clone()).start();
    let cancel = CancellationToken::new();
    let wake_on_stop = wake.clone();
    let (idle_rounds, idle) = tokio::sync::watch::channel(0u64);
    let relay = Relay {
        meta: meta.clone(),
        publisher: broker.publisher(),
        names: Names::new(config.broker.prefix.clone()),
        wake: wake.clone(),
        broker_state: broker.watch_state(),
        backoff: Backoff::new(config.broker.reconnect_min, config.broker.reconnect_max),
        batch: config.outbox_batch.max(1),
        metrics: metrics.clone(),
        idle_rounds,
    };
    let relay_task = tokio::spawn(relay.run(cancel.clone()));
    let reaper_task = tokio::spawn(reap(uploads.clone(), meta.clone(), config.reap_interval, cancel.clone()));

    let state = AppState { key, uploads, files, ops: Ops { meta: meta.clone(), broker: broker.watch_state(), metrics } };
    let addr = listener.local_addr()?;
    tracing::info!(%addr, data_dir = %dir.display(), "lockbox-file-storage listening");
    let served = axum::serve(listener, http::app(state)).with_graceful_shutdown(shutdown).await;

    drain_outbox(&broker, meta, &wake_on_stop, idle, config.shutdown_drain).await;
    cancel.cancel();
    let _ = relay_task.await;
    let _ = reaper_task.await;
    broker.shutdown().await;
    tracing::info!("lockbox-file-storage stopped");
    served?;
    Ok(())
}

/// Lets the relay publish what the outbox holds before it stops, waiting at most `limit`
/// (also for the broker to connect); the rest waits for the next start.
async fn drain_outbox(
    broker: &Broker,
    meta: Arc<dyn MetaStore>,
    wake: &Notify,
    mut idle: tokio::sync::watch::Receiver<u64>,
    limit: std::time::Duration,
) {
    let mut state = broker.watch_state();
    let drained = async {
        loop {
            let seen = *idle.borrow_and_update();
            let meta = meta.clone();
            let backlog = tokio::task::spawn_blocking(move || meta.outbox_backlog()).await;
            if matches!(backlog, Ok(Ok(0)) | Err(_)) {
                return;
            }
            if state.wait_for(|s| *s == lockbox_broker::BrokerState::Connected).await.is_err() {
                return;
            }
            wake.notify_one();
            if idle.wait_for(|n| *n > seen).await.is_err() {
                return;
            }
        }
    };
    if tokio::time::timeout(limit, drained).await.is_err() {
        tracing::warn!("the outbox was not drained before shutdown; the rest is published at the next start");
    }
}

/// Published outbox rows are kept this long (to look into what was sent), then pruned.
const KEEP_SENT_EVENTS: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// Sweeps expired uploads and old published outbox rows every `interval`.
async fn reap(uploads: Arc<Uploads>, meta: Arc<dyn MetaStore>, interval: std::time::Duration, cancel: CancellationToken) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        if let Err(error) = uploads.reap_expired().await {
            tracing::warn!(%error, "could not remove expired uploads; retrying at the next sweep");
        }
        let before = (chrono::Utc::now() - KEEP_SENT_EVENTS).timestamp_millis();
        let meta = meta.clone();
        match tokio::task::spawn_blocking(move || meta.prune_sent(before)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(pruned)) => tracing::info!(pruned, "pruned published outbox rows"),
            Ok(Err(error)) => tracing::warn!(%error, "could not prune published outbox rows"),
            Err(error) => tracing::warn!(%error, "could not prune published outbox rows"),
        }
    }
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
