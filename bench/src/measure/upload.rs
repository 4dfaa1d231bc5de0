//! Uploads against nginx PUT, both driven by [`crate::load`] with the same bodies:
//! one big upload over loopback (tus: create, then one PATCH with `Upload-Checksum`; the
//! service hashes with SHA-256 and fsyncs before answering) and 4 KiB uploads from 16
//! concurrent clients (tus creation-with-upload, one request each, like one PUT).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use lockbox_broker::testing::delete_topology;

use crate::{
    BenchError, Options, bare, cpu,
    load::{self, Upload},
    nginx::Nginx,
    report::{Row, Target},
    world,
};

const MIB: f64 = 1024.0 * 1024.0;

/// 1 GiB (quick: 16 MiB) in one upload: MiB/s for LockBox and nginx, and how much the
/// process's RSS grew while LockBox took it (client and service share the process, so this
/// is an upper bound for the service).
pub async fn big(options: &Options) -> Result<Vec<Row>, BenchError> {
    let size: usize = if options.quick { 16 << 20 } else { 1 << 30 };
    let label = if options.quick { "16 MiB" } else { "1 GiB" };
    tracing::info!(size, "measure: one big upload");
    let body = Bytes::from(world::content(size, 7));
    let checksum = load::tus_checksum(&body);
    let client = load::client()?;
    let token = world::token("bench-big")?;
    let (mut lockbox, mut nginx, mut rss) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..options.runs {
        for which in order(run) {
            if which == Side::LockBox {
                let broker = world::broker("big");
                let service = world::file_storage(broker.clone()).await?;
                let measured = lockbox_big(&client, &service.url(), &token, body.clone(), &checksum).await;
                service.stop().await?;
                delete_topology(&broker).await;
                let (secs, grew) = measured?;
                lockbox.push(size as f64 / MIB / secs);
                rss.push(grew as f64 / 1024.0);
            } else {
                let server = Nginx::start().await?;
                let url = server.url("/big.bin");
                let started = Instant::now();
                let upload = load::put(&client, url.clone(), body.clone());
                load::send(upload.request, &url, upload.ok).await?;
                let secs = started.elapsed().as_secs_f64();
                check_size(&server.file("/big.bin"), size)?;
                server.stop().await?;
                nginx.push(size as f64 / MIB / secs);
            }
        }
    }
    Ok(vec![
        Row::versus(
            format!("one {label} upload over loopback (tus, SHA-256, fsync)"),
            "MiB/s",
            &lockbox,
            "nginx `dav_methods PUT`, same body",
            &nginx,
            Target::RatioAtLeast(0.9),
        ),
        Row::new(format!("RSS growth during the {label} upload (bench process: client + service)"), "MiB", &rss, Target::AtMost(64.0)),
    ])
}

