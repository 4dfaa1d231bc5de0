//! A real drag and drop: a GTK window offers the files as a drag source (`text/uri-list`, as a
//! file manager does), and xdotool presses on it, moves onto the LockBox window in steps and
//! releases, so Tauri gets the native DragDrop events with the real paths.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use crate::session::Session;

fn xdotool(session: &Session, args: &[String]) -> String {
    let out = Command::new("xdotool").args(args).env("DISPLAY", &session.display).output().expect("xdotool");
    assert!(out.status.success(), "xdotool {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The LockBox window's centre on the screen.
pub fn lockbox_window_centre(session: &Session) -> (i64, i64) {
    let id = xdotool(session, &["search".into(), "--name".into(), "^LockBox$".into()]);
    let id = id.lines().next().expect("the LockBox window is on screen").to_owned();
    let geometry = xdotool(session, &["getwindowgeometry".into(), "--shell".into(), id]);
    let value = |key: &str| -> i64 {
        geometry.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    (value("X") + value("WIDTH") / 2, value("Y") + value("HEIGHT") / 2)
}

/// Drags `paths` from a GTK drag source onto the LockBox window and drops them there.
/// Returns once the drag source saw the drag end.
pub fn drop_on_lockbox(session: &Session, paths: &[PathBuf]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/e2e/drag_source.py");
    let mut source = Command::new("/usr/bin/python3")
        .arg(&script)
        .args(paths)
        .env("DISPLAY", &session.display)
        .env("DBUS_SESSION_BUS_ADDRESS", &session.bus)
        .env("NO_AT_BRIDGE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the GTK drag source (python3-gi, gir1.2-gtk-3.0)");
    let mut lines = BufReader::new(source.stdout.take().expect("piped")).lines();
    let ready = lines.next().and_then(Result::ok).unwrap_or_default();
    let mut words = ready.split_whitespace().skip(1).filter_map(|w| w.parse::<i64>().ok());
    let (Some(sx), Some(sy)) = (words.next(), words.next()) else {
        let _ = source.kill();
        panic!("the drag source did not start: {ready:?}");
    };
    let (tx, ty) = lockbox_window_centre(session);

    // Press, move in steps (GTK starts a drag only after real motion), hover, release. The
    // pauses pace the input like a hand would; they do not wait for any result.
    let mut args: Vec<String> = vec!["mousemove".into(), sx.to_string(), sy.to_string(), "mousedown".into(), "1".into()];
    for step in 1..=24 {
        let x = sx + (tx - sx) * step / 24;
        let y = sy + (ty - sy) * step / 24;
        args.extend(["mousemove".into(), x.to_string(), y.to_string(), "sleep".into(), "0.03".into()]);
    }
    args.extend(["mousemove".into(), (tx + 4).to_string(), (ty + 4).to_string(), "sleep".into(), "0.3".into()]);
    args.extend(["mousemove".into(), tx.to_string(), ty.to_string(), "sleep".into(), "0.2".into(), "mouseup".into(), "1".into()]);
    xdotool(session, &args);

    // The drop is done when GTK says the drag ended; a drag that never started would leave
    // the source waiting, so it is killed after a deadline.
    let pid = source.id().to_string();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(30));
        let _ = Command::new("kill").arg(&pid).status();
    });
    let ended = lines.any(|l| l.map(|l| l.trim() == "drag-end").unwrap_or(false));
    let _ = source.kill();
    let _ = source.wait();
    assert!(ended, "the drag never ended on the LockBox window");
}
