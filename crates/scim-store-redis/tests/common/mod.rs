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

use async_trait::async_trait;
use scim_core::schema::Registry;
use scim_store::{
    AuditEvent, AuditQuery, Capabilities, Ctx, GroupRef, Kind, Load, MemberCursor, MemberPage, NewResource, Page,
    Precondition, Query, Store, StoreError, Stored, Tenant, TokenRecord, Update,
};
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

#[async_trait]
impl Store for TempStore {
    fn capabilities(&self) -> Capabilities {
        self.store.capabilities()
    }
    async fn create(&self, ctx: &Ctx, kind: Kind, doc: NewResource) -> Result<Stored, StoreError> {
        self.store.create(ctx, kind, doc).await
    }
    async fn get(&self, ctx: &Ctx, kind: Kind, id: &str, load: Load) -> Result<Stored, StoreError> {
        self.store.get(ctx, kind, id, load).await
    }
    async fn query(&self, ctx: &Ctx, kind: Kind, query: &Query) -> Result<Page, StoreError> {
        self.store.query(ctx, kind, query).await
    }
    async fn update(
        &self,
        ctx: &Ctx,
        kind: Kind,
        id: &str,
        expect: Precondition,
        update: Update,
    ) -> Result<Stored, StoreError> {
        self.store.update(ctx, kind, id, expect, update).await
    }
    async fn delete(&self, ctx: &Ctx, kind: Kind, id: &str, expect: Precondition) -> Result<(), StoreError> {
        self.store.delete(ctx, kind, id, expect).await
    }
    async fn members(&self, ctx: &Ctx, group: &str, page: MemberCursor) -> Result<MemberPage, StoreError> {
        self.store.members(ctx, group, page).await
    }
    async fn groups_of(&self, ctx: &Ctx, member: &str) -> Result<Vec<GroupRef>, StoreError> {
        self.store.groups_of(ctx, member).await
    }
    async fn create_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        self.store.create_tenant(name).await
    }
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.store.tenants().await
    }
    async fn tenant_by_name(&self, name: &str) -> Result<Tenant, StoreError> {
        self.store.tenant_by_name(name).await
    }
    async fn delete_tenant(&self, id: &str) -> Result<(), StoreError> {
        self.store.delete_tenant(id).await
    }
    async fn create_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        self.store.create_token(token).await
    }
    async fn token(&self, id: &str) -> Result<TokenRecord, StoreError> {
        self.store.token(id).await
    }
    async fn tokens(&self, tenant: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        self.store.tokens(tenant).await
    }
    async fn revoke_token(&self, id: &str) -> Result<(), StoreError> {
        self.store.revoke_token(id).await
    }
    async fn touch_token(&self, id: &str, at: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError> {
        self.store.touch_token(id, at).await
    }
    async fn audit(&self, tenant: &str, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        self.store.audit(tenant, query).await
    }
}

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
