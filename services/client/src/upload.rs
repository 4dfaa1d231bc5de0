//! tus 1.0 uploads to the FileStorageService, with resume and progress callbacks.
//!
//! [`TusClient::upload_file`] sends a small file whole in its creation request
//! (creation-with-upload, see [`TusClient::ONE_REQUEST_MAX`]). A bigger one is created
//! first, then sent in chunks (each with an `Upload-Checksum`); after a network error the
//! client asks the server where it stopped (HEAD) and resumes from there. It hashes the
//! file as it goes and compares with the server's SHA-256 at the end.
//! [`TusClient::resume_file`] continues an upload created earlier (e.g. by a process that
//! was killed) and [`TusClient::cancel`] terminates one.

use std::{path::Path, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
pub use reqwest::Url;
use reqwest::{Response, StatusCode, header::HeaderMap};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use uuid::Uuid;

pub const TUS_RESUMABLE: &str = "1.0.0";
/// Response header with the stored file's id (on the request that completed the upload).
pub const FILE_ID_HEADER: &str = "lockbox-file-id";
/// Response header with the server's SHA-256 (hex) of the whole file.
pub const SHA256_HEADER: &str = "lockbox-sha256";

/// Why an upload failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("{0:?} is not a valid service URL")]
    BadUrl(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the server refused the request ({status}): {message}")]
    Refused { status: StatusCode, code: String, message: String },
    #[error("the network failed {attempts} times in a row; the upload is at {upload_url} (resume it later): {source}")]
    Network {
        upload_url: String,
        attempts: u32,
        #[source]
        source: reqwest::Error,
    },
    #[error("cannot reach the service: {0}")]
    Connect(#[source] reqwest::Error),
    #[error("the server's answer lacks the {0} header")]
    MissingHeader(&'static str),
    #[error("the server stored SHA-256 {server} but the local file has {local}: the file changed during the upload or was corrupted")]
    DigestMismatch { local: String, server: String },
    #[error("the local file is {local} bytes but the upload at {upload_url} is {remote}: it is not the same file")]
    LengthMismatch { upload_url: String, local: u64, remote: u64 },
}

/// How far an upload is, for progress bars.
#[derive(Debug, Clone)]
pub struct Progress<'a> {
    pub upload_url: &'a Url,
    /// Bytes the server has confirmed.
    pub sent: u64,
    pub total: u64,
}

/// A finished upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    pub file_id: Uuid,
    /// The SHA-256 (hex) the server computed, equal to the local one.
    pub sha256: String,
    pub size: u64,
    pub upload_url: Url,
}

/// What a creation-with-upload request achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The server stored the file.
    Stored(Uploaded),
    /// The server created the upload but did not finish it (the body arrived short or
    /// damaged): resume it at this URL.
    Created(Url),
}

/// The server's view of an upload (HEAD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadStatus {
    pub offset: u64,
    pub length: u64,
    /// Set once the upload completed.
    pub file: Option<(Uuid, String)>,
}

/// A tus client for one service and user.
#[derive(Debug, Clone)]
pub struct TusClient {
    http: reqwest::Client,
    base: Url,
    token: String,
    chunk_size: usize,
    max_attempts: u32,
    retry_delay: Duration,
}

impl TusClient {
    pub const DEFAULT_CHUNK: usize = 4 << 20;
    /// Files up to this size go whole in the creation request: one round trip instead of
    /// two, and the FileStorageService keeps them in its database (its default limit for
    /// that). An answer lost on the way cannot be resumed, since the upload's URL was in it;
    /// the caller sends the file again, which may store it twice.
    pub const ONE_REQUEST_MAX: u64 = 64 << 10;

    /// `base_url` is the service root, e.g. `http://127.0.0.1:8710`.
    pub fn new(base_url: &str, token: impl Into<String>) -> Result<Self, UploadError> {
        let base = Url::parse(base_url).map_err(|_| UploadError::BadUrl(base_url.to_owned()))?;
        Ok(Self {
            http: reqwest::Client::new(),
            base,
            token: token.into(),
            chunk_size: Self::DEFAULT_CHUNK,
            max_attempts: 8,
            retry_delay: Duration::from_millis(200),
        })
    }

