//! The queue as the app runs it: the persisted items, the window's subscription channels, and
//! the signal that wakes the workers.

use std::{
    collections::{HashMap, HashSet},
    path::PathBuf,
    sync::Mutex,
};

use tauri::ipc::Channel;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{
    QueueError, UploadItem, UploadQueue, UploadState, UploadUpdate,
    walk::walk,
};

pub struct Uploads {
    queue: Mutex<UploadQueue>,
    subscribers: Mutex<Vec<Channel<UploadUpdate>>>,
    /// Wakes idle workers when items are queued.
    pub(crate) wake: Notify,
    /// Cancels the in-flight upload of an item.
    running: Mutex<HashMap<String, CancellationToken>>,
    /// File ids whose notification arrived before their upload's answer did (the service
    /// publishes right after its commit, so the feed can beat the HTTP response).
    notified_early: Mutex<HashSet<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadsError {
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("the upload queue is unavailable after an internal error; restart LockBox")]
    Poisoned,
}

impl Uploads {
    pub fn new(queue: UploadQueue) -> Self {
        Self {
            queue: Mutex::new(queue),
            subscribers: Mutex::new(Vec::new()),
            wake: Notify::new(),
            running: Mutex::new(HashMap::new()),
            notified_early: Mutex::new(HashSet::new()),
        }
    }

    /// Runs `f` on the queue.
    pub fn with_queue<T>(&self, f: impl FnOnce(&mut UploadQueue) -> Result<T, QueueError>) -> Result<T, UploadsError> {
        let mut queue = self.queue.lock().map_err(|_| UploadsError::Poisoned)?;
        Ok(f(&mut queue)?)
    }

    /// Sends an update to every subscribed window, forgetting windows that went away.
    pub fn broadcast(&self, update: &UploadUpdate) {
        if let Ok(mut subs) = self.subscribers.lock() {
            subs.retain(|channel| channel.send(update.clone()).is_ok());
        }
    }

    pub fn subscribe(&self, channel: Channel<UploadUpdate>) -> Result<(), UploadsError> {
        let items = self.with_queue(|q| q.all())?;
        channel.send(UploadUpdate::Snapshot { items }).map_err(|_| UploadsError::Poisoned)?;
        self.subscribers.lock().map_err(|_| UploadsError::Poisoned)?.push(channel);
        Ok(())
    }

    /// Queues the files of dropped or chosen paths (folders walked) as one batch.
    pub fn enqueue(&self, paths: &[PathBuf]) -> Result<(Vec<UploadItem>, Vec<String>), UploadsError> {
        let (found, problems) = walk(paths);
        let batch_id = uuid::Uuid::now_v7().to_string();
        let items: Vec<UploadItem> = found
            .into_iter()
            .map(|f| UploadItem {
                id: uuid::Uuid::now_v7().to_string(),
                batch_id: batch_id.clone(),
                path: f.path.to_string_lossy().into_owned(),
                name: f.name,
                size: f.size,
                sent: 0,
                state: UploadState::Queued,
                file_id: None,
                local_sha256: None,
                server_sha256: None,
                error: None,
            })
            .collect();
        self.with_queue(|q| items.iter().try_for_each(|item| q.add(item)))?;
        for item in &items {
            self.broadcast(&UploadUpdate::Item { item: item.clone() });
        }
        self.wake.notify_waiters();
        Ok((items, problems))
    }

    /// Changes an item's state, persists it and tells the window.
    pub fn transition(&self, id: &str, state: UploadState, error: Option<&str>) -> Result<UploadItem, UploadsError> {
        let item = self.with_queue(|q| q.set_state(id, state, error))?;
        self.broadcast(&UploadUpdate::Item { item: item.clone() });
        Ok(item)
    }

    pub fn cancel(&self, id: &str) -> Result<UploadItem, UploadsError> {
        if let Some(token) = self.running.lock().map_err(|_| UploadsError::Poisoned)?.get(id) {
            token.cancel();
        }
        self.transition(id, UploadState::Cancelled, None)
    }

