//! The fixtures are real messages of the contract: every valid one must decode and
//! re-encode to the same JSON, key for key; every malformed one must fail with the
//! error that names its fault.

use std::path::{Path, PathBuf};

use lockbox_events::{DecodeError, EventType, FileMessageData};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

const SEED_KEYS: [&str; 5] = ["event_type", "file", "source", "timestamp", "user_id"];

#[test]
fn every_valid_fixture_round_trips_key_for_key() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let original: Value = serde_json::from_slice(&bytes).unwrap();
        let decoded = FileMessageData::from_json(&bytes)
            .unwrap_or_else(|e| panic!("{} should decode: {e}", path.display()));
        let reencoded: Value = serde_json::from_slice(&decoded.to_json()).unwrap();
        assert_eq!(reencoded, original, "{} changed in a round trip", path.display());

        let keys: Vec<&str> = reencoded.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, SEED_KEYS, "{}", path.display());
        if let Some(file) = reencoded["file"].as_object() {
            let keys: Vec<&str> = file.keys().map(String::as_str).collect();
            assert_eq!(keys, ["id", "name", "timestamp"], "{}", path.display());
        }
        seen += 1;
    }
    assert_eq!(seen, 5, "one fixture per event type, an unknown type and a file: null one");
}

#[test]
fn fixtures_decode_to_their_typed_event_types() {
    let cases = [
        ("file.stored.json", EventType::FileStored),
        ("file.deleted.json", EventType::FileDeleted),
        ("storage.quota_warning.json", EventType::StorageQuotaWarning),
        ("unknown.file.shared.json", EventType::Other("file.shared".into())),
        ("file.null.json", EventType::Other("account.created".into())),
    ];
    for (name, ty) in cases {
        let msg = FileMessageData::from_json(&read(name)).unwrap();
        assert_eq!(msg.event_type, ty, "{name}");
    }
    let warning = FileMessageData::from_json(&read("storage.quota_warning.json")).unwrap();
    assert!(warning.file.is_none());
    let serialized: Value = serde_json::from_slice(&warning.to_json()).unwrap();
    assert!(serialized.as_object().unwrap().contains_key("file"), "file must be null, not absent");
}

#[test]
fn malformed_fixtures_fail_with_an_error_that_names_the_fault() {
    type IsExpected = fn(&DecodeError) -> bool;
    let cases: [(&str, IsExpected, &str); 8] = [
        ("truncated.json", |e| matches!(e, DecodeError::NotJson(_)), "not valid"),
        ("not-json.json", |e| matches!(e, DecodeError::NotJson(_)), "not valid"),
        ("array.json", |e| matches!(e, DecodeError::Shape(_)), "expected keys"),
        ("missing-user-id.json", |e| matches!(e, DecodeError::Shape(_)), "user_id"),
        ("bad-timestamp.json", |e| matches!(e, DecodeError::Shape(_)), "RFC 3339"),
        ("bad-file-id.json", |e| matches!(e, DecodeError::Shape(_)), "UUID"),
        ("stored-without-file.json", |e| matches!(e, DecodeError::MissingFile { .. }), "must carry a file"),
        ("empty-user-id.json", |e| matches!(e, DecodeError::Empty { field: "user_id" }), "empty user_id"),
    ];
    let on_disk = std::fs::read_dir(fixtures().join("malformed")).unwrap().count();
    assert_eq!(on_disk, cases.len(), "every malformed fixture has a case here");
    for (name, is_expected, says) in cases {
        let err = FileMessageData::from_json(&read(&format!("malformed/{name}")))
            .expect_err(name);
        assert!(is_expected(&err), "{name}: unexpected {err:?}");
        assert!(err.to_string().contains(says), "{name}: {err} should mention {says:?}");
    }
}

#[test]
fn constructed_messages_have_exactly_the_seed_keys() {
    let file = lockbox_events::FileData::new(uuid::Uuid::new_v4(), "a.txt", lockbox_events::timestamp::now());
    let msg = FileMessageData::file_stored(lockbox_events::FILE_STORAGE_SOURCE, "u1", file);
    let value: Value = serde_json::from_slice(&msg.to_json()).unwrap();
    let keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, SEED_KEYS);
    assert_eq!(FileMessageData::from_json(&msg.to_json()).unwrap(), msg);
}
