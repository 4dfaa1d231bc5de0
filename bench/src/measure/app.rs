//! The desktop app's side: catching up on missed notifications into its SQLite cache through
//! the real feed, and the inbox queries the window makes over 100 000 cached rows.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use lockbox_broker::{Broker, BrokerConfig, Names, Outgoing, testing::delete_topology};
use lockbox_client::stream::NotificationClient;
use lockbox_desktop_lib::{
    events::FeedStatus,
    feed::{Feed, FeedSink, FeedSource},
    inbox::{Inbox, InboxFilter, InboxItem},
};
use lockbox_events::{FILE_STORAGE_SOURCE, FileData, FileMessageData, FrameBody, timestamp};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{
    BenchError, Options,
    error::within,
    report::{Row, Target},
    world::{self, WAIT},
};

struct Target1(String, String);

impl FeedSource for Target1 {
    fn target(&self) -> Option<(String, String)> {
        Some((self.0.clone(), self.1.clone()))
    }
}

/// Counts what the feed added; wakes the bench when the count reaches `want`.
struct Counter {
    added: AtomicUsize,
    want: usize,
    done: Notify,
}

impl FeedSink for Counter {
    fn status(&self, _status: &FeedStatus) {}
    fn added(&self, items: Vec<InboxItem>, _unread: u64) {
        if self.added.fetch_add(items.len(), Ordering::SeqCst) + items.len() >= self.want {
            self.done.notify_one();
        }
    }
    fn read_changed(&self, _unread: u64) {}
}

/// Catch-up of `n` notifications the app missed while offline: from starting the feed on an
/// empty cache until all `n` are in the inbox file.
pub async fn catch_up(options: &Options) -> Result<Vec<Row>, BenchError> {
    let n = if options.quick { 500 } else { 10_000 };
    tracing::info!(n, "measure: catch-up into the app's cache");
    let mut secs = Vec::new();
    for _ in 0..options.runs {
        let config = world::broker("catch-up");
        let run = one_catch_up(&config, n).await;
        delete_topology(&config).await;
        secs.push(run?);
    }
    Ok(vec![Row::new(format!("catch-up of {n} missed notifications into the app's cache"), "s", &secs, Target::AtMost(2.0))])
}

async fn one_catch_up(config: &BrokerConfig, n: usize) -> Result<f64, BenchError> {
    let user = "bench-catch-up";
    let ns = world::notification(BrokerConfig { connection_name: format!("{}-ns", config.connection_name), ..config.clone() }).await?;
    let token = world::token(user)?;
    // The NotificationService stores them while the app is away; a live stream tells when. It
    // resumes by itself if the service closes it as too slow while this process publishes.
    let mut probe = NotificationClient::new(ns.url(), token.clone()).subscribe(0);
    let publisher = Broker::builder(BrokerConfig { connection_name: format!("{}-pub", config.connection_name), ..config.clone() }).start();
    publisher.connected(WAIT).await.map_err(|source| BenchError::Broker { source })?;
    let names = Names::new(config.prefix.clone());
    let mut pending = Vec::with_capacity(n);
    for i in 0..n {
        let event = FileMessageData::file_stored(FILE_STORAGE_SOURCE, user, FileData::new(uuid::Uuid::new_v4(), format!("missed-{i}.txt"), timestamp::now()));
        let sent = publisher.publisher().send(&Outgoing::event(&names, format!("missed-{i}"), &event)).await;
        pending.push(sent.map_err(|source| BenchError::Publish { source })?);
    }
    for confirm in pending {
        confirm.confirmed().await.map_err(|source| BenchError::Publish { source })?;
    }
    let mut stored = 0;
    while stored < n {
        let frame = within(WAIT, "the stored notifications", probe.next_frame())
            .await?
            .ok_or_else(|| BenchError::Invalid("the probe stream ended".into()))?
            .map_err(|source| BenchError::Stream { source })?;
        if let FrameBody::Notification { .. } = frame.body {
            stored += 1;
        }
    }
    drop(probe);
    publisher.shutdown().await;

    let dir = tempfile::Builder::new().prefix("lockbox-bench-app-").tempdir().map_err(BenchError::io("a temp dir"))?;
    let inbox = Arc::new(Mutex::new(Inbox::open(&dir.path().join("inbox.sqlite3"), user).map_err(|source| BenchError::Inbox { source })?));
    let counter = Arc::new(Counter { added: AtomicUsize::new(0), want: n, done: Notify::new() });
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let _feed = Feed { inbox: inbox.clone(), source: Arc::new(Target1(ns.url(), token)), uploads: None, sink: counter.clone() }.spawn(shutdown.clone());
    // `notify_one` keeps a permit, so a count reached before this wait is not missed.
    within(WAIT, "the feed to cache every missed notification", counter.done.notified()).await?;
    let secs = started.elapsed().as_secs_f64();
    shutdown.cancel();
    let cached = inbox.lock().map_err(|_| BenchError::Invalid("the inbox lock is poisoned".into()))?.count().map_err(|source| BenchError::Inbox { source })?;
    ns.stop().await?;
    if cached != n as u64 {
        return Err(BenchError::Invalid(format!("the inbox holds {cached} of {n} notifications after the catch-up")));
    }
    Ok(secs)
}

