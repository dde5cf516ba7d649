//! Several server instances on one shared backend, as behind a load
//! balancer: two on Redis, three on PostgreSQL, each a `scim-server serve`
//! process of its own (the binary cargo built next to this test) on its own
//! loopback port, with its own store connections and token cache, all
//! started from one configuration file. Tenants and tokens come from the
//! binary's CLI, as an operator makes them. Requests go round-robin over
//! the instances. Every test has its own Redis key prefix or PostgreSQL
//! schema.
//!
//! What must hold across instances: uniqueness, no lost membership change,
//! If-Match as a compare-and-swap, tokens created or revoked anywhere, and
//! exactly one audit event per acknowledged mutation (matched by the
//! request id each response carries).

// Test code: a failed unwrap or assertion is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::Method;
use scim_server::Config;
use scim_store::{AuditQuery, Store, Tenant};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// The token cache TTL of these tests: how long a revoked token may keep
/// working on an instance that verified it.
const TOKEN_TTL: Duration = Duration::from_secs(2);

fn instances_of(backend: Backend) -> usize {
    match backend {
        Backend::Postgres => 3,
        _ => 2,
    }
}

/// The `scim-server` binary of this build: `cargo test --workspace` builds
/// it (for the server's own integration tests) into the directory above
/// this test's (`target/<profile>/deps/..`).
fn server_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().and_then(Path::parent).unwrap().join("scim-server");
    assert!(
        bin.exists(),
        "{} is missing: build it first (`cargo build -p scim-server`; `cargo test --workspace` does)",
        bin.display()
    );
    bin
}

/// One `scim-server serve` process.
struct Instance {
    child: Child,
    base_url: String,
    log: PathBuf,
}

