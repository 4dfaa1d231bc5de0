//! The upload queue against the real FileStorageService: concurrency, verification, resume
//! after a network drop and after an app restart, cancel, and retry.

mod common;

use std::{path::PathBuf, sync::Arc};

use common::{FileStorage, MIB, Plan, Proxy, TestTarget, WAIT, content, sha256_hex, token, user, wait_until};
use lockbox_broker::testing::{delete_topology, isolated_config};
use lockbox_client::{files::FilesClient, upload::TusClient};
use lockbox_desktop_lib::upload::{UploadItem, UploadQueue, UploadState, Uploads, worker};
use reqwest::{StatusCode, Url};
use tokio_util::sync::CancellationToken;

/// One test's world: a FileStorageService behind a proxy, files on disk, a persisted queue.
struct World {
    service: FileStorage,
    proxy: Proxy,
    broker: lockbox_broker::BrokerConfig,
    token: String,
    files: tempfile::TempDir,
    app_dir: tempfile::TempDir,
}

impl World {
    async fn new(test: &str) -> Self {
        common::init_tracing();
        let broker = isolated_config(test);
        let service = FileStorage::start(&broker).await;
        let proxy = Proxy::start(&service.url).await;
        let files = tempfile::tempdir().unwrap();
        let app_dir = tempfile::tempdir().unwrap();
        Self { service, proxy, broker, token: token(&user()), files, app_dir }
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.files.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn open_uploads(&self) -> Arc<Uploads> {
        Arc::new(Uploads::new(UploadQueue::open(&self.app_dir.path().join("uploads.sqlite3")).unwrap()))
    }

    fn tus(&self) -> TusClient {
        TusClient::new(&self.service.url, self.token.clone()).unwrap()
    }

    /// The stored file's bytes, downloaded as any client would.
    async fn download(&self, item: &UploadItem) -> Vec<u8> {
        let files = FilesClient::new(&self.service.url, self.token.clone()).unwrap();
        let id = uuid::Uuid::parse_str(item.file_id.as_deref().expect("a stored file id")).unwrap();
        let dest = self.files.path().join(format!("downloaded-{id}"));
        files.download(id, &dest).await.unwrap();
        std::fs::read(dest).unwrap()
    }

    async fn stop(self) {
        self.service.stop().await;
        delete_topology(&self.broker).await;
    }
}

fn one(items: &[UploadItem], id: &str) -> UploadItem {
    items.iter().find(|i| i.id == id).cloned().expect("the item is in the queue")
}

fn state_of(items: &[UploadItem], id: &str) -> UploadState {
    one(items, id).state
}

/// Waits until the workers ended (after their shutdown token was cancelled).
async fn join(workers: Vec<tauri::async_runtime::JoinHandle<()>>) {
    for worker in workers {
        tokio::time::timeout(WAIT, worker).await.expect("workers stop promptly").unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_files_upload_three_at_a_time_and_end_verified_with_the_servers_sha256() {
    let world = World::new("desk-upload-concurrency").await;
    let uploads = world.open_uploads();
    let mut updates = uploads.updates();
    let shutdown = CancellationToken::new();
    let target = TestTarget::new(&world.proxy.url, &world.token);
    let workers = worker::spawn(uploads.clone(), target, worker::CONCURRENCY, shutdown.clone());

    // Hold every request so the workers pile up: what is uploading then is what runs at once.
    world.proxy.set_plan(Plan::Hold);
    let originals: Vec<Vec<u8>> = (0..5).map(|i| content(MIB + i * 1000, u8::try_from(i).unwrap())).collect();
    let paths: Vec<PathBuf> = originals.iter().enumerate().map(|(i, b)| world.file(&format!("f{i}.bin"), b)).collect();
    let (items, problems) = uploads.enqueue(&paths).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(items.len(), 5);

    world.proxy.wait_for("three held requests", |s| s.held == 3).await;
    let now = uploads.with_queue(|q| q.all()).unwrap();
    let uploading = now.iter().filter(|i| i.state == UploadState::Uploading).count();
    let queued = now.iter().filter(|i| i.state == UploadState::Queued).count();
    assert_eq!((uploading, queued), (3, 2), "three at a time, the rest waits its turn: {now:#?}");

    world.proxy.set_plan(Plan::Pass);
    let done = wait_until(&uploads, &mut updates, "all verified", |items| {
        items.iter().all(|i| i.state == UploadState::Verified)
    })
    .await;
    for (item, original) in items.iter().zip(&originals) {
        let item = one(&done, &item.id);
        let local = sha256_hex(original);
        assert_eq!(item.server_sha256.as_deref(), Some(local.as_str()), "{}", item.name);
        assert_eq!(item.local_sha256.as_deref(), Some(local.as_str()), "{}", item.name);
        assert_eq!((item.sent, item.size), (original.len() as u64, original.len() as u64));
        assert_eq!(&world.download(&item).await, original, "{}", item.name);
    }

    shutdown.cancel();
    join(workers).await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_cut_mid_way_resumes_from_the_servers_offset() {
    let world = World::new("desk-upload-cut").await;
    let uploads = world.open_uploads();
    let mut updates = uploads.updates();
    let shutdown = CancellationToken::new();
    let workers = worker::spawn(uploads.clone(), TestTarget::new(&world.proxy.url, &world.token), 1, shutdown.clone());

    // Three 4 MiB chunks; the drop comes in the second, after the first was committed.
    let size = 10 * MIB;
    let cut_after = 6 * MIB as u64;
    let original = content(size, 7);
    world.proxy.set_plan(Plan::Cut { after: cut_after });
    let (items, _) = uploads.enqueue(&[world.file("big.bin", &original)]).unwrap();
    let id = items[0].id.clone();

    world.proxy.wait_for("the cut", |s| s.hits == 1).await;
    let upload_url = uploads.with_queue(|q| q.upload_url(&id)).unwrap().expect("the tus URL is persisted");

    let done = wait_until(&uploads, &mut updates, "verified", |items| state_of(items, &id) == UploadState::Verified).await;
    let item = one(&done, &id);
    assert_eq!(item.server_sha256.as_deref(), Some(sha256_hex(&original).as_str()));
    assert_eq!(world.download(&item).await, original);

    let stats = world.proxy.stats();
    assert!(stats.connections >= 2, "the client reconnected after the cut: {stats:?}");
    // Starting over would send the cut part plus the whole file again.
    assert!(
        stats.forwarded < cut_after + size as u64 - 2 * MIB as u64,
        "the committed first chunk was not sent again: {stats:?}"
    );
    // The upload created before the cut is the one that completed.
    let status = world.tus().status(&Url::parse(&upload_url).unwrap()).await.unwrap();
    assert_eq!(status.file.map(|(id, _)| id.to_string()), item.file_id);

    shutdown.cancel();
    join(workers).await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_app_restart_an_upload_continues_from_its_persisted_url() {
    let world = World::new("desk-upload-restart").await;
    let size = 10 * MIB;
    let original = content(size, 9);
    let path = world.file("restart.bin", &original);

    // First run: the network hangs in the second chunk; then the app quits.
    let (id, upload_url) = {
        let uploads = world.open_uploads();
        let shutdown = CancellationToken::new();
        let workers =
            worker::spawn(uploads.clone(), TestTarget::new(&world.proxy.url, &world.token), worker::CONCURRENCY, shutdown.clone());
        world.proxy.set_plan(Plan::Stall { after: 5 * MIB as u64 });
        let (items, _) = uploads.enqueue(&[path]).unwrap();
        world.proxy.wait_for("the stall", |s| s.hits == 1).await;
        shutdown.cancel();
        join(workers).await;
        let id = items[0].id.clone();
        let url = uploads.with_queue(|q| q.upload_url(&id)).unwrap().expect("the tus URL is persisted");
        (id, url)
    };
    let upload_url = Url::parse(&upload_url).unwrap();
    let at_restart = world.tus().status(&upload_url).await.unwrap();
    assert!(at_restart.offset >= 4 * MIB as u64, "the first chunk is on the server: {at_restart:?}");
    let forwarded_before = world.proxy.stats().forwarded;

    // Second run on the same queue file.
    let uploads = world.open_uploads();
    let mut updates = uploads.updates();
    let item = uploads.with_queue(|q| q.get(&id)).unwrap();
    assert_eq!(item.state, UploadState::Uploading, "still in line after the restart");
    let shutdown = CancellationToken::new();
    let workers = worker::spawn(uploads.clone(), TestTarget::new(&world.proxy.url, &world.token), worker::CONCURRENCY, shutdown.clone());
    let done = wait_until(&uploads, &mut updates, "verified", |items| state_of(items, &id) == UploadState::Verified).await;
    let item = one(&done, &id);
    assert_eq!(item.server_sha256.as_deref(), Some(sha256_hex(&original).as_str()));
    assert_eq!(world.download(&item).await, original);

    // The same upload completed, and only what the server lacked was sent.
    let status = world.tus().status(&upload_url).await.unwrap();
    assert_eq!(status.file.map(|(id, _)| id.to_string()), item.file_id);
    let resent = world.proxy.stats().forwarded - forwarded_before;
    assert!(resent < (size as u64 - at_restart.offset) + MIB as u64, "sent {resent} bytes after the restart");

    shutdown.cancel();
    join(workers).await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_upload_is_terminated_on_the_server() {
    let world = World::new("desk-upload-cancel").await;
    let uploads = world.open_uploads();
    let mut updates = uploads.updates();
    let shutdown = CancellationToken::new();
    let workers = worker::spawn(uploads.clone(), TestTarget::new(&world.proxy.url, &world.token), worker::CONCURRENCY, shutdown.clone());

    world.proxy.set_plan(Plan::Stall { after: 5 * MIB as u64 });
    let (items, _) = uploads.enqueue(&[world.file("cancel.bin", &content(10 * MIB, 3))]).unwrap();
    let id = items[0].id.clone();
    world.proxy.wait_for("the stall", |s| s.hits == 1).await;
    let upload_url = uploads.with_queue(|q| q.upload_url(&id)).unwrap().expect("the tus URL is persisted");

    uploads.cancel(&id).unwrap();
    let done = wait_until(&uploads, &mut updates, "cancelled", |items| state_of(items, &id) == UploadState::Cancelled).await;
    assert_eq!(one(&done, &id).file_id, None);
    let head = world.tus().status(&Url::parse(&upload_url).unwrap()).await;
    assert_eq!(head.err().and_then(|e| e.status()), Some(StatusCode::NOT_FOUND), "the server dropped the upload");
    let files = FilesClient::new(&world.service.url, world.token.clone()).unwrap().list_all().await.unwrap();
    assert!(files.is_empty(), "no file was stored: {files:?}");

    shutdown.cancel();
    join(workers).await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_upload_says_why_and_uploads_on_retry() {
    let world = World::new("desk-upload-retry").await;
    let uploads = world.open_uploads();
    let mut updates = uploads.updates();
    let shutdown = CancellationToken::new();
    // A port nothing listens on (bound, then released).
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let target = TestTarget::new(&dead, &world.token);
    let workers = worker::spawn(uploads.clone(), target.clone(), worker::CONCURRENCY, shutdown.clone());

    let original = content(2 * MIB, 5);
    let (items, _) = uploads.enqueue(&[world.file("retry.bin", &original)]).unwrap();
    let id = items[0].id.clone();
    let failed = wait_until(&uploads, &mut updates, "failed", |items| state_of(items, &id) == UploadState::Failed).await;
    let reason = one(&failed, &id).error.expect("a failed upload says why");
    assert!(reason.contains("cannot reach the file storage service"), "{reason}");

    target.set_url(&world.service.url);
    let retried = uploads.retry(&id).unwrap();
    assert_eq!((retried.state, retried.error), (UploadState::Queued, None));
    let done = wait_until(&uploads, &mut updates, "verified", |items| state_of(items, &id) == UploadState::Verified).await;
    let item = one(&done, &id);
    assert_eq!(item.error, None);
    assert_eq!(item.server_sha256.as_deref(), Some(sha256_hex(&original).as_str()));
    assert_eq!(world.download(&item).await, original);

    shutdown.cancel();
    join(workers).await;
    world.stop().await;
}
