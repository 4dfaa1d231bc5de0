//! [`ApiError`]: every failure of an HTTP request, with its own status and a JSON body
//! `{"error": code, "message": what to do}`.

use axum::{
    Json,
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::{files::FilesError, upload::UploadError};

/// tus's status for a chunk whose checksum does not match.
pub const CHECKSUM_MISMATCH: u16 = 460;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no such file or upload among yours; check the id, or list your files with GET /v1/files")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("this server speaks tus 1.0.0: send `Tus-Resumable: 1.0.0`")]
    TusVersion,
    #[error("PATCH bodies must be sent with `Content-Type: application/offset+octet-stream`")]
    MediaType,
    #[error("only sha256 is supported in Upload-Checksum (`Upload-Checksum: sha256 <base64 digest>`)")]
    ChecksumAlgorithm,
    #[error(transparent)]
    Upload(#[from] UploadError),
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error("the requested range is outside the file of {size} bytes")]
    Range { size: u64 },
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        use UploadError as U;
        match self {
            ApiError::NotFound | ApiError::Files(FilesError::NotFound) | ApiError::Upload(U::NotFound) => {
                (StatusCode::NOT_FOUND, "not_found")
            }
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::TusVersion => (StatusCode::PRECONDITION_FAILED, "tus_version"),
            ApiError::MediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "content_type"),
            ApiError::ChecksumAlgorithm => (StatusCode::BAD_REQUEST, "checksum_algorithm_unsupported"),
            ApiError::Range { .. } => (StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable"),
            ApiError::Upload(e) if e.is_storage_full() => (StatusCode::INSUFFICIENT_STORAGE, "storage_full"),
            ApiError::Upload(e) => match e {
                U::NotFound => (StatusCode::NOT_FOUND, "not_found"),
                U::Expired => (StatusCode::GONE, "upload_expired"),
                U::OffsetMismatch { .. } => (StatusCode::CONFLICT, "offset_mismatch"),
                U::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "file_too_large"),
                U::OverQuota { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded"),
                U::BodyTooLong { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_long"),
                U::ChecksumMismatch => (
                    StatusCode::from_u16(CHECKSUM_MISMATCH).unwrap_or(StatusCode::BAD_REQUEST),
                    "checksum_mismatch",
                ),
                U::Interrupted { .. } => (StatusCode::BAD_REQUEST, "body_interrupted"),
                U::Busy => (StatusCode::LOCKED, "upload_busy"),
                U::AlreadyComplete { .. } => (StatusCode::CONFLICT, "upload_complete"),
                U::Meta(_) | U::Blob(_) | U::Io { .. } | U::Task(_) => {
                    (StatusCode::INTERNAL_SERVER_ERROR, "storage_failed")
                }
            },
            ApiError::Files(FilesError::Blob(b)) if b.is_storage_full() => {
                (StatusCode::INSUFFICIENT_STORAGE, "storage_full")
            }
            ApiError::Files(_) => (StatusCode::INTERNAL_SERVER_ERROR, "storage_failed"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match status {
            StatusCode::INSUFFICIENT_STORAGE => {
                // The upload keeps what it had before this request, so resuming loses nothing.
                "the server's disk is full, so this was not stored; retry later (an upload resumes from the offset HEAD reports)".to_owned()
            }
            s if s.is_server_error() => {
                tracing::error!(error = %self, "request failed");
                "the server could not complete the request; retry later".to_owned()
            }
            _ => self.to_string(),
        };
        let mut body = json!({ "error": code, "message": message });
        match &self {
            ApiError::Upload(UploadError::OverQuota { room, .. }) => body["room_bytes"] = json!(room),
            ApiError::Upload(UploadError::TooLarge { max, .. }) => body["max_bytes"] = json!(max),
            ApiError::Upload(UploadError::OffsetMismatch { expected, .. }) => body["upload_offset"] = json!(expected),
            _ => {}
        }
        let mut response = (status, Json(body)).into_response();
        if let ApiError::Range { size } = self
            && let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}"))
        {
            response.headers_mut().insert(axum::http::header::CONTENT_RANGE, value);
        }
        if matches!(self, ApiError::TusVersion) {
            response.headers_mut().insert("tus-version", HeaderValue::from_static(super::tus::TUS_VERSION));
        }
        response
    }
}
