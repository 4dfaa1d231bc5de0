//! Who may see what: bad tokens on every endpoint, and another user's ids on every endpoint.

use std::time::Duration;

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use lockbox_auth::{Claims, TokenKey};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

use super::harness::*;

/// Bad tokens on every authenticated endpoint of both services, and on a real handshake.
pub async fn bad_tokens(a: &Attack<'_>, tally: &mut Tally) {
    let (world, secrets) = (a.world, a.secrets);
    // Every authenticated endpoint of both services, with alice's ids where they take one.
    let endpoints: Vec<(Method, String, bool)> = vec![
        (Method::POST, world.files.url("/v1/uploads"), true),
        (Method::HEAD, secrets.upload_url.clone(), true),
        (Method::PATCH, secrets.upload_url.clone(), true),
        (Method::DELETE, secrets.upload_url.clone(), true),
        (Method::GET, world.files.url("/v1/files"), false),
        (
            Method::GET,
            world.files.url(&format!("/v1/files/{}", secrets.file_id)),
            false,
        ),
        (
            Method::DELETE,
            world.files.url(&format!("/v1/files/{}", secrets.file_id)),
            false,
        ),
        (
            Method::GET,
            world.files.url(&format!("/v1/files/{}/content", secrets.file_id)),
            false,
        ),
        (Method::GET, world.notes.url("/v1/stream"), false),
        (Method::GET, world.notes.url("/v1/notifications"), false),
        (Method::POST, world.notes.url("/v1/notifications/read"), false),
        (Method::GET, world.notes.url("/v1/notifications/unread_count"), false),
    ];

    // Bad tokens: missing, not Bearer, malformed, alg=none, forged, expired, no user.
    let now = now_secs();
    let forged = TokenKey::new("some other secret, also 32 bytes long")
        .expect("key")
        .mint(a.alice, Duration::from_secs(3600))
        .expect("mint");
    let expired = signed(&Claims {
        sub: a.alice.to_owned(),
        iat: now - 120,
        exp: now - 60,
    });
    let nobody = signed(&Claims {
        sub: " ".into(),
        iat: now,
        exp: now + 3600,
    });
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(json!({"sub": a.alice, "iat": now, "exp": now + 3600}).to_string())
    );
    let bad_tokens: Vec<(Option<String>, &str)> = vec![
        (None, "token_missing"),
        (
            Some(format!("Basic {}", STANDARD.encode("alice:pw"))),
            "token_not_bearer",
        ),
        (Some("Bearer not.a.jwt".into()), "token_malformed"),
        (Some(format!("Bearer {unsigned}")), "token_malformed"),
        (Some(format!("Bearer {forged}")), "token_bad_signature"),
        (Some(format!("Bearer {expired}")), "token_expired"),
        (Some(format!("Bearer {nobody}")), "token_no_user"),
    ];
    for (method, url, tus) in &endpoints {
        for (authorization, code) in &bad_tokens {
            let mut request = world.http.request(method.clone(), url);
            if *tus {
                request = request.header("tus-resumable", "1.0.0");
            }
            if let Some(value) = authorization {
                request = request.header("authorization", value);
            }
            let response = request.send().await.expect("request");
            let challenge = response
                .headers()
                .get("www-authenticate")
                .is_some_and(|v| v == "Bearer");
            assert!(challenge, "{method} {url}: a 401 says how to authenticate");
            refused(
                tally,
                secrets,
                "bad tokens",
                &format!("{method} {url} with {code}"),
                response,
                StatusCode::UNAUTHORIZED,
                code,
            )
            .await;
        }
    }
    // The same on a real WebSocket handshake: refused before any upgrade.
    let mut handshake = world.ws_url().as_str().into_client_request().expect("ws request");
    handshake
        .headers_mut()
        .insert("authorization", format!("Bearer {forged}").parse().expect("header"));
    match tokio_tungstenite::connect_async(handshake).await {
        Err(tungstenite::Error::Http(response)) => {
            let ok = response.status() == StatusCode::UNAUTHORIZED;
            tally.attempt("bad tokens", ok);
            assert!(ok, "a forged token's handshake: {}", response.status());
        }
        other => panic!(
            "a forged token must not open a stream: {:?}",
            other.map(|(_, r)| r.status())
        ),
    }
}

