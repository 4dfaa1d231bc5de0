//! `lockbox token`: mint a bearer token from the shared secret.

use std::{process::ExitCode, time::Duration};

use lockbox_auth::TokenKey;

pub fn run(user: &str, secret: &str, ttl_hours: u64) -> ExitCode {
    match TokenKey::new(secret).and_then(|key| key.mint(user, Duration::from_secs(ttl_hours * 3600))) {
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
