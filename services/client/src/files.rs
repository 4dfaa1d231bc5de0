//! The FileStorageService's files API (list, get, download, delete).

use std::path::Path;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use reqwest::{Response, StatusCode, Url};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// Why a files request failed.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("{0:?} is not a valid service URL")]
    BadUrl(String),
    #[error("cannot reach the service: {0}")]
    Network(#[source] reqwest::Error),
    #[error("no such file")]
    NotFound,
    #[error("the server refused the request ({status}): {message}")]
    Refused { status: StatusCode, code: String, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the download's SHA-256 is {got}, the server said {want}: the content was damaged")]
    Digest { want: String, got: String },
}

/// A stored file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FileInfo {
    pub id: Uuid,
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

/// One page of a listing, newest first; pass `next` as `before` for the next page.
#[derive(Debug, Clone, Deserialize)]
pub struct Page {
    pub files: Vec<FileInfo>,
    pub next: Option<Uuid>,
}

/// The files API of one service, for one user.
#[derive(Debug, Clone)]
pub struct FilesClient {
    http: reqwest::Client,
    base: Url,
    token: String,
}

impl FilesClient {
    pub fn new(base_url: &str, token: impl Into<String>) -> Result<Self, FilesError> {
        let base = Url::parse(base_url).map_err(|_| FilesError::BadUrl(base_url.to_owned()))?;
        Ok(Self { http: reqwest::Client::new(), base, token: token.into() })
    }

    fn url(&self, path: &str) -> Result<Url, FilesError> {
        self.base.join(path).map_err(|_| FilesError::BadUrl(self.base.to_string()))
    }

    async fn get_ok(&self, url: Url) -> Result<Response, FilesError> {
        let response = self.http.get(url).bearer_auth(&self.token).send().await.map_err(FilesError::Network)?;
        refused(response).await
    }

    pub async fn list(&self, limit: u32, before: Option<Uuid>) -> Result<Page, FilesError> {
        let mut url = self.url("/v1/files")?;
        url.query_pairs_mut().append_pair("limit", &limit.to_string());
        if let Some(before) = before {
            url.query_pairs_mut().append_pair("before", &before.to_string());
        }
        self.get_ok(url).await?.json().await.map_err(FilesError::Network)
    }

    /// Every file, newest first, following pages.
    pub async fn list_all(&self) -> Result<Vec<FileInfo>, FilesError> {
        let mut all = Vec::new();
        let mut before = None;
        loop {
            let page = self.list(500, before).await?;
            all.extend(page.files);
            match page.next {
                Some(next) => before = Some(next),
                None => return Ok(all),
            }
        }
    }

    pub async fn get(&self, id: Uuid) -> Result<FileInfo, FilesError> {
        self.get_ok(self.url(&format!("/v1/files/{id}"))?).await?.json().await.map_err(FilesError::Network)
    }

    /// Streams the content to `dest` and checks it against the server's SHA-256 (the ETag).
    pub async fn download(&self, id: Uuid, dest: &Path) -> Result<FileInfo, FilesError> {
        let info = self.get(id).await?;
        let response = self.get_ok(self.url(&format!("/v1/files/{id}/content"))?).await?;
        let write = |source| FilesError::Write { path: dest.display().to_string(), source };
        let mut out = tokio::fs::File::create(dest).await.map_err(write)?;
        let mut hasher = Sha256::new();
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(FilesError::Network)?;
            hasher.update(&chunk);
            out.write_all(&chunk).await.map_err(write)?;
        }
        out.flush().await.map_err(write)?;
        let got = hex::encode(hasher.finalize());
        if got != info.sha256 {
            return Err(FilesError::Digest { want: info.sha256, got });
        }
        Ok(info)
    }

    /// Deletes the file (the service publishes `file.deleted`).
    pub async fn delete(&self, id: Uuid) -> Result<(), FilesError> {
        let response = self
            .http
            .delete(self.url(&format!("/v1/files/{id}"))?)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(FilesError::Network)?;
        refused(response).await.map(drop)
    }
}

async fn refused(response: Response) -> Result<Response, FilesError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    if status == StatusCode::NOT_FOUND {
        return Err(FilesError::NotFound);
    }
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    Err(FilesError::Refused {
        status,
        code: body["error"].as_str().unwrap_or("unknown").to_owned(),
        message: body["message"].as_str().unwrap_or("no message").to_owned(),
    })
}
