//! Upload workers: `concurrency` tasks that take queued items in order and send them with the
//! tus client of `lockbox-client`, resuming from the persisted upload URL after a network drop
//! or an app restart.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use lockbox_client::upload::{Sent, TusClient, UploadError};
use reqwest::{StatusCode, Url};
use tokio_util::sync::CancellationToken;

use super::{UploadItem, UploadState, UploadUpdate, Uploads};

/// How many files upload at once.
pub const CONCURRENCY: usize = 3;

/// How long a cancel waits for the server to drop the upload.
const TERMINATE_WITHIN: Duration = Duration::from_secs(10);

/// How often progress of one file reaches the window.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Where to upload to, read when an upload starts (so settings changes apply to the next file).
pub trait Target: Send + Sync + 'static {
    /// The FileStorageService URL and the bearer token, or why there is none.
    fn target(&self) -> Result<(String, String), String>;
}

/// The target from the app's settings and token file.
pub struct SettingsTarget(pub tauri::AppHandle);

impl Target for SettingsTarget {
    fn target(&self) -> Result<(String, String), String> {
        use tauri::Manager;
        let state = self.0.try_state::<crate::commands::settings::SettingsState>().ok_or("the app is still starting")?;
        let url = state.current.read().map_err(|_| "settings unavailable; restart LockBox")?.file_storage_url.clone();
        let token = state.tokens.load().ok_or("not signed in: paste a token in Settings, then press Retry")?;
        Ok((url, token))
    }
}

/// Starts the workers; they end when `shutdown` is cancelled. An upload in flight then stops
/// where it is: its item stays `uploading` with its tus URL persisted, so the next start
/// resumes it (what an app restart does).
pub fn spawn(
    uploads: Arc<Uploads>,
    target: Arc<dyn Target>,
    concurrency: usize,
    shutdown: CancellationToken,
) -> Vec<tauri::async_runtime::JoinHandle<()>> {
    (0..concurrency.max(1))
        .map(|_| {
            let (uploads, target, shutdown) = (uploads.clone(), target.clone(), shutdown.clone());
            tauri::async_runtime::spawn(async move {
                loop {
                    // Register for the wake-up before looking, so an enqueue in between is not missed.
                    let woken = uploads.wake.notified();
                    if shutdown.is_cancelled() {
                        break;
                    }
                    let next = match uploads.claim_next() {
                        Ok(next) => next,
                        Err(error) => {
                            tracing::error!(%error, "upload queue unavailable");
                            None
                        }
                    };
                    match next {
                        Some((item, cancel)) => {
                            let id = item.id.clone();
                            tokio::select! {
                                () = run_one(&uploads, target.as_ref(), item, cancel) => {}
                                () = shutdown.cancelled() => {
                                    tracing::info!(upload = %id, "stopping; the upload resumes at the next start");
                                }
                            }
                            uploads.stop_running(&id);
                        }
                        None => tokio::select! {
                            () = woken => {}
                            () = shutdown.cancelled() => break,
                        },
                    }
                }
            })
        })
        .collect()
}

async fn run_one(uploads: &Uploads, target: &dyn Target, item: UploadItem, cancel: CancellationToken) {
    let id = item.id.clone();
    let outcome = tokio::select! {
        outcome = upload(uploads, target, &item) => outcome,
        () = cancel.cancelled() => Err(Failure::Cancelled),
    };
    let result = match outcome {
        Ok(()) => Ok(()),
        Err(Failure::Cancelled) => {
            terminate(uploads, target, &id).await;
            uploads.transition(&id, UploadState::Cancelled, None).map(drop)
        }
        Err(Failure::Failed(reason)) => {
            tracing::warn!(upload = %id, name = %item.name, reason, "upload failed");
            uploads.transition(&id, UploadState::Failed, Some(&reason)).map(drop)
        }
    };
    if let Err(error) = result {
        tracing::error!(upload = %id, %error, "could not record the upload's outcome");
    }
}

enum Failure {
    Cancelled,
    Failed(String),
}

