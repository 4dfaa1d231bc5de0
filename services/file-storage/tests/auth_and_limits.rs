//! Identity and bad input: missing, forged and expired tokens (401 saying which), another
//! user's ids (404), hostile names, the quota (413 with the room left, and the warning event),
//! and delete publishing `file.deleted`.

mod common;

use std::time::Duration;

use base64::{Engine, engine::general_purpose::STANDARD};
use common::{Events, Service, assert_seed_keys, content, token};
use lockbox_auth::TokenKey;
use lockbox_events::EventType;

#[tokio::test]
async fn missing_forged_and_expired_tokens_are_refused_saying_which() {
    let service = Service::start("tokens", |_| {}).await;
    let forged = TokenKey::new("another secret, also long enough....").unwrap().mint("alice", Duration::from_secs(60)).unwrap();
    let expired = common::key().mint("alice", Duration::ZERO).unwrap();
    // `exp` == now is valid for the current second; wait until it is in the past.
    common::eventually("the token expires", || async { common::key().verify(&expired).is_err() }).await;

    for path in ["/v1/files", "/v1/uploads"] {
        let post = path == "/v1/uploads";
        let send = |auth: Option<String>| {
            let mut request = if post { service.http.post(service.at(path)) } else { service.http.get(service.at(path)) };
            request = request.header("tus-resumable", "1.0.0").header("upload-length", 1);
            if let Some(auth) = auth {
                request = request.header("authorization", auth);
            }
            request.send()
        };
        for (auth, code) in [
            (None, "token_missing"),
            (Some(format!("Bearer {forged}")), "token_bad_signature"),
            (Some(format!("Bearer {expired}")), "token_expired"),
            (Some("Bearer not-a-jwt".to_owned()), "token_malformed"),
            (Some("Basic YWxpY2U6cHc=".to_owned()), "token_not_bearer"),
        ] {
            let response = send(auth).await.unwrap();
            assert_eq!(response.status(), 401, "{path} {code}");
            let json: serde_json::Value = response.json().await.unwrap();
            assert_eq!(json["error"], code, "{path}");
            assert!(json["message"].as_str().unwrap().len() > 10);
        }
    }
    assert_eq!(service.files_in("uploads").len(), 0, "no refused request created anything");
    service.stop().await;
}

#[tokio::test]
async fn another_users_files_and_uploads_are_not_found() {
    let service = Service::start("cross-user", |_| {}).await;
    let (alice, bob) = (token("alice"), token("bob"));
    let (file, _) = service.upload(&alice, "private.txt", b"alice's secret").await;
    let upload = service.create_ok(&alice, 10, "pending.txt").await;
    let absent = uuid::Uuid::now_v7();

    for path in [format!("/v1/files/{file}"), format!("/v1/files/{file}/content")] {
        let (status, json) = service.get_json(&bob, &path).await;
        let (absent_status, absent_json) = service.get_json(&bob, &path.replace(&file, &absent.to_string())).await;
        assert_eq!((status, &json), (404, &absent_json), "indistinguishable from absent");
        assert_eq!(absent_status, 404);
        // Regression (hostile-input scenario): the message said only "not found".
        assert!(json["message"].as_str().unwrap().contains("GET /v1/files"), "says what to do: {json}");
    }
    let (_, json) = service.get_json(&bob, "/v1/files/not-a-uuid").await;
    assert!(json["message"].as_str().unwrap().contains("check the id"), "{json}");
    let delete = service.http.delete(service.at(&format!("/v1/files/{file}"))).bearer_auth(&bob).send().await.unwrap();
    assert_eq!(delete.status(), 404);
    let (_, listing) = service.get_json(&bob, "/v1/files").await;
    assert_eq!(listing["files"].as_array().unwrap().len(), 0);
    assert_eq!(service.head(&bob, &upload).await.status(), 404);
    let patch = service.patch(&bob, &upload, 0, b"0123456789".to_vec(), None).await;
    assert_eq!(patch.status(), 404);
    let json: serde_json::Value = patch.json().await.unwrap();
    assert!(json["message"].as_str().unwrap().contains("POST /v1/uploads"), "says what to do: {json}");

    // Alice still has both.
    assert_eq!(service.get_json(&alice, &format!("/v1/files/{file}")).await.0, 200);
    assert_eq!(service.head(&alice, &upload).await.headers()["upload-offset"], "0");
    service.stop().await;
}

