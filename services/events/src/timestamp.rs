//! The one timestamp format on the wire: RFC 3339 in UTC with milliseconds and a `Z`
//! (`2026-12-04T10:15:30.123Z`). Decoding accepts any RFC 3339 offset and converts to UTC,
//! keeping milliseconds (finer digits are dropped, as encoding would).

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
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

/// Parses a wire timestamp: any RFC 3339 offset, converted to UTC and cut to milliseconds,
/// the precision the wire keeps, so a decoded value encodes back to itself (a producer's
/// `…59.20999Z` would otherwise decode to a value that no longer matches once re-sent).
pub fn parse(raw: &str) -> Result<DateTime<Utc>, String> {
    let ts = DateTime::parse_from_rfc3339(raw)
        .map_err(|e| format!("timestamp {raw:?} is not RFC 3339 (expected e.g. 2026-12-04T10:15:30.123Z): {e}"))?
        .with_timezone(&Utc);
    // RFC 3339 has four-digit years: an offset can push the UTC value out of them, and such
    // a value could not be written back.
    if !(0..=9999).contains(&ts.year()) {
        return Err(format!("timestamp {raw:?} is outside years 0000..=9999 once converted to UTC"));
    }
    // Cut within the second, so a leap second (nanos >= 1e9) stays one.
    let millis = ts.nanosecond() / 1_000_000 * 1_000_000;
    ts.with_nanosecond(millis).ok_or_else(|| format!("timestamp {raw:?} has an invalid fraction of a second"))
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let raw = String::deserialize(deserializer)?;
    parse(&raw).map_err(serde::de::Error::custom)
}