    pub fn retry(&self, id: &str) -> Result<UploadItem, UploadsError> {
        let item = self.with_queue(|q| q.retry(id))?;
        self.broadcast(&UploadUpdate::Item { item: item.clone() });
        self.wake.notify_waiters();
        Ok(item)
    }

    /// The notification of `file_id` reached the inbox: its upload's timeline ends.
    pub fn file_notified(&self, file_id: &str) -> Result<(), UploadsError> {
        // Hold the set while looking, so `verified` cannot slip in between.
        let mut early = self.notified_early.lock().map_err(|_| UploadsError::Poisoned)?;
        match self.with_queue(|q| q.by_file_id(file_id))? {
            Some(item) => {
                self.transition(&item.id, UploadState::Notified, None)?;
            }
            None => {
                early.insert(file_id.to_owned());
            }
        }
        Ok(())
    }

    /// The upload `id` stored `file_id` and its checksum matched: verified, or straight on to
    /// notified if that notification already came.
    pub fn verified(&self, id: &str, file_id: &str) -> Result<UploadItem, UploadsError> {
        let mut early = self.notified_early.lock().map_err(|_| UploadsError::Poisoned)?;
        let item = self.transition(id, UploadState::Verified, None)?;
        if early.remove(file_id) {
            return self.transition(id, UploadState::Notified, None);
        }
        Ok(item)
    }

    /// Forgets finished items; returns what is left (also sent to the windows as a snapshot).
    pub fn clear_finished(&self) -> Result<Vec<UploadItem>, UploadsError> {
        let items = self.with_queue(|q| {
            q.remove_finished()?;
            q.all()
        })?;
        self.broadcast(&UploadUpdate::Snapshot { items: items.clone() });
        Ok(items)
    }

    /// Takes the first pending item no worker runs yet, marks it uploading and registers it
    /// as running; its token is cancelled by [`cancel`](Self::cancel).
    pub fn claim_next(&self) -> Result<Option<(UploadItem, CancellationToken)>, UploadsError> {
        let mut running = self.running.lock().map_err(|_| UploadsError::Poisoned)?;
        let pending = self.with_queue(|q| q.pending())?;
        let Some(next) = pending.into_iter().find(|item| !running.contains_key(&item.id)) else {
            return Ok(None);
        };
        let token = CancellationToken::new();
        running.insert(next.id.clone(), token.clone());
        drop(running);
        let item = self.transition(&next.id, UploadState::Uploading, None)?;
        Ok(Some((item, token)))
    }

    pub fn stop_running(&self, id: &str) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(uploads: &Uploads) -> UploadItem {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, b"a").unwrap();
        let (items, _) = uploads.enqueue(&[path]).unwrap();
        items.into_iter().next().unwrap()
    }

    #[test]
    fn a_notification_that_beats_the_upload_answer_still_ends_the_timeline() {
        let uploads = Uploads::new(UploadQueue::in_memory().unwrap());
        let item = queued(&uploads);
        uploads.file_notified("file-1").unwrap();
        uploads.with_queue(|q| q.set_stored(&item.id, "file-1", "abc")).unwrap();
        assert_eq!(uploads.verified(&item.id, "file-1").unwrap().state, UploadState::Notified);
    }

    #[test]
    fn a_notification_after_the_upload_marks_it_notified() {
        let uploads = Uploads::new(UploadQueue::in_memory().unwrap());
        let item = queued(&uploads);
        uploads.with_queue(|q| q.set_stored(&item.id, "file-2", "abc")).unwrap();
        assert_eq!(uploads.verified(&item.id, "file-2").unwrap().state, UploadState::Verified);
        uploads.file_notified("file-2").unwrap();
        assert_eq!(uploads.with_queue(|q| q.get(&item.id)).unwrap().state, UploadState::Notified);
    }
}