    /// Bytes per PATCH (each carries its own checksum and is resent whole after a failure).
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.max(1);
        self
    }

    /// How many network failures in a row are retried, and the first pause between them.
    pub fn retries(mut self, attempts: u32, first_delay: Duration) -> Self {
        self.max_attempts = attempts.max(1);
        self.retry_delay = first_delay;
        self
    }

    fn request(&self, method: reqwest::Method, url: Url) -> reqwest::RequestBuilder {
        self.http.request(method, url).bearer_auth(&self.token).header("tus-resumable", TUS_RESUMABLE)
    }

    /// Creates an upload of `length` bytes named `name`; returns its URL.
    pub async fn create(&self, name: &str, length: u64) -> Result<Url, UploadError> {
        let url = self.base.join("/v1/uploads").map_err(|_| UploadError::BadUrl(self.base.to_string()))?;
        let response = self
            .request(reqwest::Method::POST, url)
            .header("upload-length", length)
            .header("upload-metadata", format!("filename {}", STANDARD.encode(name)))
            .send()
            .await
            .map_err(UploadError::Connect)?;
        let response = refused(response).await?;
        let location = header(response.headers(), "location").ok_or(UploadError::MissingHeader("Location"))?;
        self.base.join(&location).map_err(|_| UploadError::BadUrl(location))
    }

    /// Creation-with-upload: creates an upload named `name` carrying the whole file at `path`
    /// with its checksum. Meant for files up to [`Self::ONE_REQUEST_MAX`]; the file is read
    /// into memory.
    pub async fn create_with_file(&self, path: &Path, name: &str) -> Result<Sent, UploadError> {
        let bytes = tokio::fs::read(path).await.map_err(read_error(path))?;
        let digest = Sha256::digest(&bytes);
        let url = self.base.join("/v1/uploads").map_err(|_| UploadError::BadUrl(self.base.to_string()))?;
        let size = bytes.len() as u64;
        let response = self
            .request(reqwest::Method::POST, url)
            .header("upload-length", size)
            .header("upload-metadata", format!("filename {}", STANDARD.encode(name)))
            .header("content-type", "application/offset+octet-stream")
            .header("upload-checksum", format!("sha256 {}", STANDARD.encode(digest)))
            .body(bytes)
            .send()
            .await
            .map_err(UploadError::Connect)?;
        let location = header(response.headers(), "location");
        let at = |location: Option<String>| {
            let location = location.ok_or(UploadError::MissingHeader("Location"))?;
            self.base.join(&location).map_err(|_| UploadError::BadUrl(location))
        };
        // A body damaged on the way: the upload exists, empty; a PATCH sends it again.
        if response.status().as_u16() == 460 && location.is_some() {
            return Ok(Sent::Created(at(location)?));
        }
        let response = refused(response).await?;
        let upload_url = at(location)?;
        let headers = response.headers();
        match (header(headers, FILE_ID_HEADER), header(headers, SHA256_HEADER)) {
            (Some(id), Some(sha)) => {
                let file_id = Uuid::parse_str(&id).map_err(|_| UploadError::MissingHeader("Lockbox-File-Id"))?;
                let local = hex::encode(digest);
                if local != sha {
                    return Err(UploadError::DigestMismatch { local, server: sha });
                }
                Ok(Sent::Stored(Uploaded { file_id, sha256: sha, size, upload_url }))
            }
            _ => Ok(Sent::Created(upload_url)),
        }
    }

    /// HEAD: where the server stands.
    pub async fn status(&self, upload_url: &Url) -> Result<UploadStatus, reqwest::Error> {
        let response = self.request(reqwest::Method::HEAD, upload_url.clone()).send().await?.error_for_status()?;
        let headers = response.headers();
        let number = |name| header(headers, name).and_then(|v| v.parse().ok()).unwrap_or_default();
        let file = header(headers, FILE_ID_HEADER)
            .and_then(|id| Uuid::parse_str(&id).ok())
            .zip(header(headers, SHA256_HEADER));
        Ok(UploadStatus { offset: number("upload-offset"), length: number("upload-length"), file })
    }

    /// Terminates an upload: the server removes what it received.
    pub async fn cancel(&self, upload_url: &Url) -> Result<(), UploadError> {
        let response =
            self.request(reqwest::Method::DELETE, upload_url.clone()).send().await.map_err(UploadError::Connect)?;
        refused(response).await.map(drop)
    }

    /// Uploads the file at `path` under its file name: in one request when it is small.
    pub async fn upload_file(
        &self,
        path: &Path,
        mut progress: impl FnMut(Progress<'_>),
    ) -> Result<Uploaded, UploadError> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let length = tokio::fs::metadata(path).await.map_err(read_error(path))?.len();
        let url = if length <= Self::ONE_REQUEST_MAX {
            match self.create_with_file(path, &name).await? {
                Sent::Stored(done) => {
                    progress(Progress { upload_url: &done.upload_url, sent: done.size, total: done.size });
                    return Ok(done);
                }
                Sent::Created(url) => url,
            }
        } else {
            self.create(&name, length).await?
        };
        self.resume_file(path, url, progress).await
    }

    /// Sends the rest of the file at `path` to an existing upload.
    pub async fn resume_file(
        &self,
        path: &Path,
        upload_url: Url,
        mut progress: impl FnMut(Progress<'_>),
    ) -> Result<Uploaded, UploadError> {
        let mut file = tokio::fs::File::open(path).await.map_err(read_error(path))?;
        let length = file.metadata().await.map_err(read_error(path))?.len();
        let mut hasher = Sha256::new();
        let mut hashed = 0u64;
        let start = self.resume_offset(&upload_url, None).await?;
        if start.length != length {
            return Err(UploadError::LengthMismatch { upload_url: upload_url.to_string(), local: length, remote: start.length });
        }
        if let Some(done) = self.finished(&start, &upload_url, &mut hasher, &mut hashed, &mut file, path).await? {
            return Ok(done);
        }
        let mut offset = start.offset;
        let mut buf = vec![0u8; self.chunk_size];
        let mut failures = 0u32;
        loop {
            progress(Progress { upload_url: &upload_url, sent: offset, total: length });
            if hashed > offset {
                // The server went back (it lost a tail it had not synced): hash from the start.
                hasher = Sha256::new();
                hashed = 0;
            }
            if hashed < offset {
                hash_range(&mut file, &mut hasher, hashed, offset).await.map_err(read_error(path))?;
                hashed = offset;
            }
            let want = usize::try_from((length - offset).min(self.chunk_size as u64)).unwrap_or(self.chunk_size);
            file.seek(std::io::SeekFrom::Start(offset)).await.map_err(read_error(path))?;
            file.read_exact(&mut buf[..want]).await.map_err(read_error(path))?;
            let chunk = &buf[..want];
            let digest = STANDARD.encode(Sha256::digest(chunk));
            let sent = self
                .request(reqwest::Method::PATCH, upload_url.clone())
                .header("content-type", "application/offset+octet-stream")
                .header("upload-offset", offset)
                .header("upload-checksum", format!("sha256 {digest}"))
                .body(chunk.to_vec())
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                Err(source) => {
                    failures += 1;
                    tracing::info!(%upload_url, offset, failures, error = %source, "upload interrupted; resuming");
                    let status = self.resume_offset(&upload_url, Some((source, &mut failures))).await?;
                    if let Some(done) = self.finished(&status, &upload_url, &mut hasher, &mut hashed, &mut file, path).await? {
                        return Ok(done);
                    }
                    offset = status.offset;
                    continue;
                }
            };
            match response.status() {
                StatusCode::NO_CONTENT | StatusCode::OK => {
                    failures = 0;
                    hasher.update(chunk);
                    hashed = offset + want as u64;
                    let headers = response.headers();
                    offset = header(headers, "upload-offset").and_then(|v| v.parse().ok()).unwrap_or(hashed);
                    if let (Some(id), Some(sha)) = (header(headers, FILE_ID_HEADER), header(headers, SHA256_HEADER)) {
                        progress(Progress { upload_url: &upload_url, sent: length, total: length });
                        let file_id = Uuid::parse_str(&id).map_err(|_| UploadError::MissingHeader("Lockbox-File-Id"))?;
                        return finish(hasher, sha, file_id, length, upload_url);
                    }
                }
                // Out of step, busy, a chunk damaged in transit, or a server hiccup: ask where
                // the server is and go on from there.
                StatusCode::CONFLICT | StatusCode::LOCKED | StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT => {
                    failures += 1;
                    let refusal = refused(response).await.err();
                    if failures >= self.max_attempts {
                        return Err(refusal.unwrap_or(UploadError::MissingHeader("Upload-Offset")));
                    }
                    tokio::time::sleep(self.retry_delay * failures).await;
                    offset = self.resume_offset(&upload_url, None).await?.offset;
                }
                status if status.as_u16() == 460 => {
                    failures += 1;
                    let refusal = refused(response).await.err();
                    if failures >= self.max_attempts {
                        return Err(refusal.unwrap_or(UploadError::MissingHeader("Upload-Offset")));
                    }
                }
                _ => return Err(refused(response).await.err().unwrap_or(UploadError::MissingHeader("Upload-Offset"))),
            }
        }
    }

    /// HEAD with retries; `failure` is the network error that made us ask, if any.
    async fn resume_offset(
        &self,
        upload_url: &Url,
        failure: Option<(reqwest::Error, &mut u32)>,
    ) -> Result<UploadStatus, UploadError> {
        let (mut last, mut attempts) = match failure {
            Some((error, attempts)) => (Some(error), *attempts),
            None => (None, 0),
        };
        loop {
            if let Some(source) = last.take() {
                if attempts >= self.max_attempts {
                    return Err(UploadError::Network { upload_url: upload_url.to_string(), attempts, source });
                }
                tokio::time::sleep(self.retry_delay * attempts.max(1)).await;
            }
            match self.status(upload_url).await {
                Ok(status) => return Ok(status),
                Err(e) if e.status().is_some() => {
                    let status = e.status().unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                    return Err(UploadError::Refused {
                        status,
                        code: "head_failed".into(),
                        message: format!("HEAD {upload_url} answered {status}; the upload is gone (expired or terminated), start over"),
                    });
                }
                Err(e) => {
                    attempts += 1;
                    last = Some(e);
                }
            }
        }
    }

    /// The last PATCH's answer was lost but the server finished the upload.
    async fn finished(
        &self,
        status: &UploadStatus,
        upload_url: &Url,
        hasher: &mut Sha256,
        hashed: &mut u64,
        file: &mut tokio::fs::File,
        path: &Path,
    ) -> Result<Option<Uploaded>, UploadError> {
        let Some((file_id, sha)) = status.file.clone() else { return Ok(None) };
        hash_range(file, hasher, *hashed, status.length).await.map_err(read_error(path))?;
        *hashed = status.length;
        finish(std::mem::take(hasher), sha, file_id, status.length, upload_url.clone()).map(Some)
    }
}

