//! Prometheus metrics: uploads, bytes, outbox backlog, publish latency.

use std::sync::Arc;

use prometheus_client::{
    encoding::text::encode,
    metrics::{counter::Counter, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

/// The service's metrics; cheap to clone (every metric is shared).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub uploads_created: Counter,
    pub uploads_completed: Counter,
    pub uploads_inline: Counter,
    pub uploads_terminated: Counter,
    pub uploads_expired: Counter,
    pub checksum_mismatches: Counter,
    pub bytes_received: Counter,
    pub outbox_backlog: Gauge,
    pub events_published: Counter,
    pub publish_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("lockbox_fs");
        let uploads_created = Counter::default();
        let uploads_completed = Counter::default();
        let uploads_inline = Counter::default();
        let uploads_terminated = Counter::default();
        let uploads_expired = Counter::default();
        let checksum_mismatches = Counter::default();
        let bytes_received = Counter::default();
        let outbox_backlog = Gauge::default();
        let events_published = Counter::default();
        // 1 ms .. ~8 s: a confirm on loopback takes about a millisecond.
        let publish_seconds = Histogram::new([0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 8.0]);
        registry.register("uploads_created", "tus uploads created", uploads_created.clone());
        registry.register("uploads_completed", "uploads stored as files", uploads_completed.clone());
        registry.register("uploads_inline", "small files stored in the metadata database, of uploads_completed", uploads_inline.clone());
        registry.register("uploads_terminated", "uploads terminated by their client", uploads_terminated.clone());
        registry.register("uploads_expired", "abandoned uploads removed at expiry", uploads_expired.clone());
        registry.register("checksum_mismatches", "PATCH chunks refused for a wrong Upload-Checksum", checksum_mismatches.clone());
        registry.register("upload_bytes_received", "upload body bytes accepted (into temp files, or kept inline)", bytes_received.clone());
        registry.register("outbox_backlog", "events waiting for a broker confirm", outbox_backlog.clone());
        registry.register("events_published", "events confirmed by the broker", events_published.clone());
        registry.register("publish_seconds", "send-to-confirm latency of one event", publish_seconds.clone());
        Self {
            registry: Arc::new(registry),
            uploads_created,
            uploads_completed,
            uploads_inline,
            uploads_terminated,
            uploads_expired,
            checksum_mismatches,
            bytes_received,
            outbox_backlog,
            events_published,
            publish_seconds,
        }
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
