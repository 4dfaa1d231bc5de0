//! The service's own life: a restart keeps unfinished uploads (the hash is rebuilt from the
//! temp file) and publishes events left in the outbox; shutdown finishes requests in flight;
//! a full disk answers 507 and corrupts nothing.

mod common;

use std::time::Duration;

use common::{Events, Proxy, Service, amqp_addr, content, sha256_b64, sha256_hex, token};
use lockbox_broker::testing;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

#[tokio::test]
async fn a_restart_keeps_unfinished_uploads_and_publishes_what_the_outbox_held() {
    // First life: the broker is unreachable, so the finished upload's event stays in the outbox.
    let proxy = Proxy::start(amqp_addr(), false).await;
    let direct = testing::isolated_config("restart");
    let mut offline = direct.clone();
    offline.amqp_url = format!("amqp://guest:guest@{}/%2f", proxy.addr);
    // No waiting at shutdown for a broker that will not come.
    let service = Service::start_with_broker(offline, |c| c.shutdown_drain = Duration::ZERO).await;
    let mut events = Events::start(&direct).await;
    let alice = token("alice");
    let (stored, _) = service.upload(&alice, "before-restart.txt", b"stored before the restart").await;
    let body = content(300_000, 11);
    let url_path = {
        let url = service.create_ok(&alice, body.len() as u64, "half.bin").await;
        let half = service.patch(&alice, &url, 0, body[..120_000].to_vec(), None).await;
        assert_eq!(half.status(), 204);
        url.strip_prefix(&service.url).unwrap().to_owned()
    };
    let dir = service.shut_down().await;
    // What a crash could leave: a blob whose transaction never committed, a temp file with no row.
    let orphan_blob = dir.path().join("data/blobs/ff").join("f".repeat(64));
    std::fs::create_dir_all(orphan_blob.parent().unwrap()).unwrap();
    std::fs::write(&orphan_blob, b"never committed").unwrap();
    let orphan_part = dir.path().join("data/uploads").join(format!("{}.part", uuid::Uuid::new_v4()));
    std::fs::write(&orphan_part, b"no row").unwrap();

    // Second life, broker reachable: the held event goes out, the upload resumes at 120000.
    let service = Service::restart(dir, direct.clone()).await;
    let (incoming, event, _) = events.next().await;
    assert_eq!(event.file.unwrap().id.to_string(), stored);
    let first_message = incoming.message_id().unwrap().to_owned();
    assert!(!orphan_blob.exists() && !orphan_part.exists(), "the startup sweep removed the orphans");
    assert_eq!(service.files_in("blobs").len(), 1, "the stored file's blob is kept");
    assert_eq!(service.files_in("uploads").len(), 1, "the unfinished upload's temp file is kept");
    let url = service.at(&url_path);
    assert_eq!(service.head(&alice, &url).await.headers()["upload-offset"], "120000");
    let rest = service.patch(&alice, &url, 120_000, body[120_000..].to_vec(), Some(sha256_b64(&body[120_000..]))).await;
    assert_eq!(rest.status(), 204);
    assert_eq!(rest.headers()["lockbox-sha256"], sha256_hex(&body).as_str(), "the hash spans both lives");
    let (incoming, event, _) = events.next().await;
    assert_eq!(event.file.unwrap().name, "half.bin");
    assert_ne!(incoming.message_id().unwrap(), first_message);
    events.none(Duration::from_millis(300)).await;
    events.stop().await;
    service.stop().await;
}

#[tokio::test]
async fn shutdown_finishes_the_upload_in_flight() {
    let mut service = Service::start("graceful", |_| {}).await;
    let mut events = Events::start(&service.broker).await;
    let alice = token("alice");
    let body = content(200_000, 12);
    let url = service.create_ok(&alice, body.len() as u64, "in-flight.bin").await;
    let path = url.strip_prefix(&service.url).unwrap().to_owned();

    // Headers and half the body are in; then the service is told to stop; then the rest comes.
    let mut stream = TcpStream::connect(service.addr).await.unwrap();
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {alice}\r\nTus-Resumable: 1.0.0\r\n\
         Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: {}\r\n\
         Connection: close\r\nExpect: 100-continue\r\n\r\n",
        service.addr,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut continue_line = [0u8; 25];
    stream.read_exact(&mut continue_line).await.unwrap();
    assert!(continue_line.starts_with(b"HTTP/1.1 100 Continue"), "{}", String::from_utf8_lossy(&continue_line));
    stream.write_all(&body[..100_000]).await.unwrap();
    service.signal_stop();
    stream.write_all(&body[100_000..]).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains(&format!("lockbox-sha256: {}", sha256_hex(&body))), "{answer}");
    let (_, event, _) = events.next().await;
    assert_eq!(event.file.unwrap().name, "in-flight.bin");
    events.stop().await;
    service.stop().await;
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_full_disk_answers_507_and_corrupts_nothing() {
    let service = Service::start("disk-full", |_| {}).await;
    let mut events = Events::start(&service.broker).await;
    let alice = token("alice");
    let body = content(100_000, 13);
    let url = service.create_ok(&alice, body.len() as u64, "full.bin").await;

    // The kernel's /dev/full fails every write with ENOSPC: put it where the upload's temp
    // file is, as a disk that just filled up.
    let part = service.files_in("uploads").pop().unwrap();
    std::fs::remove_file(&part).unwrap();
    std::os::unix::fs::symlink("/dev/full", &part).unwrap();
    let full = service.patch(&alice, &url, 0, body.clone(), None).await;
    assert_eq!(full.status(), 507);
    let json: serde_json::Value = full.json().await.unwrap();
    assert_eq!(json["error"], "storage_full");
    assert_eq!(service.head(&alice, &url).await.headers()["upload-offset"], "0", "nothing counted");
    let (_, listing) = service.get_json(&alice, "/v1/files").await;
    assert_eq!(listing["files"].as_array().unwrap().len(), 0);

    // Room again: the same upload completes and its content is intact.
    std::fs::remove_file(&part).unwrap();
    std::fs::write(&part, b"").unwrap();
    let ok = service.patch(&alice, &url, 0, body.clone(), Some(sha256_b64(&body))).await;
    assert_eq!(ok.status(), 204);
    let (_, event, _) = events.next().await;
    let id = event.file.unwrap().id;
    let download = service.http.get(service.at(&format!("/v1/files/{id}/content"))).bearer_auth(&alice).send().await.unwrap();
    assert_eq!(download.bytes().await.unwrap().as_ref(), body.as_slice());
    events.stop().await;
    service.stop().await;
}