/// Seconds for create + PATCH, and the peak RSS growth (KiB) seen while it ran.
async fn lockbox_big(client: &reqwest::Client, base: &str, token: &str, body: Bytes, checksum: &str) -> Result<(f64, u64), BenchError> {
    let pid = std::process::id();
    let before = world::rss_kib(pid)?;
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    // Sampled, not awaited on: RSS has no event to wait for.
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                if let Ok(now) = world::rss_kib(pid) {
                    peak.fetch_max(now, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let started = Instant::now();
    let create = format!("{base}/v1/uploads");
    let response = load::send(
        client
            .post(&create)
            .bearer_auth(token)
            .header("tus-resumable", "1.0.0")
            .header("upload-length", body.len())
            .header("upload-metadata", "filename YmlnLmJpbg=="),
        &create,
        &[201],
    )
    .await?;
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| BenchError::Invalid("the tus POST answered without Location".into()))?;
    let url = format!("{base}{location}");
    let patch = client
        .patch(&url)
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", 0)
        .header("upload-checksum", checksum)
        .body(body);
    let response = load::send(patch, &url, &[204]).await?;
    let secs = started.elapsed().as_secs_f64();
    if response.headers().get("lockbox-file-id").is_none() {
        return Err(BenchError::Invalid("the PATCH did not complete the upload (no Lockbox-File-Id)".into()));
    }
    done.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    Ok((secs, peak.load(Ordering::Relaxed).saturating_sub(before)))
}

fn check_size(path: &std::path::Path, size: usize) -> Result<(), BenchError> {
    let len = std::fs::metadata(path).map_err(BenchError::io(path.display().to_string()))?.len();
    if len != size as u64 {
        return Err(BenchError::Invalid(format!("nginx stored {len} bytes of {size} at {}", path.display())));
    }
    Ok(())
}

/// 4 KiB uploads per second, 16 concurrent clients, distinct content each (the blob store
/// is content-addressed: equal bodies would be stored once). Context rows: the disk work of
/// one durable file per upload; the events/s the broker takes from a bare publisher (each
/// upload publishes one event; nginx publishes none); the machine time per upload of each
/// side; and the part of it no LockBox can shed (the broker's per event, the load
/// generator's per request) against what 0.5× of nginx's rate leaves per upload.
pub async fn small(options: &Options) -> Result<Vec<Row>, BenchError> {
    const CONCURRENCY: usize = 16;
    // Quick: enough for the CPU clocks (10 ms ticks) to see every phase.
    let total = if options.quick { 1000 } else { 3000 };
    tracing::info!(total, "measure: 4 KiB uploads, 16 concurrent");
    let client = load::client()?;
    let token: Arc<str> = world::token("bench-small")?.into();
    let (mut lockbox, mut nginx, mut floor, mut broker_alone) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // Machine time per upload (µs): LockBox's, nginx's, and the two parts LockBox cannot shed.
    let (mut lockbox_cpu, mut nginx_cpu, mut unshed, mut budget) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    // Every phase's files are removed at the end of the measure, not after the phase: ext4
    // without a journal avoids reusing inodes deleted in the last minutes, a scan that makes
    // creating files (nginx, the floor) much slower right after a removal.
    let mut kept = Vec::new();
    for run in 0..options.runs {
        // Fresh bodies each run (so no run is served by a blob an earlier one stored).
        let bodies: Arc<Vec<(Bytes, String)>> = Arc::new(
            (0..total + CONCURRENCY)
                .map(|i| {
                    let body = Bytes::from(world::content(4096, (run * 1_000_003 + i) as u32 + 1));
                    let sum = load::tus_checksum(&body);
                    (body, sum)
                })
                .collect(),
        );
        let (mut generator_us, mut nginx_rate) = (f64::NAN, f64::NAN);
        for which in order(run) {
            if which == Side::LockBox {
                let broker = world::broker("small");
                let service = world::file_storage(broker.clone()).await?;
                let base: Arc<str> = service.url().into();
                let make = |offset: usize| {
                    let (client, base, token, bodies) = (client.clone(), base.clone(), token.clone(), bodies.clone());
                    move |i: usize| -> Upload {
                        let (body, sum) = &bodies[offset + i];
                        load::tus_create_with(&client, &base, &token, &format!("s-{i}.bin"), body.clone(), sum)
                    }
                };
                load::many(CONCURRENCY, CONCURRENCY, make(total)).await?; // warm the connections
                let clock = cpu::Clock::start()?;
                let measured = load::many(total, CONCURRENCY, make(0)).await;
                let spent = clock.stop()?;
                // The process holds the load generator and the service; the rest is mostly RabbitMQ.
                tracing::info!(machine_us = spent.machine_us(total), process_us = spent.process_us(total), "LockBox: CPU per 4 KiB upload");
                lockbox_cpu.push(spent.machine_us(total));
                kept.push(service.stop().await?);
                // The service declared its topology on connecting; its events are not needed.
                delete_topology(&broker).await;
                lockbox.push(total as f64 / measured?.0.as_secs_f64());
            } else {
                let server = Nginx::start().await?;
                let make = |offset: usize, dir: &'static str| {
                    let (client, server_url, bodies) = (client.clone(), server.url(""), bodies.clone());
                    move |i: usize| -> Upload { load::put(&client, format!("{server_url}/{dir}/{i}.bin"), bodies[offset + i].0.clone()) }
                };
                load::many(CONCURRENCY, CONCURRENCY, make(total, "warm")).await?;
                let clock = cpu::Clock::start()?;
                let (took, _) = load::many(total, CONCURRENCY, make(0, "s")).await?;
                let spent = clock.stop()?;
                // nginx is its own process: this one's CPU is the load generator's alone.
                (generator_us, nginx_rate) = (spent.process_us(total), total as f64 / took.as_secs_f64());
                tracing::info!(machine_us = spent.machine_us(total), generator_us, "nginx: CPU per 4 KiB upload");
                nginx_cpu.push(spent.machine_us(total));
                check_size(&server.file(&format!("/s/{}.bin", total - 1)), 4096)?;
                kept.push(server.stop().await?);
                nginx.push(nginx_rate);
            }
        }
        let bodies = bodies.clone();
        let (writes, dir) = tokio::task::spawn_blocking(move || durable_writes(&bodies[..total], CONCURRENCY))
            .await
            .map_err(|e| BenchError::Invalid(format!("the file-per-upload floor panicked: {e}")))??;
        floor.push(writes);
        kept.push(dir);
        let broker = world::broker("small-bare");
        let window = lockbox_file_storage::config::Config::new(std::path::PathBuf::new()).outbox_batch as usize;
        let clock = cpu::Clock::start()?;
        broker_alone.push(bare::publish_rate(&broker, total, window).await?);
        let broker_us = clock.stop()?.machine_us(total);
        tracing::info!(broker_us, "bare publisher: machine CPU per event");
        unshed.push(broker_us + generator_us);
        delete_topology(&broker).await;
        // Half nginx's rate on all cores leaves each upload the cores' time of two nginx uploads.
        budget.push(2.0 * cores * 1e6 / nginx_rate);
    }
    drop(kept);
    Ok(vec![
        Row::versus(
            format!("4 KiB uploads/s, {CONCURRENCY} concurrent clients ({total} per run)"),
            "uploads/s",
            &lockbox,
            "nginx PUT, same concurrency",
            &nginx,
            Target::RatioAtLeast(0.5),
        ),
        Row::versus(
            format!("the same 4 KiB uploads/s against the floor of one durable file per upload ({total} per run)"),
            "uploads/s",
            &lockbox,
            format!(
                "{CONCURRENCY} threads doing only the disk work of storing each upload as its own file before \
                 answering (write, fdatasync, rename, directory fsync), with no HTTP, hash or database; \
                 LockBox keeps files this small in its database instead"
            ),
            &floor,
            Target::Context,
        ),
        Row::versus(
            format!("the same 4 KiB uploads/s against what the broker alone takes: one event per upload ({total} per run)"),
            "uploads/s",
            &lockbox,
            "events/s from a bare lapin publisher (persistent, pipelined confirms like the relay, the same quorum \
             queue, nobody consuming) with nothing else running; each LockBox upload publishes one such event \
             on the same 2 cores while they also serve the HTTP, hash and commit",
            &broker_alone,
            Target::Context,
        ),
        Row::versus(
            format!(
                "machine time per 4 KiB upload: CPU time of every thread on the machine ÷ uploads, the load \
                 generator and every server process (RabbitMQ too) included ({total} per run)"
            ),
            "µs",
            &lockbox_cpu,
            "nginx PUT, same concurrency",
            &nginx_cpu,
            Target::Context,
        ),
        Row::versus(
            format!(
                "what no LockBox can shed, per upload: the broker's machine time per event (the bare publisher above) \
                 plus the load generator's own CPU per request (measured beside nginx) ({total} per run)"
            ),
            "µs",
            &unshed,
            format!(
                "the machine time 0.5× allows per upload: all {cores} cores for the time of two nginx uploads; \
                 a ratio above 1 puts 0.5× out of reach in that run, whatever the service does"
            ),
            &budget,
            Target::Context,
        ),
    ])
}

