//! Waiting for a condition of another process, with a deadline and a message that says what
//! did not happen. (Processes outside the test give no events to await, so we look again
//! every few milliseconds until the deadline.)

use std::{future::Future, time::Duration};

pub const WAIT: Duration = Duration::from_secs(60);

pub async fn until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        tick.tick().await;
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
    }
}
