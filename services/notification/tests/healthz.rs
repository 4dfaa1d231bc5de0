//! The operations surface over real HTTP: liveness, readiness (store + broker), metrics, and a
//! graceful shutdown.

mod common;

use common::*;

#[tokio::test]
async fn healthz_readyz_and_metrics_answer_and_the_service_shuts_down_gracefully() {
    let h = Harness::new("ops").await;
    let service = h.start().await;

    let body: serde_json::Value =
        reqwest::get(service.url("/healthz")).await.unwrap().error_for_status().unwrap().json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["service"], "notification");

    // Ready once the broker is connected: prove it by having the consumer deliver something.
    let mut conn = h.client(&service, "alice").connect(0).await.unwrap();
    h.publish("m-1", &stored("alice", "a.txt")).await;
    notification_of(next_frame(&mut conn).await);
    let ready = reqwest::get(service.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!((body["store"]["ok"].as_bool(), body["broker"]["ok"].as_bool()), (Some(true), Some(true)));

    let metrics = service.metrics().await;
    assert!(metrics.contains(r#"lockbox_notification_events_total{outcome="stored"} 1"#), "{metrics}");
    assert!(metrics.contains("lockbox_notification_stream_connections 1"), "{metrics}");

    conn.close().await.unwrap();
    service.stop().await;
    h.cleanup().await;
}

#[tokio::test]
async fn the_service_refuses_to_start_without_a_token_secret() {
    let h = Harness::new("no-secret").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = lockbox_notification::config::Config { token_secret: String::new(), ..h.config() };
    let error = lockbox_notification::run(listener, config, std::future::pending()).await.unwrap_err();
    assert!(error.to_string().contains("LOCKBOX_TOKEN_SECRET"), "{error}");
    h.cleanup().await;
}
