//! `lockbox`: the LockBox command line. `lockbox token` mints a bearer token, `lockbox upload`
//! sends files over tus with a progress bar (resuming after drops), `lockbox ls` lists them.
//! Each subcommand lives in its own module; this file only parses arguments.

mod ls;
mod token;
mod upload;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "lockbox", version, about = "LockBox from the command line")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the FileStorageService is and who we are.
#[derive(Debug, Args)]
struct Service {
    /// The FileStorageService URL.
    #[arg(long, env = "LOCKBOX_FS_URL", default_value = "http://127.0.0.1:8710")]
    url: String,
    /// A bearer token (mint one with `lockbox token --user <id>`).
    #[arg(long, env = "LOCKBOX_TOKEN", hide_env_values = true)]
    token: String,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Mint a bearer token for a user from the shared secret and print it.
    Token {
        /// The user id (the token's `sub`).
        #[arg(long)]
        user: String,
        /// The secret both services verify with.
        #[arg(long, env = "LOCKBOX_TOKEN_SECRET", hide_env_values = true)]
        secret: String,
        /// How long the token is valid, in hours.
        #[arg(long, default_value_t = 24 * 30)]
        ttl_hours: u64,
    },
    /// Upload files (tus, resumable); prints `<file id>  <sha256>  <name>` per file.
    Upload {
        #[command(flatten)]
        service: Service,
        /// Bytes per PATCH request.
        #[arg(long, default_value_t = 4 << 20)]
        chunk_size: usize,
        /// No progress bars (for scripts).
        #[arg(long, short)]
        quiet: bool,
        /// Continue an earlier upload of the (single) file at this upload URL, e.g. after a
        /// failure that printed it.
        #[arg(long, value_name = "UPLOAD_URL")]
        resume: Option<String>,
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// List your files, newest first.
    Ls {
        #[command(flatten)]
        service: Service,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Token { user, secret, ttl_hours } => token::run(&user, &secret, ttl_hours),
        Command::Upload { service, chunk_size, quiet, resume, files } => {
            let options = upload::Options { chunk_size, quiet, resume };
            runtime().block_on(upload::run(&service.url, &service.token, options, &files))
        }
        Command::Ls { service } => runtime().block_on(ls::run(&service.url, &service.token)),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("lockbox: cannot start the async runtime: {error}");
            std::process::exit(1);
        }
    }
}
