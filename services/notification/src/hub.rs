//! Per-user fan-out to the stream connections this process holds: one bounded broadcast
//! channel per connected user. A connection that falls `capacity` frames behind sees
//! `Lagged` and is closed as too slow (it catches up from the store by reconnecting).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use lockbox_events::Frame;
use tokio::sync::broadcast;
use uuid::Uuid;

/// One frame on its way to a user's connections, maybe skipping the one that caused it.
#[derive(Debug)]
pub struct Push {
    pub frame: Frame,
    /// The connection not to send it to (the device that just read, which knows already).
    pub except: Option<Uuid>,
}

/// The registry of connected users. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    users: Arc<Mutex<HashMap<String, broadcast::Sender<Arc<Push>>>>>,
    capacity: usize,
}

impl Hub {
    pub fn new(capacity: usize) -> Self {
        Self { users: Arc::default(), capacity: capacity.max(1) }
    }

    /// Starts receiving every frame later sent to `user_id`.
    pub fn subscribe(&self, user_id: &str) -> Subscription {
        let mut users = self.lock();
        let rx = match users.get(user_id) {
            Some(tx) => tx.subscribe(),
            None => {
                let (tx, rx) = broadcast::channel(self.capacity);
                users.insert(user_id.to_owned(), tx);
                rx
            }
        };
        Subscription { rx: Some(rx), user_id: user_id.to_owned(), hub: self.clone() }
    }

    /// Sends `frame` to every connection of `user_id`; returns how many there are.
    pub fn send(&self, user_id: &str, frame: Frame) -> usize {
        self.send_except(user_id, frame, None)
    }

    /// Sends `frame` to every connection of `user_id` but `except`.
    pub fn send_except(&self, user_id: &str, frame: Frame, except: Option<Uuid>) -> usize {
        let users = self.lock();
        users.get(user_id).map_or(0, |tx| tx.send(Arc::new(Push { frame, except })).unwrap_or(0))
    }

    /// Users with at least one connection.
    pub fn connected_users(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, broadcast::Sender<Arc<Push>>>> {
        // The map stays consistent across a panic (every change is one insert or remove).
        self.users.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One connection's receiver; dropping it forgets the user once their last connection is gone.
pub struct Subscription {
    rx: Option<broadcast::Receiver<Arc<Push>>>,
    user_id: String,
    hub: Hub,
}

impl Subscription {
    pub async fn recv(&mut self) -> Result<Arc<Push>, broadcast::error::RecvError> {
        match self.rx.as_mut() {
            Some(rx) => rx.recv().await,
            None => Err(broadcast::error::RecvError::Closed),
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        drop(self.rx.take());
        let mut users = self.hub.lock();
        if users.get(&self.user_id).is_some_and(|tx| tx.receiver_count() == 0) {
            users.remove(&self.user_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_reach_every_connection_of_their_user_only() {
        let hub = Hub::new(8);
        let (mut a1, mut a2, mut b) = (hub.subscribe("alice"), hub.subscribe("alice"), hub.subscribe("bob"));
        assert_eq!(hub.send("alice", Frame::heartbeat()), 2);
        assert!(a1.recv().await.is_ok() && a2.recv().await.is_ok());
        assert!(b.rx.as_mut().unwrap().try_recv().is_err());
        drop((a1, a2));
        assert_eq!(hub.connected_users(), 1);
        assert_eq!(hub.send("alice", Frame::heartbeat()), 0);
    }
}
