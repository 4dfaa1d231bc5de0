//! What every scenario needs: one token secret, users and tokens, test content, tracing.
use std::time::Duration;

use lockbox_auth::TokenKey;

/// The secret both services verify tokens with in the suite.
pub const SECRET: &str = "reliability-suite-secret-0123456789abcdef";

pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,lockbox_reliability=info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
}

pub fn new_user() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A bearer token for `user`, valid for the whole run.
pub fn token(user: &str) -> String {
    TokenKey::new(SECRET)
        .and_then(|key| key.mint(user, Duration::from_secs(6 * 3600)))
        .expect("the suite's secret is long enough to mint tokens")
}

/// Deterministic, incompressible-enough content, different per `seed`.
pub fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 56) as u8
        })
        .collect()
}

/// "10 000" rather than "10000", as the report shows numbers.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// Durations as the report shows them: "0.21 s, 1.05 s".
pub fn seconds(durations: &[Duration]) -> String {
    durations.iter().map(|d| format!("{:.2} s", d.as_secs_f64())).collect::<Vec<_>>().join(", ")
}
