//! Malformed messages published straight onto the files exchange, interleaved with valid
//! events: the NotificationService must dead-letter every malformed one (all of them end up in
//! the dead-letter queue, each once) and deliver every valid event around them to the app.
use std::{collections::HashMap, path::Path, time::Duration};

use lockbox_broker::{Broker, BrokerConfig, Names, Outgoing, testing::{delete_topology, isolated_config}};
use lockbox_events::{FILE_STORAGE_SOURCE, FileData, FileMessageData, timestamp};
use lockbox_reliability::{
    Mode, Record,
    amqp::QueueProbe,
    app::{App, inbox_rows_by_file},
    common::{grouped, init_tracing, new_user, token},
    scale,
    services::{notification_config, start_notifications},
    tally::tally,
    wait,
};

const LIMIT: Duration = Duration::from_secs(120);
const MALFORMED: u64 = 100;

/// The malformed bodies: the wire contract's own malformed fixtures, plus bytes that are not
/// text at all; `None` marks a valid body sent without a message id.
fn poison_kinds() -> Vec<(String, Option<Vec<u8>>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../services/events/fixtures/malformed");
    let mut kinds: Vec<(String, Option<Vec<u8>>)> = std::fs::read_dir(&dir)
        .expect("the malformed fixtures")
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), Some(std::fs::read(e.path()).expect("fixture"))))
        .collect();
    kinds.sort();
    kinds.push(("binary garbage".into(), Some(vec![0xff, 0xfe, 0x00, 0x9c, 0x80, 0x7f])));
    kinds.push(("no message_id".into(), None));
    kinds
}

fn valid_event(user: &str, i: u64) -> FileMessageData {
    FileMessageData::file_stored(FILE_STORAGE_SOURCE, user, FileData::new(uuid::Uuid::new_v4(), format!("valid-{i}.txt"), timestamp::now()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn malformed_messages_all_go_to_the_dead_letter_queue_and_valid_ones_around_them_arrive() {
    init_tracing();
    let valid_total = scale(100, 1_000);
    let broker = isolated_config("rel-malformed");
    let names = Names::new(broker.prefix.clone());
    let dir = tempfile::tempdir().expect("temp dir");
    let ns = start_notifications(notification_config(&dir.path().join("notification"), &broker), None).await.expect("notifications");
    let user = new_user();
    let token = token(&user);
    let app = App::start_connected(&dir.path().join("app"), &user, &token, &ns.url(), LIMIT).await.expect("the app feed connects");

    let publisher = Broker::builder(BrokerConfig { connection_name: format!("{}-publisher", broker.connection_name), ..broker.clone() }).start();
    publisher.connected(LIMIT).await.expect("the test publisher connects");
    let kinds = poison_kinds();
    // Spread the malformed ones evenly among the valid ones.
    let every = (valid_total / MALFORMED).max(1);
    let mut accepted = Vec::new();
    let mut poison_ids: HashMap<String, String> = HashMap::new();
    let mut poison_without_id = 0u64;
    let mut confirmed = 0u64;
    let (mut v, mut m) = (0u64, 0u64);
    while v < valid_total || m < MALFORMED {
        if v < valid_total {
            let event = valid_event(&user, v);
            let id = event.file.as_ref().map(|f| f.id.to_string()).expect("a file event");
            publisher.publisher().publish(&Outgoing::event(&names, uuid::Uuid::now_v7().to_string(), &event)).await.expect("a confirmed publish");
            accepted.push(id);
            confirmed += 1;
            v += 1;
        }
        if m < MALFORMED && (v % every == 0 || v >= valid_total) {
            let (kind, body) = &kinds[usize::try_from(m).expect("m") % kinds.len()];
            let mut message = Outgoing::event(&names, uuid::Uuid::now_v7().to_string(), &valid_event(&user, 1_000_000 + m));
            match body {
                Some(body) => {
                    message.body = body.clone();
                    poison_ids.insert(message.message_id.clone(), kind.clone());
                }
                None => {
                    message.message_id = String::new();
                    poison_without_id += 1;
                }
            }
            publisher.publisher().publish(&message).await.expect("a confirmed publish");
            confirmed += 1;
            m += 1;
        }
    }

    let probe = QueueProbe::connect(&broker.amqp_url).await.expect("a broker probe");
    let dead_queue = names.file_events_dead_queue();
    wait::until(&format!("{MALFORMED} messages in the dead-letter queue"), LIMIT, || {
        let (probe, q) = (&probe, dead_queue.clone());
        async move { probe.ready(&q).await.ok().filter(|n| u64::from(*n) >= MALFORMED) }
    })
    .await
    .expect("every malformed message is dead-lettered");
    let _ = app.wait_added(valid_total, LIMIT).await;
    assert_eq!(u64::from(probe.ready(&names.file_events_queue()).await.expect("depth")), 0, "nothing left in the work queue");
    let dead = probe.take_all(&dead_queue).await.expect("the dead-letter queue");
    assert_eq!(dead.len() as u64, MALFORMED, "exactly the malformed messages are dead-lettered, each once");
    let mut dead_by_id = 0u64;
    let mut dead_without_id = 0u64;
    for taken in &dead {
        match taken.message_id.as_deref() {
            Some(id) if !id.is_empty() => {
                assert!(poison_ids.contains_key(id), "a message that was not malformed was dead-lettered: {id}");
                dead_by_id += 1;
            }
            _ => dead_without_id += 1,
        }
    }
    assert_eq!(dead_by_id, poison_ids.len() as u64);
    assert_eq!(dead_without_id, poison_without_id);

    let t = tally(&accepted, &inbox_rows_by_file(&app.inbox_path).expect("the inbox file"));
    assert_eq!((t.lost, t.duplicated, t.unexpected), (0, 0, 0), "{t:?}");

    let record = Record {
        scenario: "malformed".into(),
        mode: Mode::from_env(),
        load: format!("{} valid events with {MALFORMED} malformed messages spread among them, published with confirms", grouped(valid_total)),
        faults: format!("{MALFORMED} malformed messages of {} kinds: {}", kinds.len(), kinds.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", ")),
        uploads_accepted: 0,
        events_confirmed: confirmed,
        notifications_delivered: t.delivered,
        lost: t.lost,
        duplicated: t.duplicated,
        time_to_recover: None,
        notes: format!("{} of {MALFORMED} malformed messages in the dead-letter queue (matched by message id), none valid; 0 left in the work queue; valid: {} published, {} in the app's inbox", dead.len(), grouped(valid_total), grouped(t.delivered)),
    };
    record.write().expect("write the record");
    tracing::info!(?record, "malformed recorded");

    drop(app.stop().await);
    probe.close().await;
    publisher.shutdown().await;
    ns.stop().await.expect("notifications stop cleanly");
    delete_topology(&broker).await;
}
