//! `lockbox`: the LockBox command line.

use std::{process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};
use lockbox_auth::TokenKey;

#[derive(Debug, Parser)]
#[command(name = "lockbox", version, about = "LockBox from the command line")]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Token { user, secret, ttl_hours } => {
            match TokenKey::new(secret).and_then(|key| key.mint(&user, Duration::from_secs(ttl_hours * 3600))) {
                Ok(token) => {
                    println!("{token}");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("lockbox token: {error}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
