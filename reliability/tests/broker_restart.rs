//! RabbitMQ crashes (kill -9 of a throwaway node of the test's own) in the middle of a run of
//! uploads, and comes back on the same data dir. Every accepted upload's notification must
//! reach the app's inbox exactly once, and both services must reconnect on their own within
//! 5 s of the broker's return — with the broker settings they ship with.
use std::{collections::HashSet, time::Duration};

use lockbox_broker::{BrokerConfig, Names};
use lockbox_reliability::{
    Mode, Record,
    app::{App, inbox_rows_by_file},
    common::{grouped, init_tracing, new_user, token},
    fsdb::FsDb,
    load::{Load, LoadSpec},
    rabbit::RabbitNode,
    scale,
    services::{file_storage_config, notification_config, start_file_storage, start_notifications},
    tally::tally,
    wait,
};
use tokio::time::Instant;

const LIMIT: Duration = Duration::from_secs(300);
/// The bound on reconnecting after the broker is back.
const RECONNECT_WITHIN: Duration = lockbox_broker::RECONNECT_PROMISE;

async fn ready(http: &reqwest::Client, url: &str) -> bool {
    wait::http_ok(http, &format!("{url}/readyz")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_accepted_upload_is_notified_once_across_a_broker_crash() {
    init_tracing();
    let total = scale(300, 10_000);
    // How long the broker stays down: long enough for both services' backoff to reach its cap.
    let outage = Duration::from_secs(scale(8, 20));
    let concurrency = 8;
    let mut node = tokio::task::block_in_place(RabbitNode::start).expect("a throwaway RabbitMQ node");
    // The services' own defaults (timeouts, backoff), only pointed at the throwaway node.
    let broker = BrokerConfig { amqp_url: node.amqp_url(), prefix: "rel.restart.".into(), ..BrokerConfig::default() };
    let dir = tempfile::tempdir().expect("temp dir");
    let fs_dir = dir.path().join("file-storage");
    let fs = start_file_storage(file_storage_config(&fs_dir, &broker)).await.expect("file storage");
    let ns = start_notifications(notification_config(&dir.path().join("notification"), &broker), None).await.expect("notifications");
    let http = reqwest::Client::new();
    for url in [fs.url(), ns.url()] {
        wait::until(&format!("{url} ready"), LIMIT, || {
            let (http, url) = (http.clone(), url.clone());
            async move { ready(&http, &url).await.then_some(()) }
        })
        .await
        .expect("both services connect to the node");
    }
    let user = new_user();
    let token = token(&user);
    let app = App::start_connected(&dir.path().join("app"), &user, &token, &ns.url(), LIMIT).await.expect("the app feed connects");

    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).expect("files dir");
    let load = Load::start(LoadSpec {
        url: fs.url(),
        token: token.clone(),
        total: Some(total),
        duration: None,
        concurrency,
        size: 1024,
        dir: files,
        retry_for: None,
    });
    load.wait_finished(total / 3, LIMIT).await.expect("a third of the uploads");

    // The crash.
    tokio::task::block_in_place(|| node.kill()).expect("kill -9 the node");
    let down_at = Instant::now();
    let accepted_at_crash = load.accepted_so_far();
    for url in [fs.url(), ns.url()] {
        wait::until(&format!("{url} to notice the broker is gone"), Duration::from_secs(60), || {
            let (http, url) = (http.clone(), url.clone());
            async move { (!ready(&http, &url).await).then_some(()) }
        })
        .await
        .expect("each service reports the broker gone on /readyz");
    }
    // The outage itself (a fault of fixed length, not a wait for a condition).
    tokio::time::sleep(outage.saturating_sub(down_at.elapsed())).await;
    // The broker's return is the moment its AMQP port accepts again: the earliest a client
    // could reconnect, so the strictest start for the clock.
    let port = node.port;
    let returned = tokio::spawn(async move {
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Instant::now();
            }
            tokio::time::sleep(wait::PROBE_EVERY).await;
        }
    });
    tokio::task::block_in_place(|| node.restart()).expect("the node starts again on the same data dir");
    let back_at = returned.await.expect("the port probe");
    let downtime = back_at - down_at;
    let accepted_while_down = load.accepted_so_far() - accepted_at_crash;
    // Both clocks run at once, so one service's wait does not count against the other.
    let reconnected = |url: String| {
        let http = http.clone();
        async move {
            let (_, at) = wait::until(&format!("{url} to reconnect"), LIMIT, || {
                let (http, url) = (http.clone(), url.clone());
                async move { ready(&http, &url).await.then_some(()) }
            })
            .await
            .expect("each service reconnects on its own");
            at.saturating_duration_since(back_at)
        }
    };
    let recovered = [futures_util::future::join(reconnected(fs.url()), reconnected(ns.url())).await].map(|(a, b)| [a, b])[0];
    let result = load.finish(LIMIT).await.expect("the uploads finish");
    assert!(result.errors.is_empty(), "uploads must not fail while the broker is down: {:?}", &result.errors[..result.errors.len().min(5)]);

    // Everything the service accepted must arrive; then nothing more may be on its way.
    let _ = app.wait_added(result.accepted.len() as u64, LIMIT).await;
    let db = FsDb::open(&fs_dir).expect("the service database");
    wait::until("every outbox row confirmed and the queue drained", LIMIT, || {
        let counts = db.counts().ok();
        let depth = node.queue_depth(&Names::new(broker.prefix.clone()).file_events_queue()).ok();
        async move { counts.zip(depth).filter(|(c, d)| c.confirmed == c.outbox && *d == 0).map(|(c, _)| c) }
    })
    .await
    .expect("the relay confirms everything and the service consumes it");
    let counts = db.counts().expect("counts");
    // Deliveries stored but not acknowledged when the broker died come back; the service
    // must recognize them (informative: how often that window was hit varies).
    let deduped = wait::metric(&http, &ns.url(), "lockbox_notification_events_total{outcome=\"duplicate\"}").await.unwrap_or(0.0);
    let arrived = inbox_rows_by_file(&app.inbox_path).expect("the inbox file");
    let t = tally(&result.accepted, &arrived);
    let unique: HashSet<_> = result.accepted.iter().collect();
    assert_eq!(unique.len(), result.accepted.len(), "every accepted upload has its own file id");
    assert_eq!(t.lost, 0, "accepted uploads never notified: {:?}", t.lost_sample);
    assert_eq!(t.duplicated, 0, "notifications that arrived twice");
    assert_eq!(t.unexpected, 0, "notifications for files the client never saw accepted");
    assert_eq!(app.seen().added, t.delivered, "the feed added each notification once");
    let fs_recover = recovered[0];
    let ns_recover = recovered[1];
    assert!(fs_recover <= RECONNECT_WITHIN, "the FileStorageService took {fs_recover:?} to reconnect");
    assert!(ns_recover <= RECONNECT_WITHIN, "the NotificationService took {ns_recover:?} to reconnect");

    let record = Record {
        scenario: "broker_restart".into(),
        mode: Mode::from_env(),
        load: format!("{} uploads of 1 KiB, {concurrency} at once, one user", grouped(total)),
        faults: format!(
            "kill -9 of the RabbitMQ node after {} uploads; down {:.1} s; restarted on the same data dir",
            grouped(total / 3),
            downtime.as_secs_f64()
        ),
        uploads_accepted: t.accepted,
        events_confirmed: counts.confirmed,
        notifications_delivered: t.delivered,
        lost: t.lost,
        duplicated: t.duplicated,
        time_to_recover: Some(fs_recover.max(ns_recover)),
        notes: format!(
            "{} uploads accepted while the broker was down (events waited in the outbox); {deduped} redeliveries of already stored events recognized by message_id; reconnect after the AMQP port reopened: file-storage {:.2} s, notification {:.2} s (default backoff); all {} uploads took {:.1} s",
            grouped(accepted_while_down),
            fs_recover.as_secs_f64(),
            ns_recover.as_secs_f64(),
            grouped(total),
            result.elapsed.as_secs_f64()
        ),
    };
    let path = record.write().expect("write the record");
    tracing::info!(path = %path.display(), ?record, "broker_restart recorded");

    drop(app.stop().await);
    fs.stop().await.expect("file storage stops cleanly");
    ns.stop().await.expect("notifications stop cleanly");
}
