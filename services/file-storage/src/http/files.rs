//! The files API: `GET /v1/files`, `GET|DELETE /v1/files/{id}`, `GET /v1/files/{id}/content`.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Body,
    extract::{FromRef, Path, Query, State, rejection::QueryRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use lockbox_auth::{AuthUser, TokenKey};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;
use uuid::Uuid;

use super::{error::ApiError, tus_headers::value};
use crate::files::{Content, Files};

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Files>: FromRef<S>,
    TokenKey: FromRef<S>,
{
    Router::new()
        .route("/v1/files", get(list))
        .route("/v1/files/{id}", get(show).delete(remove))
        .route("/v1/files/{id}/content", get(content))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    limit: Option<u32>,
    /// The `next` of the previous page.
    before: Option<Uuid>,
}

const DEFAULT_PAGE: u32 = 100;

fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

/// Newest first: `{"files": [...], "next": <id to pass as before> | null}`.
async fn list(
    State(files): State<Arc<Files>>,
    AuthUser(user): AuthUser,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(format!("bad query ({e}); use ?limit=<n>&before=<file id>")))?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, crate::files::MAX_PAGE);
    let page = files.list(&user, query.before, limit).await?;
    let next = (page.len() == limit as usize).then(|| page.last().map(|f| f.id)).flatten();
    Ok(Json(json!({ "files": page, "next": next })))
}

async fn show(
    State(files): State<Arc<Files>>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let file = files.get(&user, parse_id(&id)?).await?;
    Ok(Json(json!(file)))
}

async fn remove(
    State(files): State<Arc<Files>>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    files.delete(&user, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The content, with `Range` (one range), `ETag` = SHA-256 and `If-None-Match`.
async fn content(
    State(files): State<Arc<Files>>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    let (file, content) = files.open(&user, parse_id(&id)?).await?;
    let etag = format!("\"{}\"", file.sha256);
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, value(&etag));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_DISPOSITION, content_disposition(&file.name));

    let none_match = request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    if none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*")) {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    let range = match request.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        // If-Range with another validator: send the whole file.
        Some(_) if request.get(header::IF_RANGE).is_some_and(|v| v.as_bytes() != etag.as_bytes()) => None,
        Some(raw) => parse_range(raw, file.size)?,
        None => None,
    };
    let (status, start, len) = match range {
        Some((start, end)) => {
            headers.insert(header::CONTENT_RANGE, value(format!("bytes {start}-{end}/{}", file.size)));
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        None => (StatusCode::OK, 0, file.size),
    };
    headers.insert(header::CONTENT_LENGTH, value(len));
    let body = match content {
        Content::Inline(bytes) => {
            let (start, end) = (usize::try_from(start).unwrap_or(usize::MAX), usize::try_from(start + len).unwrap_or(usize::MAX));
            Body::from(bytes.slice(start.min(bytes.len())..end.min(bytes.len())))
        }
        Content::Blob(mut blob) => {
            if start > 0 {
                blob.seek(std::io::SeekFrom::Start(start))
                    .await
                    .map_err(|e| ApiError::Files(crate::blob::BlobError::io("seeking a blob")(e).into()))?;
            }
            Body::from_stream(ReaderStream::new(blob.take(len)))
        }
    };
    Ok((status, headers, body).into_response())
}

/// One `bytes=` range → inclusive `(start, end)`. Unparsable or multi-range headers are
/// ignored (the whole file is sent, as RFC 9110 allows); unsatisfiable ones are 416.
fn parse_range(raw: &str, size: u64) -> Result<Option<(u64, u64)>, ApiError> {
    let Some(spec) = raw.trim().strip_prefix("bytes=") else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return Ok(None) };
    let (first, last) = (first.trim(), last.trim());
    let range = if first.is_empty() {
        let Ok(suffix) = last.parse::<u64>() else { return Ok(None) };
        if suffix == 0 || size == 0 {
            return Err(ApiError::Range { size });
        }
        (size.saturating_sub(suffix), size - 1)
    } else {
        let Ok(start) = first.parse::<u64>() else { return Ok(None) };
        let end = if last.is_empty() {
            size.saturating_sub(1)
        } else {
            let Ok(end) = last.parse::<u64>() else { return Ok(None) };
            if end < start {
                return Ok(None);
            }
            end.min(size.saturating_sub(1))
        };
        if start >= size {
            return Err(ApiError::Range { size });
        }
        (start, end)
    };
    Ok(Some(range))
}

/// Characters kept as-is in `filename*` (RFC 5987 attr-char).
const ATTR: &AsciiSet = &NON_ALPHANUMERIC.remove(b'!').remove(b'#').remove(b'$').remove(b'&').remove(b'+')
    .remove(b'-').remove(b'.').remove(b'^').remove(b'_').remove(b'`').remove(b'|').remove(b'~');

/// `attachment` with an ASCII fallback name and the exact UTF-8 name, neither of which can
/// break out of the header.
fn content_disposition(name: &str) -> HeaderValue {
    let fallback: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let exact = utf8_percent_encode(name, ATTR);
    value(format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100).unwrap(), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100).unwrap(), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100).unwrap(), Some((90, 99)));
        assert_eq!(parse_range("bytes=50-500", 100).unwrap(), Some((50, 99)));
        assert!(parse_range("bytes=100-", 100).is_err());
        assert_eq!(parse_range("bytes=0-1,5-6", 100).unwrap(), None);
        assert_eq!(parse_range("items=0-1", 100).unwrap(), None);
    }

    #[test]
    fn dispositions_cannot_break_the_header() {
        let v = content_disposition("a\"b\\c é.txt");
        assert_eq!(v.to_str().unwrap(), "attachment; filename=\"a_b_c _.txt\"; filename*=UTF-8''a%22b%5Cc%20%C3%A9.txt");
    }
}
