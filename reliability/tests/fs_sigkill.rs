//! The FileStorageService (the real binary) is SIGKILLed in the middle of an upload. While it
//! is dead its data dir must hold no stored file, no file row, no blob and no event for the
//! unfinished upload (only the resumable temp part). Started again, the client's tus resume
//! (HEAD, then PATCH from the server's offset) completes the file: one row, one event, one
//! notification, the same bytes.
use std::{path::Path, time::Duration};

use lockbox_broker::testing::isolated_config;
use lockbox_client::{files::FilesClient, upload::TusClient};
use lockbox_reliability::{
    Mode, Record,
    app::inbox_rows_by_file,
    common::{content, init_tracing, seconds},
    fsdb::FsDb,
    scale,
    stack::FsCrashStack,
    tally::tally,
};
use sha2::{Digest, Sha256};
use tokio::{sync::watch, time::Instant};

const LIMIT: Duration = Duration::from_secs(120);
const MIB: usize = 1 << 20;

fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| if e.path().is_dir() { files_under(&e.path()) } else { 1 })
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sigkill_mid_upload_leaves_nothing_partial_and_the_tus_resume_completes_it() {
    init_tracing();
    let rounds = scale(1, 3);
    let size = usize::try_from(scale(24, 128)).expect("size") * MIB;
    let broker = isolated_config("rel-fs-kill");
    let dir = tempfile::tempdir().expect("temp dir");
    let FsCrashStack { mut fs, fs_dir, ns, token, app } =
        FsCrashStack::start(dir.path(), &broker, LIMIT).await.expect("the file storage binary, the notification service and the app");

    let mut accepted = Vec::new();
    let mut recoveries = Vec::new();
    let mut resent = Vec::new();
    for round in 0..rounds {
        // Killed at a different point each round: half, a quarter, three quarters.
        let fraction = [0.5, 0.25, 0.75][usize::try_from(round).expect("round") % 3];
        let bytes = content(size, 1000 + round);
        let local = dir.path().join(format!("big-{round}.bin"));
        std::fs::write(&local, &bytes).expect("write the local file");
        let (sent_tx, mut sent_rx) = watch::channel(0u64);
        // Small chunks, so the kill lands with most of the file still to come.
        let client = TusClient::new(&fs.url(), token.clone()).expect("client").chunk_size(MIB);
        let upload = tokio::spawn({
            let local = local.clone();
            async move { client.upload_file(&local, |p| { sent_tx.send_replace(p.sent); }).await }
        });
        let at = (size as f64 * fraction) as u64;
        tokio::time::timeout(LIMIT, sent_rx.wait_for(|s| *s >= at)).await.expect("the upload gets under way").expect("progress");
        let sent_before = *sent_rx.borrow();
        fs.kill().expect("SIGKILL the file storage service");
        let killed_at = Instant::now();

        // Dead: nothing of the unfinished upload may look stored.
        let counts = FsDb::open(&fs_dir).expect("the service database").counts().expect("counts");
        assert_eq!(counts.files, round, "no file row for the unfinished upload");
        assert_eq!(counts.outbox, round, "no event for the unfinished upload");
        assert_eq!(counts.blobs, round, "no blob row for the unfinished upload");
        assert_eq!(files_under(&fs_dir.join("blobs")), usize::try_from(round).expect("n"), "no blob file for the unfinished upload");
        assert!(!upload.is_finished(), "the client is still retrying, not failed");

        fs.restart().await.expect("the binary starts again on the same port and data dir");
        let uploaded = tokio::time::timeout(LIMIT, upload).await.expect("the resume completes in time").expect("task").expect("the client's resume completes the upload");
        recoveries.push(killed_at.elapsed());
        resent.push(sent_before);
        assert_eq!(uploaded.size, size as u64);
        assert_eq!(uploaded.sha256, hex::encode(Sha256::digest(&bytes)), "the stored file is the local file");
        let id = uploaded.file_id.to_string();
        let db = FsDb::open(&fs_dir).expect("the service database");
        assert_eq!(db.files_with_id(&id).expect("count"), 1, "one file row");
        assert_eq!(db.events_for(&id).expect("count"), 1, "one event");
        let download = dir.path().join(format!("down-{round}.bin"));
        FilesClient::new(&fs.url(), token.clone()).expect("files client").download(uploaded.file_id, &download).await.expect("download");
        assert!(std::fs::read(&download).expect("read the download") == bytes, "the download is the uploaded file");
        accepted.push(id);
    }

    app.wait_added(rounds, LIMIT).await.expect("one notification per file");
    let db = FsDb::open(&fs_dir).expect("the service database");
    let counts = db.all_confirmed(LIMIT).await.expect("events confirmed");
    let t = tally(&accepted, &inbox_rows_by_file(&app.inbox_path).expect("the inbox file"));
    assert_eq!((t.lost, t.duplicated, t.unexpected), (0, 0, 0), "{t:?}");
    assert_eq!((counts.files, counts.outbox, counts.blobs), (rounds, rounds, rounds));

    let worst = recoveries.iter().max().copied().unwrap_or_default();
    let record = Record {
        scenario: "fs_sigkill".into(),
        mode: Mode::from_env(),
        load: format!("{rounds} upload(s) of {} MiB in 1 MiB tus chunks", size / MIB),
        faults: format!("SIGKILL of the file storage binary mid-upload (at {} MiB), restarted on the same port and data dir",
            resent.iter().map(|b| (b / MIB as u64).to_string()).collect::<Vec<_>>().join(", ")),
        uploads_accepted: t.accepted,
        events_confirmed: counts.confirmed,
        notifications_delivered: t.delivered,
        lost: t.lost,
        duplicated: t.duplicated,
        time_to_recover: Some(worst),
        notes: format!(
            "while dead: no file row, blob or event for the unfinished upload; the client's own resume (HEAD + PATCH) completed each upload; SHA-256 and download identical; recovery = SIGKILL to upload complete: {}",
            seconds(&recoveries)
        ),
    };
    record.write().expect("write the record");
    tracing::info!(?record, "fs_sigkill recorded");

    FsCrashStack::stop(app, fs, ns, &broker).await.expect("notifications stop cleanly");
}
