//! Small files sent whole in one creation-with-upload are kept in the metadata database:
//! no blob file, one event, the same answers as any other file (HEAD, download, ranges,
//! dedupe, delete, restart), and every body that is not exactly the file gets the
//! streaming path's tus answers.

mod common;

use common::{Events, Service, content, sha256_b64, sha256_hex, token};
use lockbox_events::EventType;

#[tokio::test]
async fn a_small_file_in_one_request_is_kept_in_the_database_and_reads_back_like_any_file() {
    let service = Service::start("inline", |_| {}).await;
    let mut events = Events::start(&service.broker).await;
    let alice = token("alice");
    let body = content(4096, 21);

    let created = service.create_with(&alice, "note.txt", 4096, body.clone(), Some(sha256_b64(&body))).await;
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
    let h = created.headers();
    assert_eq!(h["upload-offset"], "4096");
    assert_eq!(h["lockbox-sha256"], sha256_hex(&body).as_str());
    let file_id = h["lockbox-file-id"].to_str().unwrap().to_owned();
    let location = service.at(h["location"].to_str().unwrap());
    let (_, event, _) = events.next().await;
    assert_eq!((event.event_type, event.file.unwrap().id.to_string()), (EventType::FileStored, file_id.clone()));
    assert_eq!(service.files_in("blobs").len(), 0, "no blob file: the content is in the database");
    assert_eq!(service.files_in("uploads").len(), 0, "no temp file either");
    assert_eq!(service.metric("lockbox_fs_uploads_inline_total").await, 1.0);

    // HEAD on the upload says it is complete, like for a streamed one.
    let head = service.head(&alice, &location).await;
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["upload-offset"], "4096");
    assert_eq!(head.headers()["lockbox-file-id"], file_id.as_str());

    // The same content streamed (create, then PATCH) is the same blob: one row, two files.
    let (twin, twin_sha) = service.upload(&alice, "twin.txt", &body).await;
    assert_eq!(twin_sha, sha256_hex(&body));
    events.next().await;
    let db = rusqlite::Connection::open(service.data().join("metadata.sqlite3")).unwrap();
    let refs: i64 = db.query_row("SELECT refs FROM blobs WHERE sha256 = ?1", [&twin_sha], |r| r.get(0)).unwrap();
    assert_eq!(refs, 2);

    // Survives a restart; whole, by range and with If-None-Match.
    let broker = service.broker.clone();
    let service = Service::restart(service.shut_down().await, broker).await;
    let url = service.at(&format!("/v1/files/{file_id}/content"));
    let whole = service.http.get(&url).bearer_auth(&alice).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-length"], "4096");
    let etag = whole.headers()["etag"].clone();
    assert_eq!(whole.bytes().await.unwrap().as_ref(), body.as_slice());
    let part = service.http.get(&url).bearer_auth(&alice).header("range", "bytes=100-199").send().await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 100-199/4096");
    assert_eq!(part.bytes().await.unwrap().as_ref(), &body[100..200]);
    let tail = service.http.get(&url).bearer_auth(&alice).header("range", "bytes=-10").send().await.unwrap();
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &body[4086..]);
    let cached = service.http.get(&url).bearer_auth(&alice).header("if-none-match", etag).send().await.unwrap();
    assert_eq!(cached.status(), 304);
    let other = service.http.get(&url).bearer_auth(token("bob")).send().await.unwrap();
    assert_eq!(other.status(), 404, "another user's small file is not found either");

    // Deleting one keeps the other's content; deleting both leaves nothing behind.
    let delete = |id: String| {
        let request = service.http.delete(service.at(&format!("/v1/files/{id}"))).bearer_auth(&alice);
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(delete(file_id.clone()).await, 204);
    let still = service.http.get(service.at(&format!("/v1/files/{twin}/content"))).bearer_auth(&alice).send().await.unwrap();
    assert_eq!(still.bytes().await.unwrap().as_ref(), body.as_slice());
    assert_eq!(delete(twin).await, 204);
    let blobs: i64 = db.query_row("SELECT count(*) FROM blobs", [], |r| r.get(0)).unwrap();
    assert_eq!(blobs, 0);
    assert_eq!(service.files_in("blobs").len(), 0, "the streamed twin's blob file went with the last reference");
    events.stop().await;
    service.stop().await;
}

#[tokio::test]
async fn with_inline_storage_off_a_small_file_gets_a_blob_file() {
    let service = Service::start("inline-off", |c| c.inline_max_bytes = 0).await;
    let alice = token("alice");
    let body = content(4096, 22);
    let created = service.create_with(&alice, "a.txt", 4096, body.clone(), None).await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["upload-offset"], "4096");
    assert_eq!(service.files_in("blobs").len(), 1);
    assert_eq!(service.metric("lockbox_fs_uploads_inline_total").await, 0.0);
    service.stop().await;
}

