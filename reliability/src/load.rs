//! Upload load: `concurrency` workers, each a real tus client, uploading distinct small files
//! until a count or a deadline is reached. Every upload the service answered with success is
//! recorded by its file id (the accepted set the scenarios compare arrivals with).
use std::{
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use lockbox_client::upload::TusClient;
use tokio::{sync::watch, task::JoinSet, time::Instant};

use crate::{SupportError, common::content};

/// What to upload.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    pub url: String,
    pub token: String,
    /// Stop after this many uploads were started…
    pub total: Option<u64>,
    /// …or when this much time has passed.
    pub duration: Option<Duration>,
    pub concurrency: usize,
    pub size: usize,
    /// Where the local files are written (one per upload, removed after).
    pub dir: PathBuf,
    /// Send a failed upload again (after a short pause that grows) until it succeeds or this
    /// long has passed since its first try, as an uploader does while a service restarts.
    /// `None`: a failure is recorded at once.
    pub retry_for: Option<Duration>,
}

/// The outcome of a load run.
#[derive(Debug, Default, Clone)]
pub struct LoadResult {
    /// File ids of uploads the service answered with success.
    pub accepted: Vec<String>,
    /// Uploads that failed, with why.
    pub errors: Vec<String>,
    pub elapsed: Duration,
    /// Slowest single upload.
    pub slowest: Duration,
    /// Sends repeated after a failure (see [`LoadSpec::retry_for`]).
    pub retries: u64,
}

/// A running load.
pub struct Load {
    done: watch::Receiver<u64>,
    shared: Arc<Shared>,
    tasks: JoinSet<()>,
    started: Instant,
}

struct Shared {
    next: AtomicU64,
    result: Mutex<LoadResult>,
    done: watch::Sender<u64>,
}

impl Load {
    pub fn start(spec: LoadSpec) -> Self {
        let (done_tx, done) = watch::channel(0);
        let shared = Arc::new(Shared { next: AtomicU64::new(0), result: Mutex::new(LoadResult::default()), done: done_tx });
        let started = Instant::now();
        let deadline = spec.duration.map(|d| started + d);
        let mut tasks = JoinSet::new();
        for _ in 0..spec.concurrency.max(1) {
            tasks.spawn(worker(spec.clone(), shared.clone(), deadline));
        }
        Self { done, shared, tasks, started }
    }

    /// Uploads finished so far (accepted or failed).
    pub fn finished(&self) -> u64 {
        *self.done.borrow()
    }

    pub fn accepted_so_far(&self) -> u64 {
        self.shared.result.lock().map(|r| r.accepted.len() as u64).unwrap_or(0)
    }

    /// Waits until at least `n` uploads finished.
    pub async fn wait_finished(&self, n: u64, limit: Duration) -> Result<(), SupportError> {
        let mut rx = self.done.clone();
        match tokio::time::timeout(limit, rx.wait_for(|d| *d >= n)).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(SupportError::timeout(format!("{n} uploads to finish (finished {})", self.finished()), limit)),
        }
    }

    /// Waits for every worker and returns what happened.
    pub async fn finish(mut self, limit: Duration) -> Result<LoadResult, SupportError> {
        let all = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(limit, all).await.is_err() {
            return Err(SupportError::timeout(format!("the uploads to finish (finished {})", self.finished()), limit));
        }
        let mut result = self.shared.result.lock().map(|r| r.clone()).unwrap_or_default();
        result.elapsed = self.started.elapsed();
        Ok(result)
    }
}

async fn worker(spec: LoadSpec, shared: Arc<Shared>, deadline: Option<Instant>) {
    let client = match TusClient::new(&spec.url, spec.token.clone()) {
        Ok(client) => client,
        Err(error) => {
            if let Ok(mut r) = shared.result.lock() {
                r.errors.push(error.to_string());
            }
            return;
        }
    };
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return;
        }
        let i = shared.next.fetch_add(1, Ordering::SeqCst);
        if spec.total.is_some_and(|total| i >= total) {
            return;
        }
        let path = spec.dir.join(format!("upload-{i:06}.bin"));
        let outcome = match tokio::fs::write(&path, content(spec.size, i + 1)).await {
            Ok(()) => {
                let started = Instant::now();
                let mut pause = Duration::from_millis(20);
                let uploaded = loop {
                    let uploaded = client.upload_file(&path, |_| {}).await;
                    match (&uploaded, spec.retry_for) {
                        (Err(error), Some(limit)) if started.elapsed() < limit => {
                            tracing::debug!(upload = i, %error, "upload failed; sending it again");
                            if let Ok(mut r) = shared.result.lock() {
                                r.retries += 1;
                            }
                            tokio::time::sleep(pause).await; // client backoff, not a wait on the test
                            pause = (pause * 2).min(Duration::from_millis(500));
                        }
                        _ => break uploaded,
                    }
                };
                let _ = tokio::fs::remove_file(&path).await;
                uploaded.map(|u| (u.file_id.to_string(), started.elapsed())).map_err(|e| e.to_string())
            }
            Err(e) => Err(format!("cannot write {}: {e}", path.display())),
        };
        if let Ok(mut r) = shared.result.lock() {
            match outcome {
                Ok((id, took)) => {
                    r.accepted.push(id);
                    r.slowest = r.slowest.max(took);
                }
                Err(e) => {
                    tracing::warn!(upload = i, error = %e, "upload failed");
                    r.errors.push(e);
                }
            }
        }
        shared.done.send_modify(|d| *d += 1);
    }
}
