//! The NotificationService (the real binary) is SIGKILLed three times while uploads make
//! events, and started again on the same port and data dir each time. Deliveries it held
//! unacknowledged are redelivered; its dedupe on `message_id` must turn them into nothing new:
//! every accepted upload's notification reaches the app's inbox once.
use std::time::Duration;

use lockbox_broker::{Names, testing::{delete_topology, isolated_config}};
use lockbox_client::stream::NotificationClient;
use lockbox_reliability::{
    Mode, Record,
    amqp::QueueProbe,
    app::{App, inbox_rows_by_file},
    common::{grouped, init_tracing, new_user, seconds, token},
    fsdb::FsDb,
    load::{Load, LoadSpec},
    procs::{Kind, ProcessConfig, ServiceProcess},
    scale,
    services::{file_storage_config, start_file_storage},
    tally::tally,
    wait,
};
use tokio::time::Instant;

const LIMIT: Duration = Duration::from_secs(300);
const KILLS: u64 = 3;
/// Redeliveries the service recognized as already stored (per process lifetime).
const DUPLICATES: &str = "lockbox_notification_events_total{outcome=\"duplicate\"}";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_sigkills_of_the_notification_service_lose_and_double_nothing() {
    init_tracing();
    let total = scale(300, 3_000);
    let concurrency = 8;
    let broker = isolated_config("rel-ns-kill");
    let dir = tempfile::tempdir().expect("temp dir");
    let fs_dir = dir.path().join("file-storage");
    let fs = start_file_storage(file_storage_config(&fs_dir, &broker)).await.expect("file storage");
    let mut ns = ServiceProcess::start(
        Kind::Notification,
        ProcessConfig { data_dir: &dir.path().join("notification"), broker: &broker, extra: toml::Table::new() },
    )
    .await
    .expect("the notification service binary");
    let user = new_user();
    let token = token(&user);
    let app = App::start_connected(&dir.path().join("app"), &user, &token, &ns.url(), LIMIT).await.expect("the app feed connects");

    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).expect("files dir");
    let load = Load::start(LoadSpec { url: fs.url(), token: token.clone(), total: Some(total), duration: None, concurrency, size: 1024, dir: files, retry_for: None });

    let mut recoveries = Vec::new();
    let mut delivered_at_kill = Vec::new();
    // Deduped redeliveries, summed over the processes (each counts from zero); the last
    // scrape before a kill may miss the final few milliseconds, so this is a lower bound.
    let mut deduped = 0.0;
    for kill in 1..=KILLS {
        // Placed by what the app has received, not by uploads made: uploads outrun restarts,
        // and each process must still find work (a quarter of the events at least) left.
        app.wait_added(total * kill / (KILLS + 1), LIMIT).await.expect("notifications flow");
        delivered_at_kill.push(app.seen().added);
        if kill == 1 {
            // The scrape itself works: the first process stored everything the app has so far.
            let stored = ns.metric("lockbox_notification_events_total{outcome=\"stored\"}").await;
            assert!(stored.is_some_and(|n| n > 0.0), "the service's metrics are readable: {stored:?}");
        }
        deduped += ns.metric(DUPLICATES).await.unwrap_or(0.0);
        let killed_at = Instant::now();
        let connects = app.seen().connects;
        ns.restart().await.expect("SIGKILL, then the binary starts again");
        // Recovered: the service consumes again and the app is back on its stream.
        let url = ns.url();
        let http = reqwest::Client::new();
        wait::until("the restarted service to be ready", LIMIT, || {
            let (http, url) = (http.clone(), url.clone());
            async move { wait::http_ok(&http, &format!("{url}/readyz")).await.then_some(()) }
        })
        .await
        .expect("the restarted service connects to the broker");
        app.wait_seen("the app reconnected", LIMIT, |s| s.connects > connects).await.expect("the app reconnects on its own");
        recoveries.push(killed_at.elapsed());
    }
    let result = load.finish(LIMIT).await.expect("the uploads finish");
    assert!(result.errors.is_empty(), "uploads failed: {:?}", &result.errors[..result.errors.len().min(5)]);

    let _ = app.wait_added(result.accepted.len() as u64, LIMIT).await;
    let db = FsDb::open(&fs_dir).expect("the service database");
    let probe = QueueProbe::connect(&broker.amqp_url).await.expect("a broker probe");
    let queue = Names::new(broker.prefix.clone()).file_events_queue();
    wait::until("every outbox row confirmed and the queue drained", LIMIT, || {
        let counts = db.counts().ok();
        let probe = &probe;
        let queue = queue.clone();
        async move {
            let depth = probe.ready(&queue).await.ok();
            counts.zip(depth).filter(|(c, d)| c.confirmed == c.outbox && *d == 0).map(|(c, _)| c)
        }
    })
    .await
    .expect("everything published and consumed");
    let counts = db.counts().expect("counts");
    deduped += ns.metric(DUPLICATES).await.unwrap_or(0.0);
    let arrived = inbox_rows_by_file(&app.inbox_path).expect("the inbox file");
    let t = tally(&result.accepted, &arrived);
    // The service's own store must hold each notification once too, not only the app's inbox.
    let stored = NotificationClient::new(ns.url(), token.clone()).unread_count().await.expect("the unread count");
    assert_eq!(t.lost, 0, "accepted uploads never notified: {:?}", t.lost_sample);
    assert_eq!(t.duplicated, 0, "notifications that arrived twice");
    assert_eq!(t.unexpected, 0, "notifications for files the client never saw accepted");
    assert_eq!(stored, t.accepted, "the service stored each event's notification exactly once");
    assert_eq!(ns.starts, 1 + KILLS as u32);
    assert!(
        delivered_at_kill.windows(2).all(|w| w[0] < w[1]),
        "notifications flowed between the kills: {delivered_at_kill:?}"
    );

    let worst = recoveries.iter().max().copied().unwrap_or_default();
    let record = Record {
        scenario: "ns_sigkill".into(),
        mode: Mode::from_env(),
        load: format!("{} uploads of 1 KiB, {concurrency} at once, one user", grouped(total)),
        faults: format!("SIGKILL of the notification service binary {KILLS} times (after {delivered_at_kill:?} notifications), restarted on the same port and data dir"),
        uploads_accepted: t.accepted,
        events_confirmed: counts.confirmed,
        notifications_delivered: t.delivered,
        lost: t.lost,
        duplicated: t.duplicated,
        time_to_recover: Some(worst),
        notes: format!(
            "recovery = SIGKILL to the restarted service ready and the app's stream back: {}; at least {deduped} redeliveries recognized as already stored (dedupe on message_id); the service's store holds {} notifications",
            seconds(&recoveries),
            grouped(stored)
        ),
    };
    record.write().expect("write the record");
    tracing::info!(?record, "ns_sigkill recorded");

    drop(app.stop().await);
    fs.stop().await.expect("file storage stops cleanly");
    drop(ns);
    probe.close().await;
    delete_topology(&broker).await;
}
