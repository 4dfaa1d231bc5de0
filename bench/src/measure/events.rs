//! Events through the whole path — upload commit → outbox → broker → NotificationService →
//! WebSocket frame — against a bare lapin publisher + consumer on the same broker and the
//! same kind of queue ([`crate::bare`]).

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use lockbox_broker::{BrokerConfig, testing::delete_topology};
use lockbox_client::stream::{NotificationClient, StreamConnection};
use lockbox_events::{FrameBody, Notification};

use super::upload::{Side, order};
use crate::{
    BenchError, Options, bare,
    error::within,
    load,
    report::{Row, Target},
    stats::percentile,
    world::{self, Proxy, Running, WAIT},
};

const CONCURRENCY: usize = 16;
const BODY: usize = 64;

/// Both services on one broker prefix; the FileStorageService reaches the broker through
/// `proxy` when there is one (held down, its events wait in the outbox).
struct Pipeline {
    fs: Running,
    ns: Running,
    config: BrokerConfig,
    user: NotificationClient,
    token: String,
}

impl Pipeline {
    async fn start(name: &str, proxy: Option<&Proxy>) -> Result<Self, BenchError> {
        let config = world::broker(name);
        let mut fs_broker = BrokerConfig { connection_name: format!("{}-fs", config.connection_name), ..config.clone() };
        if let Some(proxy) = proxy {
            fs_broker.amqp_url = world::amqp_via(&config.amqp_url, proxy.addr);
        }
        let ns = world::notification(BrokerConfig { connection_name: format!("{}-ns", config.connection_name), ..config.clone() }).await?;
        let fs = world::file_storage(fs_broker).await?;
        let token = world::token("bench-events")?;
        let user = NotificationClient::new(ns.url(), token.clone());
        Ok(Self { fs, ns, config, user, token })
    }

    async fn connect(&self) -> Result<StreamConnection, BenchError> {
        within(WAIT, "a WebSocket connection", self.user.connect(0)).await?.map_err(|source| BenchError::Stream { source })
    }

    async fn stop(self) -> Result<(), BenchError> {
        self.fs.stop().await?;
        self.ns.stop().await?;
        delete_topology(&self.config).await;
        Ok(())
    }
}

/// The next notification on a connection (heartbeats skipped), and when it arrived.
async fn next_notification(conn: &mut StreamConnection) -> Result<(Instant, Notification), BenchError> {
    loop {
        let frame = within(WAIT, "a notification frame", conn.next_frame())
            .await?
            .map_err(|source| BenchError::Stream { source })?
            .ok_or_else(|| BenchError::Invalid("the NotificationService closed the stream".into()))?;
        match frame.body {
            FrameBody::Notification { notification } => return Ok((Instant::now(), notification)),
            FrameBody::Heartbeat { .. } => {}
            other => return Err(BenchError::Invalid(format!("unexpected frame {other:?}"))),
        }
    }
}

fn uploads(p: &Pipeline, n: usize, seed: u32) -> Result<impl Fn(usize) -> load::Upload + Send + Sync + 'static, BenchError> {
    let client = load::client()?;
    let base: Arc<str> = p.fs.url().into();
    let token: Arc<str> = p.token.clone().into();
    let bodies: Arc<Vec<(Bytes, String)>> = Arc::new(
        (0..n)
            .map(|i| {
                let body = Bytes::from(world::content(BODY, seed.wrapping_mul(7919).wrapping_add(i as u32)));
                let sum = load::tus_checksum(&body);
                (body, sum)
            })
            .collect(),
    );
    Ok(move |i: usize| {
        let (body, sum) = &bodies[i];
        load::tus_create_with(&client, &base, &token, &format!("e-{i}.bin"), body.clone(), sum)
    })
}