/// Alice's ids with mallory's valid token on every endpoint that takes one; the lists, the
/// read requests and the token-free endpoints show mallory nothing of alice's.
pub async fn other_users_ids(a: &Attack<'_>, tally: &mut Tally, alice_conn: &str) {
    let (world, secrets, token) = (a.world, a.secrets, a.token);
    let upload_id = secrets.upload_url.rsplit('/').next().expect("an id");
    // Alice's ids with mallory's valid token, on every endpoint that takes an id.
    let kind = "other user's ids";
    let files_url = |path: &str| world.files.url(&format!("/v1/files/{}{path}", secrets.file_id));
    let r = world
        .tus(Method::HEAD, &secrets.upload_url, token)
        .send()
        .await
        .expect("HEAD");
    assert!(r.headers().get("upload-offset").is_none() && r.headers().get("upload-metadata").is_none());
    refused(
        tally,
        secrets,
        kind,
        "HEAD alice's upload",
        r,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let r = world
        .tus(Method::PATCH, &secrets.upload_url, token)
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", 0)
        .body(vec![b'm'; 10])
        .send()
        .await
        .expect("PATCH");
    refused(
        tally,
        secrets,
        kind,
        "PATCH alice's upload",
        r,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let r = world
        .tus(Method::DELETE, &secrets.upload_url, token)
        .send()
        .await
        .expect("DELETE");
    refused(
        tally,
        secrets,
        kind,
        "DELETE alice's upload",
        r,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        world.offset(a.alice_token, &secrets.upload_url).await,
        0,
        "alice's upload is untouched"
    );
    // OPTIONS needs no token and must say nothing about the upload.
    let r = world
        .http
        .request(Method::OPTIONS, &secrets.upload_url)
        .send()
        .await
        .expect("OPTIONS");
    let quiet = r.status() == StatusCode::NO_CONTENT
        && ["upload-offset", "upload-length", "upload-metadata", "location"]
            .iter()
            .all(|h| r.headers().get(*h).is_none());
    tally.attempt(kind, quiet);
    assert!(
        quiet,
        "OPTIONS on alice's upload answers capabilities only: {:?}",
        r.headers()
    );
    for (method, url, what) in [
        (Method::GET, files_url(""), "GET alice's file"),
        (Method::GET, files_url("/content"), "GET alice's content"),
        (Method::DELETE, files_url(""), "DELETE alice's file"),
        (
            Method::GET,
            world.files.url(&format!("/v1/files/{upload_id}")),
            "GET alice's upload id as a file",
        ),
    ] {
        let r = world
            .http
            .request(method, &url)
            .bearer_auth(token)
            .header("range", "bytes=0-3")
            .send()
            .await
            .expect("request");
        refused(tally, secrets, kind, what, r, StatusCode::NOT_FOUND, "not_found").await;
    }
    let r = world
        .http
        .get(files_url("/content"))
        .bearer_auth(a.alice_token)
        .send()
        .await
        .expect("alice's download");
    assert_eq!(
        r.text().await.expect("body"),
        secrets.content,
        "alice's file survived mallory's DELETE"
    );
    // Lists: mallory's own (empty) view, also when paging from alice's file id.
    for path in ["/v1/files".to_owned(), format!("/v1/files?before={}", secrets.file_id)] {
        let r = world
            .http
            .get(world.files.url(&path))
            .bearer_auth(token)
            .send()
            .await
            .expect("list");
        let body: Value = r.json().await.expect("JSON");
        let clean = body["files"].as_array().is_some_and(Vec::is_empty)
            && !secrets.markers().iter().any(|m| body.to_string().contains(m));
        tally.attempt(kind, clean);
        assert!(clean, "GET {path} shows mallory nothing of alice's: {body}");
    }
    let notifications = world.stream_client(a.mallory);
    let page = notifications.list(0, 1000).await.expect("mallory's notifications");
    tally.attempt(kind, page.notifications.is_empty());
    assert!(
        page.notifications.is_empty(),
        "mallory sees alice's notifications: {page:?}"
    );
    let alice_id = secrets.notification.id;
    for (body, from) in [
        (json!({"ids": [alice_id]}), None),
        (json!({"up_to_seq": secrets.notification.seq + 1000}), None),
        (json!({"ids": [alice_id]}), Some(alice_conn)),
    ] {
        let mut request = world
            .http
            .post(world.notes.url("/v1/notifications/read"))
            .bearer_auth(token)
            .json(&body);
        if let Some(from) = from {
            request = request.header("x-lockbox-connection", from);
        }
        let answer: Value = request.send().await.expect("read").json().await.expect("JSON");
        let nothing = answer["ids"].as_array().is_some_and(Vec::is_empty) && answer["unread"] == 0;
        tally.attempt(kind, nothing);
        assert!(
            nothing,
            "mallory marked alice's notifications read with {body}: {answer}"
        );
    }
    // The endpoints without a token say nothing about anyone's files.
    for url in ["/healthz", "/readyz", "/metrics"]
        .iter()
        .flat_map(|p| [world.files.url(p), world.notes.url(p)])
    {
        let text = world
            .http
            .get(&url)
            .send()
            .await
            .expect("ops endpoint")
            .text()
            .await
            .expect("body");
        let clean = !secrets.markers().iter().any(|m| text.contains(m));
        tally.attempt(kind, clean);
        assert!(clean, "{url} shows alice's data");
    }
    let alice_unread = world
        .stream_client(a.alice)
        .unread_count()
        .await
        .expect("alice's count");
    assert_eq!(alice_unread, 1, "alice's notification is still unread");
    let unread = notifications.unread_count().await.expect("mallory's count");
    tally.attempt(kind, unread == 0);
    assert_eq!(unread, 0, "mallory's unread count counts alice's");
}
