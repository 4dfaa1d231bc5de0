//! Uploads over real HTTP with their events on the real RabbitMQ: the happy path with the
//! seed's exact keys, checksum refusal, dedupe, downloads, and the tus capabilities.

mod common;

use common::{Events, Service, assert_seed_keys, content, sha256_b64, sha256_hex, token};
use lockbox_events::EventType;

#[tokio::test]
async fn an_upload_publishes_file_stored_with_exactly_the_seed_keys() {
    let service = Service::start("stored", |_| {}).await;
    let mut events = Events::start(&service.broker).await;
    let alice = token("alice");
    let body = content(300_000, 1);

    // Two PATCHes, the second completing the upload.
    let url = service.create_ok(&alice, body.len() as u64, "report.pdf").await;
    let first = service.patch(&alice, &url, 0, body[..100_000].to_vec(), Some(sha256_b64(&body[..100_000]))).await;
    assert_eq!(first.status(), 204);
    assert_eq!(first.headers()["upload-offset"], "100000");
    assert!(first.headers().contains_key("upload-expires"));
    assert!(!first.headers().contains_key("lockbox-file-id"));
    let last = service.patch(&alice, &url, 100_000, body[100_000..].to_vec(), Some(sha256_b64(&body[100_000..]))).await;
    assert_eq!(last.status(), 204);
    assert_eq!(last.headers()["tus-resumable"], "1.0.0");
    assert_eq!(last.headers()["upload-offset"], "300000");
    let file_id = last.headers()["lockbox-file-id"].to_str().unwrap().to_owned();
    assert_eq!(last.headers()["lockbox-sha256"], sha256_hex(&body).as_str());

    let (incoming, event, json) = events.next().await;
    assert_seed_keys(&json);
    assert_eq!(event.event_type, EventType::FileStored);
    assert_eq!(event.source, "file-storage");
    assert_eq!(event.user_id, "alice");
    let file = event.file.unwrap();
    assert_eq!(file.id.to_string(), file_id);
    assert_eq!(file.name, "report.pdf");
    assert_eq!(incoming.kind(), Some("file.stored"));
    assert_eq!(incoming.routing_key(), "file.stored");
    // message_id is the outbox row's id, and the row is marked sent once confirmed.
    let message_id = incoming.message_id().unwrap().to_owned();
    let db = rusqlite::Connection::open(service.data().join("metadata.sqlite3")).unwrap();
    let (outbox_id, stored): (String, Vec<u8>) =
        db.query_row("SELECT id, body FROM outbox WHERE event_type = 'file.stored'", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(message_id, outbox_id);
    assert_eq!(incoming.body(), stored.as_slice(), "the relay publishes the committed bytes");
    common::eventually("the outbox row is marked sent", || async {
        db.query_row("SELECT sent_at IS NOT NULL FROM outbox WHERE id = ?1", [&outbox_id], |r| r.get::<_, bool>(0)).unwrap()
    })
    .await;

    // The file is listed, described and downloadable (whole and by range), ETag = SHA-256.
    let (status, listing) = service.get_json(&alice, "/v1/files").await;
    assert_eq!(status, 200);
    assert_eq!(listing["files"][0]["id"], file_id.as_str());
    assert_eq!(listing["files"][0]["size"], 300_000);
    let content_url = service.at(&format!("/v1/files/{file_id}/content"));
    let whole = service.http.get(&content_url).bearer_auth(&alice).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["etag"], format!("\"{}\"", sha256_hex(&body)).as_str());
    assert_eq!(whole.headers()["content-disposition"], "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf");
    assert_eq!(whole.bytes().await.unwrap().as_ref(), body.as_slice());
    let part = service.http.get(&content_url).bearer_auth(&alice).header("range", "bytes=1000-1999").send().await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 1000-1999/300000");
    assert_eq!(part.bytes().await.unwrap().as_ref(), &body[1000..2000]);
    let cached = service
        .http
        .get(&content_url)
        .bearer_auth(&alice)
        .header("if-none-match", format!("\"{}\"", sha256_hex(&body)))
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    let beyond = service.http.get(&content_url).bearer_auth(&alice).header("range", "bytes=300000-").send().await.unwrap();
    assert_eq!(beyond.status(), 416);

    // HEAD after completion still tells the file id (for a client whose last answer was lost).
    let head = service.head(&alice, &url).await;
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["lockbox-file-id"], file_id.as_str());

    events.stop().await;
    service.stop().await;
}

