//! The FileStorageService's data dir is on a small filesystem of the test's own (a tmpfs of a
//! fixed size). Filled up by another writer, an upload must be refused with a clear 507 that
//! says what to do, leave nothing corrupt or half-stored, and not stop earlier downloads or the
//! app's inbox; once space is freed, uploads work again.
use std::{path::Path, time::Duration};

use lockbox_broker::testing::{delete_topology, isolated_config};
use lockbox_client::{files::FilesClient, upload::{TusClient, UploadError}};
use lockbox_reliability::{
    Mode, Record,
    app::{App, inbox_rows_by_file, inbox_rows_of},
    common::{content, init_tracing, new_user, token},
    fsdb::FsDb,
    services::{file_storage_config, notification_config, start_file_storage, start_notifications},
    tally::tally,
    tmpfs::SmallFs,
};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

const LIMIT: Duration = Duration::from_secs(120);
const MIB: u64 = 1 << 20;
const FS_SIZE: u64 = 48 * MIB;
const EARLIER: u64 = 4;
/// Room left after the ballast: less than the big upload needs.
const LEFT: u64 = 3 * MIB;
const BIG: u64 = 8 * MIB;

fn integrity(data_dir: &Path) -> String {
    FsDb::open(data_dir).expect("open the database").integrity().expect("integrity_check")
}

