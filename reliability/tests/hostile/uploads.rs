//! Hostile uploads: names, `Upload-Length` and `Content-Length`, checksums, tus protocol faults.

use base64::{Engine, engine::general_purpose::STANDARD};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::harness::*;

/// Hostile names: stored under a cleaned display name, never used as a path; returns the
/// ids of the files stored.
pub async fn hostile_names(a: &Attack<'_>, tally: &mut Tally) -> Vec<String> {
    let (world, secrets, token) = (a.world, a.secrets, a.token);
    // Traversal and control-character names: stored, but only as a cleaned display name.
    let hostile_names = [
        "../../etc/passwd".to_owned(),
        "..".into(),
        ".".into(),
        "/".into(),
        "a/../../../outside.txt".into(),
        "C:\\..\\..\\Windows\\win.ini".into(),
        "\0nul\0.txt".into(),
        "ctl\r\n\x1b[31mred\x07.txt".into(),
        "invoice\u{202E}fdp.exe".into(),
        "   ".into(),
        format!("{}.pdf", "long".repeat(300)),
    ];
    let mut stored = Vec::new();
    for (i, name) in hostile_names.iter().enumerate() {
        let body = format!("hostile name {i}");
        let r = world.upload(token, name, body.as_bytes()).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{name:?}: {:?}", r.text().await);
        let id = r.headers()["lockbox-file-id"].to_str().expect("ascii").to_owned();
        let shown: Value = world
            .http
            .get(world.files.url(&format!("/v1/files/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON");
        let kept = shown["name"].as_str().expect("a name").to_owned();
        let cleaned = !kept.is_empty()
            && kept.len() <= 255
            && kept != "."
            && kept != ".."
            && !kept.contains(['/', '\\'])
            && !kept
                .chars()
                .any(|c| c.is_control() || ('\u{202A}'..='\u{202E}').contains(&c));
        tally.attempt("hostile names (cleaned)", cleaned);
        assert!(cleaned, "{name:?} was kept as {kept:?}");
        let download = world
            .http
            .get(world.files.url(&format!("/v1/files/{id}/content")))
            .bearer_auth(token)
            .send()
            .await
            .expect("download");
        let disposition = download.headers()["content-disposition"]
            .to_str()
            .expect("an ASCII header")
            .to_owned();
        assert!(!disposition.contains(['\r', '\n', '/']), "{disposition:?}");
        assert_eq!(download.text().await.expect("body"), body);
        stored.push(id);
    }
    // Nothing was written outside the service's own directories.
    let outside: Vec<_> = std::fs::read_dir(world.dir.path())
        .expect("temp dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        outside.len(),
        2,
        "only files/ and notifications/ in the temp dir: {outside:?}"
    );
    for (metadata, what) in [("filename %%%not-base64", "not base64"), ("filename //79", "not UTF-8")] {
        let r = world
            .tus(Method::POST, &world.files.url("/v1/uploads"), token)
            .header("upload-length", 1)
            .header("upload-metadata", metadata)
            .send()
            .await
            .expect("POST");
        refused(
            tally,
            secrets,
            "hostile names (refused)",
            what,
            r,
            StatusCode::BAD_REQUEST,
            "bad_request",
        )
        .await;
    }
    let non_ascii =
        reqwest::header::HeaderValue::from_bytes(b"filename \xff\xfe").expect("obs-text is a valid header value");
    let r = world
        .tus(Method::POST, &world.files.url("/v1/uploads"), token)
        .header("upload-length", 1)
        .header("upload-metadata", non_ascii)
        .send()
        .await
        .expect("POST");
    refused(
        tally,
        secrets,
        "hostile names (refused)",
        "non-ASCII metadata",
        r,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    stored
}

/// Missing, bad, oversize and lying `Upload-Length` and `Content-Length`.
pub async fn upload_lengths(a: &Attack<'_>, tally: &mut Tally) {
    let (world, secrets, token) = (a.world, a.secrets, a.token);
    // Upload-Length: missing, not a number, negative, overflowing, deferred, over the file
    // limit, over the quota; and lying (the body longer or shorter than declared).
    let kind = "Upload-Length";
    let before = world.file_count(token).await;
    for (length, status, code) in [
        (None, StatusCode::BAD_REQUEST, "bad_request"),
        (Some("ten"), StatusCode::BAD_REQUEST, "bad_request"),
        (Some("-1"), StatusCode::BAD_REQUEST, "bad_request"),
        (Some("18446744073709551616"), StatusCode::BAD_REQUEST, "bad_request"),
        (Some("1048577"), StatusCode::PAYLOAD_TOO_LARGE, "file_too_large"),
        (
            Some("18446744073709551615"),
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
        ),
    ] {
        let mut request = world.tus(Method::POST, &world.files.url("/v1/uploads"), token);
        if let Some(length) = length {
            request = request.header("upload-length", length);
        }
        let r = request.send().await.expect("POST");
        refused(
            tally,
            secrets,
            kind,
            &format!("Upload-Length {length:?}"),
            r,
            status,
            code,
        )
        .await;
    }
    let r = world
        .tus(Method::POST, &world.files.url("/v1/uploads"), token)
        .header("upload-defer-length", 1)
        .send()
        .await
        .expect("POST");
    refused(
        tally,
        secrets,
        kind,
        "Upload-Defer-Length",
        r,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    // Over quota: fill most of it with uploads in progress, then ask for more than is left.
    let reserved = world.created(token, MAX_FILE).await;
    let r = world
        .tus(Method::POST, &world.files.url("/v1/uploads"), token)
        .header("upload-length", MAX_FILE)
        .send()
        .await
        .expect("POST");
    refused(
        tally,
        secrets,
        kind,
        "over quota",
        r,
        StatusCode::PAYLOAD_TOO_LARGE,
        "quota_exceeded",
    )
    .await;
    world
        .tus(Method::DELETE, &reserved, token)
        .send()
        .await
        .expect("DELETE");
    // Declared 10, sent 20: with creation-with-upload and with PATCH.
    let r = world
        .tus(Method::POST, &world.files.url("/v1/uploads"), token)
        .header("upload-length", 10)
        .header("content-type", "application/offset+octet-stream")
        .body(vec![b'x'; 20])
        .send()
        .await
        .expect("POST");
    let location = r
        .headers()
        .get("location")
        .map(|l| world.files.url(l.to_str().expect("ascii")));
    refused(
        tally,
        secrets,
        kind,
        "POST body longer than Upload-Length",
        r,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_long",
    )
    .await;
    assert_eq!(
        world.offset(token, &location.expect("the upload's location")).await,
        0,
        "the over-long chunk was discarded"
    );
    let short = world.created(token, 10).await;
    let r = world.patch(token, &short, 0, &[b'y'; 20], None).await.expect("PATCH");
    refused(
        tally,
        secrets,
        kind,
        "PATCH body longer than Upload-Length",
        r,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_long",
    )
    .await;
    assert_eq!(world.offset(token, &short).await, 0);
    // Declared 20, sent 10: kept as a partial upload (tus resumes it), never a file.
    let long = world.created(token, 20).await;
    let r = world.patch(token, &long, 0, &[b'z'; 10], None).await.expect("PATCH");
    let partial = r.status() == StatusCode::NO_CONTENT && r.headers().get("lockbox-file-id").is_none();
    tally.attempt(kind, partial);
    assert!(
        partial,
        "a short body leaves a partial upload: {} {:?}",
        r.status(),
        r.headers()
    );
    assert_eq!(world.offset(token, &long).await, 10);
    let r = world.patch(token, &long, 0, &[b'z'; 10], None).await.expect("PATCH");
    let body = refused(
        tally,
        secrets,
        kind,
        "PATCH at a stale offset",
        r,
        StatusCode::CONFLICT,
        "offset_mismatch",
    )
    .await;
    assert_eq!(body["upload_offset"], 10, "the refusal says where to resume");
    // Content-Length says 10, the client sends 4 and stops: what arrived is kept, and the
    // answer says where to resume.
    let cut = world.created(token, 10).await;
    let path = cut.trim_start_matches(&world.files.url(""));
    let mut raw = tokio::net::TcpStream::connect(world.files.addr).await.expect("connect");
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\n\
         Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: 10\r\n\r\nabcd",
        world.files.addr
    );
    raw.write_all(head.as_bytes()).await.expect("send");
    raw.shutdown().await.expect("half-close");
    let mut answer = String::new();
    tokio::time::timeout(WAIT, raw.read_to_string(&mut answer))
        .await
        .expect("an answer in time")
        .expect("read");
    let interrupted = answer.starts_with("HTTP/1.1 400") && answer.contains("\"error\":\"body_interrupted\"");
    tally.attempt(kind, interrupted);
    assert!(interrupted, "a body shorter than its Content-Length: {answer}");
    assert_eq!(
        world.offset(token, &cut).await,
        4,
        "the bytes that arrived are kept for resuming"
    );
    assert_eq!(world.file_count(token).await, before, "no lying upload became a file");
}

/// Wrong checksums.
pub async fn checksums(a: &Attack<'_>, tally: &mut Tally) {
    let (world, secrets, token) = (a.world, a.secrets, a.token);
    let before = world.file_count(token).await;
    // Checksums: wrong digest, unsupported algorithm, not base64, wrong size, no value.
    let kind = "checksums";
    let url = world.created(token, 8).await;
    let wrong = format!("sha256 {}", STANDARD.encode(Sha256::digest(b"other!!!")));
    for (checksum, status, code) in [
        (
            wrong.clone(),
            StatusCode::from_u16(460).expect("460"),
            "checksum_mismatch",
        ),
        (
            "md5 CY9rzUYh03PK3k6DJie09g==".to_owned(),
            StatusCode::BAD_REQUEST,
            "checksum_algorithm_unsupported",
        ),
        (
            "sha256".to_owned(),
            StatusCode::BAD_REQUEST,
            "checksum_algorithm_unsupported",
        ),
        (
            "sha256 !!!not base64!!!".to_owned(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("sha256 {}", STANDARD.encode([0u8; 16])),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ] {
        let r = world
            .patch(token, &url, 0, b"12345678", Some(checksum.clone()))
            .await
            .expect("PATCH");
        refused(
            tally,
            secrets,
            kind,
            &format!("Upload-Checksum {checksum:?}"),
            r,
            status,
            code,
        )
        .await;
    }
    assert_eq!(
        world.offset(token, &url).await,
        0,
        "no chunk with a bad checksum was kept"
    );
    let r = world
        .tus(Method::POST, &world.files.url("/v1/uploads"), token)
        .header("upload-length", 8)
        .header("content-type", "application/offset+octet-stream")
        .header("upload-checksum", wrong)
        .body(b"12345678".to_vec())
        .send()
        .await
        .expect("POST");
    refused(
        tally,
        secrets,
        kind,
        "creation-with-upload with a wrong checksum",
        r,
        StatusCode::from_u16(460).expect("460"),
        "checksum_mismatch",
    )
    .await;
    assert_eq!(
        world.file_count(token).await,
        before,
        "no chunk with a bad checksum became a file"
    );
}

/// tus protocol faults and bogus ids.
pub async fn tus_protocol(a: &Attack<'_>, tally: &mut Tally) {
    let (world, secrets, token) = (a.world, a.secrets, a.token);
    let url = world.created(token, 8).await;
    // Protocol faults around uploads: no Tus-Resumable, wrong content type, bogus ids.
    let kind = "tus protocol";
    let r = world
        .http
        .post(world.files.url("/v1/uploads"))
        .bearer_auth(token)
        .header("upload-length", 1)
        .send()
        .await
        .expect("POST");
    refused(
        tally,
        secrets,
        kind,
        "no Tus-Resumable",
        r,
        StatusCode::PRECONDITION_FAILED,
        "tus_version",
    )
    .await;
    let r = world
        .tus(Method::PATCH, &url, token)
        .header("upload-offset", 0)
        .body(b"12345678".to_vec())
        .send()
        .await
        .expect("PATCH");
    refused(
        tally,
        secrets,
        kind,
        "PATCH without the offset content type",
        r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "content_type",
    )
    .await;
    for id in [
        "not-a-uuid",
        "..%2F..%2Fetc%2Fpasswd",
        &uuid::Uuid::new_v4().to_string(),
    ] {
        let r = world
            .tus(Method::HEAD, &world.files.url(&format!("/v1/uploads/{id}")), token)
            .send()
            .await
            .expect("HEAD");
        refused(
            tally,
            secrets,
            kind,
            &format!("HEAD upload {id}"),
            r,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let r = world
            .http
            .get(world.files.url(&format!("/v1/files/{id}/content")))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET");
        refused(
            tally,
            secrets,
            kind,
            &format!("GET file {id}"),
            r,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
}
