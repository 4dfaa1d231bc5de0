//! Errors of the HTTP API, each with its own status and a JSON body
//! `{"error": code, "message": what to do}`. (Bad tokens are answered by `lockbox-auth`'s
//! rejection, in the same shape.)

use axum::{
    Json,
    extract::rejection::{JsonRejection, QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid query string ({0}); use since=<seq>&limit=<1..={max}>", max = super::notifications::MAX_LIMIT)]
    BadQuery(#[source] QueryRejection),
    #[error("limit must be between 1 and {max}; page with next_since instead")]
    LimitOutOfRange { max: u32 },
    #[error("invalid body ({0}); send {{\"ids\": [\"<uuid>\", …]}} or {{\"up_to_seq\": <seq>}}")]
    BadReadBody(#[source] JsonRejection),
    #[error("too many ids ({given}); send at most {max}, or use up_to_seq")]
    TooManyIds { given: usize, max: usize },
    #[error("the x-lockbox-connection header is not a connection id; send back the value of the stream handshake's header, or leave it out")]
    BadConnectionId,
    #[error("the notification store is unavailable ({0}); retry shortly")]
    Store(#[from] StoreError),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadQuery(_) => (StatusCode::BAD_REQUEST, "bad_query"),
            ApiError::LimitOutOfRange { .. } => (StatusCode::BAD_REQUEST, "limit_out_of_range"),
            ApiError::BadReadBody(_) => (StatusCode::UNPROCESSABLE_ENTITY, "bad_read_body"),
            ApiError::TooManyIds { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_many_ids"),
            ApiError::BadConnectionId => (StatusCode::BAD_REQUEST, "bad_connection_id"),
            ApiError::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!(error = %self, code, "request failed");
        }
        let body = serde_json::json!({ "error": code, "message": self.to_string() });
        (status, Json(body)).into_response()
    }
}
