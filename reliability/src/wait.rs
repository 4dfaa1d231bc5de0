//! Waiting on a condition with a deadline. In-process conditions use channels and watches;
//! this is for what only another process can answer (an HTTP probe, a file, a broker query),
//! asked again at a short interval until it holds or the deadline passes.
use std::{future::Future, time::Duration};

use tokio::time::Instant;

use crate::SupportError;

/// How often [`until`] asks again.
pub const PROBE_EVERY: Duration = Duration::from_millis(25);

/// Asks `probe` until it returns `Some`, at most `limit`; returns the value and when it held.
pub async fn until<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> Result<(T, Instant), SupportError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe().await {
            return Ok((value, Instant::now()));
        }
        if Instant::now() >= deadline {
            return Err(SupportError::timeout(what, limit));
        }
        tokio::time::sleep(PROBE_EVERY).await;
    }
}

/// `GET url` answered 200.
pub async fn http_ok(http: &reqwest::Client, url: &str) -> bool {
    matches!(http.get(url).timeout(Duration::from_secs(2)).send().await, Ok(r) if r.status().is_success())
}

/// One sample of a service's `/metrics` (OpenMetrics text): the value of the line that starts
/// with `series`, e.g. `lockbox_notification_events_total{outcome="duplicate"}`.
pub async fn metric(http: &reqwest::Client, base_url: &str, series: &str) -> Option<f64> {
    let text = http.get(format!("{base_url}/metrics")).send().await.ok()?.text().await.ok()?;
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.split_whitespace().next()).and_then(|v| v.parse().ok()))
}
