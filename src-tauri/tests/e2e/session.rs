//! What a user's desktop session has: an X display (Xvfb), a session bus of its own, and a
//! notification server on it that answers and records every `Notify` call
//! (Debian's python3-dbusmock with its notification_daemon template).

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use crate::artifacts::Artifacts;

pub struct Session {
    pub display: String,
    pub bus: String,
    pub notify_log: PathBuf,
    children: Vec<Child>,
}

impl Session {
    pub fn start(artifacts: &Artifacts) -> Self {
        let (display, xvfb) = start_xvfb(artifacts);
        let mut bus_daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian package dbus)");
        let mut address = String::new();
        BufReader::new(bus_daemon.stdout.take().expect("piped"))
            .read_line(&mut address)
            .expect("dbus-daemon prints its address");
        let bus = address.trim().to_owned();
        assert!(bus.starts_with("unix:"), "unexpected bus address {bus:?}");

        let notify_log = artifacts.dir.join("notifications.log");
        let mock = Command::new("/usr/bin/python3")
            .args(["-m", "dbusmock", "--session", "--template", "notification_daemon", "-l"])
            .arg(&notify_log)
            .env("DBUS_SESSION_BUS_ADDRESS", &bus)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3-dbusmock (Debian package) under /usr/bin/python3");
        // Wait for the name on the bus, not for a guessed time.
        let waited = Command::new("gdbus")
            .args(["wait", "--session", "--timeout", "30", "org.freedesktop.Notifications"])
            .env("DBUS_SESSION_BUS_ADDRESS", &bus)
            .status()
            .expect("gdbus (libglib2.0-bin)");
        assert!(waited.success(), "the mock notification server never appeared on the bus");
        Self { display, bus, notify_log, children: vec![xvfb, bus_daemon, mock] }
    }

    /// Every `Notify` call the notification server received: (app name, title, body).
    pub fn toasts(&self) -> Vec<(String, String, String)> {
        let Ok(log) = std::fs::read_to_string(&self.notify_log) else { return Vec::new() };
        log.lines().filter_map(parse_notify).collect()
    }

    /// Saves what a person would see on the screen.
    pub fn screenshot(&self, path: &Path) {
        let status = Command::new("import")
            .args(["-display", &self.display, "-window", "root"])
            .arg(path)
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("e2e: could not save screenshot {}", path.display());
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start_xvfb(artifacts: &Artifacts) -> (String, Child) {
    // `-displayfd 1`: Xvfb picks a free display and prints its number once it accepts clients.
    let log = std::fs::File::create(artifacts.dir.join("xvfb.log")).expect("xvfb log");
    let mut child = Command::new("Xvfb")
        .args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("Xvfb (Debian package xvfb)");
    let mut number = String::new();
    BufReader::new(child.stdout.take().expect("piped")).read_line(&mut number).expect("Xvfb prints its display");
    let number = number.trim();
    assert!(!number.is_empty(), "Xvfb did not start; see {}/xvfb.log", artifacts.dir.display());
    (format!(":{number}"), child)
}

/// One dbusmock log line: `<time> Notify "app" 0 "icon" "title" "body" [] {...} -1`. dbusmock
/// does not escape quotes, so the title ends at the first `" "` after it begins.
fn parse_notify(line: &str) -> Option<(String, String, String)> {
    let rest = &line[line.find("Notify \"")? + "Notify \"".len()..];
    let (app, rest) = rest.split_once("\" ")?;
    let rest = rest.split_once(" \"")?.1; // the replaces_id, then the icon
    let (_icon, rest) = rest.split_once("\" \"")?;
    let text = &rest[..rest.rfind("\" [")?];
    let (title, body) = text.split_once("\" \"")?;
    Some((app.to_owned(), title.to_owned(), body.to_owned()))
}

#[test]
fn parses_a_dbusmock_notify_line() {
    let line = r#"1796362552.610 Notify "lockbox-desktop" 0 "" "a.txt was stored" "It is safe in your LockBox." [] {"urgency": <byte 1>} -1"#;
    assert_eq!(
        parse_notify(line),
        Some(("lockbox-desktop".into(), "a.txt was stored".into(), "It is safe in your LockBox.".into()))
    );
}
