//! Reading and writing the tus 1.0 headers.

use axum::http::{HeaderMap, HeaderValue};
use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Utc};

use super::error::ApiError;

pub const UPLOAD_OFFSET: &str = "upload-offset";
pub const UPLOAD_LENGTH: &str = "upload-length";
pub const UPLOAD_METADATA: &str = "upload-metadata";
pub const UPLOAD_CHECKSUM: &str = "upload-checksum";
pub const UPLOAD_EXPIRES: &str = "upload-expires";
pub const UPLOAD_DEFER_LENGTH: &str = "upload-defer-length";
/// The id of the stored file, on the response that completed the upload (and on HEAD after).
pub const FILE_ID: &str = "lockbox-file-id";
/// The server's SHA-256 (hex) of the whole file, next to [`FILE_ID`].
pub const FILE_SHA256: &str = "lockbox-sha256";
pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    headers
        .get(name)
        .map(|v| v.to_str().map_err(|_| ApiError::BadRequest(format!("the {name} header is not ASCII"))))
        .transpose()
}

/// A non-negative integer header.
pub fn number(headers: &HeaderMap, name: &str) -> Result<Option<u64>, ApiError> {
    text(headers, name)?
        .map(|v| v.trim().parse::<u64>().map_err(|_| ApiError::BadRequest(format!("{name} must be a non-negative integer, not {v:?}"))))
        .transpose()
}

/// The `filename` (or `name`) of `Upload-Metadata`, decoded from base64.
pub fn filename(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(raw) = text(headers, UPLOAD_METADATA)? else { return Ok(None) };
    let mut found = None;
    for pair in raw.split(',') {
        let mut parts = pair.trim().splitn(2, ' ');
        let key = parts.next().unwrap_or_default();
        if key == "filename" || (key == "name" && found.is_none()) {
            let value = parts.next().unwrap_or_default().trim();
            let bytes = STANDARD
                .decode(value)
                .map_err(|_| ApiError::BadRequest(format!("Upload-Metadata {key} is not base64")))?;
            let name = String::from_utf8(bytes)
                .map_err(|_| ApiError::BadRequest(format!("Upload-Metadata {key} is not UTF-8 text")))?;
            found = Some(name);
        }
    }
    Ok(found)
}

/// `Upload-Checksum: sha256 <base64>` → the digest; other algorithms are refused.
pub fn checksum(headers: &HeaderMap) -> Result<Option<[u8; 32]>, ApiError> {
    let Some(raw) = text(headers, UPLOAD_CHECKSUM)? else { return Ok(None) };
    let (algorithm, value) = raw.trim().split_once(' ').ok_or(ApiError::ChecksumAlgorithm)?;
    if !algorithm.eq_ignore_ascii_case("sha256") {
        return Err(ApiError::ChecksumAlgorithm);
    }
    let digest = STANDARD
        .decode(value.trim())
        .map_err(|_| ApiError::BadRequest("the Upload-Checksum digest is not base64".into()))?;
    <[u8; 32]>::try_from(digest.as_slice())
        .map(Some)
        .map_err(|_| ApiError::BadRequest("a sha256 Upload-Checksum digest has 32 bytes".into()))
}

/// The HTTP date format of `Upload-Expires` (RFC 9110 IMF-fixdate).
pub fn http_date(ts: &DateTime<Utc>) -> HeaderValue {
    let text = ts.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"))
}

pub fn value(n: impl ToString) -> HeaderValue {
    HeaderValue::from_str(&n.to_string()).unwrap_or(HeaderValue::from_static("0"))
}

/// `filename <base64>` for HEAD.
pub fn metadata(name: &str) -> HeaderValue {
    value(format!("filename {}", STANDARD.encode(name)))
}
