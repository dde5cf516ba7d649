//! What the conformance suite cannot see: script reloading, failing fast
//! and recovering when Redis goes away, the scan limit, key prefixes, and
//! the key layout itself. Tests that need a server use `SCIM_TEST_REDIS_URL`
//! (skipped when unset); the restart test also starts its own throwaway
//! `redis-server`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed step must fail the test"
)]

mod common;

use scim_core::filter::{FilterLimits, parse};
use scim_core::schema::USER_URN;
use scim_core::sort::{SortOrder, SortSpec};
use scim_store::{Ctx, Kind, NewResource, Precondition, Query, Store, StoreError, Update};
use scim_store_redis::{RedisConfig, RedisStore};
use serde_json::json;
use std::time::{Duration, Instant};

fn user(name: &str) -> NewResource {
    NewResource {
        doc: json!({"schemas": [USER_URN], "userName": name, "displayName": "Same Name"}),
        members: Vec::new(),
    }
}

fn filtered(text: &str) -> Query {
    Query {
        filter: Some(parse(text, &FilterLimits::default()).unwrap()),
        ..Query::all(100)
    }
}

async fn tenant(store: &dyn Store, label: &str) -> Ctx {
    let t = store.create_tenant(&common::fresh_prefix(label)).await.unwrap();
    Ctx::new(t.id, Some("token".into()), "request")
}

#[tokio::test]
async fn a_closed_port_is_unavailable_fast() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let result = RedisStore::connect(
        RedisConfig::new(format!("redis://127.0.0.1:{port}")),
        scim_store::conformance::registry(),
    )
    .await;
    let took = started.elapsed();
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "connect to a closed port: {result:?}"
    );
    assert!(
        took < Duration::from_secs(2),
        "took {took:?} to give up on a closed port"
    );
}

