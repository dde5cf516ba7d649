//! The backends an end-to-end test runs on, where the networked ones come
//! from (environment variables, as for the store crates' own suites), a
//! scratch space per test (a Redis key prefix, a PostgreSQL schema) that is
//! removed afterwards, and throwaway servers a test may stop and start: a
//! private `redis-server` and a private PostgreSQL cluster.

use scim_server::Config;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `redis://127.0.0.1:6379`: the Redis the redis tests run against.
pub const REDIS_URL_VAR: &str = "SCIM_TEST_REDIS_URL";
/// Comma-separated seed node URLs of a Redis Cluster
/// (`scripts/redis-cluster.sh start` prints a value).
pub const REDIS_CLUSTER_VAR: &str = "SCIM_TEST_REDIS_CLUSTER_NODES";
/// `postgres://postgres@127.0.0.1:5432/test`: the database the postgres
/// tests make their schemas in.
pub const POSTGRES_URL_VAR: &str = "SCIM_TEST_POSTGRES_URL";

/// The storage backends an end-to-end test can run on. A backend added to
/// the server is added here and to `backend_tests!`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Memory,
    Postgres,
    Redis,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Memory => "memory",
            Backend::Postgres => "postgres",
            Backend::Redis => "redis",
        }
    }

    /// Why tests on this backend cannot run here (its variable is unset),
    /// or `None`. A variable that is set but names a server that does not
    /// answer is no reason to skip: the test fails.
    pub fn skip_reason(self) -> Option<String> {
        let var = match self {
            Backend::Sqlite | Backend::Memory => return None,
            Backend::Postgres => POSTGRES_URL_VAR,
            Backend::Redis => REDIS_URL_VAR,
        };
        env(var).is_none().then(|| format!("{var} is not set"))
    }
}

/// A non-empty environment variable.
pub fn env(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.trim().is_empty())
}

/// A name no other test (or earlier run) has used: lower-case, so it is a
/// valid PostgreSQL schema and Redis key prefix alike.
pub fn fresh_name(label: &str) -> String {
    format!("e2e_{label}_{}", uuid::Uuid::new_v4().simple())
}

/// Points `config` at `backend` in a scratch space of its own; what it
/// returns removes that space when dropped (after the servers stopped).
/// Panics when the backend's variable is unset: callers check
/// [`Backend::skip_reason`] first.
pub fn prepare(backend: Backend, config: &mut Config) -> Option<Scratch> {
    config.storage.backend = backend.name().into();
    match backend {
        Backend::Sqlite | Backend::Memory => None,
        Backend::Redis => {
            let url = env(REDIS_URL_VAR).unwrap_or_else(|| panic!("{REDIS_URL_VAR} is not set"));
            let prefix = fresh_name("redis");
            config.storage.redis.url = url.clone();
            config.storage.redis.key_prefix = prefix.clone();
            // Tests share one Redis on a small machine.
            config.storage.redis.response_timeout = scim_server::config::HumanDuration::secs(30);
            Some(Scratch::RedisPrefix {
                servers: vec![url],
                prefix,
            })
        }
        Backend::Postgres => {
            let url = env(POSTGRES_URL_VAR).unwrap_or_else(|| panic!("{POSTGRES_URL_VAR} is not set"));
            let schema = fresh_name("pg");
            config.storage.postgres.url = Some(url.clone());
            config.storage.postgres.schema = schema.clone();
            // Tests run in parallel against one server.
            config.storage.postgres.pool_size = 8;
            config.storage.postgres.connect_timeout = scim_server::config::HumanDuration::secs(10);
            Some(Scratch::PgSchema { url, schema })
        }
    }
}

/// A test's scratch space on a shared server, removed when dropped. Best
/// effort: leftovers are garbage under a unique name, not a failure.
pub enum Scratch {
    RedisPrefix { servers: Vec<String>, prefix: String },
    PgSchema { url: String, schema: String },
}

impl Drop for Scratch {
    fn drop(&mut self) {
        match self {
            Scratch::RedisPrefix { servers, prefix } => {
                for server in servers.iter() {
                    if let Err(e) = scim_store_redis::delete_prefix(server, prefix) {
                        eprintln!("cannot remove the keys under {prefix}: {e}");
                    }
                }
            }
            Scratch::PgSchema { url, schema } => {
                let (url, schema) = (url.clone(), schema.clone());
                // Drop may run inside a runtime: use a thread of its own.
                let dropped = std::thread::spawn(move || drop_pg_schema(&url, &schema)).join();
                if let Ok(Err(e)) = dropped {
                    eprintln!("cannot drop a test schema: {e}");
                }
            }
        }
    }
}

fn drop_pg_schema(url: &str, schema: &str) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let client = pg_client(url).await?;
        client
            .batch_execute(&format!(
                "SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
            ))
            .await
            .map_err(|e| e.to_string())
    })
}

