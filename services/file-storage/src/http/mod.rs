//! The HTTP surface: [`app`] builds the router from an [`AppState`] whose parts handlers take
//! one by one (`FromRef`).
//!
//! - [`tus`]: tus 1.0 uploads at `/v1/uploads`; [`tus_headers`]: its headers.
//! - [`files`]: the files API at `/v1/files`.
//! - [`ops`]: `/healthz`, `/readyz`, `/metrics`.
//! - [`error`]: [`ApiError`](error::ApiError), the status and JSON body of every failure.

pub mod error;
pub mod files;
pub mod ops;
pub mod tus;
pub mod tus_headers;

use std::sync::Arc;

use axum::{Router, extract::FromRef};
use lockbox_auth::TokenKey;
use tower_http::trace::TraceLayer;

use crate::{files::Files, upload::Uploads};

/// The parts of the service the handlers need; each handler extracts only its own.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub key: TokenKey,
    pub uploads: Arc<Uploads>,
    pub files: Arc<Files>,
    pub ops: ops::Ops,
}

/// The router of the service.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(tus::routes())
        .merge(files::routes())
        .merge(ops::routes())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
