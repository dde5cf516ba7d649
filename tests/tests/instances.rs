//! Several server instances on one shared backend, as behind a load
//! balancer: two on Redis, three on PostgreSQL, each an in-process
//! `scim_server::start` with its own HTTP server, store connections (pool
//! or multiplexed connection) and token cache, on its own loopback port.
//! Requests go round-robin over the instances. Every test has its own Redis
//! key prefix or PostgreSQL schema.
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
use scim_server::{Config, Running};
use scim_store::{AuditQuery, Store, Tenant};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// The token cache TTL of these tests: how long a revoked token may keep
/// working on an instance that verified it.
const TOKEN_TTL: Duration = Duration::from_secs(2);

fn instances(backend: Backend) -> usize {
    match backend {
        Backend::Postgres => 3,
        _ => 2,
    }
}

/// Instances of one deployment: one configuration, one backend space.
struct Fleet {
    running: Vec<Running>,
    clients: Vec<Scim>,
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
        let mut running = Vec::new();
        for _ in 0..instances(backend) {
            running.push(scim_server::start(config.clone()).await.unwrap());
        }
        let ports: Vec<u16> = running.iter().map(|r| r.addr.port()).collect();
        let mut unique = ports.clone();
        unique.dedup();
        assert_eq!(unique.len(), ports.len(), "instances share a port: {ports:?}");
        // The operator's tenant and token, made through the first instance.
        let store = running[0].store.as_ref();
        let tenant = scim_server::admin::create_tenant(store, "acme").await.unwrap();
        let (_, token) = scim_server::admin::create_token(store, "acme", Some("fleet"), None)
            .await
            .unwrap();
        let clients = running.iter().map(|r| Scim::new(&r.base_url, Some(&token))).collect();
        Fleet {
            running,
            clients,
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

    fn store(&self, i: usize) -> &dyn Store {
        self.running[i % self.running.len()].store.as_ref()
    }

    /// A mutation through instance `i`; a 2xx answer is recorded as
    /// acknowledged, by the request id the server gave it.
    async fn mutate(&self, i: usize, method: Method, path: &str, body: Option<&Value>, if_match: Option<&str>) -> Resp {
        send_mutation(&self.client(i), &self.acked, method, path, body, if_match).await
    }

    /// Every audit event of the tenant, read through the last instance.
    async fn audit(&self) -> Vec<scim_store::AuditEvent> {
        let store = self.store(self.running.len() - 1);
        let mut all = Vec::new();
        loop {
            let query = AuditQuery {
                after_seq: all.last().map(|e: &scim_store::AuditEvent| e.seq),
                limit: 500,
                ..AuditQuery::default()
            };
            let page = store.audit(&self.tenant.id, &query).await.unwrap();
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
        for r in self.running {
            r.stop().await;
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
    for i in 0..fleet.running.len() {
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
    for i in 0..fleet.running.len() {
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
    for i in 0..fleet.running.len() {
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
    let n = fleet.running.len();
    let (record, token) = scim_server::admin::create_token(fleet.store(n - 1), "acme", Some("made on the last"), None)
        .await
        .unwrap();
    let clients: Vec<Scim> = fleet
        .running
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
    scim_server::admin::revoke_token(fleet.store(0), &record.id)
        .await
        .unwrap();
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
