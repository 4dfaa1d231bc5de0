//! Dropped connections: a PATCH cut mid-body keeps what arrived and resumes from there; a
//! client that goes away leaves nothing once the upload is terminated or expires; the Rust
//! client resumes by itself; and a real tus client nobody here wrote (tuspy) uploads and resumes.

mod common;

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use common::{Events, Service, content, sha256_hex, token};
use lockbox_client::upload::TusClient;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// A raw HTTP client that sends the headers, waits for `100 Continue` (so the server is
/// inside the PATCH handler), sends `part` of a body announced as `announced` bytes, and
/// drops the connection.
async fn patch_and_drop(addr: SocketAddr, path: &str, token: &str, offset: u64, announced: usize, part: &[u8]) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\n\
         Content-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\nContent-Length: {announced}\r\n\
         Expect: 100-continue\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    while !answer.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        assert_eq!(stream.read(&mut byte).await.unwrap(), 1, "the server closed before 100 Continue");
        answer.push(byte[0]);
    }
    assert!(answer.starts_with(b"HTTP/1.1 100"), "{}", String::from_utf8_lossy(&answer));
    stream.write_all(part).await.unwrap();
    stream.flush().await.unwrap();
    drop(stream);
}

fn path_of(url: &str) -> String {
    url.split_once("//").unwrap().1.split_once('/').map(|(_, p)| format!("/{p}")).unwrap()
}

async fn assert_nothing_left(service: &Service, who: &str) {
    assert_eq!(service.files_in("uploads"), Vec::<PathBuf>::new(), "no temp file");
    assert_eq!(service.files_in("blobs"), Vec::<PathBuf>::new(), "no blob");
    let (_, listing) = service.get_json(who, "/v1/files").await;
    assert_eq!(listing["files"].as_array().unwrap().len(), 0, "no file row");
}

/// The first event after an abandoned upload is a later upload's: the abandoned one published nothing.
async fn assert_no_event_before_sentinel(service: &Service, events: &mut Events, who: &str) {
    let (sentinel, _) = service.upload(who, "sentinel.txt", b"sentinel").await;
    let (_, event, _) = events.next().await;
    assert_eq!(event.file.unwrap().id.to_string(), sentinel);
}

#[tokio::test]
async fn a_patch_cut_mid_body_keeps_what_arrived_and_resumes_from_there() {
    let service = Service::start("cut", |_| {}).await;
    let mut events = Events::start(&service.broker).await;
    let alice = token("alice");
    let body = content(1_000_000, 5);
    let url = service.create_ok(&alice, body.len() as u64, "cut.bin").await;

    patch_and_drop(service.addr, &path_of(&url), &alice, 0, body.len(), &body[..400_000]).await;
    let head = service.head(&alice, &url).await;
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["upload-offset"], "400000", "every byte that arrived is kept");
    assert_eq!(head.headers()["upload-length"], "1000000");

    // A PATCH at a stale offset is refused with 409.
    let stale = service.patch(&alice, &url, 0, body.clone(), None).await;
    assert_eq!(stale.status(), 409);

    // The Rust client resumes the upload from the server's offset.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.bin");
    std::fs::write(&path, &body).unwrap();
    let client = TusClient::new(&service.url, alice.clone()).unwrap();
    let mut first_sent = None;
    let done = client
        .resume_file(&path, url.parse().unwrap(), |p| {
            first_sent.get_or_insert(p.sent);
        })
        .await
        .unwrap();
    assert_eq!(first_sent, Some(400_000), "resumed, not restarted");
    assert_eq!(done.sha256, sha256_hex(&body));

    let (_, event, _) = events.next().await;
    assert_eq!(event.file.unwrap().id, done.file_id);
    let downloaded = service.http.get(service.at(&format!("/v1/files/{}/content", done.file_id))).bearer_auth(&alice).send().await.unwrap();
    assert_eq!(downloaded.bytes().await.unwrap().as_ref(), body.as_slice());
    events.stop().await;
    service.stop().await;
}

