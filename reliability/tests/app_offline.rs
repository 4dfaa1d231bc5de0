//! The app is closed while many notifications are made for its user, then opened again on the
//! same inbox file: it must catch up on all of them (resuming after its highest cached seq),
//! none twice, and show one summary toast rather than one toast each.
use std::time::Duration;

use lockbox_broker::{Broker, BrokerConfig, Names, Outgoing, testing::{delete_topology, isolated_config}};
use lockbox_client::stream::NotificationClient;
use lockbox_events::{FILE_STORAGE_SOURCE, FileData, FileMessageData, timestamp};
use lockbox_reliability::{
    Mode, Record,
    app::{App, Shown, inbox_rows_by_file, inbox_totals},
    common::{grouped, init_tracing, new_user, token},
    scale,
    services::{notification_config, start_notifications},
    tally::tally,
    wait,
};
use tokio::time::Instant;

const LIMIT: Duration = Duration::from_secs(300);
/// Notifications the app sees live before it goes offline.
const BEFORE: u64 = 3;

async fn publish(publisher: &Broker, names: &Names, user: &str, n: u64, offset: u64) -> Vec<String> {
    let mut ids = Vec::new();
    let mut pending = Vec::new();
    for i in 0..n {
        let file = FileData::new(uuid::Uuid::new_v4(), format!("offline-{}.txt", offset + i), timestamp::now());
        ids.push(file.id.to_string());
        let event = FileMessageData::file_stored(FILE_STORAGE_SOURCE, user, file);
        let message = Outgoing::event(names, uuid::Uuid::now_v7().to_string(), &event);
        pending.push(publisher.publisher().send(&message).await.expect("publish"));
        // Pipelined confirms, a window at a time, as the outbox relay publishes.
        if pending.len() == 256 || i + 1 == n {
            for confirm in pending.drain(..) {
                confirm.confirmed().await.expect("a confirm");
            }
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_app_back_online_catches_up_on_everything_once_with_one_summary_toast() {
    init_tracing();
    let offline_total = scale(1_000, 10_000);
    let broker = isolated_config("rel-offline");
    let names = Names::new(broker.prefix.clone());
    let dir = tempfile::tempdir().expect("temp dir");
    let ns = start_notifications(notification_config(&dir.path().join("notification"), &broker), None).await.expect("notifications");
    let publisher = Broker::builder(BrokerConfig { connection_name: format!("{}-publisher", broker.connection_name), ..broker.clone() }).start();
    publisher.connected(LIMIT).await.expect("the test publisher connects");
    let user = new_user();
    let token = token(&user);
    let app_dir = dir.path().join("app");

    // Online: a few notifications arrive live, each its own toast.
    let app = App::start_connected(&app_dir, &user, &token, &ns.url(), LIMIT).await.expect("the app feed connects");
    // Connecting starts a catch-up (nothing to replay here); live toasts follow once it ends.
    app.wait_caught_up(LIMIT).await.expect("the empty catch-up ends");
    let mut accepted = publish(&publisher, &names, &user, BEFORE, 0).await;
    app.wait_added(BEFORE, LIMIT).await.expect("the live notifications");
    let live_toasts = app.stop().await;
    assert_eq!(live_toasts, vec![Shown::Single; BEFORE as usize], "a few live notifications are toasted one by one");
    let (_, cached_seq) = inbox_totals(&app_dir.join("inbox.sqlite3")).expect("the inbox");

    // Offline: the notifications are made and stored by the service.
    accepted.extend(publish(&publisher, &names, &user, offline_total, BEFORE).await);
    let client = NotificationClient::new(ns.url(), token.clone());
    let expected = BEFORE + offline_total;
    wait::until("the service to store every notification", LIMIT, || {
        let client = &client;
        async move { client.unread_count().await.ok().filter(|n| *n >= expected) }
    })
    .await
    .expect("the service stores them while the app is away");

    // Back online on the same inbox file.
    let back = Instant::now();
    let app = App::start(&app_dir, &user, &token, &ns.url()).expect("the app feed again");
    app.wait_added(offline_total, LIMIT).await.expect("the app catches up");
    let caught_up = back.elapsed();
    let toasts = app.stop().await;
    let (rows, max_seq) = inbox_totals(&app_dir.join("inbox.sqlite3")).expect("the inbox");
    let t = tally(&accepted, &inbox_rows_by_file(&app_dir.join("inbox.sqlite3")).expect("the inbox file"));
    assert_eq!((t.lost, t.duplicated, t.unexpected), (0, 0, 0), "{t:?}");
    assert_eq!(rows, expected, "every notification once in the inbox file");
    assert_eq!(max_seq, expected, "seqs are contiguous: nothing skipped");
    assert_eq!(cached_seq, BEFORE);
    let summaries: Vec<_> = toasts.iter().filter_map(|t| if let Shown::Summary(n) = t { Some(*n) } else { None }).collect();
    let singles = toasts.iter().filter(|t| **t == Shown::Single).count();
    assert_eq!(
        (singles, summaries.len()),
        (0, 1),
        "catching up shows one summary toast, not {singles} single toasts and {} summaries ({summaries:?})",
        summaries.len()
    );
    assert_eq!(summaries[0] as u64, offline_total, "the summary covers every caught-up notification");

    let record = Record {
        scenario: "app_offline".into(),
        mode: Mode::from_env(),
        load: format!("{} notifications made for one user while the app was closed", grouped(offline_total)),
        faults: "app closed (feed stopped) after 3 live notifications; reopened on the same inbox file".into(),
        uploads_accepted: 0,
        events_confirmed: expected,
        notifications_delivered: t.delivered,
        lost: t.lost,
        duplicated: t.duplicated,
        time_to_recover: Some(caught_up),
        notes: format!(
            "time to recover = reopen to all {} in the inbox file; toasts after reopening: {singles} single, {} summary ({summaries:?}), observed at the feed sink through the app's toast::Folder",
            grouped(offline_total),
            summaries.len()
        ),
    };
    record.write().expect("write the record");
    tracing::info!(?record, "app_offline recorded");

    publisher.shutdown().await;
    ns.stop().await.expect("notifications stop cleanly");
    delete_topology(&broker).await;
}
