//! `Authorization: Bearer` as an axum extractor. The state must provide a [`TokenKey`]
//! (`FromRef`), so handlers take only the user and not the whole state.

use axum::{
    Json,
    extract::{FromRef, FromRequestParts},
    http::{StatusCode, header::AUTHORIZATION, request::Parts},
    response::{IntoResponse, Response},
};

use crate::{AuthError, TokenKey};

/// The authenticated user of a request (the token's `sub`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser(pub String);

/// A refused token: 401 with `{"error": code, "message": what to do}`.
#[derive(Debug)]
pub struct AuthRejection(pub AuthError);

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.0.code(), "message": self.0.to_string() });
        (StatusCode::UNAUTHORIZED, [("www-authenticate", "Bearer")], Json(body)).into_response()
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    S: Send + Sync,
    TokenKey: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let key = TokenKey::from_ref(state);
        let header = match parts.headers.get(AUTHORIZATION) {
            Some(value) => Some(value.to_str().map_err(|_| AuthRejection(AuthError::NotBearer))?),
            None => None,
        };
        key.verify_header(header).map(|claims| AuthUser(claims.sub)).map_err(AuthRejection)
    }
}
