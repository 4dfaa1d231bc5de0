use lockbox_file_storage::{config::Config, run, shutdown_signal};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let config = match Config::load() {
        Ok(Some(config)) => config,
        Ok(None) => return std::process::ExitCode::SUCCESS, // --dump-config printed it
        Err(error) => {
            eprintln!("lockbox-file-storage: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("lockbox-file-storage: cannot listen on {}: {error} (set --listen or LOCKBOX_FS_LISTEN)", config.listen);
            return std::process::ExitCode::from(2);
        }
    };
    match run(listener, config, shutdown_signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "lockbox-file-storage stopped");
            std::process::ExitCode::FAILURE
        }
    }
}
