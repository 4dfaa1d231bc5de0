//! The feed against the real NotificationService (and, for the whole timeline, the real
//! FileStorageService): inbox rows from events, reconnect with `since=` the highest cached
//! seq after the service restarts, read state from other devices and to the server.

mod common;

use std::{
    path::Path,
    sync::{Arc, Mutex},
};

use common::{FileStorage, MIB, Notifications, TestTarget, WAIT, content, token, user, wait_until};
use lockbox_broker::{Broker, BrokerConfig, Names, Outgoing, testing::{delete_topology, isolated_config}};
use lockbox_client::stream::NotificationClient;
use lockbox_desktop_lib::{
    events::{FeedState, FeedStatus},
    feed::{Feed, FeedHandle, FeedSink, FeedSource},
    inbox::{Inbox, InboxItem},
    upload::{UploadQueue, UploadState, Uploads, worker},
};
use lockbox_events::{FILE_STORAGE_SOURCE, FileData, FileMessageData, ReadRequest, timestamp};
use tokio::{net::TcpListener, sync::mpsc};
use tokio_util::sync::CancellationToken;

/// Records what the feed tells the app.
struct Recorder {
    statuses: mpsc::UnboundedSender<FeedStatus>,
    connected: mpsc::UnboundedSender<u64>,
    added: mpsc::UnboundedSender<InboxItem>,
    reads: mpsc::UnboundedSender<u64>,
}

impl FeedSink for Recorder {
    fn status(&self, status: &FeedStatus) {
        let _ = self.statuses.send(status.clone());
    }
    fn connected(&self, since: u64) {
        let _ = self.connected.send(since);
    }
    fn added(&self, items: Vec<InboxItem>, _unread: u64) {
        for item in items {
            let _ = self.added.send(item);
        }
    }
    fn read_changed(&self, unread: u64) {
        let _ = self.reads.send(unread);
    }
}

struct Source {
    url: Mutex<String>,
    token: Mutex<String>,
}

impl FeedSource for Source {
    fn target(&self) -> Option<(String, String)> {
        Some((self.url.lock().unwrap().clone(), self.token.lock().unwrap().clone()))
    }
}

/// A running feed and the receiving ends of its sink.
struct Running {
    handle: FeedHandle,
    inbox: Arc<Mutex<Inbox>>,
    source: Arc<Source>,
    statuses: mpsc::UnboundedReceiver<FeedStatus>,
    connected: mpsc::UnboundedReceiver<u64>,
    added: mpsc::UnboundedReceiver<InboxItem>,
    reads: mpsc::UnboundedReceiver<u64>,
    shutdown: CancellationToken,
}

fn start_feed(dir: &Path, user: &str, token: &str, url: &str, uploads: Option<Arc<Uploads>>) -> Running {
    let inbox = Arc::new(Mutex::new(Inbox::open(&dir.join("inbox.sqlite3"), user).unwrap()));
    let source = Arc::new(Source { url: Mutex::new(url.to_owned()), token: Mutex::new(token.to_owned()) });
    let (statuses_tx, statuses) = mpsc::unbounded_channel();
    let (connected_tx, connected) = mpsc::unbounded_channel();
    let (added_tx, added) = mpsc::unbounded_channel();
    let (reads_tx, reads) = mpsc::unbounded_channel();
    let sink = Arc::new(Recorder { statuses: statuses_tx, connected: connected_tx, added: added_tx, reads: reads_tx });
    let shutdown = CancellationToken::new();
    let handle = Feed { inbox: inbox.clone(), source: source.clone(), uploads, sink }.spawn(shutdown.clone());
    Running { handle, inbox, source, statuses, connected, added, reads, shutdown }
}

async fn next<T>(rx: &mut mpsc::UnboundedReceiver<T>, what: &str) -> T {
    tokio::time::timeout(WAIT, rx.recv()).await.unwrap_or_else(|_| panic!("timed out waiting for {what}")).expect("the feed is alive")
}

async fn next_added(running: &mut Running, n: usize) -> Vec<InboxItem> {
    let mut items = Vec::new();
    for _ in 0..n {
        items.push(next(&mut running.added, "a new inbox item").await);
    }
    items
}

async fn wait_status(running: &mut Running, state: FeedState) -> FeedStatus {
    loop {
        let status = next(&mut running.statuses, "a feed status").await;
        if status.state == state {
            return status;
        }
    }
}

