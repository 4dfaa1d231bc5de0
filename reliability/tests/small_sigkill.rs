//! Small files — the ones the FileStorageService keeps in its database instead of a blob file
//! — from 16 concurrent uploaders while the service (the real binary) is SIGKILLed twice and
//! started again on the same port and data dir. Every upload it answered must survive whole,
//! with one notification. An upload whose answer a kill cut off is stored whole or not at
//! all; its uploader sends it again, so the service may hold it twice (the answer naming the
//! first copy was lost), never half.
use std::{path::Path, time::Duration};

use lockbox_broker::testing::isolated_config;
use lockbox_client::files::FilesClient;
use lockbox_reliability::{
    Mode, Record,
    app::inbox_rows_by_file,
    common::{grouped, init_tracing, seconds},
    fsdb::FsDb,
    load::{Load, LoadSpec},
    scale,
    stack::FsCrashStack,
    tally::tally,
};
use tokio::time::Instant;

const LIMIT: Duration = Duration::from_secs(300);
const KILLS: u64 = 2;
const SIZE: usize = 4096;
const CONCURRENCY: usize = 16;

fn damaged(fs_dir: &Path) -> Vec<String> {
    FsDb::open(fs_dir).expect("the service database").inline_files_not_whole().expect("read the files")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkills_among_small_uploads_keep_every_answered_one_whole_and_notified_once() {
    init_tracing();
    let total = scale(600, 6_000);
    let broker = isolated_config("rel-small-kill");
    let dir = tempfile::tempdir().expect("temp dir");
    let FsCrashStack { mut fs, fs_dir, ns, token, app } =
        FsCrashStack::start(dir.path(), &broker, LIMIT).await.expect("the file storage binary, the notification service and the app");

    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).expect("files dir");
    let load = Load::start(LoadSpec {
        url: fs.url(),
        token: token.clone(),
        total: Some(total),
        duration: None,
        concurrency: CONCURRENCY,
        size: SIZE,
        dir: files,
        retry_for: Some(LIMIT),
    });

    let mut recoveries = Vec::new();
    let mut killed_after = Vec::new();
    for kill in 1..=KILLS {
        load.wait_finished(total * kill / (KILLS + 1), LIMIT).await.expect("uploads progress");
        fs.kill().expect("SIGKILL the file storage service");
        let killed_at = Instant::now();
        killed_after.push(load.finished());
        // Dead: whatever the database holds is whole.
        assert_eq!(damaged(&fs_dir), Vec::<String>::new(), "no file half-stored by the kill");
        fs.restart().await.expect("the binary starts again on the same port and data dir");
        let finished = load.finished();
        load.wait_finished(finished + 1, LIMIT).await.expect("uploads go on after the restart");
        recoveries.push(killed_at.elapsed());
    }
    let result = load.finish(LIMIT).await.expect("the uploads finish");
    assert!(result.errors.is_empty(), "uploads failed for good: {:?}", &result.errors[..result.errors.len().min(5)]);
    assert_eq!(result.accepted.len() as u64, total, "every upload was answered in the end");

    let db = FsDb::open(&fs_dir).expect("the service database");
    let counts = db.all_confirmed(LIMIT).await.expect("every event confirmed");
    app.wait_added(counts.files, LIMIT).await.expect("one notification per stored file");
    let t = tally(&result.accepted, &inbox_rows_by_file(&app.inbox_path).expect("the inbox file"));
    assert_eq!(t.lost, 0, "answered uploads never notified: {:?}", t.lost_sample);
    assert_eq!(t.duplicated, 0, "notifications that arrived twice");
    // Stored, but the answer died with the process and the uploader sent the file again: at
    // most one per uploader per kill.
    assert!(t.unexpected <= CONCURRENCY as u64 * KILLS, "{} stored twice", t.unexpected);
    assert_eq!(counts.files, t.accepted + t.unexpected, "every stored file is an answered upload or a resent one");
    assert_eq!(counts.outbox, counts.files, "one event per file");
    assert_eq!(damaged(&fs_dir), Vec::<String>::new(), "every file whole");
    assert_eq!(db.integrity().expect("integrity_check"), "ok");
    // And over HTTP, a sample of them, checked against their SHA-256.
    let client = FilesClient::new(&fs.url(), token.clone()).expect("files client");
    for (i, id) in result.accepted.iter().step_by(result.accepted.len().div_ceil(20).max(1)).enumerate() {
        let out = dir.path().join(format!("down-{i}.bin"));
        client.download(id.parse().expect("a file id"), &out).await.expect("a whole download");
        assert_eq!(std::fs::metadata(&out).expect("the download").len(), SIZE as u64);
    }

    let worst = recoveries.iter().max().copied().unwrap_or_default();
    let record = Record {
        scenario: "small_sigkill".into(),
        mode: Mode::from_env(),
        load: format!("{} uploads of {} KiB (kept in the database), {CONCURRENCY} at once, one request each", grouped(total), SIZE / 1024),
        faults: format!("SIGKILL of the file storage binary {KILLS} times (after {killed_after:?} uploads), restarted on the same port and data dir"),
        uploads_accepted: t.accepted,
        events_confirmed: counts.confirmed,
        notifications_delivered: t.delivered,
        lost: t.lost,
        duplicated: t.duplicated,
        time_to_recover: Some(worst),
        notes: format!(
            "no file half-stored, dead or alive (size and SHA-256 of every row's content checked); integrity_check ok; {} uploads stored twice because the kill cut off their answer and the uploader resent them (each its own file and notification); {} retried sends; recovery = SIGKILL to the next upload answered: {}",
            t.unexpected,
            result.retries,
            seconds(&recoveries)
        ),
    };
    record.write().expect("write the record");
    tracing::info!(?record, "small_sigkill recorded");

    FsCrashStack::stop(app, fs, ns, &broker).await.expect("notifications stop cleanly");
}
