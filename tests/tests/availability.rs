//! The backend goes away and comes back while the server runs: requests
//! get 503 SCIM errors fast and /readyz says not ready, then everything
//! works again without a restart. Against throwaway servers of the test's
//! own (a `redis-server` on port 16390, a PostgreSQL cluster on 15433),
//! never the shared ones. Each runs where its backend is tested
//! (`SCIM_TEST_REDIS_URL`, `SCIM_TEST_POSTGRES_URL` set) and fails there
//! when the throwaway server cannot be made; elsewhere it prints why it
//! skips.
//!
//! Also: the server on a Redis Cluster (`SCIM_TEST_REDIS_CLUSTER_NODES`).

// Test code: a failed unwrap or assertion is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::Method;
use scim_server::config::HumanDuration;
use std::time::{Duration, Instant};

const PRIVATE_REDIS_PORT: u16 = 16390;
const PRIVATE_POSTGRES_PORT: u16 = 15433;
/// A request while the backend is away must fail within this.
const FAIL_FAST: Duration = Duration::from_secs(5);
/// Recovery after the backend is back must take at most this.
const RECOVERY: Duration = Duration::from_secs(20);

fn skip(test: &str, backend: Backend) -> bool {
    match backend.skip_reason() {
        Some(why) => {
            println!("skipped: {test}: {why}");
            true
        }
        None => false,
    }
}

async fn ready(srv: &TestServer) -> u16 {
    Scim::new(&srv.origin(), None)
        .req(Method::GET, "/readyz")
        .send_raw()
        .await
        .status
}

/// The checks while the backend is down, then after it is back: `crash`
/// takes it away, `resume` brings it back.
async fn away_then_back(srv: TestServer, crash: impl FnOnce(), resume: impl FnOnce()) {
    let c = &srv.client;
    let uid = c.create_user("survivor").await["id"].as_str().unwrap().to_string();
    assert_eq!(ready(&srv).await, 200);
    // A second token, never used: verifying it needs the store.
    let (_, unverified) = scim_server::admin::create_token(srv.store(), "acme", Some("later"), None)
        .await
        .unwrap();
    let later = srv.client_with(Some(&unverified));

    crash();
    let started = Instant::now();
    // The cached token passes; the store call fails.
    c.get(&format!("/Users/{uid}")).await.expect_error(503, None);
    c.post("/Users", &user("while-away")).await.expect_error(503, None);
    c.get("/Users?filter=userName%20eq%20%22survivor%22")
        .await
        .expect_error(503, None);
    // A token not yet verified cannot be checked: 503, not 401.
    later.get("/Users").await.expect_error(503, None);
    assert_eq!(ready(&srv).await, 503, "/readyz while the backend is away");
    assert!(
        started.elapsed() < FAIL_FAST * 5,
        "five requests took {:?} while the backend was away: they must fail fast",
        started.elapsed()
    );

    resume();
    let back = eventually(RECOVERY, || async { ready(&srv).await == 200 }).await;
    assert!(back, "/readyz not ready {RECOVERY:?} after the backend came back");
    let back = eventually(RECOVERY, || async {
        c.get(&format!("/Users/{uid}")).await.status == 200
    })
    .await;
    assert!(back, "requests still fail {RECOVERY:?} after the backend came back");
    let got = c.get(&format!("/Users/{uid}")).await.expect(200);
    assert_eq!(got.json["userName"], "survivor");
    later.get("/Users").await.expect(200);
    c.post("/Users", &user("after-return")).await.expect(201);
    let r = c.filter("Users", r#"userName eq "while-away""#).await.expect(200);
    assert_eq!(r.total(), 0, "a write that answered 503 must not have happened");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_goes_away_and_comes_back() {
    if skip("redis_goes_away_and_comes_back", Backend::Redis) {
        return;
    }
    let redis = std::sync::Arc::new(std::sync::Mutex::new(PrivateRedis::start(PRIVATE_REDIS_PORT)));
    let dir = TempDir::new("scim-e2e-outage");
    let mut config = test_config(dir.path());
    config.storage.backend = "redis".into();
    config.storage.redis.url = redis.lock().unwrap().url();
    config.storage.redis.key_prefix = fresh_name("outage");
    config.storage.redis.connect_timeout = HumanDuration(Duration::from_millis(500));
    config.storage.redis.response_timeout = HumanDuration::secs(2);
    let srv = TestServer::start_config(config, dir).await;
    let (a, b) = (redis.clone(), redis.clone());
    away_then_back(
        srv,
        move || a.lock().unwrap().crash(),
        move || b.lock().unwrap().resume(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_goes_away_and_comes_back() {
    if skip("postgres_goes_away_and_comes_back", Backend::Postgres) {
        return;
    }
    let pg = std::sync::Arc::new(PrivatePostgres::start(PRIVATE_POSTGRES_PORT));
    let dir = TempDir::new("scim-e2e-outage");
    let mut config = test_config(dir.path());
    config.storage.backend = "postgres".into();
    config.storage.postgres.url = Some(pg.url());
    config.storage.postgres.pool_size = 4;
    config.storage.postgres.connect_timeout = HumanDuration::secs(2);
    let srv = TestServer::start_config(config, dir).await;
    let (a, b) = (pg.clone(), pg.clone());
    away_then_back(srv, move || a.crash(), move || b.resume()).await;
}

/// The server on a Redis Cluster: tenants' keys spread over the masters,
/// every kind of call works, and readiness pings the cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_from_a_redis_cluster() {
    let Some(nodes) = env(REDIS_CLUSTER_VAR) else {
        println!("skipped: serves_from_a_redis_cluster: {REDIS_CLUSTER_VAR} is not set");
        return;
    };
    let nodes: Vec<String> = nodes.split(',').map(|n| n.trim().to_string()).collect();
    let dir = TempDir::new("scim-e2e-cluster");
    let mut config = test_config(dir.path());
    let prefix = fresh_name("cluster");
    config.storage.backend = "redis".into();
    config.storage.redis.cluster = true;
    config.storage.redis.nodes = nodes.clone();
    config.storage.redis.key_prefix = prefix.clone();
    config.storage.redis.response_timeout = HumanDuration::secs(30);
    // The cluster script's nodes are all masters: clean up on each.
    let _scratch = Scratch::RedisPrefix { servers: nodes, prefix };
    let srv = TestServer::start_config(config, dir).await;
    assert_eq!(ready(&srv).await, 200);
    let c = &srv.client;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            c.create_user(&format!("node{i}")).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let gid = c.create_group("spread", &refs[..2]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ops = patch(serde_json::json!([{"op": "add", "path": "members", "value": [{"value": refs[4]}]}]));
    let r = c.patch(&format!("/Groups/{gid}"), &ops).await;
    assert!(r.status == 200 || r.status == 204, "{}: {}", r.status, r.text);
    let g = c.get(&format!("/Groups/{gid}")).await.expect(200);
    assert_eq!(member_ids(&g.json).len(), 3, "{}", g.text);
    let r = c.filter("Users", r#"userName eq "NODE3""#).await.expect(200);
    assert_eq!(r.total(), 1);
    // Several tenants: their hash tags land on different masters.
    for t in 0..4 {
        let (_, _, other) = srv.tenant(&format!("tenant{t}")).await;
        other.create_user("node0").await;
        assert_eq!(other.get("/Users").await.expect(200).total(), 1);
    }
    assert_eq!(c.get("/Users").await.expect(200).total(), 5);
    srv.stop().await;
}
