//! Broker configuration.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The default AMQP URL: the local node with the default guest account.
pub const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
/// How soon after the broker accepts connections again a service must be reconnected (the
/// reliability suite checks it against a real broker crash).
pub const RECONNECT_PROMISE: Duration = Duration::from_secs(5);
/// The environment variable that overrides the AMQP URL.
pub const AMQP_URL_ENV: &str = "LOCKBOX_AMQP_URL";

/// How to reach the broker and how to name things on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrokerConfig {
    /// `amqp://user:pass@host:port/vhost`.
    pub amqp_url: String,
    /// Prepended to every exchange and queue name, so tests (or tenants) can share a broker.
    pub prefix: String,
    /// Name shown for our connection in the broker's management tools.
    pub connection_name: String,
    /// How long one connection attempt (TCP + AMQP handshake) may take.
    #[serde(with = "millis")]
    pub connect_timeout: Duration,
    /// How long a publish may wait for the broker's confirm before it counts as failed.
    #[serde(with = "millis")]
    pub confirm_timeout: Duration,
    /// First and largest pause between reconnection attempts (jittered, doubling).
    #[serde(with = "millis")]
    pub reconnect_min: Duration,
    #[serde(with = "millis")]
    pub reconnect_max: Duration,
    /// How many times the quorum queue redelivers a message before dead-lettering it.
    pub delivery_limit: u32,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self {
            amqp_url: DEFAULT_AMQP_URL.to_owned(),
            prefix: String::new(),
            connection_name: "lockbox".to_owned(),
            connect_timeout: Duration::from_secs(5),
            confirm_timeout: Duration::from_secs(10),
            reconnect_min: Duration::from_millis(100),
            // Small enough that a service is back within RECONNECT_PROMISE of the broker's
            // return however long it was away (10 s let a 12 s outage cost 7 s more).
            reconnect_max: Duration::from_secs(2),
            delivery_limit: 5,
        }
    }
}

impl BrokerConfig {
    /// The defaults, with `LOCKBOX_AMQP_URL` applied when it is set.
    pub fn from_env() -> Self {
        let mut config = Self::default();
        if let Ok(url) = std::env::var(AMQP_URL_ENV) {
            config.amqp_url = url;
        }
        config
    }

    /// The AMQP URL with any password replaced, for logs and `--dump-config`.
    pub fn redacted_url(&self) -> String {
        redact_password(&self.amqp_url)
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((userinfo, host)) = rest.split_once('@') else { return url.to_owned() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Durations as integer milliseconds in config files.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_backoff_keeps_the_reconnect_promise_after_any_outage() {
        // Regression: with a 10 s cap, a service whose broker was away 12 s waited up to 10 s
        // more after the broker was back. Each pause must leave room for the connect itself.
        let config = BrokerConfig::default();
        let mut backoff = crate::backoff::Backoff::new(config.reconnect_min, config.reconnect_max);
        for attempt in 0..64 {
            let pause = backoff.next_delay();
            assert!(pause * 2 <= RECONNECT_PROMISE, "attempt {attempt}: a pause of {pause:?} breaks the promise");
        }
    }

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(redact_password("amqp://guest:secret@h:5672/%2f"), "amqp://guest:***@h:5672/%2f");
        assert_eq!(redact_password("amqp://h:5672"), "amqp://h:5672");
    }
}
