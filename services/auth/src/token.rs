//! Minting and verifying tokens.

use std::{
    fmt,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The claims LockBox puts in a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id. The services take the user from here, never from a request body.
    pub sub: String,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Expires at, seconds since the epoch.
    pub exp: u64,
}

/// Why a token was refused. The message says what to do.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AuthError {
    #[error("no bearer token: send `Authorization: Bearer <token>` (mint one with `lockbox token --user <id>`)")]
    Missing,
    #[error("the Authorization header is not `Bearer <token>`")]
    NotBearer,
    #[error("the token is malformed; mint a new one with `lockbox token --user <id>`")]
    Malformed,
    #[error("the token's signature is not valid for this server; it was minted with another secret")]
    BadSignature,
    #[error("the token has expired; mint a new one with `lockbox token --user <id>`")]
    Expired,
    #[error("the token names no user (empty sub)")]
    NoUser,
    #[error("the token secret is too short: use at least {min} bytes (set LOCKBOX_TOKEN_SECRET)")]
    WeakSecret { min: usize },
    #[error("could not sign the token: {0}")]
    Sign(String),
}

impl AuthError {
    /// A stable machine-readable code for JSON error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing => "token_missing",
            AuthError::NotBearer => "token_not_bearer",
            AuthError::Malformed => "token_malformed",
            AuthError::BadSignature => "token_bad_signature",
            AuthError::Expired => "token_expired",
            AuthError::NoUser => "token_no_user",
            AuthError::WeakSecret { .. } => "secret_weak",
            AuthError::Sign(_) => "token_sign_failed",
        }
    }
}

/// The shared HS256 secret, ready to mint and verify.
#[derive(Clone)]
pub struct TokenKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(<secret>)")
    }
}

impl TokenKey {
    /// The shortest secret we accept: HS256 wants at least 256 bits.
    pub const MIN_SECRET_LEN: usize = 32;

    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, AuthError> {
        let secret = secret.as_ref();
        if secret.len() < Self::MIN_SECRET_LEN {
            return Err(AuthError::WeakSecret { min: Self::MIN_SECRET_LEN });
        }
        let bad = |e: jsonwebtoken::errors::Error| AuthError::Sign(e.to_string());
        Ok(Self {
            encoding: EncodingKey::from_secret(secret).map_err(bad)?,
            decoding: DecodingKey::from_secret(secret).map_err(bad)?,
        })
    }

    /// A token for `user_id`, valid for `ttl` from now.
    pub fn mint(&self, user_id: &str, ttl: Duration) -> Result<String, AuthError> {
        if user_id.trim().is_empty() {
            return Err(AuthError::NoUser);
        }
        let now = now_secs();
        let claims = Claims { sub: user_id.to_owned(), iat: now, exp: now.saturating_add(ttl.as_secs()) };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AuthError::Sign(e.to_string()))
    }

    /// Verifies signature and expiry (no leeway: an expired token is expired).
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::InvalidSignature => AuthError::BadSignature,
            _ => AuthError::Malformed,
        })?;
        if data.claims.sub.trim().is_empty() {
            return Err(AuthError::NoUser);
        }
        Ok(data.claims)
    }

    /// Verifies the value of an `Authorization` header.
    pub fn verify_header(&self, header: Option<&str>) -> Result<Claims, AuthError> {
        let value = header.ok_or(AuthError::Missing)?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or(AuthError::NotBearer)?;
        self.verify(token.trim())
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_minted_token_verifies_to_its_user() {
        let key = TokenKey::new(SECRET).unwrap();
        let token = key.mint("alice", Duration::from_secs(60)).unwrap();
        assert_eq!(key.verify(&token).unwrap().sub, "alice");
        assert_eq!(key.verify_header(Some(&format!("Bearer {token}"))).unwrap().sub, "alice");
    }

    #[test]
    fn each_kind_of_bad_token_says_which() {
        let key = TokenKey::new(SECRET).unwrap();
        let other = TokenKey::new("another secret that is long enough!!").unwrap();
        let forged = other.mint("alice", Duration::from_secs(60)).unwrap();
        assert_eq!(key.verify(&forged), Err(AuthError::BadSignature));
        assert_eq!(key.verify("not.a.jwt"), Err(AuthError::Malformed));
        assert_eq!(key.verify_header(None), Err(AuthError::Missing));
        assert_eq!(key.verify_header(Some("Basic abc")), Err(AuthError::NotBearer));

        let now = now_secs();
        let expired = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &Claims { sub: "alice".into(), iat: now - 120, exp: now - 60 },
            &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(key.verify(&expired), Err(AuthError::Expired));
    }

    #[test]
    fn short_secrets_and_empty_users_are_refused() {
        assert_eq!(TokenKey::new("short").unwrap_err(), AuthError::WeakSecret { min: 32 });
        let key = TokenKey::new(SECRET).unwrap();
        assert_eq!(key.mint(" ", Duration::from_secs(1)), Err(AuthError::NoUser));
    }
}
