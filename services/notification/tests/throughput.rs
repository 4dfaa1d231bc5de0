//! Measures, and checks while measuring: events through the whole path (broker → store →
//! WebSocket) and replay from the store. Prints the rates (`--nocapture`); asserts only
//! correctness, since timings depend on the machine and the build profile.

mod common;

use std::time::Instant;

use common::*;
use lockbox_broker::{Broker, ConsumerSpec};

const N: u64 = 2000;

#[tokio::test]
async fn events_flow_end_to_end_and_replay_in_order() {
    let h = Harness::new("throughput").await;
    let service = h.start().await;
    let alice = h.client(&service, "alice");
    let mut live = alice.connect(0).await.unwrap();
    let events: Vec<_> = (1..=N).map(|i| (format!("m-{i}"), stored("alice", &format!("f{i}.txt")))).collect();

    let started = Instant::now();
    let publishing = async {
        h.publish_many(&events).await;
        started.elapsed()
    };
    let receiving = async {
        for seq in 1..=N {
            assert_eq!(notification_of(next_frame(&mut live).await).seq, seq);
        }
        started.elapsed()
    };
    let (published, delivered) = tokio::join!(publishing, receiving);

    let started = Instant::now();
    let mut replay = alice.connect(0).await.unwrap();
    for seq in 1..=N {
        assert_eq!(notification_of(next_frame(&mut replay).await).seq, seq);
    }
    let replayed = started.elapsed();

    // Baseline in the same run: the same publishes into a fresh queue of the same kind,
    // consumed by a bare consumer that only acknowledges (no store, no push).
    let bare = Harness::new("throughput-baseline").await;
    let mut builder = Broker::builder(bare.broker_config.clone());
    let mut deliveries = builder.consume(ConsumerSpec::new(bare.names.file_events_queue()).prefetch(64));
    let consumer = builder.start();
    consumer.connected(WAIT).await.unwrap();
    let started = Instant::now();
    let publishing = bare.publish_many(&events);
    let acking = async {
        for _ in 0..N {
            next_delivery(&mut deliveries).await.ack().await.unwrap();
        }
        started.elapsed()
    };
    let ((), baseline) = tokio::join!(publishing, acking);
    consumer.shutdown().await;
    bare.cleanup().await;

    let rate = |d: std::time::Duration| N as f64 / d.as_secs_f64();
    eprintln!(
        "throughput ({} build): {N} events published (pipelined confirms) in {published:?} ({:.0}/s); \
         consumed, stored and pushed in {delivered:?} ({:.0}/s end to end); baseline publish + bare ack-only \
         consumer {baseline:?} ({:.0}/s); replayed from the store in {replayed:?} ({:.0}/s)",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        rate(published),
        rate(delivered),
        rate(baseline),
        rate(replayed),
    );

    live.close().await.unwrap();
    replay.close().await.unwrap();
    service.stop().await;
    h.cleanup().await;
}
