//! A small filesystem of the test's own: a tmpfs of a fixed size mounted on a temp dir (needs
//! root, or CAP_SYS_ADMIN), unmounted on drop. Writes past its size fail with ENOSPC, as on a
//! full disk.
use std::{path::Path, process::Command};

use crate::SupportError;

pub struct SmallFs {
    dir: tempfile::TempDir,
    mounted: bool,
}

impl SmallFs {
    pub fn mount(bytes: u64) -> Result<Self, SupportError> {
        let dir = tempfile::Builder::new().prefix("lockbox-smallfs-").tempdir().map_err(SupportError::io("/tmp"))?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes},mode=0700"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|source| SupportError::Spawn { program: "mount".into(), source })?;
        if !out.status.success() {
            return Err(SupportError::Command {
                what: format!("mount -t tmpfs on {}", dir.path().display()),
                detail: format!(
                    "{}; the disk-full scenario needs root (or CAP_SYS_ADMIN) to mount a small filesystem of its own",
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            });
        }
        Ok(Self { dir, mounted: true })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Free bytes, as `statvfs` reports them (via `df`, to stay without libc).
    pub fn free_bytes(&self) -> Result<u64, SupportError> {
        let out = Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(self.path())
            .output()
            .map_err(|source| SupportError::Spawn { program: "df".into(), source })?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| SupportError::Command { what: "df".into(), detail: String::from_utf8_lossy(&out.stderr).into_owned() })
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        if self.mounted {
            let ok = Command::new("umount").arg(self.dir.path()).status().is_ok_and(|s| s.success());
            if !ok {
                let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
            }
            self.mounted = false;
        }
    }
}