/// Unfinished uploads: id and offset.
fn open_uploads(data_dir: &Path) -> Vec<(String, u64)> {
    let conn = rusqlite::Connection::open_with_flags(data_dir.join("metadata.sqlite3"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the database");
    let mut stmt = conn.prepare("SELECT id, offset FROM uploads WHERE file_id IS NULL").expect("query");
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.unsigned_abs())))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn files_under(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| if e.path().is_dir() { files_under(&e.path()) } else { 1 }).sum())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_disk_is_a_clear_507_with_nothing_corrupt_and_everything_else_working() {
    init_tracing();
    let small = SmallFs::mount(FS_SIZE).expect("a small filesystem of the test's own");
    let fs_dir = small.path().join("data");
    let broker = isolated_config("rel-disk-full");
    let dir = tempfile::tempdir().expect("temp dir");
    let fs = start_file_storage(file_storage_config(&fs_dir, &broker)).await.expect("file storage");
    let ns = start_notifications(notification_config(&dir.path().join("notification"), &broker), None).await.expect("notifications");
    let user = new_user();
    let token = token(&user);
    let app = App::start_connected(&dir.path().join("app"), &user, &token, &ns.url(), LIMIT).await.expect("the app feed connects");
    let tus = TusClient::new(&fs.url(), token.clone()).expect("client").chunk_size(MIB as usize);
    let files = FilesClient::new(&fs.url(), token.clone()).expect("files client");

    // Earlier files, stored while there is room.
    let mut accepted = Vec::new();
    let mut earlier = Vec::new();
    for i in 0..EARLIER {
        let bytes = content(MIB as usize, 10 + i);
        let path = dir.path().join(format!("earlier-{i}.bin"));
        std::fs::write(&path, &bytes).expect("write");
        let up = tus.upload_file(&path, |_| {}).await.expect("an upload while there is room");
        accepted.push(up.file_id.to_string());
        earlier.push((up.file_id, bytes));
    }
    app.wait_added(EARLIER, LIMIT).await.expect("their notifications");

    // Another writer fills the disk.
    let ballast = small.path().join("ballast");
    let free = small.free_bytes().expect("df");
    std::fs::write(&ballast, vec![0u8; usize::try_from(free - LEFT).expect("size")]).expect("the ballast fills the disk");
    let before = FsDb::open(&fs_dir).expect("db").counts().expect("counts");

    let big = content(BIG as usize, 99);
    let big_path = dir.path().join("big.bin");
    std::fs::write(&big_path, &big).expect("write");
    let refused = tus.upload_file(&big_path, |_| {}).await.expect_err("no room for the big upload");
    let (status, code, message) = match &refused {
        UploadError::Refused { status, code, message } => (status.as_u16(), code.clone(), message.clone()),
        other => panic!("expected a refusal, got {other}"),
    };
    assert_eq!(status, 507, "{refused}");
    assert_eq!(code, "storage_full");
    assert!(message.contains("disk is full") && message.contains("retry"), "the message says what happened and what to do: {message}");

    // Nothing corrupt, nothing half-stored.
    assert_eq!(integrity(&fs_dir), "ok", "the metadata database is intact");
    let during = FsDb::open(&fs_dir).expect("db").counts().expect("counts");
    assert_eq!((during.files, during.blobs, during.outbox), (before.files, before.blobs, before.outbox), "no row, blob or event for the refused upload");
    assert_eq!(files_under(&fs_dir.join("blobs")), EARLIER, "no blob file for the refused upload");

    // The last bytes taken too: a small file, which would be kept in the database, is refused
    // the same way and leaves nothing.
    let rest = small.path().join("ballast-rest");
    let free = small.free_bytes().expect("df");
    std::fs::write(&rest, vec![0u8; usize::try_from(free).expect("size")]).expect("the rest fills the disk");
    let note = dir.path().join("note.txt");
    std::fs::write(&note, content(4096, 98)).expect("write");
    let small_refused = tus.upload_file(&note, |_| {}).await.expect_err("no room for a small file either");
    assert!(matches!(&small_refused, UploadError::Refused { status, .. } if status.as_u16() == 507), "{small_refused}");
    let after_small = FsDb::open(&fs_dir).expect("db").counts().expect("counts");
    assert_eq!((after_small.files, after_small.blobs, after_small.outbox, after_small.uploads), (before.files, before.blobs, before.outbox, during.uploads), "nothing of the small file");
    std::fs::remove_file(&rest).expect("free the last bytes");

    // Downloads and the inbox keep working on a full disk.
    for (id, bytes) in &earlier {
        let out = dir.path().join(format!("down-{id}.bin"));
        files.download(*id, &out).await.expect("a download while the disk is full");
        assert!(std::fs::read(&out).expect("read") == *bytes, "the download is intact");
    }
    assert_eq!(files.list_all().await.expect("the listing").len() as u64, EARLIER);
    let rows = inbox_rows_by_file(&app.inbox_path).expect("the inbox file");
    assert_eq!(tally(&accepted, &rows).delivered, EARLIER, "the inbox holds the earlier notifications");
    // What the refused upload left is a consistent, resumable tus upload: its part holds
    // exactly the bytes its row says were received.
    let open_uploads = open_uploads(&fs_dir);
    for (id, offset) in &open_uploads {
        let part = fs_dir.join("uploads").join(format!("{id}.part"));
        let len = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        assert_eq!(len, *offset, "the part of upload {id} matches its recorded offset");
    }
    assert_eq!(files_under(&fs_dir.join("uploads")), open_uploads.len() as u64, "no temp file without its upload row");
    // A user can still delete on a full disk, and that notification reaches the inbox.
    let (gone, _) = &earlier[0];
    files.delete(*gone).await.expect("a delete on a full disk");
    app.wait_added(EARLIER + 1, LIMIT).await.expect("the deletion's notification");
    assert_eq!(inbox_rows_of(&app.inbox_path, "file.deleted", &gone.to_string()).expect("the inbox"), 1);

    // Space freed: uploads work again.
    std::fs::remove_file(&ballast).expect("free the space");
    let freed = Instant::now();
    let up = tus.upload_file(&big_path, |_| {}).await.expect("an upload once there is room again");
    let recovered = freed.elapsed();
    assert_eq!(up.sha256, hex::encode(Sha256::digest(&big)));
    accepted.push(up.file_id.to_string());
    app.wait_added(EARLIER + 2, LIMIT).await.expect("its notification");
    let db = FsDb::open(&fs_dir).expect("db");
    let counts = db.all_confirmed(LIMIT).await.expect("events confirmed");
    let t = tally(&accepted, &inbox_rows_by_file(&app.inbox_path).expect("the inbox file"));
    assert_eq!((t.lost, t.duplicated, t.unexpected), (0, 0, 0), "{t:?}");
    assert_eq!(integrity(&fs_dir), "ok");

    let record = Record {
        scenario: "disk_full".into(),
        mode: Mode::from_env(),
        load: format!("{EARLIER} uploads of 1 MiB, then one of {} MiB with {} MiB free", BIG / MIB, LEFT / MIB),
        faults: format!("data dir on a {} MiB tmpfs filled by another writer; then the space freed", FS_SIZE / MIB),
        uploads_accepted: t.accepted,
        events_confirmed: counts.confirmed,
        notifications_delivered: t.delivered,
        lost: t.lost,
        duplicated: t.duplicated,
        time_to_recover: Some(recovered),
        notes: format!(
            "refused with {status} {code}: \"{message}\"; SQLite integrity_check ok; no row, blob or event for it; its part kept as a resumable tus upload ({} MiB, equal to its recorded offset; reaped at expiry); with the last bytes taken, a 4 KiB file (one request, kept in the database) got 507 too and left nothing; on the full disk earlier downloads, the listing and a delete worked, and the deletion's notification reached the inbox; time to recover = space freed to the retried upload stored",
            open_uploads.iter().map(|(_, o)| o).sum::<u64>() / MIB
        ),
    };
    record.write().expect("write the record");
    tracing::info!(?record, "disk_full recorded");

    drop(app.stop().await);
    fs.stop().await.expect("file storage stops cleanly");
    ns.stop().await.expect("notifications stop cleanly");
    delete_topology(&broker).await;
    drop(small);
}