/// What the streaming path answers for a body that is not the whole file, the inline path
/// answers too: the upload exists (Location) and keeps what it should.
#[tokio::test]
async fn a_small_body_that_is_short_long_or_wrong_gets_the_tus_answers() {
    let service = Service::start("inline-odd", |_| {}).await;
    let mut events = Events::start(&service.broker).await;
    let alice = token("alice");
    let body = content(4096, 23);

    // A wrong checksum: refused, the chunk discarded, the upload at offset 0.
    let wrong = service.create_with(&alice, "w", 4096, body.clone(), Some(sha256_b64(b"other"))).await;
    assert_eq!(wrong.status(), 460);
    let url = service.at(wrong.headers()["location"].to_str().unwrap());
    assert_eq!(service.head(&alice, &url).await.headers()["upload-offset"], "0");
    assert_eq!(service.metric("lockbox_fs_checksum_mismatches_total").await, 1.0);

    // Longer than Upload-Length: 413, nothing kept.
    let long = service.create_with(&alice, "l", 100, body[..101].to_vec(), None).await;
    assert_eq!(long.status(), 413);
    let url = service.at(long.headers()["location"].to_str().unwrap());
    assert_eq!(service.head(&alice, &url).await.headers()["upload-offset"], "0");

    // Shorter: created at the offset that arrived, and a PATCH finishes it.
    let short = service.create_with(&alice, "s", 4096, body[..1000].to_vec(), None).await;
    assert_eq!(short.status(), 201);
    assert_eq!(short.headers()["upload-offset"], "1000");
    let url = service.at(short.headers()["location"].to_str().unwrap());
    let rest = service.patch(&alice, &url, 1000, body[1000..].to_vec(), None).await;
    assert_eq!(rest.status(), 204);
    assert_eq!(rest.headers()["lockbox-sha256"], sha256_hex(&body).as_str());

    // Only the finished one published an event.
    let (_, event, _) = events.next().await;
    assert_eq!(event.file.unwrap().name, "s");
    events.none(std::time::Duration::from_millis(300)).await;
    assert_eq!(service.metric("lockbox_fs_uploads_inline_total").await, 0.0);
    events.stop().await;
    service.stop().await;
}

#[tokio::test]
async fn a_small_file_over_quota_is_refused_with_the_room_left_and_leaves_nothing() {
    let service = Service::start("inline-quota", |c| c.quota_bytes = 10_000).await;
    let mut events = Events::start(&service.broker).await;
    let alice = token("alice");
    let first = service.create_with(&alice, "a", 8000, content(8000, 24), None).await;
    assert_eq!(first.status(), 201);
    events.next().await;

    let over = service.create_with(&alice, "b", 4096, content(4096, 25), None).await;
    assert_eq!(over.status(), 413);
    assert!(!over.headers().contains_key("location"), "no upload was created");
    let json: serde_json::Value = over.json().await.unwrap();
    assert_eq!(json["room_bytes"], 2000);
    events.none(std::time::Duration::from_millis(300)).await;
    let db = rusqlite::Connection::open(service.data().join("metadata.sqlite3")).unwrap();
    let counts: (i64, i64) = db.query_row("SELECT (SELECT count(*) FROM uploads), (SELECT count(*) FROM files)", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(counts, (1, 1), "only the first upload and its file");
    events.stop().await;
    service.stop().await;
}

#[tokio::test]
async fn the_rust_client_sends_a_small_file_in_one_request_and_a_bigger_one_in_chunks() {
    use lockbox_client::upload::{Sent, TusClient};
    let service = Service::start("inline-client", |_| {}).await;
    let client = TusClient::new(&service.url, token("alice")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.txt");
    std::fs::write(&small, content(10_000, 26)).unwrap();
    let big = dir.path().join("big.bin");
    std::fs::write(&big, content(100_000, 27)).unwrap();

    let mut seen = Vec::new();
    let done = client.upload_file(&small, |p| seen.push((p.sent, p.total))).await.unwrap();
    assert_eq!((done.size, done.sha256.as_str()), (10_000, sha256_hex(&content(10_000, 26)).as_str()));
    assert_eq!(seen.last(), Some(&(10_000, 10_000)), "progress ends at the whole file");
    assert_eq!(service.metric("lockbox_fs_uploads_inline_total").await, 1.0, "one request, kept inline");
    let head = service.head(&token("alice"), done.upload_url.as_str()).await;
    assert_eq!(head.headers()["lockbox-file-id"], done.file_id.to_string().as_str());

    let done = client.upload_file(&big, |_| {}).await.unwrap();
    assert_eq!(done.sha256, sha256_hex(&content(100_000, 27)));
    assert_eq!(service.metric("lockbox_fs_uploads_completed_total").await, 2.0);
    assert_eq!(service.metric("lockbox_fs_uploads_inline_total").await, 1.0, "past the limit: streamed");
    assert_eq!(service.files_in("blobs").len(), 1);

    // Against a server that keeps nothing inline, one request still stores the file.
    let plain = Service::start("inline-client-off", |c| c.inline_max_bytes = 0).await;
    let client = TusClient::new(&plain.url, token("alice")).unwrap();
    assert!(matches!(client.create_with_file(&small, "s.txt").await.unwrap(), Sent::Stored(_)));
    assert_eq!(plain.files_in("blobs").len(), 1);
    plain.stop().await;
    service.stop().await;
}
