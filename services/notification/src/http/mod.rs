//! The HTTP surface: the stream, the notifications API and the operations endpoints.
//!
//! Handlers take only the slice of state they need ([`FromRef`]); [`AppState`] just holds the
//! slices.
//! - [`stream`]: `GET /v1/stream`, the WebSocket upgrade.
//! - [`notifications`]: `GET /v1/notifications`, `POST /v1/notifications/read`,
//!   `GET /v1/notifications/unread_count`.
//! - [`ops`]: `/healthz`, `/readyz`, `/metrics`.
//! - [`error`]: [`ApiError`], each fault with its status and a JSON body saying what to do.

pub mod error;
pub mod notifications;
pub mod ops;
pub mod stream;

use std::sync::Arc;

use axum::{
    Router,
    extract::FromRef,
    routing::{get, post},
};
use lockbox_auth::TokenKey;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use ops::Readiness;
pub use stream::StreamContext;

use crate::{hub::Hub, metrics::Metrics, store::Store};

/// Everything the handlers may ask for, each piece on its own.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub key: TokenKey,
    pub store: Store,
    pub hub: Hub,
    pub metrics: Arc<Metrics>,
    pub readiness: Readiness,
    pub stream: StreamContext,
}

/// The router of the service.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/v1/stream", get(stream::upgrade))
        .route("/v1/notifications", get(notifications::list))
        .route("/v1/notifications/read", post(notifications::mark_read))
        .route("/v1/notifications/unread_count", get(notifications::unread_count))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
