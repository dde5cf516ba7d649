//! The shared conformance suite against a real Redis Cluster, from
//! `SCIM_TEST_REDIS_CLUSTER_NODES` (comma-separated `redis://` seed URLs;
//! `scripts/redis-cluster.sh start` prints a value for it): unset, every
//! case prints `skipped:` and passes; set but unreachable, every case fails.
//!
//! Each case's tenants get random ids, so their hash tags spread over the
//! masters; `tenants_on_different_masters_work_independently` makes sure of
//! two tenants on two masters, asserts where their keys live, and works in
//! both. Nothing here relies on two tenants sharing a node.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed step must fail the test"
)]

mod common;

use scim_core::filter::{FilterLimits, parse};
use scim_core::members::Member;
use scim_core::schema::{GROUP_URN, Registry, USER_URN};
use scim_store::{AuditQuery, Ctx, Kind, Load, NewResource, Query, Store, StoreError, Tenant};
use serde_json::json;
use std::sync::Arc;

async fn new_store(registry: Arc<Registry>) -> Option<Arc<dyn Store>> {
    let Some(nodes) = common::cluster_nodes() else {
        println!("skipped: {} is not set", common::NODES_VAR);
        return None;
    };
    let config = common::cluster(&nodes, &common::fresh_prefix("cluster"));
    Some(Arc::new(common::TempStore::new(config, registry).await))
}

scim_store::conformance_tests!(new_store);