#[tokio::test]
async fn a_wrong_checksum_is_refused_the_chunk_discarded_and_no_event_published() {
    let service = Service::start("checksum", |_| {}).await;
    let mut events = Events::start(&service.broker).await;
    let alice = token("alice");
    let body = content(50_000, 2);
    let url = service.create_ok(&alice, body.len() as u64, "a.bin").await;

    let refused = service.patch(&alice, &url, 0, body.clone(), Some(sha256_b64(b"something else"))).await;
    assert_eq!(refused.status().as_u16(), 460);
    let json: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(json["error"], "checksum_mismatch");
    assert_eq!(service.head(&alice, &url).await.headers()["upload-offset"], "0");
    let (_, listing) = service.get_json(&alice, "/v1/files").await;
    assert_eq!(listing["files"].as_array().unwrap().len(), 0);

    // Unsupported algorithms are a 400, not a silent pass.
    let sha1 = service
        .http
        .patch(&url)
        .bearer_auth(&alice)
        .header("tus-resumable", "1.0.0")
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", 0)
        .header("upload-checksum", "sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(sha1.status(), 400);

    // Resending the chunk correctly completes it; the first event on the queue is this one,
    // so the refused chunk published nothing.
    let ok = service.patch(&alice, &url, 0, body.clone(), Some(sha256_b64(&body))).await;
    assert_eq!(ok.status(), 204);
    assert_eq!(ok.headers()["lockbox-sha256"], sha256_hex(&body).as_str());
    let (_, event, _) = events.next().await;
    assert_eq!(event.file.unwrap().id.to_string(), ok.headers()["lockbox-file-id"].to_str().unwrap());
    assert_eq!(service.metric("lockbox_fs_checksum_mismatches_total").await, 1.0);

    events.stop().await;
    service.stop().await;
}

#[tokio::test]
async fn identical_content_is_stored_once_but_listed_twice() {
    let service = Service::start("dedupe", |_| {}).await;
    let alice = token("alice");
    let body = content(70_000, 3);
    let (first, sha1) = service.upload(&alice, "one.bin", &body).await;
    let (second, sha2) = service.upload(&alice, "two.bin", &body).await;
    assert_ne!(first, second);
    assert_eq!(sha1, sha2);
    assert_eq!(service.files_in("blobs").len(), 1, "one blob for identical content");
    let (_, listing) = service.get_json(&alice, "/v1/files").await;
    let names: Vec<_> = listing["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["two.bin", "one.bin"], "newest first");

    // Deleting one keeps the blob for the other; deleting both removes it.
    let delete = |id: String| service.http.delete(service.at(&format!("/v1/files/{id}"))).bearer_auth(&alice).send();
    assert_eq!(delete(first.clone()).await.unwrap().status(), 204);
    assert_eq!(service.files_in("blobs").len(), 1);
    let kept = service.http.get(service.at(&format!("/v1/files/{second}/content"))).bearer_auth(&alice).send().await.unwrap();
    assert_eq!(kept.bytes().await.unwrap().as_ref(), body.as_slice());
    assert_eq!(delete(second).await.unwrap().status(), 204);
    assert_eq!(service.files_in("blobs").len(), 0);
    service.stop().await;
}

/// Uploads that finish together are committed together (group commit): each must still be
/// its own file with its own event, equal content must share one blob whichever of a batch
/// renamed it first, and nothing may be lost or doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uploads_finishing_together_each_become_one_file_and_one_event() {
    let service = std::sync::Arc::new(Service::start("group-commit", |_| {}).await);
    let mut events = Events::start(&service.broker).await;
    let alice = token("alice");
    let shared = content(5_000, 9);
    let bodies: Vec<Vec<u8>> = (0..32u8).map(|i| if i % 4 == 0 { shared.clone() } else { content(5_000, 100 + i) }).collect();
    let uploads = bodies.iter().enumerate().map(|(i, body)| {
        let (service, alice, body) = (service.clone(), alice.clone(), body.clone());
        tokio::spawn(async move { service.upload(&alice, &format!("f{i}.bin"), &body).await })
    });
    let mut ids = Vec::new();
    for upload in uploads.collect::<Vec<_>>() {
        ids.push(upload.await.unwrap());
    }
    let distinct: std::collections::HashSet<_> = ids.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(distinct.len(), 32, "32 files");
    assert_eq!(service.files_in("blobs").len(), 25, "24 distinct bodies + the shared one, stored once");
    for ((id, sha), body) in ids.iter().zip(&bodies) {
        assert_eq!(sha, &sha256_hex(body));
        let got = service.http.get(service.at(&format!("/v1/files/{id}/content"))).bearer_auth(&alice).send().await.unwrap();
        assert_eq!(got.bytes().await.unwrap().as_ref(), body.as_slice(), "file {id} has its own bytes");
    }
    let mut notified = std::collections::HashSet::new();
    for _ in 0..32 {
        let (_, event, _) = events.next().await;
        assert_eq!(event.event_type, EventType::FileStored);
        assert!(notified.insert(event.file.expect("a file").id.to_string()), "one event per file");
    }
    assert_eq!(notified, distinct);
    events.none(std::time::Duration::from_millis(300)).await;
    events.stop().await;
    std::sync::Arc::into_inner(service).expect("the uploads are done").stop().await;
}

#[tokio::test]
async fn creation_with_upload_options_and_pagination() {
    let service = Service::start("creation", |c| c.max_file_bytes = 1 << 20).await;
    let alice = token("alice");

    let options = service.http.request(reqwest::Method::OPTIONS, service.at("/v1/uploads")).send().await.unwrap();
    assert_eq!(options.status(), 204);
    let h = options.headers();
    assert_eq!(h["tus-version"], "1.0.0");
    assert_eq!(h["tus-extension"], "creation,creation-with-upload,termination,checksum,expiration");
    assert_eq!(h["tus-checksum-algorithm"], "sha256");
    assert_eq!(h["tus-max-size"], "1048576");

    // A request without Tus-Resumable is refused with 412 and the supported version.
    let bare = service.http.post(service.at("/v1/uploads")).bearer_auth(&alice).header("upload-length", 1).send().await.unwrap();
    assert_eq!(bare.status(), 412);
    assert_eq!(bare.headers()["tus-version"], "1.0.0");

    // The whole file in the POST.
    let body = content(10_000, 4);
    let created = service
        .http
        .post(service.at("/v1/uploads"))
        .bearer_auth(&alice)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", body.len())
        .header("upload-metadata", "filename aW4tb25lLmJpbg==")
        .header("content-type", "application/offset+octet-stream")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["upload-offset"], "10000");
    assert_eq!(created.headers()["lockbox-sha256"], sha256_hex(&body).as_str());

    // An empty file completes at creation.
    let empty = service.create(&alice, 0, Some("empty.txt")).await;
    assert_eq!(empty.status(), 201);
    assert_eq!(empty.headers()["lockbox-sha256"], sha256_hex(b"").as_str());

    // Past Tus-Max-Size: 413 saying the limit.
    let big = service.create(&alice, (1 << 20) + 1, Some("big")).await;
    assert_eq!(big.status(), 413);
    let json: serde_json::Value = big.json().await.unwrap();
    assert_eq!(json["max_bytes"], 1 << 20);

    // Pagination: newest first, `next` leads to the rest.
    for i in 0..3u8 {
        service.upload(&alice, &format!("p{i}"), &content(10, 10 + i)).await;
    }
    let (_, page) = service.get_json(&alice, "/v1/files?limit=2").await;
    let names: Vec<_> = page["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["p2", "p1"]);
    let next = page["next"].as_str().unwrap();
    let (_, rest) = service.get_json(&alice, &format!("/v1/files?limit=10&before={next}")).await;
    let names: Vec<_> = rest["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["p0", "empty.txt", "in-one.bin"]);
    assert!(rest["next"].is_null());
    service.stop().await;
}

#[tokio::test]
async fn the_rust_files_client_lists_downloads_and_deletes() {
    use lockbox_client::files::{FilesClient, FilesError};
    let service = Service::start("files-client", |_| {}).await;
    let alice = token("alice");
    let body = content(123_456, 5);
    let (id, sha) = service.upload(&alice, "client.bin", &body).await;
    let client = FilesClient::new(&service.url, alice.clone()).unwrap();
    let id: uuid::Uuid = id.parse().unwrap();

    let all = client.list_all().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!((all[0].id, all[0].name.as_str(), all[0].size, all[0].sha256.as_str()), (id, "client.bin", 123_456, sha.as_str()));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.bin");
    client.download(id, &dest).await.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);

    let bob = FilesClient::new(&service.url, token("bob")).unwrap();
    assert!(matches!(bob.get(id).await, Err(FilesError::NotFound)));
    assert!(matches!(bob.delete(id).await, Err(FilesError::NotFound)));
    client.delete(id).await.unwrap();
    assert!(matches!(client.get(id).await, Err(FilesError::NotFound)));
    service.stop().await;
}
