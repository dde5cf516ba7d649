//! Test helpers shared by this crate's integration tests: the Redis (or
//! Redis Cluster) from the environment, and stores under fresh uuid key
//! prefixes whose keys are deleted when the store is dropped.
#![allow(dead_code, reason = "each test binary uses part of the helpers")]
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a failed setup must fail the test"
)]

use scim_core::schema::Registry;
use scim_store_redis::{RedisConfig, RedisStore};
use std::time::Duration;

pub const URL_VAR: &str = "SCIM_TEST_REDIS_URL";
pub const NODES_VAR: &str = "SCIM_TEST_REDIS_CLUSTER_NODES";

/// The test Redis, if one is configured.
pub fn url() -> Option<String> {
    std::env::var(URL_VAR).ok().filter(|u| !u.trim().is_empty())
}

/// The test Redis, or `None` after printing why the test is skipped.
pub fn url_or_skip(test: &str) -> Option<String> {
    let url = url();
    if url.is_none() {
        println!("skipped: {test}: {URL_VAR} is not set");
    }
    url
}

/// The test cluster's seed nodes, if configured.
pub fn cluster_nodes() -> Option<Vec<String>> {
    let nodes: Vec<String> = std::env::var(NODES_VAR)
        .ok()?
        .split(',')
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    (!nodes.is_empty()).then_some(nodes)
}

/// A key prefix no other test (or earlier run) has used.
pub fn fresh_prefix(label: &str) -> String {
    format!("scimtest-{label}-{}", uuid::Uuid::new_v4().simple())
}

/// Generous timeouts: tests share one Redis on a small machine.
pub fn single(url: &str, prefix: &str) -> RedisConfig {
    let mut c = RedisConfig::new(url).with_prefix(prefix);
    c.connect_timeout = Duration::from_secs(5);
    c.response_timeout = Duration::from_secs(30);
    c
}

pub fn cluster(nodes: &[String], prefix: &str) -> RedisConfig {
    let mut c = RedisConfig::cluster(nodes.iter().cloned()).with_prefix(prefix);
    c.connect_timeout = Duration::from_secs(5);
    c.response_timeout = Duration::from_secs(30);
    c
}

/// A store under its own key prefix; its keys go when it is dropped.
pub struct TempStore {
    pub store: RedisStore,
    /// Where to delete from: the server, or every cluster master.
    servers: Vec<String>,
    prefix: String,
}

impl TempStore {
    /// Connects; panics when Redis cannot be reached: a configured Redis
    /// that is down must fail the run, not skip it.
    pub async fn new(config: RedisConfig, registry: std::sync::Arc<Registry>) -> TempStore {
        let servers = if config.cluster {
            masters(&config.nodes)
        } else {
            vec![config.url.clone()]
        };
        let prefix = config.key_prefix.clone();
        let shown = config.to_string();
        let store = RedisStore::connect(config, registry)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test Redis ({shown}): {e}"));
        TempStore { store, servers, prefix }
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        for server in &self.servers {
            // Best effort: a leftover prefix is garbage, not a failure.
            let _ = scim_store_redis::delete_prefix(server, &self.prefix);
        }
    }
}

/// The URLs of a cluster's masters, from `CLUSTER NODES` on a seed node.
pub fn masters(seeds: &[String]) -> Vec<String> {
    let seed = seeds.first().expect("at least one cluster node");
    let mut conn = redis::Client::open(seed.as_str())
        .and_then(|c| c.get_connection())
        .unwrap_or_else(|e| panic!("cannot reach cluster node {seed}: {e}"));
    let nodes: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query(&mut conn)
        .expect("CLUSTER NODES");
    nodes
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let flags = fields.get(2)?;
            if !flags.split(',').any(|f| f == "master") || flags.contains("fail") {
                return None;
            }
            let addr = fields.get(1)?.split('@').next()?;
            Some(format!("redis://{addr}"))
        })
        .collect()
}

scim_store::forward_store!(TempStore, store);

/// A throwaway `redis-server` child on a loopback port, killed (by its own
/// pid) when stopped or dropped. Nothing is persisted.
pub struct Server {
    child: std::process::Child,
    pub port: u16,
}

impl Server {
    /// Starts one and waits until it answers PING; `None` when
    /// `redis-server` cannot be run here.
    pub fn start(port: u16, extra: &[&str]) -> Option<Server> {
        let port_text = port.to_string();
        let mut args = vec![
            "--port",
            &port_text,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ];
        args.extend_from_slice(extra);
        let child = std::process::Command::new("redis-server")
            .args(&args)
            .stdout(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let server = Server { child, port };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Ok(mut c) = redis::Client::open(server.url()).and_then(|c| c.get_connection())
                && redis::cmd("PING").query::<String>(&mut c).is_ok()
            {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A free loopback port below 32768 (the kernel's ephemeral range starts
/// there) whose cluster bus port (+10000) is free too.
pub fn free_port() -> u16 {
    let seed = (std::process::id() % 5000) as u16;
    let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
    (0..500)
        .map(|i| 12_000 + (seed + i * 7) % 10_000)
        .find(|p| free(*p) && free(p + 10_000))
        .expect("a free port below 32768")
}
