//! LockBox benchmarks: each measure runs next to its baseline in the same run, and the table
//! goes to `docs/BENCHMARKS.md` (`lockbox-bench [--quick] [--runs N] [--only M,…] [--out PATH]`).
//!
//! Modules:
//! - [`error`]: [`BenchError`], what went wrong and what to check.
//! - [`stats`]: medians, spread and percentiles of repeated samples.
//! - [`report`]: the table rows, targets and their verdicts, machine facts, Markdown.
//! - [`world`]: the real parts: services in-process on `127.0.0.1:0`, temp dirs, tokens,
//!   isolated broker names, a TCP proxy that holds the broker away, process RSS.
//! - [`nginx`]: nginx with `dav_methods PUT` in a temp prefix, the upload baseline.
//! - [`load`]: the one HTTP load generator used for LockBox and nginx alike.
//! - [`bare`]: the bare lapin publisher (pipelined confirms) and consumer baselines.
//! - [`cpu`]: the CPU time a phase cost the whole machine and this process, per operation.
//! - [`child`]: the NotificationService in a child process (`serve-notification`), so its
//!   RSS is its own when it holds thousands of sockets.
//! - [`measure`]: one module per measure of issue 7, each returning its rows.
//!
//! [`run`] runs every measure `runs` times and returns the [`report::Report`].

pub mod bare;
pub mod child;
pub mod cpu;
pub mod error;
pub mod load;
pub mod measure;
pub mod nginx;
pub mod report;
pub mod stats;
pub mod world;

use std::path::PathBuf;

pub use error::BenchError;
use report::{Report, Row};

/// Sizes and repetitions of one bench run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Small sizes, for the test that keeps the harness from rotting; targets not judged.
    pub quick: bool,
    /// Repetitions of each measure (medians and spread are over these).
    pub runs: usize,
    /// This program, re-run as `serve-notification` for the connection measure.
    pub exe: PathBuf,
    /// Run only these measures ([`MEASURES`]); empty: all of them.
    pub only: Vec<String>,
}

/// The measures by name, in the order they run (for `--only`).
pub const MEASURES: &[&str] = &["big-upload", "small-uploads", "events", "latency", "connections", "catch-up", "inbox"];

impl Options {
    fn wants(&self, measure: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|m| m == measure)
    }
}

/// Runs every measure and returns the table.
pub async fn run(options: &Options) -> Result<Report, BenchError> {
    if let Some(unknown) = options.only.iter().find(|m| !MEASURES.contains(&m.as_str())) {
        return Err(BenchError::Invalid(format!("no measure called {unknown:?}; the measures are {}", MEASURES.join(", "))));
    }
    let mut rows: Vec<Row> = Vec::new();
    tracing::info!(quick = options.quick, runs = options.runs, "benchmarks starting");
    if options.wants("big-upload") {
        rows.extend(measure::upload::big(options).await?);
    }
    if options.wants("small-uploads") {
        rows.extend(measure::upload::small(options).await?);
    }
    if options.wants("events") {
        rows.extend(measure::events::throughput(options).await?);
    }
    if options.wants("latency") {
        rows.extend(measure::events::latency(options).await?);
    }
    if options.wants("connections") {
        rows.extend(measure::connections::idle(options).await?);
    }
    if options.wants("catch-up") {
        rows.extend(measure::app::catch_up(options).await?);
    }
    if options.wants("inbox") {
        rows.extend(measure::app::inbox(options)?);
    }
    Ok(Report { rows, quick: options.quick, runs: options.runs, only: options.only.clone(), machine: report::Machine::collect().await })
}
