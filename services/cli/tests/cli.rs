//! `lockbox token`, `lockbox upload` and `lockbox ls` as a person runs them, against a real
//! FileStorageService on 127.0.0.1:0.

use lockbox_file_storage::{config::Config, run};

const SECRET: &str = "cli-test-secret-cli-test-secret-cli!";

async fn lockbox(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_lockbox"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test]
async fn token_upload_and_ls() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().join("data"));
    config.token_secret = SECRET.into();
    config.broker = lockbox_broker::testing::isolated_config("cli");
    let broker = config.broker.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(run(listener, config, async move {
        let _ = stopped.await;
    }));

    let (ok, token, err) = lockbox(&["token", "--user", "carol"], &[("LOCKBOX_TOKEN_SECRET", SECRET)]).await;
    assert!(ok, "{err}");
    let token = token.trim().to_owned();

    let a = dir.path().join("a.txt");
    let b = dir.path().join("b.bin");
    std::fs::write(&a, b"hello from the command line").unwrap();
    std::fs::write(&b, vec![7u8; 3 * 1024 * 1024 + 17]).unwrap();
    let env = [("LOCKBOX_FS_URL", url.as_str()), ("LOCKBOX_TOKEN", token.as_str())];
    let (a, b) = (a.display().to_string(), b.display().to_string());
    let (ok, out, err) = lockbox(&["upload", "--quiet", "--chunk-size", "1048576", &a, &b], &env).await;
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].ends_with("a.txt") && lines[1].ends_with("b.bin"), "{out}");

    let (ok, listing, err) = lockbox(&["ls"], &env).await;
    assert!(ok, "{err}");
    let rows: Vec<&str> = listing.lines().collect();
    assert_eq!(rows.len(), 2, "{listing}");
    assert!(rows[0].ends_with("b.bin") && rows[0].contains(&(3 * 1024 * 1024 + 17).to_string()), "newest first: {listing}");
    assert!(rows[1].ends_with("a.txt"));
    assert!(rows[0].starts_with(lines[1].split_whitespace().next().unwrap()), "ls shows the uploaded id");

    // --resume continues an upload made elsewhere (here: created with the client, nothing sent).
    let c = dir.path().join("c.txt");
    std::fs::write(&c, b"resumed by the cli").unwrap();
    let upload_url = lockbox_client::upload::TusClient::new(&url, token.clone()).unwrap().create("c.txt", 18).await.unwrap();
    let (ok, out, err) = lockbox(&["upload", "--quiet", "--resume", upload_url.as_str(), &c.display().to_string()], &env).await;
    assert!(ok, "{err}");
    assert!(out.trim_end().ends_with("c.txt"), "{out}");

    // A wrong token fails with the server's reason.
    let (ok, _, err) = lockbox(&["ls", "--url", &url, "--token", "nope"], &[]).await;
    assert!(!ok);
    assert!(err.contains("malformed"), "{err}");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    lockbox_broker::testing::delete_topology(&broker).await;
}
