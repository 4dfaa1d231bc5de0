//! The whole chain through a real window: drop files on the real `lockbox-desktop` window (a real
//! X drag and drop), and watch them reach the FileStorageService, RabbitMQ, the
//! NotificationService, the app's SQLite inbox, the session's notification server and the
//! window's DOM. Then the NotificationService goes away, two more files are dropped, it comes
//! back, and the app catches up with exactly the new ones.
//!
//! Needs what the README's test command installs: Xvfb, xdotool, python3-gi + GTK,
//! python3-dbusmock, webkit2gtk-driver, ImageMagick, tauri-driver. Screenshots and logs land in
//! target/e2e/ and are listed at the end.

#[path = "../common/mod.rs"]
mod common;

mod artifacts;
mod drag;
mod driver;
mod services;
mod session;
mod wait;

use std::{collections::BTreeSet, path::PathBuf};

use lockbox_client::{files::FilesClient, stream::NotificationClient};
use rusqlite::Connection;
use serde_json::Value;

use crate::{
    artifacts::Artifacts,
    common::{FileStorage, Notifications, content, token},
    driver::App,
    session::Session,
    wait::WAIT,
};

const USER: &str = "e2e-user";

fn write(path: &PathBuf, bytes: &[u8]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::write(path, bytes).expect("write test file");
}

