//! Event decoding: any bytes off the broker either fail with a `DecodeError` or decode to a
//! `FileMessageData` that survives re-encoding unchanged, with exactly the contract's keys.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockbox_events::FileMessageData;

const KEYS: [&str; 5] = ["event_type", "file", "source", "timestamp", "user_id"];

fuzz_target!(|data: &[u8]| {
    let Ok(message) = FileMessageData::from_json(data) else {
        return;
    };
    let wire = message.to_json();
    let again = FileMessageData::from_json(&wire).unwrap_or_else(|e| {
        panic!(
            "a decoded event must decode again after re-encoding: {e}; wire {:?}",
            String::from_utf8_lossy(&wire)
        )
    });
    assert_eq!(again, message, "an event changed in a round trip");
    assert_eq!(again.to_json(), wire, "re-encoding is not stable");

    let json: serde_json::Value = serde_json::from_slice(&wire).expect("to_json writes JSON");
    let keys: Vec<&str> = json
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, KEYS, "the wire keys are exactly the contract's");
    assert_eq!(
        json["event_type"].as_str(),
        Some(message.event_type.as_str()),
        "event_type is kept verbatim"
    );
    if message.event_type.requires_file() {
        assert!(
            message.file.is_some(),
            "{} without a file was accepted",
            message.event_type
        );
    }
    assert!(!message.user_id.trim().is_empty() && !message.source.trim().is_empty());
});
