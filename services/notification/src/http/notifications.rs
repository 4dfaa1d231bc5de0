//! The notifications API: paging, read state, unread count. Every call is scoped to the
//! token's user.

use axum::{
    Json,
    http::HeaderMap,
    extract::{Query, State, rejection::{JsonRejection, QueryRejection}},
};
use lockbox_auth::AuthUser;
use lockbox_events::{Frame, NotificationPage, ReadRequest, ReadResponse, UnreadCount};
use serde::Deserialize;

use uuid::Uuid;

use crate::{
    hub::Hub,
    http::{ApiError, stream::CONNECTION_ID_HEADER},
    store::{ReadSelector, Store},
};

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;
pub const MAX_READ_IDS: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    since: u64,
    limit: Option<u32>,
}

/// `GET /v1/notifications?since=&limit=`: the user's notifications after `since`, oldest first.
pub async fn list(
    AuthUser(user): AuthUser,
    State(store): State<Store>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<NotificationPage>, ApiError> {
    let Query(query) = query.map_err(ApiError::BadQuery)?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::LimitOutOfRange { max: MAX_LIMIT });
    }
    let notifications = store.list(user, query.since, limit).await?;
    let full = notifications.len() == limit as usize;
    let next_since = notifications.last().filter(|_| full).map(|n| n.seq);
    Ok(Json(NotificationPage { notifications, next_since }))
}

/// `POST /v1/notifications/read`: stores read state, then tells every stream connection of
/// the user (but the one named in `x-lockbox-connection`), so reading on one device reads on all.
pub async fn mark_read(
    AuthUser(user): AuthUser,
    State(store): State<Store>,
    State(hub): State<Hub>,
    headers: HeaderMap,
    body: Result<Json<ReadRequest>, JsonRejection>,
) -> Result<Json<ReadResponse>, ApiError> {
    let Json(request) = body.map_err(ApiError::BadReadBody)?;
    // The connection of the device that read, if it says; an unknown id just excludes nothing.
    let from = headers
        .get(CONNECTION_ID_HEADER)
        .map(|value| value.to_str().ok().and_then(|v| Uuid::parse_str(v).ok()).ok_or(ApiError::BadConnectionId))
        .transpose()?;
    let (selector, up_to_seq) = match request {
        ReadRequest::Ids { ids } if ids.len() > MAX_READ_IDS => {
            return Err(ApiError::TooManyIds { given: ids.len(), max: MAX_READ_IDS });
        }
        ReadRequest::Ids { ids } => (ReadSelector::Ids(ids), None),
        ReadRequest::UpToSeq { up_to_seq } => (ReadSelector::UpToSeq(up_to_seq), Some(up_to_seq)),
    };
    let read_at = lockbox_events::timestamp::now();
    let outcome = store.mark_read(user.clone(), selector, read_at).await?;
    if !outcome.ids.is_empty() {
        let sent = hub.send_except(&user, Frame::read(outcome.ids.clone(), up_to_seq, read_at), from);
        tracing::debug!(user_id = user, marked = outcome.ids.len(), connections = sent, "read state pushed");
    }
    Ok(Json(ReadResponse { ids: outcome.ids, read_at, unread: outcome.unread }))
}

/// `GET /v1/notifications/unread_count`.
pub async fn unread_count(AuthUser(user): AuthUser, State(store): State<Store>) -> Result<Json<UnreadCount>, ApiError> {
    Ok(Json(UnreadCount { unread: store.unread_count(user).await? }))
}
