//! What can stop a bench run, each with what to check.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("I/O on {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start nginx ({hint}): {source}")]
    NginxStart {
        hint: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("nginx did not listen within {secs} s; see {log}")]
    NginxNotReady { secs: u64, log: PathBuf },
    #[error("HTTP request to {url} failed: {source}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url} answered {status}: {body}")]
    Status { url: String, status: u16, body: String },
    #[error("RabbitMQ (LOCKBOX_AMQP_URL) is needed and failed: {source}; is it running? ./scripts/bench.sh starts one")]
    Amqp {
        #[source]
        source: lapin::Error,
    },
    #[error("the LockBox broker client failed: {source}; is RabbitMQ running?")]
    Broker {
        #[source]
        source: lockbox_broker::BrokerError,
    },
    #[error("a confirmed publish failed: {source}")]
    Publish {
        #[source]
        source: lockbox_broker::PublishError,
    },
    #[error("the notification stream failed: {source}")]
    Stream {
        #[source]
        source: lockbox_client::stream::StreamError,
    },
    #[error("the app inbox failed: {source}")]
    Inbox {
        #[from]
        source: lockbox_desktop_lib::inbox::InboxError,
    },
    #[error("cannot mint a token: {source}")]
    Token {
        #[source]
        source: lockbox_auth::AuthError,
    },
    #[error("the {service} service stopped with an error: {message}")]
    Service { service: &'static str, message: String },
    #[error("timed out after {secs} s waiting for {what}")]
    Timeout { what: String, secs: u64 },
    #[error("the child NotificationService failed: {0}")]
    Child(String),
    #[error("{0}")]
    Invalid(String),
}

impl BenchError {
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }
}

/// Awaits `future` for at most `limit`, naming what was awaited when it times out.
pub async fn within<T>(
    limit: std::time::Duration,
    what: impl Into<String>,
    future: impl std::future::Future<Output = T>,
) -> Result<T, BenchError> {
    tokio::time::timeout(limit, future).await.map_err(|_| BenchError::Timeout { what: what.into(), secs: limit.as_secs() })
}
