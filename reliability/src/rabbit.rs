//! A throwaway RabbitMQ node of the test's own, next to the shared one: its own node name,
//! AMQP and distribution ports, data, logs, config and Erlang cookie (HOME) in a temp dir,
//! run in the foreground as a child in its own process group. It can be stopped hard
//! (`kill -9`, the whole group) and started again on the same data dir, so durable queues and
//! the messages in them survive, as after a real crash. Killed on drop.
use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use crate::SupportError;

const SERVER: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const CTL: &str = "/usr/lib/rabbitmq/bin/rabbitmqctl";
/// Erlang and RabbitMQ boot in a few seconds here; a loaded CI machine needs more.
const START_LIMIT: Duration = Duration::from_secs(90);

pub struct RabbitNode {
    pub name: String,
    pub port: u16,
    dist_port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

/// A port nobody listens on right now (the OS picks it; we release it for the node).
pub fn free_port() -> Result<u16, SupportError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(SupportError::io("127.0.0.1:0"))?;
    let port = listener.local_addr().map_err(SupportError::io("127.0.0.1:0"))?.port();
    Ok(port)
}

impl RabbitNode {
    /// Starts a fresh node and waits until it serves AMQP.
    pub fn start() -> Result<Self, SupportError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = tempfile::Builder::new().prefix("lockbox-rabbit-").tempdir().map_err(SupportError::io("/tmp"))?;
        for sub in ["home", "mnesia", "log"] {
            let path = dir.path().join(sub);
            std::fs::create_dir_all(&path).map_err(SupportError::io(path))?;
        }
        let port = free_port()?;
        // The distribution port must differ from the AMQP one and not be in use either.
        let mut dist_port = free_port()?;
        while dist_port == port {
            dist_port = free_port()?;
        }
        let conf = dir.path().join("rabbitmq.conf");
        std::fs::write(&conf, format!("listeners.tcp.default = {port}\nloopback_users.guest = true\n"))
            .map_err(SupportError::io(&conf))?;
        let plugins = dir.path().join("enabled_plugins");
        std::fs::write(&plugins, "[].\n").map_err(SupportError::io(&plugins))?;
        let mut node = Self { name: format!("rel-{}@localhost", &id[..10]), port, dist_port, dir, child: None };
        node.boot()?;
        Ok(node)
    }

    pub fn amqp_url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    fn base(&self) -> &Path {
        self.dir.path()
    }

    fn boot(&mut self) -> Result<(), SupportError> {
        let base = self.base().to_path_buf();
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(base.join("log/server.out"))
            .map_err(SupportError::io(base.join("log/server.out")))?;
        let err = out.try_clone().map_err(SupportError::io(base.join("log/server.out")))?;
        let mut command = Command::new(SERVER);
        command
            .env("HOME", base.join("home"))
            .env("RABBITMQ_NODENAME", &self.name)
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("RABBITMQ_CONFIG_FILE", base.join("rabbitmq.conf"))
            .env("RABBITMQ_CONF_ENV_FILE", "/dev/null")
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", base.join("enabled_plugins"))
            .env("RABBITMQ_MNESIA_BASE", base.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", base.join("log"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        // Its own process group, so kill -9 reaches beam.smp and its helpers, not us.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().map_err(|source| SupportError::Spawn { program: SERVER.into(), source })?;
        tracing::info!(node = %self.name, port = self.port, pid = child.id(), "throwaway RabbitMQ node starting");
        self.child = Some(child);
        self.await_startup()
    }

    /// `rabbitmqctl` bound to this node and its cookie.
    pub fn ctl(&self, args: &[&str]) -> Result<String, SupportError> {
        let out = Command::new(CTL)
            .env("HOME", self.base().join("home"))
            .arg("-n")
            .arg(&self.name)
            .args(args)
            .output()
            .map_err(|source| SupportError::Spawn { program: CTL.into(), source })?;
        if !out.status.success() {
            return Err(SupportError::Command {
                what: format!("rabbitmqctl -n {} {}", self.name, args.join(" ")),
                detail: format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Waits until the node runs its apps. `await_startup` fails at once while the node's
    /// distribution is not up yet, so it is asked again until the deadline.
    fn await_startup(&mut self) -> Result<(), SupportError> {
        let deadline = std::time::Instant::now() + START_LIMIT;
        loop {
            if self.ctl(&["await_startup", "--timeout", "30"]).is_ok() {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(SupportError::Command {
                    what: format!("the throwaway RabbitMQ node {}", self.name),
                    detail: format!("exited with {status}; see {}", self.base().join("log/server.out").display()),
                });
            }
            if std::time::Instant::now() >= deadline {
                return Err(SupportError::timeout(format!("RabbitMQ node {} to start", self.name), START_LIMIT));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// A crash: SIGKILL to the node's whole process group, then reaped.
    pub fn kill(&mut self) -> Result<(), SupportError> {
        let Some(mut child) = self.child.take() else { return Ok(()) };
        let group = format!("-{}", child.id());
        let status = Command::new("kill")
            .args(["-KILL", "--", &group])
            .status()
            .map_err(|source| SupportError::Spawn { program: "kill".into(), source })?;
        if !status.success() {
            child.kill().map_err(SupportError::io("rabbitmq-server"))?;
        }
        child.wait().map_err(SupportError::io("rabbitmq-server"))?;
        tracing::info!(node = %self.name, "throwaway RabbitMQ node killed");
        Ok(())
    }

    /// Starts the node again on the same data dir, name and ports.
    pub fn restart(&mut self) -> Result<(), SupportError> {
        self.kill()?;
        self.boot()
    }

    /// Messages ready in `queue` (as the broker counts them).
    pub fn queue_depth(&self, queue: &str) -> Result<u64, SupportError> {
        let listing = self.ctl(&["list_queues", "-q", "--no-table-headers", "name", "messages"])?;
        Ok(listing
            .lines()
            .filter_map(|l| l.split_once(char::is_whitespace))
            .find(|(name, _)| *name == queue)
            .and_then(|(_, n)| n.trim().parse().ok())
            .unwrap_or(0))
    }

    pub fn data_dir(&self) -> PathBuf {
        self.base().join("mnesia")
    }
}

impl Drop for RabbitNode {
    fn drop(&mut self) {
        if let Err(error) = self.kill() {
            tracing::warn!(%error, node = %self.name, "could not kill the throwaway RabbitMQ node");
        }
    }
}
