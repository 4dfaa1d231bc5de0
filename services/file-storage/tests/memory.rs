//! Memory stays flat whatever the file size: a 64 MiB upload streamed in one PATCH raises the
//! process's peak RSS (client and server together) by far less than the file. Alone in its test binary so nothing else allocates.

mod common;

use bytes::Bytes;
use common::{Service, token};
use futures_util::stream;

const CHUNK: usize = 256 * 1024;
const CHUNKS: usize = 256; // 64 MiB (debug builds hash slowly; the 1 GiB release measurement is in docs/BENCHMARKS.md)

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_large_upload_does_not_grow_memory() {
    let service = Service::start("memory", |c| c.max_file_bytes = 1 << 40).await;
    let alice = token("alice");
    let length = (CHUNK * CHUNKS) as u64;
    let url = service.create_ok(&alice, length, "big.bin").await;
    // Warm up allocator pools and the runtime with a small upload first.
    service.upload(&alice, "warm.bin", &vec![1u8; 256 << 10]).await;
    let before = peak_rss_kib();

    // The body is generated as it is sent: the client holds one chunk at a time.
    let chunk = Bytes::from(common::content(CHUNK, 42));
    let body = stream::iter((0..CHUNKS).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    let response = service
        .http
        .patch(&url)
        .bearer_auth(&alice)
        .header("tus-resumable", "1.0.0")
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", 0)
        .header("content-length", length)
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204, "{:?}", response.text().await);
    let grown_mib = (peak_rss_kib().saturating_sub(before)) / 1024;
    eprintln!("peak RSS grew by {grown_mib} MiB for a {} MiB upload", length >> 20);
    assert!(grown_mib < 16, "peak RSS grew by {grown_mib} MiB for a {} MiB upload", length >> 20);
    service.stop().await;
}
