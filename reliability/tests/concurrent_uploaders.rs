//! 200 concurrent tus uploaders against the FileStorageService binary for a fixed time: no
//! upload may fail, the service's resident memory must stay bounded (sampled from
//! `/proc/<pid>/status` all along), and every accepted upload is notified once in the app.
use std::{sync::Arc, time::Duration};

use lockbox_broker::testing::{delete_topology, isolated_config};
use lockbox_reliability::{
    Mode, Record,
    app::{App, inbox_rows_by_file},
    common::{grouped, init_tracing, new_user, token},
    fsdb::FsDb,
    load::{Load, LoadSpec},
    procs::{Kind, ProcessConfig, ServiceProcess},
    scale,
    services::{notification_config, start_notifications},
    tally::tally,
};
use tokio::sync::Mutex;

const LIMIT: Duration = Duration::from_secs(600);
const UPLOADERS: usize = 200;
const SIZE: usize = 16 * 1024;
/// The ceiling on the service's resident memory under this load (a debug build).
const RSS_CEILING_MIB: u64 = 256;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_uploaders_see_no_errors_and_bounded_memory() {
    init_tracing();
    let duration = Duration::from_secs(scale(10, 60));
    let broker = isolated_config("rel-concurrent");
    let dir = tempfile::tempdir().expect("temp dir");
    let fs_dir = dir.path().join("file-storage");
    let fs = ServiceProcess::start(Kind::FileStorage, ProcessConfig { data_dir: &fs_dir, broker: &broker, extra: toml::Table::new() })
        .await
        .expect("the file storage binary");
    let ns = start_notifications(notification_config(&dir.path().join("notification"), &broker), None).await.expect("notifications");
    let user = new_user();
    let token = token(&user);
    let app = App::start_connected(&dir.path().join("app"), &user, &token, &ns.url(), LIMIT).await.expect("the app feed connects");
    let idle_rss = fs.rss_kib().expect("the service's memory");

    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).expect("files dir");
    let load = Load::start(LoadSpec { url: fs.url(), token: token.clone(), total: None, duration: Some(duration), concurrency: UPLOADERS, size: SIZE, dir: files, retry_for: None });
    // Memory, sampled while the load runs.
    let samples = Arc::new(Mutex::new(Vec::new()));
    let sampler = tokio::spawn({
        let samples = samples.clone();
        let pid = fs.pid().expect("pid");
        async move {
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            loop {
                tick.tick().await;
                let Ok(status) = tokio::fs::read_to_string(format!("/proc/{pid}/status")).await else { return };
                if let Some(kib) = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()) {
                    samples.lock().await.push(kib);
                }
            }
        }
    });
    let result = load.finish(LIMIT).await.expect("the uploaders finish");
    sampler.abort();
    let samples = samples.lock().await.clone();
    assert!(result.errors.is_empty(), "{} of {} uploads failed, e.g. {:?}", result.errors.len(), result.errors.len() + result.accepted.len(), &result.errors[..result.errors.len().min(5)]);
    assert!(samples.len() >= 10, "memory was sampled during the load");
    let peak = samples.iter().max().copied().unwrap_or_default();
    // Bounded: under the ceiling, and not still climbing at the end of the run.
    let third = samples.len() / 3;
    let early_peak = samples[..samples.len() - third].iter().max().copied().unwrap_or_default();
    let late_peak = samples[samples.len() - third..].iter().max().copied().unwrap_or_default();
    assert!(peak / 1024 < RSS_CEILING_MIB, "the service's memory peaked at {} MiB", peak / 1024);
    assert!(late_peak <= early_peak + early_peak / 4 + 16 * 1024, "memory still climbing at the end: {} → {} MiB", early_peak / 1024, late_peak / 1024);

    let _ = app.wait_added(result.accepted.len() as u64, LIMIT).await;
    let db = FsDb::open(&fs_dir).expect("db");
    let counts = db.all_confirmed(LIMIT).await.expect("events confirmed");
    let t = tally(&result.accepted, &inbox_rows_by_file(&app.inbox_path).expect("the inbox file"));
    assert_eq!((t.lost, t.duplicated, t.unexpected), (0, 0, 0), "{t:?}");
    assert_eq!(counts.files, t.accepted, "one file row per accepted upload");

    let rate = t.accepted as f64 / result.elapsed.as_secs_f64();
    let record = Record {
        scenario: "concurrent_uploaders".into(),
        mode: Mode::from_env(),
        load: format!("{UPLOADERS} concurrent tus uploaders of 16 KiB files for {} s, one user", duration.as_secs()),
        faults: "none (load only)".into(),
        uploads_accepted: t.accepted,
        events_confirmed: counts.confirmed,
        notifications_delivered: t.delivered,
        lost: t.lost,
        duplicated: t.duplicated,
        time_to_recover: None,
        notes: format!(
            "0 errors; {rate:.0} uploads/s; slowest upload {:.2} s; service RSS idle {} MiB, peak {} MiB (first two thirds {} MiB, last third {} MiB; {} samples, ceiling {RSS_CEILING_MIB} MiB); {} notifications in the inbox",
            result.slowest.as_secs_f64(),
            idle_rss / 1024,
            peak / 1024,
            early_peak / 1024,
            late_peak / 1024,
            samples.len(),
            grouped(t.delivered)
        ),
    };
    record.write().expect("write the record");
    tracing::info!(?record, "concurrent_uploaders recorded");

    drop(app.stop().await);
    drop(fs);
    ns.stop().await.expect("notifications stop cleanly");
    delete_topology(&broker).await;
}