#[tokio::test]
async fn a_client_gone_mid_upload_leaves_nothing_after_termination() {
    let service = Service::start("terminate", |_| {}).await;
    let mut events = Events::start(&service.broker).await;
    let alice = token("alice");
    let body = content(200_000, 6);
    let url = service.create_ok(&alice, body.len() as u64, "gone.bin").await;
    patch_and_drop(service.addr, &path_of(&url), &alice, 0, body.len(), &body[..50_000]).await;
    assert_eq!(service.head(&alice, &url).await.headers()["upload-offset"], "50000");

    // Another user cannot terminate it (404, as if absent).
    let bob = token("bob");
    let foreign = service.http.delete(&url).bearer_auth(&bob).header("tus-resumable", "1.0.0").send().await.unwrap();
    assert_eq!(foreign.status(), 404);

    let terminated = service.http.delete(&url).bearer_auth(&alice).header("tus-resumable", "1.0.0").send().await.unwrap();
    assert_eq!(terminated.status(), 204);
    assert_eq!(service.head(&alice, &url).await.status(), 404);
    assert_nothing_left(&service, &alice).await;
    assert_no_event_before_sentinel(&service, &mut events, &alice).await;
    events.stop().await;
    service.stop().await;
}

#[tokio::test]
async fn a_client_gone_mid_upload_leaves_nothing_after_expiry() {
    let service = Service::start("expiry", |c| {
        c.upload_expiry = Duration::from_millis(500);
        c.reap_interval = Duration::from_millis(50);
    })
    .await;
    let mut events = Events::start(&service.broker).await;
    let alice = token("alice");
    let body = content(200_000, 7);
    let url = service.create_ok(&alice, body.len() as u64, "abandoned.bin").await;
    patch_and_drop(service.addr, &path_of(&url), &alice, 0, body.len(), &body[..80_000]).await;

    common::eventually("the expired upload is swept", || async {
        service.files_in("uploads").is_empty() && service.head(&alice, &url).await.status() == 404
    })
    .await;
    assert_eq!(service.metric("lockbox_fs_uploads_expired_total").await, 1.0);
    assert_nothing_left(&service, &alice).await;
    assert_no_event_before_sentinel(&service, &mut events, &alice).await;
    events.stop().await;
    service.stop().await;
}