fn inbox_rows(data_dir: &std::path::Path) -> Vec<(String, i64, String)> {
    let Ok(conn) = Connection::open_with_flags(data_dir.join("inbox.sqlite3"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return Vec::new();
    };
    let Ok(mut stmt) = conn.prepare("SELECT id, seq, title FROM notifications ORDER BY seq") else { return Vec::new() };
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map(|rows| rows.filter_map(Result::ok).collect())
        .unwrap_or_default()
}

fn upload_states(data_dir: &std::path::Path) -> Vec<(String, String, i64, i64)> {
    let Ok(conn) = Connection::open_with_flags(data_dir.join("uploads.sqlite3"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return Vec::new();
    };
    let Ok(mut stmt) = conn.prepare("SELECT name, state, sent, size FROM uploads ORDER BY position") else { return Vec::new() };
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .map(|rows| rows.filter_map(Result::ok).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn files_dropped_on_the_window_come_back_as_toasts_and_inbox_rows() {
    let artifacts = Artifacts::new();
    let broker = services::broker();
    let mut tap = services::tap(&broker).await;
    let file_storage = FileStorage::start(&broker).await;
    let ns_data = tempfile::tempdir().expect("temp dir");
    let notification = Notifications::start(ns_data.path(), &broker).await;
    let ns_addr = notification.addr;
    let session = Session::start(&artifacts);

    // What the user drops: two files and a folder with one file in it.
    let files = tempfile::tempdir().expect("temp dir");
    let a = files.path().join("a.txt");
    let big = files.path().join("big.bin");
    let folder = files.path().join("folder");
    let c = folder.join("c.txt");
    write(&a, b"hello from the e2e test\n");
    write(&big, &content(96 << 20, 7));
    write(&c, b"a file inside a dropped folder\n");

    let app_data = tempfile::tempdir().expect("temp dir");
    let token = token(USER);
    let env = [
        ("LOCKBOX_DESKTOP_DATA_DIR", app_data.path().display().to_string()),
        ("LOCKBOX_TOKEN", token.clone()),
        ("LOCKBOX_FS_URL", file_storage.url.clone()),
        ("LOCKBOX_NS_URL", notification.url()),
    ];
    let app = App::start(&session, &env, &artifacts.path("app.log")).await;
    app.wait_for_texts("the empty window", ".dropzone-title", &["Drop files here to upload".to_owned()]).await;
    wait::until("the app's feed to connect", WAIT, || async {
        app.texts(".status-label").await.contains(&"Connected".to_owned()).then_some(())
    })
    .await;
    session.screenshot(&artifacts.path("1-before-drop.png"));

    drag::drop_on_lockbox(&session, &[a.clone(), big.clone(), folder.clone()]);

    // Mid-upload: the window shows the big file's progress bar.
    let bar = r#"[role="progressbar"][aria-label="Upload of big.bin"]"#;
    let percent = wait::until("the big file's progress bar to move in the window", WAIT, || async {
        let now: u32 = app.attribute(bar, "aria-valuenow").await?.parse().ok()?;
        (now > 0).then_some(now)
    })
    .await;
    session.screenshot(&artifacts.path("2-mid-upload.png"));
    eprintln!("e2e: mid-upload screenshot with big.bin at {percent} %");

    // 1. The FileStorageService has the three files, byte for byte.
    let files_api = FilesClient::new(&file_storage.url, token.clone()).expect("files client");
    let stored = wait::until("three stored files", WAIT, || async {
        let list = files_api.list_all().await.ok()?;
        (list.len() >= 3).then_some(list)
    })
    .await;
    let names: BTreeSet<_> = stored.iter().map(|f| f.name.clone()).collect();
    assert_eq!(names, BTreeSet::from(["a.txt".into(), "big.bin".into(), "c.txt".into()]), "{stored:?}");
    for (info, original) in [("a.txt", &a), ("big.bin", &big), ("c.txt", &c)] {
        let file = stored.iter().find(|f| f.name == info).expect("listed");
        let dest = files.path().join(format!("downloaded-{info}"));
        files_api.download(file.id, &dest).await.expect("download");
        assert!(std::fs::read(&dest).expect("read") == std::fs::read(original).expect("read"), "{info} came back different");
    }

    // 2. Three events reached the broker, with exactly the seed's keys.
    let mut events = Vec::new();
    while events.len() < 3 {
        let (id, body) = tokio::time::timeout(WAIT, tap.recv()).await.expect("an event on the broker").expect("tap open");
        events.push((id, body));
    }
    for (id, body) in &events {
        assert!(id.is_some(), "every event has a message_id");
        let json: Value = serde_json::from_slice(body).expect("JSON");
        let keys: BTreeSet<_> = json.as_object().expect("object").keys().cloned().collect();
        assert_eq!(keys, BTreeSet::from(["event_type", "file", "source", "timestamp", "user_id"].map(String::from)));
        assert_eq!(json["event_type"], "file.stored");
        assert_eq!(json["user_id"], USER);
        let file_keys: BTreeSet<_> = json["file"].as_object().expect("file").keys().cloned().collect();
        assert_eq!(file_keys, BTreeSet::from(["id", "name", "timestamp"].map(String::from)));
    }

    // 3. The NotificationService stored three notifications.
    let ns_api = NotificationClient::new(notification.url(), token.clone());
    let stored_notes = wait::until("three stored notifications", WAIT, || async {
        let page = ns_api.list(0, 100).await.ok()?;
        (page.notifications.len() >= 3).then_some(page.notifications)
    })
    .await;
    assert_eq!(stored_notes.len(), 3);

    // 4. The app's SQLite inbox has three rows.
    let expected_titles = ["a.txt was stored", "big.bin was stored", "c.txt was stored"].map(String::from);
    let rows = wait::until("three inbox rows", WAIT, || async {
        let rows = inbox_rows(app_data.path());
        (rows.len() >= 3).then_some(rows)
    })
    .await;
    assert_eq!(rows.iter().map(|r| r.2.clone()).collect::<BTreeSet<_>>(), BTreeSet::from(expected_titles.clone()));

    // 5. The notification server got the toasts (three arrive together: each is shown, the
    //    folding rule summarizes only past three within two seconds).
    let toasts = wait::until("three toasts on the session bus", WAIT, || async {
        let t = session.toasts();
        (t.len() >= 3).then_some(t)
    })
    .await;
    assert_eq!(toasts.len(), 3, "{toasts:?}");
    let titles: BTreeSet<_> = toasts.iter().map(|t| t.1.clone()).collect();
    assert_eq!(titles, BTreeSet::from(expected_titles.clone()), "{toasts:?}");
    assert!(toasts.iter().all(|t| t.2 == "It is safe in your LockBox."), "{toasts:?}");

    // 6. The window shows them, and every file's timeline ran from queued to notified.
    app.wait_for_texts("the inbox in the window", ".inbox-title", &expected_titles).await;
    wait::until("every upload to reach notified", WAIT, || async {
        let states = upload_states(app_data.path());
        (states.len() == 3 && states.iter().all(|s| s.1 == "notified")).then_some(())
    })
    .await;
    session.screenshot(&artifacts.path("3-inbox.png"));

    // Offline and back: the NotificationService goes away, two more files are dropped…
    notification.stop().await;
    wait::until("the app to notice the feed is gone", WAIT, || async {
        let label = app.texts(".status-label").await;
        (!label.contains(&"Connected".to_owned())).then_some(())
    })
    .await;
    let d = files.path().join("d.txt");
    let e = files.path().join("e.txt");
    write(&d, b"dropped while notifications were down\n");
    write(&e, b"this one too\n");
    drag::drop_on_lockbox(&session, &[d, e]);
    wait::until("five stored files", WAIT, || async {
        (files_api.list_all().await.ok()?.len() == 5).then_some(())
    })
    .await;
    session.screenshot(&artifacts.path("4-offline.png"));

    // …and it comes back on the same address and data.
    let listener = tokio::net::TcpListener::bind(ns_addr).await.expect("the notification port again");
    let notification = Notifications::start_on(listener, ns_data.path(), &broker);
    let rows = wait::until("five inbox rows", WAIT, || async {
        let rows = inbox_rows(app_data.path());
        (rows.len() >= 5).then_some(rows)
    })
    .await;
    let ids: BTreeSet<_> = rows.iter().map(|r| r.0.clone()).collect();
    let seqs: Vec<_> = rows.iter().map(|r| r.1).collect();
    assert_eq!((rows.len(), ids.len()), (5, 5), "no duplicates: {rows:?}");
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    let all_titles = [
        "a.txt was stored", "big.bin was stored", "c.txt was stored", "d.txt was stored", "e.txt was stored",
    ]
    .map(String::from);
    app.wait_for_texts("five notifications in the window", ".inbox-title", &all_titles).await;
    let toasts = wait::until("five toasts in all", WAIT, || async {
        let t = session.toasts();
        (t.len() >= 5).then_some(t)
    })
    .await;
    let new: BTreeSet<_> = toasts[3..].iter().map(|t| t.1.clone()).collect();
    wait::until("the new uploads to reach notified", WAIT, || async {
        let states = upload_states(app_data.path());
        (states.len() == 5 && states.iter().all(|s| s.1 == "notified")).then_some(())
    })
    .await;
    assert_eq!(toasts.len(), 5, "only the two new ones are toasted: {toasts:?}");
    assert_eq!(new, BTreeSet::from(["d.txt was stored".to_owned(), "e.txt was stored".to_owned()]));
    session.screenshot(&artifacts.path("5-caught-up.png"));

    drop(app);
    notification.stop().await;
    file_storage.stop().await;
    lockbox_broker::testing::delete_topology(&broker).await;
}
