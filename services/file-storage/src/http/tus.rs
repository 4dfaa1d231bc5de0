//! tus 1.0.0 at `/v1/uploads`: core, creation, creation-with-upload, termination, checksum
//! (sha256) and expiration.

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    extract::{DefaultBodyLimit, FromRef, Path, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{options, post},
};
use futures_util::{TryStreamExt, future::Either};
use lockbox_auth::{AuthUser, TokenKey};
use uuid::Uuid;

use super::{error::ApiError, tus_headers as h};
use crate::{
    meta::{FileRow, UploadRow},
    upload::{Inline, Progress, Uploads},
};

pub const TUS_VERSION: &str = "1.0.0";
pub const TUS_EXTENSIONS: &str = "creation,creation-with-upload,termination,checksum,expiration";

/// The tus routes, with the `Tus-Resumable` check and header on every response.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Uploads>: FromRef<S>,
    TokenKey: FromRef<S>,
{
    Router::new()
        .route("/v1/uploads", post(create).options(capabilities))
        .route("/v1/uploads/{id}", options(capabilities).head(status).patch(append).delete(terminate))
        // Bodies stream to disk; the upload's own length is the limit.
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn(tus_resumable))
}

/// Every response says `Tus-Resumable`; every request but OPTIONS must.
async fn tus_resumable(request: Request, next: Next) -> Response {
    let speaks_tus = request.headers().get("tus-resumable").is_some_and(|v| v == TUS_VERSION);
    let mut response = if request.method() == axum::http::Method::OPTIONS || speaks_tus {
        next.run(request).await
    } else {
        ApiError::TusVersion.into_response()
    };
    response.headers_mut().insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn capabilities(State(uploads): State<Arc<Uploads>>) -> impl IntoResponse {
    let mut headers = HeaderMap::new();
    headers.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    headers.insert("tus-extension", HeaderValue::from_static(TUS_EXTENSIONS));
    headers.insert("tus-checksum-algorithm", HeaderValue::from_static("sha256"));
    headers.insert("tus-max-size", h::value(uploads.limits().max_file_bytes));
    (StatusCode::NO_CONTENT, headers)
}

fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

fn location(id: Uuid) -> HeaderValue {
    h::value(format!("/v1/uploads/{id}"))
}

/// Offset, expiry and — once complete — the file id and server SHA-256.
fn upload_headers(upload: &UploadRow, file: Option<&FileRow>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(h::UPLOAD_OFFSET, h::value(upload.offset));
    match (file, upload.file_id, &upload.sha256) {
        (Some(file), _, _) => {
            headers.insert(h::FILE_ID, h::value(file.id));
            headers.insert(h::FILE_SHA256, h::value(&file.sha256));
        }
        (None, Some(id), Some(sha)) => {
            headers.insert(h::FILE_ID, h::value(id));
            headers.insert(h::FILE_SHA256, h::value(sha));
        }
        _ => {
            headers.insert(h::UPLOAD_EXPIRES, h::http_date(&upload.expires_at));
        }
    }
    headers
}

fn is_offset_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case(h::OFFSET_OCTET_STREAM))
}

/// POST: creation, and creation-with-upload when a body comes along.
async fn create(
    State(uploads): State<Arc<Uploads>>,
    AuthUser(user): AuthUser,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if headers.contains_key(h::UPLOAD_DEFER_LENGTH) {
        return Err(ApiError::BadRequest("Upload-Defer-Length is not supported: send Upload-Length".into()));
    }
    let length = h::number(&headers, h::UPLOAD_LENGTH)?
        .ok_or_else(|| ApiError::BadRequest("send Upload-Length with the file's size in bytes".into()))?;
    let name = h::filename(&headers)?;
    let with_body = is_offset_stream(&headers);
    let checksum = if with_body { h::checksum(&headers)? } else { None };
    let mut body = Either::Left(body.into_data_stream().map_err(|e| e.to_string()));
    if with_body && let Some(budget) = uploads.inline_budget(length) {
        match uploads.store_inline(budget, &user, length, name.as_deref(), checksum, body).await? {
            Inline::Stored(stored) => return Ok(created(&stored.0, Some(&stored.1))),
            Inline::Replay(read) => body = Either::Right(read),
        }
    }
    let upload = uploads.create(&user, length, name.as_deref()).await?;

    let (upload, file) = if length == 0 {
        let file = uploads.finish_empty(&upload).await?;
        (UploadRow { file_id: Some(file.id), sha256: Some(file.sha256.clone()), ..upload }, Some(file))
    } else if with_body {
        match uploads.append(&user, upload.id, 0, checksum, body).await {
            Ok(Progress::Partial { upload }) => (upload, None),
            Ok(Progress::Complete { upload, file }) => (upload, Some(file)),
            // The upload exists even though its first chunk failed: say where it is.
            Err(error) => return Ok(([(header::LOCATION, location(upload.id))], ApiError::from(error)).into_response()),
        }
    } else {
        (upload, None)
    };
    Ok(created(&upload, file.as_ref()))
}

/// 201 with `Location` and the upload's state.
fn created(upload: &UploadRow, file: Option<&FileRow>) -> Response {
    let mut headers = upload_headers(upload, file);
    headers.insert(header::LOCATION, location(upload.id));
    (StatusCode::CREATED, headers).into_response()
}

/// HEAD: where to resume.
async fn status(
    State(uploads): State<Arc<Uploads>>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let upload = uploads.status(&user, parse_id(&id)?).await?;
    let mut headers = upload_headers(&upload, None);
    headers.insert(h::UPLOAD_LENGTH, h::value(upload.length));
    headers.insert(h::UPLOAD_METADATA, h::metadata(&upload.name));
    Ok((StatusCode::OK, headers).into_response())
}

/// PATCH: append a chunk at `Upload-Offset`.
async fn append(
    State(uploads): State<Arc<Uploads>>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    if !is_offset_stream(&headers) {
        return Err(ApiError::MediaType);
    }
    let offset = h::number(&headers, h::UPLOAD_OFFSET)?
        .ok_or_else(|| ApiError::BadRequest("send Upload-Offset (ask HEAD for it)".into()))?;
    let checksum = h::checksum(&headers)?;
    let (upload, file) = match uploads.append(&user, id, offset, checksum, body.into_data_stream()).await? {
        Progress::Partial { upload } => (upload, None),
        Progress::Complete { upload, file } => (upload, Some(file)),
    };
    Ok((StatusCode::NO_CONTENT, upload_headers(&upload, file.as_ref())).into_response())
}

/// DELETE: termination.
async fn terminate(
    State(uploads): State<Arc<Uploads>>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    uploads.terminate(&user, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
