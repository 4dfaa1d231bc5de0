//! Operations endpoints: liveness, readiness (store and broker), Prometheus metrics.

use std::sync::Arc;

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
};
use lockbox_broker::BrokerState;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::{metrics::Metrics, store::Store};

/// What `/readyz` checks.
#[derive(Clone)]
pub struct Readiness {
    pub store: Store,
    pub broker: watch::Receiver<BrokerState>,
}

/// Liveness: the process runs and answers.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok", "service": "notification" }))
}

/// Readiness: 200 when the store answers and the broker connection is up, else 503 naming
/// what is down. Without the broker the stream still serves what is stored.
pub async fn readyz(State(ready): State<Readiness>) -> (StatusCode, Json<Value>) {
    let store = match ready.store.check().await {
        Ok(()) => json!({ "ok": true }),
        Err(error) => json!({ "ok": false, "error": error.to_string() }),
    };
    let broker_state = *ready.broker.borrow();
    let broker_ok = broker_state == BrokerState::Connected;
    let broker = json!({ "ok": broker_ok, "state": format!("{broker_state:?}").to_lowercase() });
    let ok = store["ok"] == true && broker_ok;
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(json!({ "status": if ok { "ready" } else { "not_ready" }, "store": store, "broker": broker })))
}

/// Prometheus text exposition.
pub async fn metrics(State(metrics): State<Arc<Metrics>>) -> Response {
    match metrics.encode() {
        Ok(text) => ([(CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