/// The slot of a key, and the address (`host:port`) of the master that
/// serves it, asked of the cluster itself.
fn owner(conn: &mut redis::Connection, key: &str) -> (u16, String) {
    let slot: u16 = redis::cmd("CLUSTER").arg("KEYSLOT").arg(key).query(conn).unwrap();
    let ranges: Vec<redis::Value> = redis::cmd("CLUSTER").arg("SLOTS").query(conn).unwrap();
    for range in ranges {
        let redis::Value::Array(parts) = range else { continue };
        let start: u16 = redis::from_redis_value(parts[0].clone()).unwrap();
        let end: u16 = redis::from_redis_value(parts[1].clone()).unwrap();
        if (start..=end).contains(&slot) {
            let redis::Value::Array(master) = &parts[2] else {
                panic!("CLUSTER SLOTS: no master for {start}-{end}")
            };
            let host: String = redis::from_redis_value(master[0].clone()).unwrap();
            let port: u16 = redis::from_redis_value(master[1].clone()).unwrap();
            return (slot, format!("{host}:{port}"));
        }
    }
    panic!("slot {slot} of {key} is not served by any master");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_on_different_masters_work_independently() {
    let Some(nodes) = common::cluster_nodes() else {
        println!(
            "skipped: tenants_on_different_masters_work_independently: {} is not set",
            common::NODES_VAR
        );
        return;
    };
    let prefix = common::fresh_prefix("masters");
    let s = common::TempStore::new(common::cluster(&nodes, &prefix), scim_store::conformance::registry()).await;
    let masters = common::masters(&nodes);
    assert!(
        masters.len() >= 2,
        "the test cluster needs two masters at least: {masters:?}"
    );
    let mut seed = redis::Client::open(nodes[0].as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let marker = |t: &Tenant| format!("{prefix}:{{{}}}:tenant", t.id);

    // Tenant ids are random UUIDs, so their hash tags land on any master:
    // create tenants until two are on different ones (each new tenant has a
    // two-in-three chance on three masters).
    let first = s.create_tenant(&common::fresh_prefix("t1")).await.unwrap();
    let (slot_a, node_a) = owner(&mut seed, &marker(&first));
    let mut second = None;
    for _ in 0..50 {
        let t = s.create_tenant(&common::fresh_prefix("t2")).await.unwrap();
        let (slot, node) = owner(&mut seed, &marker(&t));
        if node != node_a {
            second = Some((t, slot, node));
            break;
        }
    }
    let (second, slot_b, node_b) = second.expect("no tenant landed on a second master in 50 tries");
    assert_ne!(slot_a, slot_b);
    assert_ne!(node_a, node_b, "the two tenants' slots are on different masters");

    // Each tenant's keys are physically on its own master, and only there.
    for (t, node, other) in [(&first, &node_a, &node_b), (&second, &node_b, &node_a)] {
        let mut on = redis::Client::open(format!("redis://{node}"))
            .unwrap()
            .get_connection()
            .unwrap();
        let mut off = redis::Client::open(format!("redis://{other}"))
            .unwrap()
            .get_connection()
            .unwrap();
        let key = marker(t);
        let here: bool = redis::cmd("EXISTS").arg(&key).query(&mut on).unwrap();
        assert!(here, "{key} is not on {node}");
        let elsewhere: Result<bool, _> = redis::cmd("EXISTS").arg(&key).query(&mut off);
        assert!(
            elsewhere.is_err() || elsewhere == Ok(false),
            "{key} is readable on {other} too"
        );
    }

    // The same work in both tenants, concurrently: every script runs on its
    // tenant's master, and neither tenant sees the other.
    let (a, b) = (
        Ctx::new(first.id.clone(), Some("ta".into()), "ra"),
        Ctx::new(second.id.clone(), Some("tb".into()), "rb"),
    );
    let work = |ctx: Ctx| {
        let store = &s;
        async move {
            let mut ids = Vec::new();
            for i in 0..20 {
                let doc = json!({"schemas": [USER_URN], "userName": format!("user{i}"), "externalId": format!("x{i}")});
                ids.push(
                    store
                        .create(
                            &ctx,
                            Kind::User,
                            NewResource {
                                doc,
                                members: Vec::new(),
                            },
                        )
                        .await
                        .unwrap()
                        .id,
                );
            }
            let inner = store
                .create(
                    &ctx,
                    Kind::Group,
                    NewResource {
                        doc: json!({"schemas": [GROUP_URN], "displayName": "inner"}),
                        members: ids.iter().take(5).map(|i| Member::new(i.clone())).collect(),
                    },
                )
                .await
                .unwrap();
            store
                .create(
                    &ctx,
                    Kind::Group,
                    NewResource {
                        doc: json!({"schemas": [GROUP_URN], "displayName": "outer"}),
                        members: vec![Member::new(inner.id.clone())],
                    },
                )
                .await
                .unwrap();
            (ids, inner)
        }
    };
    let ((ids_a, inner_a), (ids_b, _)) = tokio::join!(work(a.clone()), work(b.clone()));
    for (ctx, ids, other_ids) in [(&a, &ids_a, &ids_b), (&b, &ids_b, &ids_a)] {
        let all = s.query(ctx, Kind::User, &Query::all(100)).await.unwrap();
        assert_eq!(all.total, 20);
        let q = Query {
            filter: Some(
                parse(
                    "externalId eq \"x7\" or userName eq \"USER8\"",
                    &FilterLimits::default(),
                )
                .unwrap(),
            ),
            ..Query::all(10)
        };
        assert_eq!(s.query(ctx, Kind::User, &q).await.unwrap().total, 2);
        let groups = s.groups_of(ctx, &ids[0]).await.unwrap();
        assert_eq!(groups.len(), 2, "inner directly, outer through it");
        assert_eq!(
            s.get(ctx, Kind::User, &other_ids[0], Load::default()).await,
            Err(StoreError::NotFound)
        );
        let audit = s
            .audit(
                &ctx.tenant,
                &AuditQuery {
                    limit: 100,
                    ..AuditQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(audit.len(), 22);
        assert!(audit.windows(2).all(|w| w[0].seq < w[1].seq));
    }
    // A cross-tenant member is rejected: the check runs in B's slot only.
    let cross = s
        .create(
            &b,
            Kind::Group,
            NewResource {
                doc: json!({"schemas": [GROUP_URN], "displayName": "cross"}),
                members: vec![Member::new(inner_a.id.clone())],
            },
        )
        .await;
    assert!(matches!(cross, Err(StoreError::InvalidValue(_))), "{cross:?}");

    // Deleting one tenant leaves the other (on its other master) intact.
    s.delete_tenant(&first.id).await.unwrap();
    assert_eq!(s.query(&a, Kind::User, &Query::all(10)).await.unwrap().total, 0);
    assert_eq!(s.query(&b, Kind::User, &Query::all(10)).await.unwrap().total, 20);
    let names: Vec<String> = s.tenants().await.unwrap().into_iter().map(|t| t.id).collect();
    assert!(names.contains(&second.id) && !names.contains(&first.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_node_outage_fails_fast_and_recovers_without_restart() {
    // Cluster tests are opted into with the variable; this one runs its own
    // one-node cluster (all slots on one master) so it can stop and restart
    // the node without disturbing the shared test cluster.
    if common::cluster_nodes().is_none() {
        println!(
            "skipped: a_cluster_node_outage_fails_fast_and_recovers_without_restart: {} is not set",
            common::NODES_VAR
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("scim-redis-outage-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("nodes.conf");
    let dir_text = dir.to_string_lossy().to_string();
    let conf_text = conf.to_string_lossy().to_string();
    let args = [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        conf_text.as_str(),
        "--dir",
        dir_text.as_str(),
    ];
    let port = common::free_port();
    let Some(mut node) = common::Server::start(port, &args) else {
        println!("skipped: redis-server could not be started here");
        return;
    };
    let mut conn = redis::Client::open(node.url()).unwrap().get_connection().unwrap();
    let () = redis::cmd("CLUSTER")
        .arg("ADDSLOTSRANGE")
        .arg(0)
        .arg(16383)
        .query(&mut conn)
        .unwrap();
    let cluster_ok = |conn: &mut redis::Connection| {
        redis::cmd("CLUSTER")
            .arg("INFO")
            .query::<String>(conn)
            .is_ok_and(|i| i.contains("cluster_state:ok"))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !cluster_ok(&mut conn) {
        assert!(
            std::time::Instant::now() < deadline,
            "the one-node cluster never got ok"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    let mut config = scim_store_redis::RedisConfig::cluster([node.url()]);
    config.connect_timeout = std::time::Duration::from_secs(1);
    config.response_timeout = std::time::Duration::from_secs(2);
    let store = scim_store_redis::RedisStore::connect(config, scim_store::conformance::registry())
        .await
        .unwrap();
    let t = store.create_tenant("before").await.unwrap();
    let ctx = Ctx::new(t.id.clone(), None, "r");
    let user = |name: &str| NewResource {
        doc: json!({"schemas": [USER_URN], "userName": name}),
        members: Vec::new(),
    };
    store.create(&ctx, Kind::User, user("a")).await.unwrap();

    node.stop();
    for step in 0..3 {
        let started = std::time::Instant::now();
        let result = store.create(&ctx, Kind::User, user("b")).await;
        let took = started.elapsed();
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "call {step} with the node down: {result:?}"
        );
        assert!(
            took < std::time::Duration::from_secs(3),
            "call {step} took {took:?} to fail"
        );
    }

    // The node comes back with its slots (nodes.conf) but no data: the same
    // store reconnects; the old tenant is gone, a new one works.
    node = common::Server::start(port, &args).expect("the node restarts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let fresh = loop {
        match store.create_tenant("after").await {
            Ok(t) => break t,
            Err(StoreError::Unavailable(why)) => {
                assert!(std::time::Instant::now() < deadline, "no recovery: {why}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("after the restart: {e:?}"),
        }
    };
    let ctx = Ctx::new(fresh.id, None, "r");
    assert_eq!(store.create(&ctx, Kind::User, user("c")).await.unwrap().version, 1);
    node.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