/// A plain connection, for checks and clean-up behind the server's back.
pub async fn pg_client(url: &str) -> Result<tokio_postgres::Client, String> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("cannot connect to {POSTGRES_URL_VAR}: {e}"))?;
    tokio::spawn(connection);
    Ok(client)
}

/// Polls `ready` every 50 ms for up to `limit`.
fn wait_until(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    ready()
}

/// A `redis-server` of the test's own on a fixed loopback port, in its own
/// directory: stopped abruptly (SIGKILL of its pid, after a `SAVE` so its
/// data comes back) and started again on the same port. Never the shared
/// one.
pub struct PrivateRedis {
    pub port: u16,
    dir: super::TempDir,
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts one; panics (with the reason) when it cannot, or when the port
    /// already answers (a leftover of another run).
    pub fn start(port: u16) -> PrivateRedis {
        let probe = redis::Client::open(format!("redis://127.0.0.1:{port}")).and_then(|c| c.get_connection());
        assert!(
            probe.is_err(),
            "port {port} already has a server: stop it first (it is not this test's)"
        );
        let mut redis = PrivateRedis {
            port,
            dir: super::TempDir::new("scim-e2e-redis"),
            child: None,
        };
        redis.resume();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn answers(&self) -> bool {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection())
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
            .is_ok()
    }

    /// Saves, then kills the process: connections break as in a crash.
    pub fn crash(&mut self) {
        if let Ok(mut c) = redis::Client::open(self.url()).and_then(|c| c.get_connection()) {
            let saved: redis::RedisResult<String> = redis::cmd("SAVE").query(&mut c);
            assert!(saved.is_ok(), "SAVE failed: {saved:?}");
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        assert!(
            wait_until(Duration::from_secs(5), || !self.answers()),
            "the private redis-server still answers"
        );
    }

    /// Starts (again) on the same port, with the data saved by `crash`.
    pub fn resume(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run redis-server (is it installed?): {e}"));
        self.child = Some(child);
        assert!(
            wait_until(Duration::from_secs(10), || self.answers()),
            "the private redis-server on port {} did not start",
            self.port
        );
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A throwaway PostgreSQL cluster (initdb, trust auth, no fsync) on a fixed
/// loopback port, run as the `postgres` user: stopped (`pg_ctl stop -m
/// immediate`, a crash) and started again. Never the shared one.
pub struct PrivatePostgres {
    pub port: u16,
    data: PathBuf,
    _dir: super::TempDir,
    bin: PathBuf,
}

impl PrivatePostgres {
    /// Panics with the reason when PostgreSQL's tools are missing, `runuser`
    /// cannot switch to `postgres`, or the cluster does not start.
    pub fn start(port: u16) -> PrivatePostgres {
        let bin = pg_bin_dir();
        let dir = super::TempDir::new("scim-e2e-pg");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let owner = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(owner.success(), "cannot chown {} to postgres", dir.path().display());
        let out = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin.join("initdb"))
            .args(["-A", "trust", "--no-sync", "-U", "postgres", "-D"])
            .arg(&data)
            .output()
            .unwrap_or_else(|e| panic!("cannot run initdb: {e}"));
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pg = PrivatePostgres {
            port,
            data,
            _dir: dir,
            bin,
        };
        pg.resume();
        pg
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) -> std::process::Output {
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off",
            self.port,
            self.data.display()
        );
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-w", "-t", "30", "-o", &opts, "-l"])
            .arg(self.data.join("server.log"))
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run pg_ctl: {e}"))
    }

    /// Starts (again), waiting until it accepts connections.
    pub fn resume(&self) {
        let out = self.pg_ctl(&["start"]);
        let log = std::fs::read_to_string(self.data.join("server.log")).unwrap_or_default();
        assert!(
            out.status.success(),
            "pg_ctl start on port {} failed: {}\n{log}",
            self.port,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stops at once, without a checkpoint: clients see their connections
    /// die as in a crash.
    pub fn crash(&self) {
        let out = self.pg_ctl(&["stop", "-m", "immediate"]);
        assert!(
            out.status.success(),
            "pg_ctl stop failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["stop", "-m", "immediate"]);
    }
}

/// Where `initdb` and `pg_ctl` are: on PATH, else Debian's
/// `/usr/lib/postgresql/<version>/bin` (the newest).
fn pg_bin_dir() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file());
    if let Some(dir) = on_path {
        return dir;
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|it| it.filter_map(|e| e.ok().map(|e| e.path().join("bin"))).collect())
        .unwrap_or_default();
    versions.retain(|d| Path::new(d).join("initdb").is_file());
    versions.sort();
    versions
        .pop()
        .unwrap_or_else(|| panic!("initdb not found on PATH nor in /usr/lib/postgresql/*/bin"))
}