fn seqs(items: &[InboxItem]) -> Vec<i64> {
    items.iter().map(|i| i.seq).collect()
}

/// A publisher standing in for the FileStorageService, on the test's own names.
async fn publisher(broker: &BrokerConfig) -> Broker {
    let config = BrokerConfig { connection_name: format!("publisher-{}", uuid::Uuid::new_v4().simple()), ..broker.clone() };
    let publisher = Broker::builder(config).start();
    // Connecting declares the topology, so events wait in the queue while the service is down.
    publisher.connected(WAIT).await.expect("the test broker (is RabbitMQ running?)");
    publisher
}

async fn publish(publisher: &Broker, broker: &BrokerConfig, user: &str, name: &str) {
    let event = FileMessageData::file_stored(FILE_STORAGE_SOURCE, user, FileData::new(uuid::Uuid::new_v4(), name, timestamp::now()));
    let message = Outgoing::event(&Names::new(broker.prefix.clone()), uuid::Uuid::new_v4().to_string(), &event);
    publisher.publisher().publish(&message).await.expect("a confirmed publish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_resumes_after_the_service_restarts_with_since_the_highest_cached_seq() {
    common::init_tracing();
    let broker = isolated_config("desk-feed-since");
    let publisher = publisher(&broker).await;
    let dir = tempfile::tempdir().unwrap();
    let (user, token) = { let u = user(); let t = token(&u); (u, t) };
    let service = Notifications::start(dir.path(), &broker).await;
    let addr = service.addr;
    let mut feed = start_feed(dir.path(), &user, &token, &service.url(), None);
    assert_eq!(next(&mut feed.connected, "the first connection").await, 0);

    for i in 1..=3 {
        publish(&publisher, &broker, &user, &format!("a{i}.txt")).await;
    }
    let first = next_added(&mut feed, 3).await;
    assert_eq!(seqs(&first), [1, 2, 3]);
    assert_eq!(first.iter().map(|i| i.file_name.clone().unwrap()).collect::<Vec<_>>(), ["a1.txt", "a2.txt", "a3.txt"]);

    // The service goes away; events keep coming and wait in the broker.
    service.stop().await;
    wait_status(&mut feed, FeedState::Reconnecting).await;
    publish(&publisher, &broker, &user, "b1.txt").await;
    publish(&publisher, &broker, &user, "b2.txt").await;

    // Back on the same port: the subscription reconnects by itself.
    let service = Notifications::start_on(TcpListener::bind(addr).await.unwrap(), dir.path(), &broker);
    assert_eq!(next(&mut feed.connected, "the reconnect").await, 3, "resumes after the highest cached seq");
    let second = next_added(&mut feed, 2).await;
    assert_eq!(seqs(&second), [4, 5], "only the new ones are added");

    // Back on another port (the user changed the URL): the restarted feed resumes from the inbox.
    service.stop().await;
    publish(&publisher, &broker, &user, "c1.txt").await;
    let service = Notifications::start(dir.path(), &broker).await;
    *feed.source.url.lock().unwrap() = service.url();
    feed.handle.restart();
    assert_eq!(next(&mut feed.connected, "the connection to the new URL").await, 5);
    let third = next_added(&mut feed, 1).await;
    assert_eq!(seqs(&third), [6]);
    assert_eq!(third[0].file_name.as_deref(), Some("c1.txt"));

    // Exactly every notification, once.
    {
        let inbox = feed.inbox.lock().unwrap();
        assert_eq!(inbox.count().unwrap(), 6);
        assert_eq!(inbox.max_seq().unwrap(), 6);
        for item in first.iter().chain(&second).chain(&third) {
            assert_eq!(inbox.get(&item.id).unwrap().as_ref(), Some(item));
        }
    }
    assert!(feed.added.try_recv().is_err(), "nothing was added twice");

    feed.shutdown.cancel();
    service.stop().await;
    publisher.shutdown().await;
    delete_topology(&broker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_end_notified_and_read_state_syncs_both_ways() {
    common::init_tracing();
    let broker = isolated_config("desk-feed-chain");
    let dir = tempfile::tempdir().unwrap();
    let (user, token) = { let u = user(); let t = token(&u); (u, t) };
    let notifications = Notifications::start(dir.path(), &broker).await;
    let storage = FileStorage::start(&broker).await;

    let uploads = Arc::new(Uploads::new(UploadQueue::open(&dir.path().join("uploads.sqlite3")).unwrap()));
    let mut updates = uploads.updates();
    let shutdown = CancellationToken::new();
    let workers = worker::spawn(uploads.clone(), TestTarget::new(&storage.url, &token), worker::CONCURRENCY, shutdown.clone());
    let mut feed = start_feed(dir.path(), &user, &token, &notifications.url(), Some(uploads.clone()));
    assert_eq!(next(&mut feed.connected, "the first connection").await, 0);

    // Drop → upload → stored → event → notification → inbox: one timeline per file.
    let paths: Vec<_> = ["one.txt", "two.txt"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let path = dir.path().join(name);
            std::fs::write(&path, content(MIB / 4, u8::try_from(i).unwrap())).unwrap();
            path
        })
        .collect();
    let (items, _) = uploads.enqueue(&paths).unwrap();
    let done = wait_until(&uploads, &mut updates, "both notified", |all| {
        all.iter().all(|i| i.state == UploadState::Notified)
    })
    .await;
    let mut added = next_added(&mut feed, 2).await;
    added.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    assert_eq!(added.iter().map(|i| i.file_name.as_deref().unwrap()).collect::<Vec<_>>(), ["one.txt", "two.txt"]);
    for item in &items {
        let upload = done.iter().find(|u| u.id == item.id).unwrap();
        assert!(added.iter().any(|n| n.file_id == upload.file_id), "the notification is about the uploaded file");
    }

    // Read on another device: the `read` frame marks it read here.
    let other_device = NotificationClient::new(notifications.url(), token.clone());
    let first = uuid::Uuid::parse_str(&added[0].id).unwrap();
    other_device.mark_read(&ReadRequest::Ids { ids: vec![first] }).await.unwrap();
    assert_eq!(next(&mut feed.reads, "the read frame").await, 1);
    let read = feed.inbox.lock().unwrap().get(&added[0].id).unwrap().unwrap();
    assert!(read.read_at.is_some(), "{read:?}");
    assert!(feed.inbox.lock().unwrap().get(&added[1].id).unwrap().unwrap().read_at.is_none());

    // Read here: the server learns it (and echoes it to every connection, this one too).
    let second = uuid::Uuid::parse_str(&added[1].id).unwrap();
    let now = timestamp::format(&timestamp::now());
    feed.inbox.lock().unwrap().mark_read(&[added[1].id.clone()], &now).unwrap();
    feed.handle.send_read(ReadRequest::Ids { ids: vec![second] });
    assert_eq!(next(&mut feed.reads, "the echo of our read").await, 0);
    assert_eq!(other_device.unread_count().await.unwrap(), 0, "the server has both read");

    feed.shutdown.cancel();
    shutdown.cancel();
    for worker in workers {
        tokio::time::timeout(WAIT, worker).await.unwrap().unwrap();
    }
    storage.stop().await;
    notifications.stop().await;
    delete_topology(&broker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_shows_offline_until_a_new_token_restarts_the_feed() {
    common::init_tracing();
    let broker = isolated_config("desk-feed-token");
    let dir = tempfile::tempdir().unwrap();
    let user = user();
    let service = Notifications::start(dir.path(), &broker).await;
    let forged = lockbox_auth::TokenKey::new("another-secret-another-secret-0123456")
        .unwrap()
        .mint(&user, std::time::Duration::from_secs(3600))
        .unwrap();
    let mut feed = start_feed(dir.path(), &user, &forged, &service.url(), None);

    // Retrying cannot fix a refused token: the window says so and what to do.
    let offline = wait_status(&mut feed, FeedState::Offline).await;
    let detail = offline.detail.unwrap_or_default();
    assert!(detail.contains("token in Settings"), "{detail}");
    assert_eq!(feed.handle.status().state, FeedState::Offline, "a window opened now sees it too");

    *feed.source.token.lock().unwrap() = token(&user);
    feed.handle.restart();
    assert_eq!(next(&mut feed.connected, "the connection with the new token").await, 0);
    wait_status(&mut feed, FeedState::Connected).await;

    feed.shutdown.cancel();
    service.stop().await;
    delete_topology(&broker).await;
}
