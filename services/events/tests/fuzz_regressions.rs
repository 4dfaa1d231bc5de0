//! Inputs the fuzz targets in `fuzz/` found, each kept as a test of the invariant it broke:
//! a decoded event or frame encodes to JSON that decodes back to the same value.

use lockbox_events::{FileMessageData, Frame};

fn assert_round_trips(json: &str) -> FileMessageData {
    let decoded = FileMessageData::from_json(json.as_bytes()).expect("a valid event");
    let again = FileMessageData::from_json(&decoded.to_json()).expect("re-encoded event decodes");
    assert_eq!(again, decoded, "changed in a round trip: {json}");
    decoded
}

/// fuzz target event_decode: a timestamp finer than milliseconds decoded to a value that the
/// wire format (milliseconds) could not carry, so re-sending the event changed it.
#[test]
fn sub_millisecond_timestamps_survive_a_round_trip() {
    let decoded = assert_round_trips(
        r#"{"event_type": "file.shared", "timestamp": "2026-12-04T13:30:00.500Z", "source": "sharing",
            "user_id": "9b2f6c1e-3d4a-4f5b-8c7d-1e2f3a4b5c6d",
            "file": {"id": "0b7e6d5c-4a3b-4c2d-8e1f-9a8b7c6d5e4f", "name": "Vakantie 2026 (1).jpg",
                     "timestamp": "2026-12-04T13:29:59.20999Z"}}"#,
    );
    let file = decoded.file.expect("a file");
    assert_eq!(
        lockbox_events::timestamp::format(&file.timestamp),
        "2026-12-04T13:29:59.209Z"
    );
}

/// The same invariant for the stream's frames (fuzz target ws_frame).
#[test]
fn frame_timestamps_are_cut_to_milliseconds() {
    let frame = Frame::from_json(r#"{"type": "heartbeat", "v": 1, "at": "2026-12-04T10:16:15.123456789+01:00"}"#)
        .expect("a heartbeat");
    assert_eq!(Frame::from_json(&frame.to_json()).expect("parses back"), frame);
    assert!(
        frame.to_json().contains("\"2026-12-04T09:16:15.123Z\""),
        "{}",
        frame.to_json()
    );
}

/// fuzz target event_decode (hand-fed input): an offset pushed the UTC value out of RFC 3339's
/// four-digit years, so the re-encoded event (`-0001-…`, `+10000-…`) no longer decoded. Such
/// timestamps are refused at decoding, saying why; the edges of the range still round-trip.
#[test]
fn timestamps_outside_four_digit_years_in_utc_are_refused() {
    let event = |ts: &str| {
        format!(r#"{{"event_type": "x", "timestamp": "{ts}", "source": "s", "user_id": "u", "file": null}}"#)
    };
    for ts in ["0000-01-01T00:30:00+01:00", "9999-12-31T23:59:59-01:00"] {
        let error = FileMessageData::from_json(event(ts).as_bytes())
            .expect_err(ts)
            .to_string();
        assert!(error.contains("outside years 0000..=9999"), "{error}");
    }
    for ts in [
        "0000-01-01T00:30:00-01:00",
        "9999-12-31T23:59:59.999Z",
        "2016-12-31T23:59:60.500Z",
    ] {
        assert_round_trips(&event(ts));
    }
}

/// fuzz target ws_frame: a number in a notification's params (`-999999003875820019684212728`)
/// parsed to a float one ulp off, which encoded to text that parsed to yet another float, so
/// the frame changed in a round trip. Fixed with serde_json's `float_roundtrip`.
#[test]
fn numbers_in_notification_params_survive_a_round_trip() {
    let text = r#"{"type": "notification", "v": 1, "notification": {"id": "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "seq": 42, "user_id": "u", "kind": "storage.quota_warning", "file": null,
        "params": {"n": -999999003875820019684212728, "percent": 89.5, "tiny": 2.2250738585072011e-308},
        "title": "t", "body": "b", "created_at": "2026-12-04T10:15:30.123Z", "read_at": null}}"#;
    let frame = Frame::from_json(text).expect("a notification frame");
    assert_eq!(Frame::from_json(&frame.to_json()).expect("parses back"), frame);
}
