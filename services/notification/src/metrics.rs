//! Prometheus metrics, served at `/metrics`.

use std::fmt::Write;

use prometheus_client::{
    encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder},
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

/// What became of one delivery.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    Duplicate,
    DeadLettered,
}

/// Why a stream connection ended.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum CloseReason {
    Client,
    TooSlow,
    HeartbeatTimeout,
    Shutdown,
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Stored => "stored",
            Outcome::Duplicate => "duplicate",
            Outcome::DeadLettered => "dead_lettered",
        }
    }
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Client => "client",
            CloseReason::TooSlow => "too_slow",
            CloseReason::HeartbeatTimeout => "heartbeat_timeout",
            CloseReason::Shutdown => "shutdown",
            CloseReason::Error => "error",
        }
    }
}

// Label values in snake_case, like the rest of the exposition.
impl EncodeLabelValue for Outcome {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

impl EncodeLabelValue for CloseReason {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CloseLabels {
    pub reason: CloseReason,
}

/// Every metric of the service, registered once.
pub struct Metrics {
    pub registry: Registry,
    pub events: Family<OutcomeLabels, Counter>,
    pub store_retries: Counter,
    pub connections: Gauge,
    pub closed: Family<CloseLabels, Counter>,
    pub frames_sent: Counter,
    pub replayed: Counter,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("lockbox_notification");
        let events = Family::<OutcomeLabels, Counter>::default();
        registry.register("events", "File events consumed, by outcome", events.clone());
        let store_retries = Counter::default();
        registry.register("store_retries", "Store failures retried before acknowledging", store_retries.clone());
        let connections = Gauge::default();
        registry.register("stream_connections", "Open WebSocket stream connections", connections.clone());
        let closed = Family::<CloseLabels, Counter>::default();
        registry.register("stream_closed", "Stream connections ended, by reason", closed.clone());
        let frames_sent = Counter::default();
        registry.register("frames_sent", "Frames written to stream connections", frames_sent.clone());
        let replayed = Counter::default();
        registry.register("replayed", "Notifications replayed from the store after since", replayed.clone());
        Self { registry, events, store_retries, connections, closed, frames_sent, replayed }
    }

    pub fn event(&self, outcome: Outcome) {
        self.events.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    pub fn closed(&self, reason: CloseReason) {
        self.closed.get_or_create(&CloseLabels { reason }).inc();
    }

    /// The text exposition format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
