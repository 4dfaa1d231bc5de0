//! The toaster's loop without Tauri: new inbox items and catch-up marks come in over a
//! channel, the [`Folder`] decides between single toasts and a summary, and each toast goes
//! to `show`. The app's [`toaster`](super::toaster) passes a `show` that sends it over D-Bus;
//! the reliability suite passes one that records it, so both run this same loop.

use std::time::Instant;

use tokio::sync::mpsc;

use super::{Folder, Toast};
use crate::inbox::InboxItem;

/// What the toaster is told.
pub enum ToastMessage {
    Item(Box<InboxItem>),
    /// The feed (re)connected: what comes next is a replay, to be folded into one summary.
    CatchUp,
}

/// Sends new items to the toaster loop.
#[derive(Clone)]
pub struct ToastSender(mpsc::UnboundedSender<ToastMessage>);

impl ToastSender {
    /// A sender and the receiver to hand to [`fold`].
    pub fn channel() -> (Self, mpsc::UnboundedReceiver<ToastMessage>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self(tx), rx)
    }

    pub fn toast(&self, item: InboxItem) {
        // A closed channel means the toaster has ended (the app is quitting): nothing to show.
        let _ = self.0.send(ToastMessage::Item(Box::new(item)));
    }

    /// The feed connected and replays what the app missed.
    pub fn catch_up(&self) {
        let _ = self.0.send(ToastMessage::CatchUp);
    }
}

/// What the loop just did, for `stepped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Item,
    CatchUp,
    Flush,
}

/// Runs until every [`ToastSender`] is gone, then shows what the folder still holds.
/// `stepped` sees the folder after each step (tests watch a catch-up end through it).
pub async fn fold(
    mut rx: mpsc::UnboundedReceiver<ToastMessage>,
    mut show: impl FnMut(Toast<InboxItem>),
    mut stepped: impl FnMut(Step, &Folder<InboxItem>),
) {
    let mut folder = Folder::default();
    loop {
        let deadline = folder.deadline();
        let flush_at = async move {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        let step = tokio::select! {
            message = rx.recv() => match message {
                Some(ToastMessage::Item(item)) => {
                    folder.push(*item, Instant::now()).into_iter().for_each(&mut show);
                    Step::Item
                }
                Some(ToastMessage::CatchUp) => {
                    folder.catch_up(Instant::now());
                    Step::CatchUp
                }
                None => break,
            },
            _ = flush_at => {
                folder.flush().into_iter().for_each(&mut show);
                Step::Flush
            }
        };
        stepped(step, &folder);
    }
    folder.flush().into_iter().for_each(show);
}