/// Events/s from the outbox to the app's socket: `n` uploads committed while the broker is
/// held away, then the broker let through; the rate between the first and the last frame.
pub async fn throughput(options: &Options) -> Result<Vec<Row>, BenchError> {
    let n = if options.quick { 100 } else { 5000 };
    tracing::info!(n, "measure: end-to-end events/s");
    let (mut lockbox, mut baseline) = (Vec::new(), Vec::new());
    for run in 0..options.runs {
        for which in order(run) {
            if which == Side::LockBox {
                let proxy = Proxy::start(world::amqp_addr(&world::broker("probe").amqp_url)?).await?;
                let p = Pipeline::start("e2e", Some(&proxy)).await?;
                let mut conn = p.connect().await?;
                load::many(n, CONCURRENCY, uploads(&p, n, run as u32)?).await?;
                proxy.set_up(true);
                let (first, _) = next_notification(&mut conn).await?;
                let mut last = first;
                for _ in 1..n {
                    last = next_notification(&mut conn).await?.0;
                }
                let _ = conn.close().await;
                p.stop().await?;
                lockbox.push((n - 1) as f64 / last.duration_since(first).as_secs_f64());
            } else {
                let config = world::broker("e2e-bare");
                let rate = bare::throughput(&config, n).await;
                delete_topology(&config).await;
                baseline.push(rate?);
            }
        }
    }
    Ok(vec![Row::versus(
        format!("end-to-end events/s: commit → outbox → broker → NotificationService → WebSocket ({n} backlog)"),
        "events/s",
        &lockbox,
        "bare lapin publisher (confirms) + consumer, quorum queue",
        &baseline,
        Target::RatioAtLeast(0.8),
    )])
}

/// Commit → WebSocket frame latency at 200 uploads/s. The commit instant is when the
/// upload's 201 arrived (the service answers after its commit); p50 and p99 per run.
pub async fn latency(options: &Options) -> Result<Vec<Row>, BenchError> {
    const RATE: f64 = 200.0;
    let n = if options.quick { 40 } else { 2000 };
    tracing::info!(n, rate = RATE, "measure: commit → frame latency");
    let (mut p50, mut p99, mut base50, mut base99) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..options.runs {
        for which in order(run) {
            if which == Side::LockBox {
                let p = Pipeline::start("latency", None).await?;
                let mut conn = p.connect().await?;
                let make = Arc::new(uploads(&p, n + 1, 1000 + run as u32)?);
                // One first, so connections and the relay are warm.
                let warm = make(n);
                load::send(warm.request, &warm.url, warm.ok).await?;
                next_notification(&mut conn).await?;
                let receiving = tokio::spawn(async move {
                    let mut got = HashMap::with_capacity(n);
                    for _ in 0..n {
                        let (at, notification) = next_notification(&mut conn).await?;
                        if let Some(file) = notification.file {
                            got.insert(file.id.to_string(), at);
                        }
                    }
                    let _ = conn.close().await;
                    Ok::<_, BenchError>(got)
                });
                let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / RATE));
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                let mut sending = tokio::task::JoinSet::new();
                for i in 0..n {
                    ticker.tick().await;
                    let upload = make(i);
                    sending.spawn(async move {
                        let response = load::send(upload.request, &upload.url, upload.ok).await?;
                        let at = Instant::now();
                        let id = response.headers().get("lockbox-file-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
                        id.map(|id| (id, at)).ok_or_else(|| BenchError::Invalid("an upload answered without Lockbox-File-Id".into()))
                    });
                }
                let mut committed = HashMap::with_capacity(n);
                while let Some(done) = sending.join_next().await {
                    let (id, at) = done.map_err(|e| BenchError::Invalid(e.to_string()))??;
                    committed.insert(id, at);
                }
                let got = within(WAIT, "every frame", receiving).await?.map_err(|e| BenchError::Invalid(e.to_string()))??;
                p.stop().await?;
                let ms: Vec<f64> = committed
                    .iter()
                    .filter_map(|(id, at)| got.get(id).map(|f| f.saturating_duration_since(*at).as_secs_f64() * 1000.0))
                    .collect();
                if ms.len() != n {
                    return Err(BenchError::Invalid(format!("{} of {n} uploads got their frame", ms.len())));
                }
                p50.push(percentile(&ms, 50.0));
                p99.push(percentile(&ms, 99.0));
            } else {
                let config = world::broker("latency-bare");
                let ms = bare::latency(&config, n, RATE).await;
                delete_topology(&config).await;
                let ms = ms?;
                base50.push(percentile(&ms, 50.0));
                base99.push(percentile(&ms, 99.0));
            }
        }
    }
    let baseline = "bare lapin publish → delivery, same rate";
    Ok(vec![
        Row::versus("commit → WebSocket frame latency p50 at 200 events/s", "ms", &p50, baseline, &base50, Target::RatioAtMost(3.0)),
        Row::versus("commit → WebSocket frame latency p99 at 200 events/s", "ms", &p99, baseline, &base99, Target::AtMost(25.0)),
    ])
}
