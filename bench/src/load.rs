//! The one load generator for LockBox and nginx alike: reqwest over keep-alive connections,
//! bodies from memory (so the client never waits on a disk), `concurrency` tasks.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use bytes::Bytes;
use reqwest::{Client, RequestBuilder, Response};
use sha2::{Digest, Sha256};

use crate::BenchError;

pub fn client() -> Result<Client, BenchError> {
    Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(256)
        .build()
        .map_err(|source| BenchError::Http { url: "(building the client)".into(), source })
}

/// `Upload-Checksum` for a body.
pub fn tus_checksum(body: &[u8]) -> String {
    format!("sha256 {}", STANDARD.encode(Sha256::digest(body)))
}

/// Sends and checks the status is one of `ok`.
pub async fn send(request: RequestBuilder, url: &str, ok: &[u16]) -> Result<Response, BenchError> {
    let response = request.send().await.map_err(|source| BenchError::Http { url: url.to_owned(), source })?;
    let status = response.status().as_u16();
    if !ok.contains(&status) {
        let body = response.text().await.unwrap_or_default();
        return Err(BenchError::Status { url: url.to_owned(), status, body });
    }
    Ok(response)
}

/// One upload as a request: where it goes and what counts as success.
pub struct Upload {
    pub url: String,
    pub request: RequestBuilder,
    pub ok: &'static [u16],
}

/// Runs `total` uploads made by `make(i)` on `concurrency` tasks; returns the wall time and
/// each response (in completion order) with when it arrived.
pub async fn many<F>(total: usize, concurrency: usize, make: F) -> Result<(Duration, Vec<(Instant, Response)>), BenchError>
where
    F: Fn(usize) -> Upload + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (make, next) = (make.clone(), next.clone());
        tasks.spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<_, BenchError>(done);
                }
                let upload = make(i);
                let response = send(upload.request, &upload.url, upload.ok).await?;
                done.push((Instant::now(), response));
            }
        });
    }
    let mut all = Vec::with_capacity(total);
    while let Some(joined) = tasks.join_next().await {
        let done = joined.map_err(|e| BenchError::Invalid(format!("a load task panicked: {e}")))??;
        all.extend(done);
    }
    Ok((started.elapsed(), all))
}

/// A tus creation-with-upload of `body` (one request, like one nginx PUT).
pub fn tus_create_with(client: &Client, base: &str, token: &str, name: &str, body: Bytes, checksum: &str) -> Upload {
    let url = format!("{base}/v1/uploads");
    let request = client
        .post(&url)
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", body.len())
        .header("upload-metadata", format!("filename {}", STANDARD.encode(name)))
        .header("content-type", "application/offset+octet-stream")
        .header("upload-checksum", checksum)
        .body(body);
    Upload { url, request, ok: &[201] }
}

/// A plain PUT (nginx DAV).
pub fn put(client: &Client, url: String, body: Bytes) -> Upload {
    let request = client.put(&url).body(body);
    Upload { url, request, ok: &[201, 204] }
}
