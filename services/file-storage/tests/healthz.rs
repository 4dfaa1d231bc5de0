//! The service starts on a listener the test bound and answers /healthz over real HTTP.

use lockbox_file_storage::{config::Config, run};

#[tokio::test]
async fn healthz_answers_over_real_http_and_shuts_down_gracefully() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let dir = std::env::temp_dir().join(format!("lockbox-fs-{}", std::process::id()));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(run(listener, Config::new(dir), async move {
        let _ = stop_rx.await;
    }));

    let body: serde_json::Value = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["service"], "file-storage");

    stop_tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}
