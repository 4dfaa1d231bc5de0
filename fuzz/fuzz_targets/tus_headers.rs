//! tus header parsing: the fuzzer's bytes become the values of `Upload-Metadata`,
//! `Upload-Checksum`, `Upload-Offset` and `Upload-Length` (split on `\n`). Every parser
//! either refuses with a 4xx `ApiError` or returns a value that means what the header said:
//! numbers are what the text says, and what the service writes back (HEAD's metadata, an
//! offset) parses to the same value.
#![no_main]

use axum::{
    http::{HeaderMap, HeaderValue},
    response::IntoResponse,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use libfuzzer_sys::fuzz_target;
use lockbox_file_storage::http::{error::ApiError, tus_headers as h};

fn refused_as_client_error(error: ApiError) {
    let status = error.into_response().status();
    assert!(status.is_client_error(), "a header fault must be a 4xx, got {status}");
}

fn one(name: &'static str, value: HeaderValue) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(name, value);
    headers
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |b| *b == b'\n');
    let mut headers = HeaderMap::new();
    for name in [
        h::UPLOAD_METADATA,
        h::UPLOAD_CHECKSUM,
        h::UPLOAD_OFFSET,
        h::UPLOAD_LENGTH,
    ] {
        if let Some(value) = parts.next().and_then(|raw| HeaderValue::from_bytes(raw).ok()) {
            headers.insert(name, value);
        }
    }

    match h::filename(&headers) {
        Ok(Some(name)) => {
            // What HEAD sends back must read as the same name.
            let back = h::filename(&one(h::UPLOAD_METADATA, h::metadata(&name)));
            assert_eq!(
                back.ok().flatten().as_deref(),
                Some(name.as_str()),
                "metadata round trip"
            );
        }
        Ok(None) => assert!(headers.get(h::UPLOAD_METADATA).is_none_or(|v| v.to_str().is_ok())),
        Err(e) => refused_as_client_error(e),
    }

    match h::checksum(&headers) {
        Ok(Some(digest)) => {
            let text = format!("sha256 {}", STANDARD.encode(digest));
            let back = h::checksum(&one(h::UPLOAD_CHECKSUM, HeaderValue::from_str(&text).expect("ASCII")));
            assert_eq!(back.ok().flatten(), Some(digest), "checksum round trip");
        }
        Ok(None) => assert!(headers.get(h::UPLOAD_CHECKSUM).is_none()),
        Err(e) => refused_as_client_error(e),
    }

    for name in [h::UPLOAD_OFFSET, h::UPLOAD_LENGTH] {
        match h::number(&headers, name) {
            Ok(Some(n)) => {
                let text = headers.get(name).and_then(|v| v.to_str().ok()).expect("parsed text");
                assert_eq!(text.trim().parse::<u64>().ok(), Some(n), "{name}: {text:?} read as {n}");
                let back = h::number(&one(name, h::value(n)), name);
                assert_eq!(back.ok().flatten(), Some(n), "{name} round trip");
            }
            Ok(None) => assert!(headers.get(name).is_none()),
            Err(e) => refused_as_client_error(e),
        }
    }
});
