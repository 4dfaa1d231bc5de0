//! Scenario "hostile_input": both real services in-process (127.0.0.1:0, real SQLite in temp
//! dirs, the real RabbitMQ with names of this test's own), two users, and user "mallory"
//! attacking user "alice" with every kind of hostile input the issue lists: bad tokens on every
//! authenticated endpoint, alice's ids on every endpoint of both services (and the token-free
//! ones checked for her data), traversal and control-character names, missing, oversize and
//! lying `Upload-Length` and `Content-Length`, wrong checksums, tus protocol faults, bad
//! notification queries and read bodies, and oversized WebSocket frames. Every attempt must be
//! refused with a 4xx status and a JSON `{"error": code, "message": …}` (HEAD: status only), or
//! answered with nothing of alice's, or — for names — stored under a cleaned display name; no
//! response or stream frame to mallory may carry anything of alice's. The counts go into the
//! scenario's `Record` (`notes`).

#[path = "hostile/access.rs"]
mod access;
#[path = "hostile/harness.rs"]
mod harness;
#[path = "hostile/stream.rs"]
mod stream;
#[path = "hostile/uploads.rs"]
mod uploads;

use lockbox_broker::testing;
use lockbox_reliability::{Mode, Record};
use reqwest::StatusCode;

use harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_is_refused_and_never_reaches_another_user() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
    let world = World::start().await;
    let mut tally = Tally::default();
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (alice, mallory) = (format!("alice-{tag}"), format!("mallory-{tag}"));
    let (alice_token, token) = (world.token(&alice), world.token(&mallory));

    // Both stream before anything happens, so a leak would show up on mallory's.
    let mut alice_stream = world.stream_client(&alice).connect(0).await.expect("alice's stream");
    let mut mallory_stream = world
        .stream_client(&mallory)
        .connect(0)
        .await
        .expect("mallory's stream");

    // Alice's things: a stored file (and its notification), and an upload in progress.
    let secret_name = format!("alice-secret-{tag}.txt");
    let secret_content = format!("ALICE-CONTENT-{tag}");
    let response = world
        .upload(&alice_token, &secret_name, secret_content.as_bytes())
        .await;
    assert_eq!(response.status(), StatusCode::CREATED, "{:?}", response.text().await);
    let file_id = response.headers()["lockbox-file-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let notification = next_notification(&mut alice_stream).await;
    assert_eq!(
        (
            notification.user_id.as_str(),
            notification.file.as_ref().map(|f| f.id.to_string())
        ),
        (alice.as_str(), Some(file_id.clone()))
    );
    let upload_url = world.created(&alice_token, 100).await;
    let secrets = Secrets {
        user: alice.clone(),
        file_id,
        file_name: secret_name,
        content: secret_content,
        upload_url,
        notification,
    };

    let attack = Attack {
        world: &world,
        secrets: &secrets,
        alice: &alice,
        mallory: &mallory,
        alice_token: &alice_token,
        token: &token,
    };
    access::bad_tokens(&attack, &mut tally).await;
    let alice_conn = alice_stream.id().expect("a connection id").to_owned();
    access::other_users_ids(&attack, &mut tally, &alice_conn).await;
    let stored = uploads::hostile_names(&attack, &mut tally).await;
    uploads::upload_lengths(&attack, &mut tally).await;
    uploads::checksums(&attack, &mut tally).await;
    uploads::tus_protocol(&attack, &mut tally).await;
    stream::notification_input(&attack, &mut tally).await;
    stream::oversized_frames(&attack, &mut tally).await;

    // Mallory's stream carried exactly mallory's notifications, one per stored file.
    let mut seen = std::collections::HashSet::new();
    for _ in &stored {
        let n = next_notification(&mut mallory_stream).await;
        assert_eq!(
            n.user_id, mallory,
            "mallory's stream carried another user's notification: {n:?}"
        );
        let file = n.file.as_ref().expect("a file notification").id.to_string();
        assert!(stored.contains(&file), "{file} is one of mallory's files");
        seen.insert(file);
    }
    // As many notifications as files were read: any repeat displaced (lost) another one.
    let duplicated = (stored.len() - seen.len()) as u64;
    assert_eq!(duplicated, 0, "a notification came twice");

    // Mallory's read requests (one naming alice's connection) pushed nothing to alice: her
    // next frame is the notification of her next upload, not a read frame.
    let r = world.upload(&alice_token, "second.txt", b"second").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let second = next_notification(&mut alice_stream).await;
    assert_eq!(second.user_id, alice);

    let (attempts, refusals) = tally.totals();
    assert_eq!(tally.leaks, 0, "responses to mallory carried alice's data");
    assert_eq!(attempts, refusals, "{}", tally.notes());
    let record = Record {
        scenario: "hostile_input".into(),
        mode: Mode::from_env(),
        load: format!(
            "{attempts} hostile requests by one user against another's files, uploads and notifications, both services"
        ),
        faults: "bad tokens (7 kinds × 12 endpoints + a WebSocket handshake), another user's ids on every endpoint, \
                 traversal/control-character names, bad and lying Upload-Length, wrong checksums, tus protocol faults, \
                 1 MiB WebSocket frames"
            .into(),
        uploads_accepted: 2 + stored.len() as u64,
        events_confirmed: 2 + seen.len() as u64,
        notifications_delivered: 2 + seen.len() as u64,
        lost: duplicated,
        duplicated,
        time_to_recover: None,
        notes: tally.notes(),
    };
    let path = record.write().expect("write the record");
    println!("hostile_input: {} ({})", record.notes, path.display());

    let _ = mallory_stream.close().await;
    let _ = alice_stream.close().await;
    world.files.stop().await;
    world.notes.stop().await;
    testing::delete_topology(&world.broker).await;
}