/// The window's queries on an inbox of 100 000 rows (half read): the first page, the unread
/// count and a full-text search; each the median of 25 calls per run, in ms.
pub fn inbox(options: &Options) -> Result<Vec<Row>, BenchError> {
    const CALLS: usize = 25;
    let rows: i64 = if options.quick { 5_000 } else { 100_000 };
    tracing::info!(rows, "measure: inbox queries");
    let dir = tempfile::Builder::new().prefix("lockbox-bench-inbox-").tempdir().map_err(BenchError::io("a temp dir"))?;
    let inbox_err = |source| BenchError::Inbox { source };
    let mut inbox = Inbox::open(&dir.path().join("inbox.sqlite3"), "bench-inbox").map_err(inbox_err)?;
    let items: Vec<InboxItem> = (1..=rows).map(item).collect();
    for chunk in items.chunks(10_000) {
        inbox.insert_all(chunk).map_err(inbox_err)?;
    }
    inbox.mark_read_up_to(rows / 2, "2026-12-01T00:00:00.000Z").map_err(inbox_err)?;
    let search = InboxFilter { unread_only: false, query: Some("report".into()) };
    let (mut page, mut unread, mut found) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..options.runs {
        page.push(median_ms(CALLS, || inbox.page(&InboxFilter::default(), 0, 50).map(|p| p.items.len()))?);
        unread.push(median_ms(CALLS, || inbox.unread_count().map(|n| n as usize))?);
        found.push(median_ms(CALLS, || inbox.page(&search, 0, 50).map(|p| p.total as usize))?);
    }
    // The answers must be right, or the timings mean nothing.
    let first = inbox.page(&InboxFilter::default(), 0, 50).map_err(inbox_err)?;
    let hits = inbox.page(&search, 0, 50).map_err(inbox_err)?.total;
    let unread_now = inbox.unread_count().map_err(inbox_err)?;
    if first.items.first().map(|i| i.seq) != Some(rows) || hits != (rows / 100) as u64 || unread_now != (rows - rows / 2) as u64 {
        return Err(BenchError::Invalid(format!("wrong inbox answers: first seq {:?}, {hits} hits, {unread_now} unread", first.items.first().map(|i| i.seq))));
    }
    let label = if rows == 100_000 { "100 000".to_owned() } else { rows.to_string() };
    Ok(vec![
        Row::new(format!("app inbox with {label} rows: first page (50)"), "ms", &page, Target::AtMost(10.0)),
        Row::new(format!("app inbox with {label} rows: unread count"), "ms", &unread, Target::AtMost(5.0)),
        Row::new(format!("app inbox with {label} rows: search \"report\" (first page of {} hits)", rows / 100), "ms", &found, Target::AtMost(20.0)),
    ])
}

fn median_ms<T, E>(calls: usize, mut f: impl FnMut() -> Result<T, E>) -> Result<f64, BenchError>
where
    BenchError: From<E>,
{
    let mut ms = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        std::hint::black_box(f()?);
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(crate::stats::percentile(&ms, 50.0))
}

/// One in a hundred is a report (the search term); the rest are photos.
fn item(seq: i64) -> InboxItem {
    let name = if seq % 100 == 0 { format!("quarterly report {seq}.pdf") } else { format!("photo-{seq}.jpg") };
    InboxItem {
        id: format!("00000000-0000-4000-8000-{seq:012}"),
        seq,
        kind: "file.stored".into(),
        file_id: Some(format!("10000000-0000-4000-8000-{seq:012}")),
        file_name: Some(name.clone()),
        params: format!("{{\"file_name\":\"{name}\"}}"),
        title: format!("{name} was stored"),
        body: "Uploaded from this computer".into(),
        created_at: "2026-12-01T00:00:00.000Z".into(),
        read_at: None,
    }
}
