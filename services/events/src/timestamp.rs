//! The one timestamp format on the wire: RFC 3339 in UTC with milliseconds and a `Z`
//! (`2026-12-04T10:15:30.123Z`). Decoding accepts any RFC 3339 offset and converts to UTC.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// Now, truncated to what the wire keeps (milliseconds), so a value survives a round trip.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

/// Formats a timestamp the way it goes on the wire.
pub fn format(ts: &DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn serialize<S: Serializer>(ts: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(ts))
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let raw = String::deserialize(deserializer)?;
    DateTime::parse_from_rfc3339(&raw)
        .map(|ts| ts.with_timezone(&Utc))
        .map_err(|e| {
            serde::de::Error::custom(format_args!(
                "timestamp {raw:?} is not RFC 3339 (expected e.g. 2026-12-04T10:15:30.123Z): {e}"
            ))
        })
}
