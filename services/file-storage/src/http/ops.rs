//! Operations: `/healthz` (alive), `/readyz` (database and broker), `/metrics` (Prometheus).

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{FromRef, State},
    http::{HeaderValue, StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use lockbox_broker::BrokerState;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::{meta::MetaStore, metrics::Metrics};

/// What the operations endpoints look at.
#[derive(Clone)]
pub struct Ops {
    pub meta: Arc<dyn MetaStore>,
    pub broker: watch::Receiver<BrokerState>,
    pub metrics: Metrics,
}

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Ops: FromRef<S>,
{
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}

/// Liveness: the process runs and answers.
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok", "service": "file-storage" }))
}

/// Readiness: 200 only when the database answers and the broker is connected. Uploads work
/// without the broker, but events then wait in the outbox, which an operator wants to see.
async fn readyz(State(ops): State<Ops>) -> impl IntoResponse {
    let meta = ops.meta.clone();
    let database = match tokio::task::spawn_blocking(move || meta.ping()).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(e)) => e.to_string(),
        Err(e) => e.to_string(),
    };
    let broker = match *ops.broker.borrow() {
        BrokerState::Connected => "ok",
        BrokerState::Connecting => "connecting to RabbitMQ (check LOCKBOX_AMQP_URL); events wait in the outbox",
        BrokerState::Stopped => "stopped",
    };
    let ready = database == "ok" && broker == "ok";
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(json!({ "status": if ready { "ready" } else { "not_ready" }, "database": database, "broker": broker })))
}

async fn metrics(State(ops): State<Ops>) -> impl IntoResponse {
    let meta = ops.meta.clone();
    // The backlog is read at scrape time so it is exact even while the relay is backing off.
    if let Ok(Ok(backlog)) = tokio::task::spawn_blocking(move || meta.outbox_backlog()).await {
        ops.metrics.outbox_backlog.set(i64::try_from(backlog).unwrap_or(i64::MAX));
    }
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"))],
        ops.metrics.encode(),
    )
}
