//! Idle WebSocket connections held by one NotificationService (in a child process, so its
//! RSS is its own): how many, the RSS each adds, and how long one broadcast takes to reach
//! all of them.

use std::time::Instant;

use futures_util::{StreamExt, TryStreamExt, stream};
use lockbox_broker::{Broker, BrokerConfig, Names, Outgoing, testing::delete_topology};
use lockbox_client::stream::{NotificationClient, StreamConnection};
use lockbox_events::{FILE_STORAGE_SOURCE, FileData, FileMessageData, FrameBody, timestamp};

use crate::{
    BenchError, Options,
    child::ChildService,
    error::within,
    report::{Row, Target},
    world::{self, WAIT},
};

/// Handshakes in flight at once while connecting.
const CONNECTING: usize = 64;

pub async fn idle(options: &Options) -> Result<Vec<Row>, BenchError> {
    let n = if options.quick { 100 } else { 10_000 };
    let limit = world::raise_nofile();
    if limit < (n as u64 + 1024) {
        return Err(BenchError::Invalid(format!(
            "{n} client sockets need a higher open-file limit than {limit}: raise `ulimit -n` (./scripts/bench.sh does)"
        )));
    }
    tracing::info!(n, "measure: idle WebSocket connections");
    let (mut held, mut per_conn, mut reach) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..options.runs {
        let config = world::broker("idle");
        let run = one(options, &config, n).await;
        delete_topology(&config).await;
        let (h, kib, ms) = run?;
        held.push(h as f64);
        per_conn.push(kib);
        reach.push(ms);
    }
    Ok(vec![
        Row::new("idle WebSocket connections held by one NotificationService, all reached by one broadcast", "connections", &held, Target::AtLeast(10_000.0)),
        Row::new(format!("service RSS per idle connection ({n} connections)"), "KiB", &per_conn, Target::AtMost(16.0)),
        Row::new(format!("one broadcast reaches all {n} connections"), "ms", &reach, Target::AtMost(1000.0)),
    ])
}

async fn one(options: &Options, config: &BrokerConfig, n: usize) -> Result<(usize, f64, f64), BenchError> {
    let service = ChildService::start(&options.exe, &config.prefix).await?;
    let client = NotificationClient::new(format!("http://{}", service.addr), world::token("bench-idle")?);
    let connect = || async {
        within(WAIT, "a WebSocket handshake", client.connect(0)).await?.map_err(|source| BenchError::Stream { source })
    };
    // One connection first, so one-time allocations are not counted per connection.
    let first = connect().await?;
    let before = world::rss_kib(service.pid)?;
    let mut conns: Vec<StreamConnection> =
        stream::iter(0..n - 1).map(|_| connect()).buffer_unordered(CONNECTING).try_collect().await?;
    conns.push(first);

    let publisher = Broker::builder(BrokerConfig { connection_name: format!("{}-pub", config.connection_name), ..config.clone() }).start();
    publisher.connected(WAIT).await.map_err(|source| BenchError::Broker { source })?;
    let readers: Vec<_> = conns
        .into_iter()
        .map(|mut conn| {
            tokio::spawn(async move {
                loop {
                    let frame = within(WAIT, "the broadcast frame", conn.next_frame())
                        .await?
                        .map_err(|source| BenchError::Stream { source })?
                        .ok_or_else(|| BenchError::Invalid("the service closed an idle connection".into()))?;
                    if let FrameBody::Notification { .. } = frame.body {
                        return Ok::<_, BenchError>((Instant::now(), conn));
                    }
                }
            })
        })
        .collect();
    let event = FileMessageData::file_stored(FILE_STORAGE_SOURCE, "bench-idle", FileData::new(uuid::Uuid::new_v4(), "broadcast.txt", timestamp::now()));
    let started = Instant::now();
    publisher
        .publisher()
        .publish(&Outgoing::event(&Names::new(config.prefix.clone()), "broadcast-1", &event))
        .await
        .map_err(|source| BenchError::Publish { source })?;
    let mut last = started;
    let mut reached = 0;
    let mut conns = Vec::with_capacity(n);
    for reader in readers {
        let (at, conn) = reader.await.map_err(|e| BenchError::Invalid(e.to_string()))??;
        last = last.max(at);
        reached += 1;
        conns.push(conn);
    }
    let after = world::rss_kib(service.pid)?;
    publisher.shutdown().await;
    drop(conns);
    service.stop().await?;
    let per = after.saturating_sub(before) as f64 / (n - 1) as f64;
    Ok((reached, per, last.duration_since(started).as_secs_f64() * 1000.0))
}