impl Instance {
    async fn start(config_file: &Path, dir: &Path) -> Instance {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join(format!("server-{port}.log"));
        let child = command(config_file)
            .arg("serve")
            .env("SCIM__SERVER__BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut instance = Instance {
            child,
            base_url: format!("http://127.0.0.1:{port}/scim/v2"),
            log,
        };
        let ready = format!("http://127.0.0.1:{port}/readyz");
        let started = Instant::now();
        loop {
            if let Ok(r) = reqwest::get(&ready).await
                && r.status() == 200
            {
                return instance;
            }
            let exited = instance.child.try_wait().unwrap();
            assert!(
                exited.is_none() && started.elapsed() < Duration::from_secs(30),
                "instance on port {port} not ready ({exited:?}); its log:\n{}",
                std::fs::read_to_string(&instance.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Graceful stop (SIGTERM): in-flight requests finish, the store closes.
    async fn stop(mut self) {
        Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "instance did not stop on SIGTERM");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // A failed test: no process outlives it.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `scim-server --config FILE`, with nothing of the caller's SCIM__
/// environment.
fn command(config_file: &Path) -> Command {
    let mut cmd = Command::new(server_bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("SCIM__") || k == "SCIM_CONFIG" {
            cmd.env_remove(k);
        }
    }
    cmd.arg("--config").arg(config_file).stdin(Stdio::null());
    cmd
}

/// Runs a CLI command of the binary; returns its stdout.
fn cli(config_file: &Path, args: &[&str]) -> String {
    let out = command(config_file).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "scim-server {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A new token of tenant `acme` from the CLI: (its id, the token).
fn create_token(config_file: &Path, description: &str) -> (String, String) {
    let token = cli(
        config_file,
        &["token", "create", "--tenant", "acme", "--description", description],
    );
    // `scim_<id>_<secret>`
    let id = token.strip_prefix("scim_").and_then(|t| t.split('_').next()).unwrap();
    (id.to_string(), token)
}

/// Instances of one deployment: one configuration file, one backend space.
struct Fleet {
    instances: Vec<Instance>,
    clients: Vec<Scim>,
    config_file: PathBuf,
    /// The deployment's store opened by the test itself, to read the audit
    /// log behind the servers' backs.
    store: Arc<dyn Store>,
    tenant: Tenant,
    /// Request ids of the acknowledged (2xx) mutations.
    acked: Arc<Mutex<Vec<String>>>,
    // Dropped after the servers: the key prefix or schema, then files.
    _scratch: Option<Scratch>,
    _dir: TempDir,
}

impl Fleet {
    async fn start(backend: Backend) -> Fleet {
        let dir = TempDir::new("scim-e2e-fleet");
        let mut config: Config = test_config(dir.path());
        let scratch = prepare(backend, &mut config);
        config.auth.cache_ttl_secs = TOKEN_TTL.as_secs();
        config.scim.cursor_secret = Some("one secret for the whole deployment".into());
        config.server.workers = 2;
        let config_file = dir.path().join("scim-server.toml");
        std::fs::write(&config_file, toml::to_string(&config).unwrap()).unwrap();
        // The operator's tenant and token, made with the CLI.
        cli(&config_file, &["tenant", "create", "acme"]);
        let (_, token) = create_token(&config_file, "fleet");
        let mut instances = Vec::new();
        for _ in 0..instances_of(backend) {
            instances.push(Instance::start(&config_file, dir.path()).await);
        }
        let store = scim_server::store::open(&config, Arc::new(config.registry().unwrap()))
            .await
            .unwrap();
        let tenant = store.tenant_by_name("acme").await.unwrap();
        let clients = instances.iter().map(|r| Scim::new(&r.base_url, Some(&token))).collect();
        Fleet {
            instances,
            clients,
            config_file,
            store,
            tenant,
            acked: Arc::new(Mutex::new(Vec::new())),
            _scratch: scratch,
            _dir: dir,
        }
    }

    /// The client of instance `i` (round-robin).
    fn client(&self, i: usize) -> Scim {
        self.clients[i % self.clients.len()].clone()
    }

    /// A mutation through instance `i`; a 2xx answer is recorded as
    /// acknowledged, by the request id the server gave it.
    async fn mutate(&self, i: usize, method: Method, path: &str, body: Option<&Value>, if_match: Option<&str>) -> Resp {
        send_mutation(&self.client(i), &self.acked, method, path, body, if_match).await
    }

    /// Every audit event of the tenant.
    async fn audit(&self) -> Vec<scim_store::AuditEvent> {
        let mut all = Vec::new();
        loop {
            let query = AuditQuery {
                after_seq: all.last().map(|e: &scim_store::AuditEvent| e.seq),
                limit: 500,
                ..AuditQuery::default()
            };
            let page = self.store.audit(&self.tenant.id, &query).await.unwrap();
            if page.is_empty() {
                return all;
            }
            all.extend(page);
        }
    }

    /// Exactly one audit event per acknowledged mutation, and none else.
    async fn assert_audit_matches_acknowledged(&self) {
        let mut expected: BTreeMap<String, usize> = BTreeMap::new();
        for id in self.acked.lock().unwrap().iter() {
            *expected.entry(id.clone()).or_default() += 1;
        }
        assert!(
            expected.values().all(|n| *n == 1),
            "the server gave two responses one request id"
        );
        let mut got: BTreeMap<String, usize> = BTreeMap::new();
        for e in self.audit().await {
            *got.entry(e.request_id).or_default() += 1;
        }
        let extra: Vec<_> = got.iter().filter(|(id, n)| expected.get(*id) != Some(*n)).collect();
        let missing: Vec<_> = expected.keys().filter(|id| !got.contains_key(*id)).collect();
        assert!(
            extra.is_empty() && missing.is_empty(),
            "audit events vs acknowledged mutations: unexpected or repeated {extra:?}, missing {missing:?}"
        );
        assert!(!expected.is_empty());
    }

    async fn stop(self) {
        for instance in self.instances {
            instance.stop().await;
        }
    }
}

async fn send_mutation(
    c: &Scim,
    acked: &Mutex<Vec<String>>,
    method: Method,
    path: &str,
    body: Option<&Value>,
    if_match: Option<&str>,
) -> Resp {
    let mut req = c.req(method, path);
    if let Some(b) = body {
        req = req.json(b);
    }
    if let Some(etag) = if_match {
        req = req.header("If-Match", etag);
    }
    let r = req.send().await;
    assert!(r.status < 500, "no 5xx under concurrency: {} {}", r.status, r.text);
    if (200..300).contains(&r.status) {
        let id = r.header("x-request-id").expect("X-Request-Id on every response");
        acked.lock().unwrap().push(id.to_string());
    }
    r
}

/// 50 clients create the same userName at once, spread over the
/// instances: exactly one 201, 49 409 uniqueness, and every instance sees
/// one user.
async fn one_user_name_fifty_creates(b: Backend) {
    const N: usize = 50;
    let fleet = Arc::new(Fleet::start(b).await);
    let mut tasks = JoinSet::new();
    for i in 0..N {
        let fleet = fleet.clone();
        let name = if i % 2 == 0 {
            "Race@Example.com"
        } else {
            "race@example.com"
        };
        tasks.spawn(async move { fleet.mutate(i, Method::POST, "/Users", Some(&user(name)), None).await });
    }
    let (mut created, mut conflicts) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        let r = r.unwrap();
        match r.status {
            201 => created += 1,
            409 => {
                assert_scim_error(&r, 409, Some("uniqueness"));
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!((created, conflicts), (1, N - 1));
    for i in 0..fleet.instances.len() {
        let r = fleet
            .client(i)
            .filter("Users", r#"userName eq "RACE@example.com""#)
            .await
            .expect(200);
        assert_eq!(r.total(), 1, "instance {i}");
    }
    fleet.assert_audit_matches_acknowledged().await;
    Arc::into_inner(fleet).unwrap().stop().await;
}

/// 64 PATCHes, each adding a different member to one group, at once over
/// the instances: none fails, none is lost, each bumps the version once.
async fn sixty_four_member_adds_to_one_group(b: Backend) {
    const N: usize = 64;
    let fleet = Arc::new(Fleet::start(b).await);
    let mut users = Vec::new();
    for i in 0..N {
        let r = fleet
            .mutate(i, Method::POST, "/Users", Some(&user(&format!("member{i:02}"))), None)
            .await
            .expect(201);
        users.push(r.id());
    }
    let gid = fleet
        .mutate(0, Method::POST, "/Groups", Some(&group("crowd", &[])), None)
        .await
        .expect(201)
        .id();
    let mut tasks = JoinSet::new();
    for (i, uid) in users.iter().cloned().enumerate() {
        let (fleet, path) = (fleet.clone(), format!("/Groups/{gid}"));
        tasks.spawn(async move {
            let ops = patch(json!([{"op": "add", "path": "members", "value": [{"value": uid}]}]));
            fleet.mutate(i, Method::PATCH, &path, Some(&ops), None).await
        });
    }
    while let Some(r) = tasks.join_next().await {
        let r = r.unwrap();
        assert!(r.status == 200 || r.status == 204, "{}: {}", r.status, r.text);
    }
    let mut expected = users.clone();
    expected.sort();
    for i in 0..fleet.instances.len() {
        let got = fleet.client(i).get(&format!("/Groups/{gid}")).await.expect(200);
        assert_eq!(member_ids(&got.json), expected, "instance {i}: a member add was lost");
        assert_eq!(version_of(&got.etag()), 1 + N as u64, "instance {i}");
    }
    fleet.assert_audit_matches_acknowledged().await;
    Arc::into_inner(fleet).unwrap().stop().await;
}

/// 32 PATCHes carrying the same If-Match at once: exactly one applies (200),
/// the other 31 get 412, and the user moved one version.
async fn one_if_match_thirty_two_patches(b: Backend) {
    const N: usize = 32;
    let fleet = Arc::new(Fleet::start(b).await);
    let created = fleet
        .mutate(0, Method::POST, "/Users", Some(&user("contended")), None)
        .await
        .expect(201);
    let (uid, etag) = (created.id(), created.etag());
    let mut tasks = JoinSet::new();
    for i in 0..N {
        let (fleet, path, etag) = (fleet.clone(), format!("/Users/{uid}"), etag.clone());
        tasks.spawn(async move {
            let ops = patch(json!([{"op": "replace", "path": "displayName", "value": format!("writer {i}")}]));
            let r = fleet.mutate(i, Method::PATCH, &path, Some(&ops), Some(&etag)).await;
            (i, r)
        });
    }
    let (mut ok, mut failed, mut winner) = (0, 0, None);
    while let Some(r) = tasks.join_next().await {
        let (i, r) = r.unwrap();
        match r.status {
            200 => {
                ok += 1;
                winner = Some(format!("writer {i}"));
            }
            412 => {
                assert_scim_error(&r, 412, None);
                failed += 1;
            }
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!((ok, failed), (1, N - 1));
    for i in 0..fleet.instances.len() {
        let got = fleet.client(i).get(&format!("/Users/{uid}")).await.expect(200);
        assert_eq!(version_of(&got.etag()), version_of(&etag) + 1, "instance {i}");
        assert_eq!(got.json["displayName"].as_str(), winner.as_deref(), "instance {i}");
    }
    fleet.assert_audit_matches_acknowledged().await;
    Arc::into_inner(fleet).unwrap().stop().await;
}

/// A token made through one instance works on all of them; revoked through
/// another, every instance refuses it within the token cache TTL.
async fn tokens_are_shared_and_revocation_reaches_every_instance(b: Backend) {
    let fleet = Fleet::start(b).await;
    let (token_id, token) = create_token(&fleet.config_file, "made by the CLI");
    let clients: Vec<Scim> = fleet
        .instances
        .iter()
        .map(|r| Scim::new(&r.base_url, Some(&token)))
        .collect();
    // Every instance verifies it, and so caches it.
    for (i, c) in clients.iter().enumerate() {
        c.get("/Users").await.expect(200);
        let r = send_mutation(
            c,
            &fleet.acked,
            Method::POST,
            "/Users",
            Some(&user(&format!("via{i}"))),
            None,
        )
        .await;
        r.expect(201);
    }
    cli(&fleet.config_file, &["token", "revoke", &token_id]);
    let revoked_at = Instant::now();
    let limit = TOKEN_TTL + Duration::from_secs(3);
    for (i, c) in clients.iter().enumerate() {
        let refused = eventually(limit.saturating_sub(revoked_at.elapsed()), || async {
            c.get("/Users").await.status == 401
        })
        .await;
        assert!(
            refused,
            "instance {i} still accepts the revoked token {:?} after revocation (TTL {TOKEN_TTL:?})",
            revoked_at.elapsed()
        );
    }
    // And stays refused everywhere; the fleet's own token is untouched.
    for (i, c) in clients.iter().enumerate() {
        c.get("/Users").await.expect_error(401, None);
        fleet.client(i).get("/Users").await.expect(200);
    }
    fleet.assert_audit_matches_acknowledged().await;
    fleet.stop().await;
}

/// A mixed workload over every instance (creates, replaces, PATCHes,
/// deletes, some bound to lose: duplicate names, stale ETags, deleted
/// targets): the audit log holds one event per 2xx answer, no more.
async fn audit_has_one_event_per_acknowledged_mutation(b: Backend) {
    const USERS: usize = 12;
    let fleet = Arc::new(Fleet::start(b).await);
    let mut ids = Vec::new();
    for i in 0..USERS {
        let r = fleet
            .mutate(i, Method::POST, "/Users", Some(&user(&format!("mixed{i}"))), None)
            .await
            .expect(201);
        ids.push((r.id(), r.etag()));
    }
    let mut tasks = JoinSet::new();
    for (i, (uid, etag)) in ids.iter().cloned().enumerate() {
        for round in 0..4 {
            let (fleet, uid, etag) = (fleet.clone(), uid.clone(), etag.clone());
            let k = i * 4 + round;
            tasks.spawn(async move {
                let path = format!("/Users/{uid}");
                match round {
                    // A duplicate userName of a user never deleted: 409,
                    // never audited.
                    0 => {
                        let taken = format!("mixed{}", if i % 3 == 0 { i + 1 } else { i });
                        fleet.mutate(k, Method::POST, "/Users", Some(&user(&taken)), None).await
                    }
                    1 => {
                        let ops = patch(json!([{"op": "replace", "path": "title", "value": format!("t{k}")}]));
                        fleet.mutate(k, Method::PATCH, &path, Some(&ops), None).await
                    }
                    // The creation ETag: wins or gets 412.
                    2 => {
                        let mut body = user(&format!("mixed{i}"));
                        body["nickName"] = json!(format!("n{k}"));
                        fleet.mutate(k, Method::PUT, &path, Some(&body), Some(&etag)).await
                    }
                    // Every third user deleted: the others' writes may 404.
                    _ if i % 3 == 0 => fleet.mutate(k, Method::DELETE, &path, None, None).await,
                    _ => {
                        let ops = patch(json!([{"op": "add", "path": "nickName", "value": "late"}]));
                        fleet.mutate(k, Method::PATCH, &path, Some(&ops), None).await
                    }
                }
            });
        }
    }
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    while let Some(r) = tasks.join_next().await {
        *statuses.entry(r.unwrap().status).or_default() += 1;
    }
    assert_eq!(statuses.get(&409), Some(&USERS), "{statuses:?}");
    assert!(
        statuses.keys().all(|s| [200, 204, 404, 409, 412].contains(s)),
        "{statuses:?}"
    );
    fleet.assert_audit_matches_acknowledged().await;
    Arc::into_inner(fleet).unwrap().stop().await;
}

backend_tests!(@on redis, Redis;
    one_user_name_fifty_creates,
    sixty_four_member_adds_to_one_group,
    one_if_match_thirty_two_patches,
    tokens_are_shared_and_revocation_reaches_every_instance,
    audit_has_one_event_per_acknowledged_mutation,
);
backend_tests!(@on postgres, Postgres;
    one_user_name_fifty_creates,
    sixty_four_member_adds_to_one_group,
    one_if_match_thirty_two_patches,
    tokens_are_shared_and_revocation_reaches_every_instance,
    audit_has_one_event_per_acknowledged_mutation,
);
