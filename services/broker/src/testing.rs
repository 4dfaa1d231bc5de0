//! Test helpers shared by every crate that tests against the real RabbitMQ.

use std::process::Command;

use crate::BrokerConfig;

/// A config whose names are unique to this test, on the broker `LOCKBOX_AMQP_URL` names.
/// The connection name is unique too, so a test can close exactly its own connection.
pub fn isolated_config(test: &str) -> BrokerConfig {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let short = &id[..12];
    BrokerConfig {
        prefix: format!("test.{test}.{short}."),
        connection_name: format!("lockbox-test-{test}-{short}"),
        reconnect_max: std::time::Duration::from_millis(500),
        ..BrokerConfig::from_env()
    }
}

/// `rabbitmqctl` for the broker under test: `LOCKBOX_RABBITMQCTL` (set by the test command when
/// it started a node of its own, bound to that node and its cookie), else the system's.
fn rabbitmqctl() -> Command {
    Command::new(std::env::var("LOCKBOX_RABBITMQCTL").unwrap_or_else(|_| "rabbitmqctl".to_owned()))
}

/// Closes, from the broker side, every connection whose client properties mention `name`
/// (as an operator or a failing node would). Returns how many were closed.
pub fn close_connections_named(name: &str) -> Result<usize, String> {
    let out = rabbitmqctl()
        .args(["list_connections", "-q", "--no-table-headers", "pid", "client_properties"])
        .output()
        .map_err(|e| format!("rabbitmqctl not runnable: {e}"))?;
    if !out.status.success() {
        return Err(format!("rabbitmqctl list_connections: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let listing = String::from_utf8_lossy(&out.stdout);
    let mut closed = 0;
    for line in listing.lines().filter(|l| l.contains(name)) {
        let Some(pid) = line.split_whitespace().next() else { continue };
        let status = rabbitmqctl()
            .args(["close_connection", pid, "closed by test"])
            .status()
            .map_err(|e| format!("rabbitmqctl close_connection: {e}"))?;
        if status.success() {
            closed += 1;
        }
    }
    Ok(closed)
}

/// Deletes the queues and exchanges of an isolated config (best effort, at test end).
pub async fn delete_topology(config: &BrokerConfig) {
    use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
    let names = crate::Names::new(config.prefix.clone());
    let Ok(conn) = lapin::Connection::connect(&config.amqp_url, lapin::ConnectionProperties::default()).await else {
        return;
    };
    if let Ok(ch) = conn.create_channel().await {
        for q in [names.file_events_queue(), names.file_events_dead_queue()] {
            let _ = ch.queue_delete(q.as_str().into(), QueueDeleteOptions::default()).await;
        }
        for x in [names.files_exchange(), names.dead_letter_exchange(), names.notifications_exchange()] {
            let _ = ch.exchange_delete(x.as_str().into(), ExchangeDeleteOptions::default()).await;
        }
    }
    let _ = conn.close(200, "test cleanup".into()).await;
}
