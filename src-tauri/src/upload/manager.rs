//! The queue as the app runs it: the persisted items, the window's subscription channels, and
//! the signal that wakes the workers.

use std::{
    collections::{HashMap, VecDeque},
    path::PathBuf,
    sync::Mutex,
};

use tauri::ipc::Channel;
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

use super::{
    QueueError, UploadItem, UploadQueue, UploadState, UploadUpdate,
    walk::walk,
};

pub struct Uploads {
    queue: Mutex<UploadQueue>,
    subscribers: Mutex<Vec<Channel<UploadUpdate>>>,
    /// Every update, for in-process observers (tests); the windows get theirs through
    /// `subscribers`.
    updates: broadcast::Sender<UploadUpdate>,
    /// Wakes idle workers when items are queued.
    pub(crate) wake: Notify,
    /// Cancels the in-flight upload of an item.
    running: Mutex<HashMap<String, CancellationToken>>,
    /// File ids whose notification arrived before their upload's answer was recorded (the
    /// event can beat the response); the last few only, most are other devices' files.
    early: Mutex<VecDeque<String>>,
}

/// How many early notifications are remembered.
const EARLY_KEPT: usize = 256;

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
            updates: broadcast::channel(1024).0,
            wake: Notify::new(),
            running: Mutex::new(HashMap::new()),
            early: Mutex::new(VecDeque::new()),
        }
    }

    /// Every update from now on (state changes and progress), without a window.
    pub fn updates(&self) -> broadcast::Receiver<UploadUpdate> {
        self.updates.subscribe()
    }

    /// Runs `f` on the queue.
    pub fn with_queue<T>(&self, f: impl FnOnce(&mut UploadQueue) -> Result<T, QueueError>) -> Result<T, UploadsError> {
        let mut queue = self.queue.lock().map_err(|_| UploadsError::Poisoned)?;
        Ok(f(&mut queue)?)
    }

    /// Sends an update to every subscribed window, forgetting windows that went away.
    pub fn broadcast(&self, update: &UploadUpdate) {
        // No in-process observer is the normal case, not an error.
        let _ = self.updates.send(update.clone());
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
            .map(|f| {
                let path = f.path.to_string_lossy().into_owned();
                UploadItem::queued(uuid::Uuid::now_v7().to_string(), batch_id.clone(), path, f.name, f.size)
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

    /// Cancels an item. A running one is stopped by its worker, which tells the server to
    /// drop what it received and then marks it cancelled; any other is marked cancelled now.
    pub fn cancel(&self, id: &str) -> Result<UploadItem, UploadsError> {
        // Held while deciding, so a worker cannot claim the item in between.
        let running = self.running.lock().map_err(|_| UploadsError::Poisoned)?;
        if let Some(token) = running.get(id) {
            token.cancel();
            drop(running);
            return self.with_queue(|q| q.get(id));
        }
        let item = self.transition(id, UploadState::Cancelled, None);
        drop(running);
        item
    }

    pub fn retry(&self, id: &str) -> Result<UploadItem, UploadsError> {
        let item = self.with_queue(|q| q.retry(id))?;
        self.broadcast(&UploadUpdate::Item { item: item.clone() });
        self.wake.notify_waiters();
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

    /// The server stored the item's file and its SHA-256 equals ours: `verified`, or straight
    /// to `notified` when the notification was faster.
    pub fn stored(&self, id: &str, file_id: &str, sha256: &str) -> Result<UploadItem, UploadsError> {
        // Held across the check and the write, so `file_notified` sees one or the other.
        let mut early = self.early.lock().map_err(|_| UploadsError::Poisoned)?;
        let stored = self.with_queue(|q| {
            q.set_local_sha256(id, sha256)?;
            q.set_stored(id, file_id, sha256)
        })?;
        self.broadcast(&UploadUpdate::Item { item: stored });
        let state = match early.iter().position(|f| f == file_id) {
            Some(at) => {
                early.remove(at);
                UploadState::Notified
            }
            None => UploadState::Verified,
        };
        self.transition(id, state, None)
    }

    /// The notification of a stored file reached the inbox: its upload's timeline ends.
    pub fn file_notified(&self, file_id: &str) -> Result<(), UploadsError> {
        let mut early = self.early.lock().map_err(|_| UploadsError::Poisoned)?;
        match self.with_queue(|q| q.by_file_id(file_id))? {
            Some(item) if matches!(item.state, UploadState::Stored | UploadState::Verified) => {
                self.transition(&item.id, UploadState::Notified, None)?;
            }
            Some(_) => {}
            None => {
                if early.len() >= EARLY_KEPT {
                    early.pop_front();
                }
                early.push_back(file_id.to_owned());
            }
        }
        Ok(())
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

    fn queued(uploads: &Uploads, id: &str) {
        let item = UploadItem::queued(id.into(), "b".into(), format!("/tmp/{id}"), id.into(), 3);
        uploads.with_queue(|q| q.add(&item)).unwrap();
    }

    #[test]
    fn a_notification_that_beats_the_uploads_answer_still_ends_its_timeline() {
        let uploads = Uploads::new(UploadQueue::in_memory().unwrap());
        queued(&uploads, "slow");
        queued(&uploads, "usual");

        uploads.file_notified("file-slow").unwrap();
        let slow = uploads.stored("slow", "file-slow", "abc").unwrap();
        assert_eq!((slow.state, slow.local_sha256.as_deref()), (UploadState::Notified, Some("abc")));

        let usual = uploads.stored("usual", "file-usual", "def").unwrap();
        assert_eq!(usual.state, UploadState::Verified);
        uploads.file_notified("file-usual").unwrap();
        assert_eq!(uploads.with_queue(|q| q.get("usual")).unwrap().state, UploadState::Notified);
    }
}