/// Forwards to `target`, but cuts the first connection after `cut_after` request bytes.
async fn cutting_proxy(target: SocketAddr, cut_after: usize) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cuts = Arc::new(AtomicUsize::new(0));
    let counter = cuts.clone();
    tokio::spawn(async move {
        let mut first = true;
        while let Ok((mut inbound, _)) = listener.accept().await {
            let mut outbound = TcpStream::connect(target).await.unwrap();
            if !std::mem::take(&mut first) {
                tokio::spawn(async move {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
                continue;
            }
            let counter = counter.clone();
            tokio::spawn(async move {
                let (mut in_read, mut in_write) = inbound.split();
                let (mut out_read, mut out_write) = outbound.split();
                let upstream = async {
                    let mut left = cut_after;
                    let mut buf = vec![0u8; 16 * 1024];
                    while left > 0 {
                        let n = in_read.read(&mut buf[..left.min(16 * 1024)]).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        if out_write.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                        left -= n;
                    }
                };
                tokio::select! {
                    _ = upstream => {}
                    _ = tokio::io::copy(&mut out_read, &mut in_write) => {}
                }
                counter.fetch_add(1, Ordering::SeqCst);
                // Dropping both halves here is the network failing mid-request.
            });
        }
    });
    (addr, cuts)
}

#[tokio::test]
async fn the_rust_client_resumes_by_itself_after_the_network_drops() {
    let service = Service::start("client-resume", |_| {}).await;
    let mut events = Events::start(&service.broker).await;
    let alice = token("alice");
    let body = content(1_000_000, 8);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dropped.bin");
    std::fs::write(&path, &body).unwrap();

    let (proxy, cuts) = cutting_proxy(service.addr, 600_000).await;
    let client = TusClient::new(&format!("http://{proxy}"), alice.clone())
        .unwrap()
        .chunk_size(256 * 1024)
        .retries(5, Duration::from_millis(20));
    let mut reports = Vec::new();
    let done = client.upload_file(&path, |p| reports.push(p.sent)).await.unwrap();
    assert_eq!(cuts.load(Ordering::SeqCst), 1, "the connection was cut once");
    assert_eq!(done.sha256, sha256_hex(&body));
    assert_eq!(done.size, 1_000_000);
    assert!(reports.windows(2).all(|w| w[0] <= w[1]), "never restarted from zero: {reports:?}");
    assert_eq!(reports.last(), Some(&1_000_000));

    let (_, event, _) = events.next().await;
    let file = event.file.unwrap();
    assert_eq!(file.id, done.file_id);
    assert_eq!(file.name, "dropped.bin");
    events.stop().await;
    service.stop().await;
}

fn python() -> PathBuf {
    if let Ok(python) = std::env::var("LOCKBOX_PYTHON") {
        return PathBuf::from(python);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = root.join(".lockbox/venv/bin/python");
    assert!(
        venv.exists(),
        "{} is missing: run ./scripts/test.sh (it installs tuspy into .lockbox/venv), or set LOCKBOX_PYTHON to a python with tuspy",
        venv.display()
    );
    venv
}

const TUSPY: &str = r#"
import sys
from tusclient import client
url, token, path, half = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
tus = client.TusClient(url + "/v1/uploads", headers={"Authorization": "Bearer " + token})
first = tus.uploader(path, chunk_size=64 * 1024, metadata={"filename": "tuspy.bin"})
first.upload(stop_at=half)
print("stopped", first.offset, first.url)
# A new uploader, as after a restart: it asks the server (HEAD) where to resume.
second = tus.uploader(path, url=first.url, chunk_size=64 * 1024)
print("resumed", second.offset)
second.upload()
print("done", second.offset)
"#;

#[tokio::test]
async fn tuspy_uploads_and_resumes() {
    let python = python();
    let service = Service::start("tuspy", |_| {}).await;
    let mut events = Events::start(&service.broker).await;
    let alice = token("alice");
    let body = content(500_000, 9);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("from-python.bin");
    std::fs::write(&path, &body).unwrap();

    let out = tokio::process::Command::new(&python)
        .args(["-c", TUSPY, &service.url, &alice, path.to_str().unwrap(), "200000"])
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; run ./scripts/test.sh", python.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tuspy failed (if tusclient is missing, run ./scripts/test.sh, which installs it into .lockbox/venv):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("stopped 200000 "), "{stdout}");
    assert_eq!(lines[1], "resumed 200000", "the server remembered the offset: {stdout}");
    assert_eq!(lines[2], "done 500000");

    let (_, event, _) = events.next().await;
    let file = event.file.unwrap();
    assert_eq!(file.name, "tuspy.bin");
    let (_, meta) = service.get_json(&alice, &format!("/v1/files/{}", file.id)).await;
    assert_eq!(meta["sha256"], sha256_hex(&body).as_str());
    assert_eq!(meta["size"], 500_000);
    events.stop().await;
    service.stop().await;
}

#[tokio::test]
async fn the_rust_client_cancels_an_upload() {
    let service = Service::start("client-cancel", |_| {}).await;
    let alice = token("alice");
    let client = TusClient::new(&service.url, alice.clone()).unwrap();
    let url = client.create("cancelled.bin", 1000).await.unwrap();
    assert_eq!(client.status(&url).await.unwrap().length, 1000);
    client.cancel(&url).await.unwrap();
    assert_eq!(service.head(&alice, url.as_str()).await.status(), 404);
    assert_nothing_left(&service, &alice).await;
    service.stop().await;
}
