//! The HTTP surface.

use axum::{Json, Router, routing::get};
use serde_json::{Value, json};

/// The router of the service.
pub fn app() -> Router {
    Router::new().route("/healthz", get(healthz))
}

/// Liveness: the process runs and answers.
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok", "service": "file-storage" }))
}
