//! The exchanges and queues of ARCHITECTURE.md, declared idempotently on every (re)connect.

use lapin::{
    Channel, ExchangeKind,
    options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable},
};

use crate::{BrokerConfig, BrokerError, Names};

/// Declares (or confirms) the whole topology:
/// - `lockbox.files`: durable topic exchange, routing key = event type;
/// - `lockbox.dlx`: durable direct exchange for dead letters;
/// - `lockbox.notification.file-events`: durable quorum queue bound `#` to `lockbox.files`,
///   with `x-delivery-limit` and dead-lettering to `lockbox.dlx`;
/// - `lockbox.notification.file-events.dead`: where those dead letters wait for a human;
/// - `lockbox.notifications`: durable topic exchange between NotificationService replicas.
pub async fn declare_topology(channel: &Channel, config: &BrokerConfig) -> Result<(), BrokerError> {
    let names = Names::new(config.prefix.clone());
    let files = names.files_exchange();
    let dlx = names.dead_letter_exchange();
    let queue = names.file_events_queue();
    let dead = names.file_events_dead_queue();

    declare_exchange(channel, &files, ExchangeKind::Topic).await?;
    declare_exchange(channel, &dlx, ExchangeKind::Direct).await?;
    declare_exchange(channel, &names.notifications_exchange(), ExchangeKind::Topic).await?;

    let mut args = quorum();
    args.insert("x-delivery-limit".into(), AMQPValue::LongInt(i32::try_from(config.delivery_limit).unwrap_or(i32::MAX)));
    args.insert("x-dead-letter-exchange".into(), AMQPValue::LongString(dlx.as_str().into()));
    // Dead letters keep their event-type routing key unless told otherwise; route them by the
    // queue they came from instead, so one DLX can serve every queue.
    args.insert("x-dead-letter-routing-key".into(), AMQPValue::LongString(queue.as_str().into()));
    declare_queue(channel, &queue, args).await?;
    bind(channel, &queue, &files, "#").await?;

    declare_queue(channel, &dead, quorum()).await?;
    bind(channel, &dead, &dlx, &queue).await?;
    Ok(())
}

fn quorum() -> FieldTable {
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), AMQPValue::LongString("quorum".into()));
    args
}

async fn declare_exchange(channel: &Channel, name: &str, kind: ExchangeKind) -> Result<(), BrokerError> {
    let options = ExchangeDeclareOptions { durable: true, ..ExchangeDeclareOptions::default() };
    channel
        .exchange_declare(name.into(), kind, options, FieldTable::default())
        .await
        .map_err(|source| BrokerError::Declare { what: format!("exchange {name}"), source })
}

async fn declare_queue(channel: &Channel, name: &str, args: FieldTable) -> Result<(), BrokerError> {
    let options = QueueDeclareOptions { durable: true, ..QueueDeclareOptions::default() };
    channel
        .queue_declare(name.into(), options, args)
        .await
        .map(drop)
        .map_err(|source| BrokerError::Declare { what: format!("queue {name}"), source })
}

async fn bind(channel: &Channel, queue: &str, exchange: &str, key: &str) -> Result<(), BrokerError> {
    channel
        .queue_bind(queue.into(), exchange.into(), key.into(), QueueBindOptions::default(), FieldTable::default())
        .await
        .map_err(|source| BrokerError::Declare { what: format!("binding {exchange} -> {queue} ({key})"), source })
}