fn finish(hasher: Sha256, server: String, file_id: Uuid, size: u64, upload_url: Url) -> Result<Uploaded, UploadError> {
    let local = hex::encode(hasher.finalize());
    if local != server {
        return Err(UploadError::DigestMismatch { local, server });
    }
    Ok(Uploaded { file_id, sha256: server, size, upload_url })
}

async fn hash_range(file: &mut tokio::fs::File, hasher: &mut Sha256, from: u64, to: u64) -> std::io::Result<()> {
    file.seek(std::io::SeekFrom::Start(from)).await?;
    let mut left = to.saturating_sub(from);
    let mut buf = vec![0u8; 1 << 16];
    while left > 0 {
        let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        file.read_exact(&mut buf[..want]).await?;
        hasher.update(&buf[..want]);
        left -= want as u64;
    }
    Ok(())
}

fn read_error(path: &Path) -> impl FnOnce(std::io::Error) -> UploadError + '_ {
    move |source| UploadError::Read { path: path.display().to_string(), source }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Passes a success through; turns a refusal into [`UploadError::Refused`] with the server's
/// JSON `{error, message}`.
async fn refused(response: Response) -> Result<Response, UploadError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    Err(UploadError::Refused {
        status,
        code: body["error"].as_str().unwrap_or("unknown").to_owned(),
        message: body["message"].as_str().unwrap_or("no message").to_owned(),
    })
}