#[tokio::test]
async fn an_invalid_configuration_is_named() {
    let registry = scim_store::conformance::registry();
    let cases = [
        RedisConfig::default().with_prefix("a{b"),
        RedisConfig::new("http://u:secret@127.0.0.1:6379"),
        RedisConfig::default().with_max_scan(0),
    ];
    for config in cases {
        match RedisStore::connect(config.clone(), registry.clone()).await {
            Err(StoreError::Backend(why)) => {
                assert!(why.contains("invalid configuration"), "{why}");
                assert!(!why.contains("secret"), "{why}");
            }
            other => panic!("{config:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_flushed_script_cache_is_reloaded() {
    let Some(url) = common::url_or_skip("a_flushed_script_cache_is_reloaded") else {
        return;
    };
    let registry = scim_store::conformance::registry();
    let s = common::TempStore::new(common::single(&url, &common::fresh_prefix("noscript")), registry).await;
    let ctx = tenant(&s, "noscript").await;
    let mut conn = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
    let () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut conn).unwrap();
    // Every mutation, read and registry call runs a script: each reloads it.
    let u = s.create(&ctx, Kind::User, user("after-flush")).await.unwrap();
    let () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut conn).unwrap();
    let up = s
        .update(
            &ctx,
            Kind::User,
            &u.id,
            Precondition::IfMatch(1),
            Update {
                doc: Some(json!({"schemas": [USER_URN], "userName": "renamed"})),
                ..Update::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(up.version, 2);
    let () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut conn).unwrap();
    let page = s
        .query(&ctx, Kind::User, &filtered("userName eq \"RENAMED\""))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
}

#[tokio::test]
async fn past_max_scan_the_message_says_which_filter_to_use() {
    let Some(url) = common::url_or_skip("past_max_scan_the_message_says_which_filter_to_use") else {
        return;
    };
    let registry = scim_store::conformance::registry();
    let config = common::single(&url, &common::fresh_prefix("maxscan")).with_max_scan(5);
    let s = common::TempStore::new(config, registry.clone()).await;
    assert_eq!(s.capabilities().max_scan, Some(5), "capabilities tell the limit");
    let ctx = tenant(&s, "maxscan").await;
    for i in 0..6 {
        s.create(&ctx, Kind::User, user(&format!("u{i}"))).await.unwrap();
    }
    // A filter no index answers: 6 users to scan, 5 allowed.
    match s.query(&ctx, Kind::User, &filtered("title pr")).await {
        Err(StoreError::TooMany(why)) => {
            assert!(why.contains("title pr"), "names the filter: {why}");
            assert!(why.contains("6") && why.contains("5"), "says how many: {why}");
            assert!(
                why.contains("userName") && why.contains("externalId"),
                "says what to use: {why}"
            );
        }
        other => panic!("title pr over the limit: {other:?}"),
    }
    // A sort that is not the listing order needs every user too.
    let sort = SortSpec::new("title", SortOrder::Ascending, &[registry.user()]).unwrap();
    let q = Query {
        sort: Some(sort),
        ..Query::all(10)
    };
    match s.query(&ctx, Kind::User, &q).await {
        Err(StoreError::TooMany(why)) => assert!(why.contains("sort by id"), "{why}"),
        other => panic!("sort by title over the limit: {other:?}"),
    }
    // An indexed part that still selects too many.
    match s
        .query(&ctx, Kind::User, &filtered("displayName eq \"same name\""))
        .await
    {
        Err(StoreError::TooMany(why)) => assert!(why.contains("more selective"), "{why}"),
        other => panic!("displayName eq over the limit: {other:?}"),
    }
    // Indexed equality, the listing and id sorts are unaffected.
    let page = s
        .query(
            &ctx,
            Kind::User,
            &filtered("userName eq \"U3\" and title pr or userName eq \"u4\""),
        )
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    let page = s.query(&ctx, Kind::User, &Query::all(3)).await.unwrap();
    assert_eq!((page.total, page.items.len()), (6, 3));
    let by_id = SortSpec::new("id", SortOrder::Descending, &[registry.user()]).unwrap();
    let page = s
        .query(
            &ctx,
            Kind::User,
            &Query {
                sort: Some(by_id),
                ..Query::all(10)
            },
        )
        .await
        .unwrap();
    let ids: Vec<&str> = page.items.iter().map(|i| i.id.as_str()).collect();
    let mut want = ids.clone();
    want.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids, want, "sortBy=id descending comes from the listing");
}

#[tokio::test]
async fn prefixes_isolate_deployments() {
    let Some(url) = common::url_or_skip("prefixes_isolate_deployments") else {
        return;
    };
    let registry = scim_store::conformance::registry();
    let (pa, pb) = (common::fresh_prefix("a"), common::fresh_prefix("b"));
    let a = common::TempStore::new(common::single(&url, &pa), registry.clone()).await;
    let b = common::TempStore::new(common::single(&url, &pb), registry).await;
    let name = common::fresh_prefix("shared-name");
    let ta = a.create_tenant(&name).await.unwrap();
    // The same tenant name is free in the other deployment.
    let tb = b.create_tenant(&name).await.unwrap();
    assert_ne!(ta.id, tb.id);
    assert_eq!(a.tenants().await.unwrap(), vec![ta.clone()]);
    assert_eq!(b.tenants().await.unwrap(), vec![tb.clone()]);
    let ctx = Ctx::new(ta.id.clone(), None, "r");
    let u = a.create(&ctx, Kind::User, user("alice")).await.unwrap();
    // B does not know A's tenant, so nothing of it is reachable from B.
    assert_eq!(
        b.get(&ctx, Kind::User, &u.id, Default::default()).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(b.query(&ctx, Kind::User, &Query::all(10)).await.unwrap().total, 0);
    assert_eq!(
        b.create(&ctx, Kind::User, user("bob")).await,
        Err(StoreError::NotFound),
        "creating in a tenant of another prefix"
    );
    // Every key A wrote is under A's prefix; deleting B's tenant leaves A's.
    let mut conn = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
    let b_keys: Vec<String> = redis::cmd("KEYS").arg(format!("{pb}:*")).query(&mut conn).unwrap();
    assert!(
        b_keys.iter().all(|k| !k.contains(&ta.id)),
        "A's tenant under B's prefix: {b_keys:?}"
    );
    b.delete_tenant(&tb.id).await.unwrap();
    assert_eq!(
        a.get(&ctx, Kind::User, &u.id, Default::default()).await.unwrap().id,
        u.id
    );
    assert_eq!(a.tenant_by_name(&name).await.unwrap(), ta);
}

#[tokio::test]
async fn every_tenant_key_carries_the_tenant_hash_tag() {
    let Some(url) = common::url_or_skip("every_tenant_key_carries_the_tenant_hash_tag") else {
        return;
    };
    let prefix = common::fresh_prefix("layout");
    let s = common::TempStore::new(common::single(&url, &prefix), scim_store::conformance::registry()).await;
    let ctx = tenant(&s, "layout").await;
    let u = s
        .create(
            &ctx,
            Kind::User,
            NewResource {
                doc: json!({"schemas": [USER_URN], "userName": "Ada", "externalId": "E1",
                    "emails": [{"value": "ada@example.com"}]}),
                members: Vec::new(),
            },
        )
        .await
        .unwrap();
    let g = s
        .create(
            &ctx,
            Kind::Group,
            NewResource {
                doc: json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G"}),
                members: vec![scim_core::members::Member::new(u.id.clone())],
            },
        )
        .await
        .unwrap();
    let mut conn = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
    let mut keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}:*")).query(&mut conn).unwrap();
    keys.sort();
    let base = format!("{prefix}:{{{}}}:", ctx.tenant);
    let registry = format!("{prefix}:registry:{{registry}}:");
    for k in &keys {
        assert!(
            k.starts_with(&base) || k.starts_with(&registry),
            "key outside the layout: {k}"
        );
    }
    let tenant_keys: Vec<&str> = keys.iter().filter_map(|k| k.strip_prefix(&base)).collect();
    let mut want = vec![
        "audit".to_string(),
        "audit:seq".to_string(),
        format!("group:{}", g.id),
        "groups".to_string(),
        "ix:group:displayName:g".to_string(),
        "ix:user:emails:ada@example.com".to_string(),
        "ix:user:externalId:e1".to_string(),
        format!("memberof:{}", u.id),
        format!("members:{}", g.id),
        "tenant".to_string(),
        format!("user:{}", u.id),
        "username:ada".to_string(),
        "users".to_string(),
    ];
    want.sort();
    assert_eq!(tenant_keys, want);
    // Deleting the tenant leaves none of its keys behind.
    s.delete_tenant(&ctx.tenant).await.unwrap();
    let left: Vec<String> = redis::cmd("KEYS").arg(format!("{base}*")).query(&mut conn).unwrap();
    assert!(left.is_empty(), "keys left after delete_tenant: {left:?}");
}

#[tokio::test]
async fn when_redis_goes_away_calls_fail_fast_and_recover_without_restart() {
    if common::url_or_skip("when_redis_goes_away_calls_fail_fast_and_recover_without_restart").is_none() {
        return;
    }
    let port = common::free_port();
    let Some(mut server) = common::Server::start(port, &[]) else {
        println!("skipped: redis-server could not be started here");
        return;
    };
    let config = RedisConfig::new(server.url());
    let store = RedisStore::connect(config, scim_store::conformance::registry())
        .await
        .unwrap();
    store.ping().await.unwrap();
    let ctx = tenant(&store, "restart").await;
    store.create(&ctx, Kind::User, user("before")).await.unwrap();

    server.stop();
    for step in 0..3 {
        let started = Instant::now();
        let result = store.create(&ctx, Kind::User, user("while-down")).await;
        let took = started.elapsed();
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "call {step} while Redis is down: {result:?}"
        );
        assert!(took < Duration::from_secs(3), "call {step} took {took:?} to fail");
    }
    assert!(matches!(store.ping().await, Err(StoreError::Unavailable(_))));

    // Same port, empty server (nothing was persisted), no scripts loaded:
    // the same store reconnects and reloads its scripts.
    let _server = common::Server::start(port, &[]).expect("redis-server restarts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.ping().await.is_err() {
        assert!(Instant::now() < deadline, "the store did not reconnect");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ctx = tenant(&store, "restarted").await;
    let u = store.create(&ctx, Kind::User, user("after")).await.unwrap();
    assert_eq!(u.version, 1);
}
