//! `lockbox-bench [--quick] [--runs N] [--only M,…] [--out PATH]`: runs every measure next to its baseline
//! and writes the table (default `docs/BENCHMARKS.md`); `serve-notification` is the child
//! process the connection measure starts.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use lockbox_bench::{BenchError, Options, child};

#[derive(Parser)]
#[command(about = "LockBox benchmarks: each measure next to its baseline, in one run")]
struct Cli {
    /// Small sizes and one run: checks the harness works; targets are not judged.
    #[arg(long)]
    quick: bool,
    /// Runs of each measure (medians and min–max are over these). Default 5, quick 1.
    #[arg(long)]
    runs: Option<usize>,
    /// Run only these measures (comma-separated): big-upload, small-uploads, events, latency,
    /// connections, catch-up, inbox.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Where the Markdown table goes.
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    out: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// (Internal) the NotificationService alone in this process, for the connection measure.
    #[command(hide = true)]
    ServeNotification {
        #[arg(long)]
        prefix: String,
        #[arg(long)]
        data_dir: PathBuf,
    },
}

fn main() -> ExitCode {
    // The events measure holds the broker away on purpose, and every measure closes broker
    // connections at its end: the services' and lapin's complaints about that are expected
    // (RUST_LOG shows them). Failures surface as this program's error anyway.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "warn,lapin=off,lockbox_broker::supervisor=error,lockbox_file_storage::outbox=error,lockbox_bench=info",
        )
    });
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Some(Command::ServeNotification { prefix, data_dir }) => child::serve(prefix, data_dir).await,
            None => bench(cli.quick, cli.runs, cli.only, &cli.out).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn bench(quick: bool, runs: Option<usize>, only: Vec<String>, out: &std::path::Path) -> Result<(), BenchError> {
    let exe = std::env::current_exe().map_err(BenchError::io("this program's path"))?;
    let options = Options { quick, runs: runs.unwrap_or(if quick { 1 } else { 5 }).max(1), exe, only };
    let report = lockbox_bench::run(&options).await?;
    let markdown = report.markdown();
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(BenchError::io(dir.display().to_string()))?;
    }
    std::fs::write(out, &markdown).map_err(BenchError::io(out.display().to_string()))?;
    println!("{markdown}");
    eprintln!("wrote {}", out.display());
    Ok(())
}
