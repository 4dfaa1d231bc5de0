//! The real `lockbox-desktop` binary, started through `tauri-driver` (which proxies WebDriver
//! to WebKitWebDriver), so the test reads the window's live DOM the way a person sees it.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use serde_json::{Value, json};

use crate::{session::Session, wait};

pub struct App {
    driver: Child,
    base: String,
    session_id: String,
    http: reqwest::Client,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn tauri_driver() -> PathBuf {
    if let Ok(path) = std::env::var("LOCKBOX_TAURI_DRIVER") {
        return PathBuf::from(path);
    }
    let cargo_home = std::env::var("CARGO_HOME").map(PathBuf::from).unwrap_or_else(|_| {
        PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
    });
    let path = cargo_home.join("bin/tauri-driver");
    assert!(path.exists(), "tauri-driver is not installed at {}: run ./scripts/test.sh (it installs it)", path.display());
    path
}

impl App {
    /// Starts the app with `env` (data dir, token, service URLs) on the session's display and bus.
    pub async fn start(session: &Session, env: &[(&str, String)], log: &Path) -> Self {
        let (port, native) = (free_port(), free_port());
        let driver_log = log.with_file_name("tauri-driver.log");
        let log_path = log.to_path_buf();
        let log = std::fs::File::create(&driver_log).expect("driver log");
        let mut command = Command::new(tauri_driver());
        command
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("DISPLAY", &session.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &session.bus)
            .env("NO_AT_BRIDGE", "1")
            .env("LANG", "C.UTF-8")
            .env("LC_ALL", "C.UTF-8")
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .stdin(Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        // WebKitWebDriver does not pass the app's output on; the app writes its log here.
        command.env("LOCKBOX_LOG_FILE", &log_path);
        let driver = command.spawn().expect("tauri-driver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let application = env!("CARGO_BIN_EXE_lockbox-desktop");
        let capabilities = json!({"capabilities": {"alwaysMatch": {"tauri:options": {"application": application}}}});
        let session_id = wait::until("tauri-driver to start the app (WebDriver session)", wait::WAIT, || {
            let (http, base, capabilities) = (http.clone(), base.clone(), capabilities.clone());
            async move {
                let response = http.post(format!("{base}/session")).json(&capabilities).send().await.ok()?;
                let body: Value = response.json().await.ok()?;
                body["value"]["sessionId"].as_str().map(str::to_owned)
            }
        })
        .await;
        Self { driver, base, session_id, http }
    }

    /// The text of every element matching a CSS selector.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let url = format!("{}/session/{}/elements", self.base, self.session_id);
        let Ok(response) = self.http.post(url).json(&json!({"using": "css selector", "value": css})).send().await else {
            return Vec::new();
        };
        let Ok(body) = response.json::<Value>().await else { return Vec::new() };
        let mut texts = Vec::new();
        for element in body["value"].as_array().into_iter().flatten() {
            let Some(id) = element.as_object().and_then(|o| o.values().next()).and_then(Value::as_str) else { continue };
            // textContent, not the rendered text: WebKitWebDriver answers "" for text it
            // considers not displayed, which says more about its heuristics than the DOM.
            let url = format!("{}/session/{}/element/{id}/property/textContent", self.base, self.session_id);
            if let Ok(r) = self.http.get(url).send().await
                && let Ok(v) = r.json::<Value>().await
                && let Some(text) = v["value"].as_str()
            {
                texts.push(text.to_owned());
            }
        }
        texts
    }

    /// An attribute of the first element matching `css`, if there is one.
    pub async fn attribute(&self, css: &str, name: &str) -> Option<String> {
        let url = format!("{}/session/{}/element", self.base, self.session_id);
        let body: Value = self.http.post(url).json(&json!({"using": "css selector", "value": css})).send().await.ok()?.json().await.ok()?;
        let id = body["value"].as_object()?.values().next()?.as_str()?.to_owned();
        let url = format!("{}/session/{}/element/{id}/attribute/{name}", self.base, self.session_id);
        let v: Value = self.http.get(url).send().await.ok()?.json().await.ok()?;
        v["value"].as_str().map(str::to_owned)
    }

    /// Waits until the elements matching `css` have exactly these texts (in any order).
    pub async fn wait_for_texts(&self, what: &str, css: &str, expected: &[String]) {
        let mut want = expected.to_vec();
        want.sort();
        let last = std::sync::Mutex::new(Vec::new());
        let what = format!("{what}: {css} to read {want:?}");
        let found = tokio::time::timeout(wait::WAIT, wait::until(&what, wait::WAIT * 2, || {
            let (want, last) = (want.clone(), &last);
            async move {
                let mut got = self.texts(css).await;
                got.sort();
                let done = got == want;
                if let Ok(mut last) = last.lock() {
                    *last = got;
                }
                done.then_some(())
            }
        }))
        .await;
        assert!(found.is_ok(), "timed out waiting for {what}; the window showed {:?}", last.lock().map(|l| l.clone()).unwrap_or_default());
    }
}

impl Drop for App {
    fn drop(&mut self) {
        // Ends the WebDriver session (closes the app), then the driver.
        let url = format!("{}/session/{}", self.base, self.session_id);
        let _ = std::process::Command::new("curl").args(["-s", "-o", "/dev/null", "-m", "5", "-X", "DELETE", &url]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
