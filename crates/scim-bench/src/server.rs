//! The server under test: the real `scim-server` release binary as a child
//! process (so `taskset` can pin it), configured through `SCIM__`
//! environment variables to serve a SQLite file in the run's directory;
//! tenants and tokens come from the binary's own CLI.

use crate::client::{Conn, Method};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long start-up may take before the run gives up.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How the server is started.
#[derive(Debug, Clone)]
pub struct Spec {
    pub bin: PathBuf,
    pub db: PathBuf,
    /// `taskset -c` list for the server; empty: not pinned.
    pub cpus: String,
    /// `[storage.sqlite] synchronous`.
    pub synchronous: String,
    /// `[log] level`; empty: the server's default.
    pub log_level: String,
}

impl Spec {
    fn command(&self, pinned: bool) -> Command {
        let mut cmd = if pinned && !self.cpus.is_empty() {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(&self.cpus).arg(&self.bin);
            c
        } else {
            Command::new(&self.bin)
        };
        // A stray configuration file or SCIM__ variable in the caller's
        // environment must not change what is measured.
        for (k, _) in std::env::vars() {
            if k.starts_with("SCIM__") || k == "SCIM_CONFIG" {
                cmd.env_remove(k);
            }
        }
        cmd.env("SCIM__STORAGE__SQLITE__PATH", &self.db)
            .env("SCIM__STORAGE__SQLITE__SYNCHRONOUS", &self.synchronous)
            .current_dir(self.db.parent().unwrap_or(Path::new(".")));
        if !self.log_level.is_empty() {
            cmd.env("SCIM__LOG__LEVEL", &self.log_level);
        }
        cmd
    }

    /// Runs a CLI command (`tenant create ...`) and returns its stdout.
    pub fn cli(&self, args: &[&str]) -> Result<String, String> {
        let out = self
            .command(false)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.bin.display()))?;
        if !out.status.success() {
            return Err(format!(
                "scim-server {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Creates a tenant and returns a new token of it.
    pub fn tenant_with_token(&self, tenant: &str, create_tenant: bool) -> Result<String, String> {
        if create_tenant {
            self.cli(&["tenant", "create", tenant])?;
        }
        let token = self.cli(&["token", "create", "--tenant", tenant, "--description", "scim-bench"])?;
        if !token.starts_with("scim_") {
            return Err(format!("`token create` printed '{token}', not a token"));
        }
        Ok(token)
    }
}

/// A running server process.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub pid: u32,
    /// Spawn to the first 200 from /readyz.
    pub startup: Duration,
    pub log: PathBuf,
}

impl Server {
    /// Starts `serve` on a free loopback port and waits for /readyz.
    pub async fn start(spec: &Spec) -> Result<Server, String> {
        let addr = free_port()?;
        let log = spec.db.with_file_name(format!("server-{}.log", addr.port()));
        let log_file = std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let started = Instant::now();
        let child = spec
            .command(true)
            .arg("serve")
            .env("SCIM__SERVER__BIND", addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", spec.bin.display()))?;
        let pid = child.id();
        let mut server = Server {
            child,
            addr,
            pid,
            startup: Duration::ZERO,
            log,
        };
        let mut conn = Conn::new(addr, None);
        loop {
            if let Ok(200) = conn.request(Method::Get, "/readyz", None).await {
                server.startup = started.elapsed();
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "the server exited with {status} during start-up; its log: {}",
                    server.log.display()
                ));
            }
            if started.elapsed() > READY_TIMEOUT {
                server.stop();
                return Err(format!("the server was not ready after {READY_TIMEOUT:?}"));
            }
            // Polling costs the starting server a little; 1 ms keeps the
            // start-up figure within a millisecond of the truth.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Starts this benchmark's floor server (`floor.rs`) on the database,
    /// pinned like the real server, and waits for its /healthz.
    pub async fn start_floor(spec: &Spec) -> Result<Server, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
        let log = spec.db.with_file_name("floor-server.log");
        let log_file = std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let mut cmd = if spec.cpus.is_empty() {
            Command::new(&exe)
        } else {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(&spec.cpus).arg(&exe);
            c
        };
        let started = Instant::now();
        let mut child = cmd
            .arg("--floor-server")
            .arg(&spec.db)
            .arg("--synchronous")
            .arg(&spec.synchronous)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot start the floor server: {e}"))?;
        let pid = child.id();
        let stdout = child.stdout.take();
        let reading = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            if let Some(out) = stdout {
                let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line);
            }
            line
        });
        // A floor server that never prints is killed (by `Server`'s drop),
        // which ends the read.
        let line = match tokio::time::timeout(READY_TIMEOUT, reading).await {
            Ok(read) => read.map_err(|e| format!("floor server: {e}"))?,
            Err(_) => String::new(),
        };
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            pid,
            startup: Duration::ZERO,
            log,
        };
        server.addr = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("the floor server did not start; its log: {}", server.log.display()))?;
        let mut conn = Conn::new(server.addr, None);
        while !matches!(conn.request(Method::Get, "/healthz", None).await, Ok(200)) {
            if started.elapsed() > READY_TIMEOUT {
                return Err("the floor server did not answer /healthz".into());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        server.startup = started.elapsed();
        Ok(server)
    }

    /// Graceful stop (SIGTERM via kill(1): no unsafe code here), then a
    /// hard kill if it takes too long.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server's memory figures now.
    pub fn memory(&self) -> Memory {
        memory_of(self.pid)
    }

    /// `Cpus_allowed_list` of the server process.
    pub fn cpus(&self) -> String {
        cpus_of(&format!("/proc/{}/status", self.pid))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// Resident-set figures from /proc/PID/status, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    pub rss: u64,
    /// The peak resident set (VmHWM).
    pub hwm: u64,
    pub anon: u64,
    pub file: u64,
}

/// The memory figures of process `pid` now.
pub fn memory_of(pid: u32) -> Memory {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    Memory {
        rss: field("VmRSS:"),
        hwm: field("VmHWM:"),
        anon: field("RssAnon:"),
        file: field("RssFile:"),
    }
}

/// `Cpus_allowed_list` from a /proc status file.
pub fn cpus_of(status_path: &str) -> String {
    std::fs::read_to_string(status_path)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| "?".into())
}

/// A loopback port free right now (the server binds it a moment later).
fn free_port() -> Result<SocketAddr, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr().map_err(|e| format!("no free port: {e}"))
}