#[tokio::test]
async fn hostile_names_are_kept_for_display_but_never_used_as_paths() {
    let service = Service::start("names", |_| {}).await;
    let mut events = Events::start(&service.broker).await;
    let alice = token("alice");
    let long = format!("{}.txt", "x".repeat(5000));
    let cases: [(&str, &str); 5] = [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("bell\u{7}\r\nnew\u{0}line.txt", "bellnewline.txt"),
        ("quote\"; filename=evil.sh", "quote\"; filename=evil.sh"),
        ("..", "unnamed"),
    ];
    for (raw, shown) in cases {
        let (id, _) = service.upload(&alice, raw, raw.as_bytes()).await;
        let (_, event, json) = events.next().await;
        assert_seed_keys(&json);
        assert_eq!(event.file.as_ref().unwrap().name, shown, "{raw:?}");
        let (_, meta) = service.get_json(&alice, &format!("/v1/files/{id}")).await;
        assert_eq!(meta["name"], shown);
        let download = service.http.get(service.at(&format!("/v1/files/{id}/content"))).bearer_auth(&alice).send().await.unwrap();
        let disposition = download.headers()["content-disposition"].to_str().unwrap().to_owned();
        assert!(disposition.starts_with("attachment; filename=\""), "{disposition}");
        assert_eq!(disposition.matches('"').count(), 2, "no quote escapes the header: {disposition}");
    }
    let (_, _) = service.upload(&alice, &long, b"long").await;
    let (_, event, _) = events.next().await;
    let name = event.file.unwrap().name;
    assert!(name.len() <= 255 && name.ends_with(".txt"), "{}", name.len());

    // Non-UTF-8 or non-base64 metadata is a 400, not a mangled name.
    for metadata in [format!("filename {}", STANDARD.encode([0xff, 0xfe])), "filename !!!".to_owned()] {
        let response = service
            .http
            .post(service.at("/v1/uploads"))
            .bearer_auth(&alice)
            .header("tus-resumable", "1.0.0")
            .header("upload-length", 1)
            .header("upload-metadata", metadata)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
    }
    // Nothing was written outside the data dir's own layout.
    for path in service.files_in("") {
        let rel = path.strip_prefix(service.data()).unwrap().to_string_lossy().into_owned();
        assert!(rel.starts_with("blobs/") || rel.starts_with("metadata.sqlite3"), "{rel}");
    }
    events.stop().await;
    service.stop().await;
}

#[tokio::test]
async fn the_quota_refuses_with_the_room_left_and_warns_once_at_ninety_percent() {
    let service = Service::start("quota", |c| c.quota_bytes = 100_000).await;
    let mut events = Events::start(&service.broker).await;
    let alice = token("alice");

    service.upload(&alice, "a.bin", &content(60_000, 1)).await;
    assert_eq!(events.next().await.1.event_type, EventType::FileStored);

    // An unfinished upload reserves its length too.
    let pending = service.create_ok(&alice, 30_000, "pending.bin").await;
    let over = service.create(&alice, 20_000, Some("b.bin")).await;
    assert_eq!(over.status(), 413);
    let json: serde_json::Value = over.json().await.unwrap();
    assert_eq!(json["error"], "quota_exceeded");
    assert_eq!(json["room_bytes"], 10_000);
    assert!(json["message"].as_str().unwrap().contains("10000 bytes are left"), "{json}");

    // Finishing the pending one crosses 90 %: file.stored, then storage.quota_warning.
    let body = content(30_000, 2);
    let done = service.patch(&alice, &pending, 0, body.clone(), Some(common::sha256_b64(&body))).await;
    assert_eq!(done.status(), 204);
    let (_, stored, _) = events.next().await;
    assert_eq!(stored.event_type, EventType::FileStored);
    let (incoming, warning, json) = events.next().await;
    assert_seed_keys(&json);
    assert_eq!(warning.event_type, EventType::StorageQuotaWarning);
    assert_eq!(incoming.routing_key(), "storage.quota_warning");
    assert_eq!(warning.user_id, "alice");
    assert!(json["file"].is_null());

    // Staying above 90 % does not warn again; bob has his own quota.
    service.upload(&alice, "c.bin", &content(5_000, 3)).await;
    assert_eq!(events.next().await.1.event_type, EventType::FileStored);
    service.upload(&token("bob"), "bob.bin", &content(50_000, 4)).await;
    let (_, bobs, _) = events.next().await;
    assert_eq!((bobs.event_type, bobs.user_id.as_str()), (EventType::FileStored, "bob"));
    events.none(Duration::from_millis(300)).await;
    events.stop().await;
    service.stop().await;
}

#[tokio::test]
async fn delete_publishes_file_deleted_and_the_file_is_gone() {
    let service = Service::start("delete", |_| {}).await;
    let mut events = Events::start(&service.broker).await;
    let alice = token("alice");
    let (id, _) = service.upload(&alice, "doomed.txt", b"bye").await;
    let (stored_msg, stored, _) = events.next().await;

    let response = service.http.delete(service.at(&format!("/v1/files/{id}"))).bearer_auth(&alice).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let (incoming, deleted, json) = events.next().await;
    assert_seed_keys(&json);
    assert_eq!(deleted.event_type, EventType::FileDeleted);
    assert_eq!(incoming.routing_key(), "file.deleted");
    assert_ne!(incoming.message_id(), stored_msg.message_id());
    assert_eq!(deleted.user_id, "alice");
    let file = deleted.file.unwrap();
    assert_eq!((file.id.to_string(), file.name.as_str()), (id.clone(), "doomed.txt"));
    assert_eq!(file.timestamp, stored.file.unwrap().timestamp, "the file's own stored time");

    assert_eq!(service.get_json(&alice, &format!("/v1/files/{id}")).await.0, 404);
    assert_eq!(service.files_in("blobs").len(), 0);
    let again = service.http.delete(service.at(&format!("/v1/files/{id}"))).bearer_auth(&alice).send().await.unwrap();
    assert_eq!(again.status(), 404);
    events.stop().await;
    service.stop().await;
}