/// What durability alone costs when every upload is a file, measured in the same run:
/// `concurrency` threads each take the next body, write it to a temp file, fdatasync it,
/// rename it into place and fsync the directory — the disk work of one upload stored as a
/// file and answered only once it is on disk, with nothing else. Writes per second. It shows
/// why small files are kept in the database: no file-per-upload design can beat this row.
/// Returns the directory with the files, removed on drop.
fn durable_writes(bodies: &[(Bytes, String)], concurrency: usize) -> Result<(f64, tempfile::TempDir), BenchError> {
    use std::io::Write;
    let dir = tempfile::Builder::new().prefix("lockbox-bench-floor-").tempdir().map_err(BenchError::io("a temp dir"))?;
    let (temp, done) = (dir.path().join("tmp"), dir.path().join("blobs"));
    for d in [&temp, &done] {
        std::fs::create_dir(d).map_err(BenchError::io(d.display().to_string()))?;
    }
    let next = AtomicU64::new(0);
    let write_one = |i: usize| -> std::io::Result<()> {
        let (from, to) = (temp.join(i.to_string()), done.join(i.to_string()));
        let mut file = std::fs::File::create(&from)?;
        file.write_all(&bodies[i].0)?;
        file.sync_data()?;
        std::fs::rename(&from, &to)?;
        std::fs::File::open(&done)?.sync_all()
    };
    let started = Instant::now();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                scope.spawn(|| -> std::io::Result<()> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                        if i >= bodies.len() {
                            return Ok(());
                        }
                        write_one(i)?;
                    }
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| w.join().unwrap_or_else(|_| Err(std::io::Error::other("a writer thread panicked"))))
    })
    .map_err(BenchError::io(done.display().to_string()))?;
    let rate = bodies.len() as f64 / started.elapsed().as_secs_f64();
    Ok((rate, dir))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    LockBox,
    Baseline,
}

/// Alternates which side goes first, so drift (page cache, thermal, neighbours) hits both.
pub(crate) fn order(run: usize) -> [Side; 2] {
    if run.is_multiple_of(2) { [Side::LockBox, Side::Baseline] } else { [Side::Baseline, Side::LockBox] }
}
