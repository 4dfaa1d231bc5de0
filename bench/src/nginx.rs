//! nginx with `dav_methods PUT` in a temp prefix of its own: the "write the request body to
//! disk" baseline for uploads (Debian's `nginx-light` has the DAV module).

use std::{net::SocketAddr, path::PathBuf, process::Stdio, time::Duration};

use tokio::process::{Child, Command};

use crate::BenchError;

pub struct Nginx {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Nginx {
    /// Starts `nginx -p <dir> -c <dir>/nginx.conf` (`daemon off`) on a free loopback port with
    /// as many workers as cores (the services get a tokio worker per core too).
    pub async fn start() -> Result<Self, BenchError> {
        let dir = tempfile::Builder::new().prefix("lockbox-bench-nginx-").tempdir().map_err(BenchError::io("a temp dir for nginx"))?;
        let root = dir.path().join("root");
        std::fs::create_dir_all(&root).map_err(BenchError::io("the nginx root"))?;
        // A free port: nginx cannot bind port 0 and tell us which it got.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(BenchError::io("a free port for nginx"))?;
        let p = dir.path().display();
        // As root, nginx's workers would switch to `nobody` and could not write the prefix.
        let user = if unsafe_is_root() { "user root root;" } else { "" };
        let conf = format!(
            "{user}\n\
             daemon off;\n\
             worker_processes auto;\n\
             pid {p}/nginx.pid;\n\
             error_log {p}/error.log warn;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n\
               access_log off;\n\
               client_body_temp_path {p}/body;\n\
               proxy_temp_path {p}/proxy;\n\
               fastcgi_temp_path {p}/fastcgi;\n\
               uwsgi_temp_path {p}/uwsgi;\n\
               scgi_temp_path {p}/scgi;\n\
               server {{\n\
                 listen {addr};\n\
                 root {root};\n\
                 client_max_body_size 0;\n\
                 location / {{ dav_methods PUT; create_full_put_path on; dav_access user:rw; }}\n\
               }}\n\
             }}\n",
            root = root.display(),
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).map_err(BenchError::io("nginx.conf"))?;
        let child = Command::new("nginx")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| BenchError::NginxStart { hint: "install Debian's nginx-light (./scripts/bench.sh does)", source })?;
        let mut nginx = Self { addr, dir, child };
        nginx.wait_listening(Duration::from_secs(10)).await?;
        Ok(nginx)
    }

    /// nginx has no readiness signal: connect until it accepts, while it is alive.
    async fn wait_listening(&mut self, limit: Duration) -> Result<(), BenchError> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if tokio::net::TcpStream::connect(self.addr).await.is_ok() {
                return Ok(());
            }
            let exited = self.child.try_wait().map_err(BenchError::io("the nginx process"))?.is_some();
            if exited || tokio::time::Instant::now() >= deadline {
                return Err(BenchError::NginxNotReady { secs: limit.as_secs(), log: self.log() });
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn log(&self) -> PathBuf {
        self.dir.path().join("error.log")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Where a PUT to `path` landed.
    pub fn file(&self, path: &str) -> PathBuf {
        self.dir.path().join("root").join(path.trim_start_matches('/'))
    }

    /// SIGQUIT (graceful), so the master takes its workers with it. Returns its directory
    /// (with what it stored), removed on drop.
    pub async fn stop(mut self) -> Result<tempfile::TempDir, BenchError> {
        if let Some(pid) = self.child.id() {
            // SAFETY: signalling our own child by pid.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGQUIT);
            }
        }
        match tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await {
            Ok(status) => status.map(drop).map_err(BenchError::io("waiting for nginx"))?,
            Err(_) => self.child.kill().await.map_err(BenchError::io("killing nginx"))?,
        }
        Ok(self.dir)
    }
}

fn unsafe_is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}
