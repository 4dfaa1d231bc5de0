//! Where the test leaves what a person needs to see why it failed: screenshots, the app's log,
//! the notification server's log. Printed at the end, pass or fail.

use std::path::PathBuf;

pub struct Artifacts {
    pub dir: PathBuf,
}

impl Artifacts {
    pub fn new() -> Self {
        // target/e2e, beside cargo's own tmp dir for integration tests (target/tmp).
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../e2e");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create target/e2e");
        let dir = dir.canonicalize().unwrap_or(dir);
        Self { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Artifacts {
    fn drop(&mut self) {
        let failed = std::thread::panicking();
        eprintln!("\n=== e2e artifacts ({}) in {}", if failed { "FAILED" } else { "passed" }, self.dir.display());
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            let mut names: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
            names.sort();
            for path in names {
                eprintln!("    {}", path.display());
            }
        }
        if failed {
            for log in ["app.log", "tauri-driver.log", "notifications.log"] {
                if let Ok(text) = std::fs::read_to_string(self.dir.join(log)) {
                    let tail: Vec<&str> = text.lines().rev().take(60).collect();
                    eprintln!("--- last lines of {log}:");
                    for line in tail.into_iter().rev() {
                        eprintln!("    {line}");
                    }
                }
            }
        }
    }
}