async fn upload(uploads: &Uploads, target: &dyn Target, item: &UploadItem) -> Result<(), Failure> {
    let (base, token) = target.target().map_err(Failure::Failed)?;
    let client = TusClient::new(&base, token).map_err(|e| Failure::Failed(e.to_string()))?;
    let path = PathBuf::from(&item.path);
    let size = tokio::fs::metadata(&path)
        .await
        .map_err(|e| Failure::Failed(format!("cannot read {}: {e}; was it moved or deleted?", item.path)))?
        .len();
    let queue_err = |e: super::UploadsError| Failure::Failed(e.to_string());

    let mut url = uploads.with_queue(|q| q.upload_url(&item.id)).map_err(queue_err)?.and_then(|u| Url::parse(&u).ok());
    if url.is_none() && size <= TusClient::ONE_REQUEST_MAX {
        // Small: the whole file in the creation request. Nothing to resume if it breaks off.
        match client.create_with_file(&path, &item.name).await.map_err(|e| Failure::Failed(explain(&e)))? {
            Sent::Stored(done) => {
                uploads.broadcast(&UploadUpdate::Progress { id: item.id.clone(), sent: done.size, size: done.size });
                uploads.stored(&item.id, &done.file_id.to_string(), &done.sha256).map_err(queue_err)?;
                return Ok(());
            }
            Sent::Created(created) => {
                uploads.with_queue(|q| q.set_upload_url(&item.id, Some(created.as_str()))).map_err(queue_err)?;
                url = Some(created);
            }
        }
    }
    for attempt in 0..2 {
        let upload_url = match url.take() {
            Some(url) => url,
            None => {
                let created = client.create(&item.name, size).await.map_err(|e| Failure::Failed(explain(&e)))?;
                uploads.with_queue(|q| q.set_upload_url(&item.id, Some(created.as_str()))).map_err(queue_err)?;
                created
            }
        };
        let mut last = Instant::now() - PROGRESS_EVERY;
        let progress = |p: lockbox_client::upload::Progress<'_>| {
            if last.elapsed() >= PROGRESS_EVERY || p.sent == p.total {
                last = Instant::now();
                uploads.broadcast(&UploadUpdate::Progress { id: item.id.clone(), sent: p.sent, size: p.total });
                let _ = uploads.with_queue(|q| q.set_sent(&item.id, p.sent));
            }
        };
        match client.resume_file(&path, upload_url, progress).await {
            Ok(done) => {
                // The client hashed the file as it sent it and compared with the server's.
                uploads.stored(&item.id, &done.file_id.to_string(), &done.sha256).map_err(queue_err)?;
                return Ok(());
            }
            // The server forgot the upload (expired or terminated): start a new one, once.
            Err(UploadError::Refused { status, .. }) if status == StatusCode::NOT_FOUND && attempt == 0 => {
                uploads.with_queue(|q| q.set_upload_url(&item.id, None)).map_err(queue_err)?;
            }
            Err(UploadError::LengthMismatch { .. }) if attempt == 0 => {
                uploads.with_queue(|q| q.set_upload_url(&item.id, None)).map_err(queue_err)?;
            }
            Err(error) => return Err(Failure::Failed(explain(&error))),
        }
    }
    Err(Failure::Failed("the server lost the upload twice; try again later".into()))
}

/// Tells the server to drop what it received of a cancelled upload.
async fn terminate(uploads: &Uploads, target: &dyn Target, id: &str) {
    let Ok(Some(url)) = uploads.with_queue(|q| q.upload_url(id)) else { return };
    let _ = uploads.with_queue(|q| q.set_upload_url(id, None));
    let Ok((base, token)) = target.target() else { return };
    let (Ok(client), Ok(url)) = (TusClient::new(&base, token), Url::parse(&url)) else { return };
    // Bounded, so a cancel never hangs on an unreachable server.
    match tokio::time::timeout(TERMINATE_WITHIN, client.cancel(&url)).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::info!(%error, "could not terminate a cancelled upload; it expires on the server"),
        Err(_) => tracing::info!("terminating a cancelled upload timed out; it expires on the server"),
    }
}

/// The failure in words a person can act on.
fn explain(error: &UploadError) -> String {
    match error {
        UploadError::Refused { status, message, .. } if *status == StatusCode::UNAUTHORIZED => {
            format!("the server refused the token ({message}); paste a new token in Settings")
        }
        UploadError::Refused { status, message, .. } if *status == StatusCode::PAYLOAD_TOO_LARGE => {
            format!("no room: {message}")
        }
        UploadError::Connect(_) => "cannot reach the file storage service; check the URL in Settings, it retries on Retry".into(),
        other => other.to_string(),
    }
}
