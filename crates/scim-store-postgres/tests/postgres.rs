//! This backend's own behaviour beyond the shared suite: failing fast and
//! recovering when PostgreSQL goes away, bound parameters, idempotent
//! migrations, the SQL time key against chrono, the evaluator fallback, and
//! races the database must settle. Tests that need a server use
//! `SCIM_TEST_POSTGRES_URL` and skip (printing why) without it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

mod common;

use chrono::DateTime;
use common::{TempSchema, config, fresh_schema, raw_client, url_or_skip};
use scim_core::filter::{CompValue, CompareOp, Filter, FilterLimits, matches, parse};
use scim_core::members::{Member, MemberDelta};
use scim_core::path::AttrPath;
use scim_core::schema::{Registry, USER_URN};
use scim_store::{Ctx, Kind, Load, NewResource, Precondition, Query, Store, StoreError, Update};
use scim_store_postgres::{PgConfig, PgStore};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

fn registry() -> Arc<Registry> {
    Arc::new(Registry::builtin())
}

async fn tenant(store: &dyn Store, label: &str) -> Ctx {
    let t = store
        .create_tenant(&format!("{label}-{}", uuid::Uuid::new_v4()))
        .await
        .unwrap();
    Ctx::new(t.id, None, format!("req-{label}"))
}

async fn user(store: &dyn Store, ctx: &Ctx, doc: Value) -> String {
    store
        .create(
            ctx,
            Kind::User,
            NewResource {
                doc,
                members: Vec::new(),
            },
        )
        .await
        .unwrap()
        .id
}

async fn group(store: &dyn Store, ctx: &Ctx, name: &str) -> String {
    let doc = json!({"schemas": [scim_core::schema::GROUP_URN], "displayName": name});
    store
        .create(
            ctx,
            Kind::Group,
            NewResource {
                doc,
                members: Vec::new(),
            },
        )
        .await
        .unwrap()
        .id
}

async fn ids(store: &dyn Store, ctx: &Ctx, filter: Filter) -> Result<Vec<String>, StoreError> {
    let q = Query {
        filter: Some(filter),
        ..Query::all(1000)
    };
    let mut ids: Vec<String> = store
        .query(ctx, Kind::User, &q)
        .await?
        .items
        .into_iter()
        .map(|s| s.id)
        .collect();
    ids.sort();
    Ok(ids)
}

// --------------------------------------------------------- availability --

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_fails_fast_with_unavailable() {
    let mut config = PgConfig::new("postgres://scim:hunter2@127.0.0.1:1/scim");
    config.connect_timeout = Duration::from_secs(3);
    let started = Instant::now();
    let err = PgStore::connect(config, registry()).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    let StoreError::Unavailable(message) = &err else {
        panic!("{err:?}")
    };
    assert!(message.contains("refused"), "the reason is kept: {message}");
    assert!(!message.contains("hunter2"), "{message}");
}

/// A server that accepts connections and never answers: only the timeouts
/// stop the wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_fails_within_the_connect_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    let silent = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            keep.lock().unwrap().push(socket);
        }
    });
    let mut config = PgConfig::new(format!("postgres://scim@127.0.0.1:{port}/scim"));
    config.connect_timeout = Duration::from_millis(700);
    let started = Instant::now();
    let err = PgStore::connect(config, registry()).await.unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(3),
        "took {took:?}"
    );
    silent.abort();
}

/// A TCP proxy in front of the test server that can be taken down (every
/// connection cut, the port closed) and brought back on the same port.
struct Proxy {
    port: u16,
    upstream: String,
    accept: Option<AbortHandle>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut proxy = Proxy {
            port,
            upstream,
            accept: None,
            connections: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&mut self, listener: TcpListener) {
        let (upstream, connections) = (self.upstream.clone(), self.connections.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let relay = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                connections.lock().unwrap().push(relay.abort_handle());
            }
        });
        self.accept = Some(task.abort_handle());
    }

    fn down(&mut self) {
        if let Some(a) = self.accept.take() {
            a.abort();
        }
        for c in self.connections.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    async fn up(&mut self) {
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("rebinding the proxy port: {e}"),
            }
        };
        self.serve(listener);
    }
}

/// The test server's URL with host and port replaced (key/value form).
fn via(url: &str, port: u16) -> String {
    let pg: tokio_postgres::Config = url.parse().unwrap();
    let mut s = format!("host=127.0.0.1 port={port}");
    if let Some(user) = pg.get_user() {
        s.push_str(&format!(" user={user}"));
    }
    if let Some(db) = pg.get_dbname() {
        s.push_str(&format!(" dbname={db}"));
    }
    if let Some(pw) = pg.get_password() {
        s.push_str(&format!(" password={}", String::from_utf8_lossy(pw)));
    }
    s
}

fn upstream(url: &str) -> String {
    let pg: tokio_postgres::Config = url.parse().unwrap();
    let host = match pg.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".into(),
    };
    let port = pg.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_fail_fast_while_the_server_is_away_and_the_pool_recovers() {
    let Some(url) = url_or_skip("outage") else { return };
    let mut proxy = Proxy::start(upstream(&url)).await;
    let mut c = config(&via(&url, proxy.port), &fresh_schema("outage"));
    c.connect_timeout = Duration::from_secs(2);
    let s = TempSchema::with_config(c, registry()).await;
    let store: &dyn Store = &s;
    let ctx = tenant(store, "outage").await;
    let id = user(store, &ctx, json!({"schemas": [USER_URN], "userName": "survivor"})).await;
    s.store.ping().await.unwrap();

    proxy.down();
    for step in ["ping", "get", "create"] {
        let started = Instant::now();
        let result = match step {
            "ping" => s.store.ping().await,
            "get" => store.get(&ctx, Kind::User, &id, Load::default()).await.map(|_| ()),
            _ => {
                let doc = json!({"schemas": [USER_URN], "userName": "lost"});
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
                    .map(|_| ())
            }
        };
        let took = started.elapsed();
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "{step} while down: {result:?}"
        );
        assert!(took < Duration::from_millis(2500), "{step} took {took:?} while down");
    }

    proxy.up().await;
    // Connections that died are dropped on return; fresh ones are opened.
    let mut recovered = false;
    for _ in 0..20 {
        if s.store.ping().await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the pool did not recover");
    let got = store.get(&ctx, Kind::User, &id, Load::default()).await.unwrap();
    assert_eq!(got.doc["userName"], json!("survivor"));
    drop(s);
    proxy.down();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_store_is_unavailable() {
    let Some(url) = url_or_skip("close") else { return };
    let s = TempSchema::new(&url, "close", registry()).await;
    s.store.ping().await.unwrap();
    s.store.close();
    assert!(matches!(s.store.ping().await, Err(StoreError::Unavailable(_))));
}

// ------------------------------------------------------------ migrations --

#[derive(Debug)]
struct Applied(i64);

async fn applied_migrations(url: &str, schema: &str) -> Applied {
    let client = raw_client(url).await;
    let row = client
        .query_one(
            &format!("SELECT count(*) FROM \"{schema}\".__diesel_schema_migrations"),
            &[],
        )
        .await
        .unwrap();
    Applied(row.get(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_idempotent_and_safe_to_race() {
    let Some(url) = url_or_skip("migrations") else { return };
    // Four instances starting at once on an empty schema.
    let schema = fresh_schema("migrate");
    let mut starts = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let c = config(&url, &schema);
        starts.spawn(async move { PgStore::connect(c, registry()).await });
    }
    let mut stores = Vec::new();
    while let Some(r) = starts.join_next().await {
        stores.push(r.unwrap().unwrap());
    }
    let first = TempSchema {
        store: stores.remove(0),
        url: url.clone(),
        schema: schema.clone(),
    };
    assert_eq!(applied_migrations(&url, &schema).await.0, 1);
    let ctx = tenant(&first, "migrate").await;
    let id = user(&first, &ctx, json!({"schemas": [USER_URN], "userName": "kept"})).await;
    // Again, explicitly and by reconnecting: nothing to apply, data kept.
    assert_eq!(first.store.migrate().await.unwrap(), 0);
    assert_eq!(first.store.migrate().await.unwrap(), 0);
    let again = PgStore::connect(config(&url, &schema), registry()).await.unwrap();
    assert_eq!(again.migrate().await.unwrap(), 0);
    assert_eq!(applied_migrations(&url, &schema).await.0, 1);
    let got = again.get(&ctx, Kind::User, &id, Load::default()).await.unwrap();
    assert_eq!(got.doc["userName"], json!("kept"));
}

#[test]
fn migrations_run_on_a_current_thread_runtime_too() {
    let Some(url) = url_or_skip("current-thread migrations") else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let s = TempSchema::new(&url, "ct", registry()).await;
        s.store.ping().await.unwrap();
    });
}

// ------------------------------------------------------ bound parameters --

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_with_quotes_and_sql_match_literally() {
    let Some(url) = url_or_skip("bound parameters") else {
        return;
    };
    let s = TempSchema::new(&url, "binds", registry()).await;
    let store: &dyn Store = &s;
    let ctx = tenant(store, "binds").await;
    let evil = "o'brien'); DROP TABLE resources; --";
    let names = [evil, "a\"b\\c", "$1 or 1=1", "50%_off", "plain"];
    let mut by_name = std::collections::BTreeMap::new();
    for n in names {
        let doc = json!({"schemas": [USER_URN], "userName": n, "title": n, "displayName": format!("{n}!")});
        by_name.insert(n, user(store, &ctx, doc).await);
    }
    let cmp = |attr: &str, op: CompareOp, v: &str| {
        Filter::Compare(AttrPath::name(attr), op, CompValue::String(v.to_string()))
    };
    for n in names {
        let want = vec![by_name[n].clone()];
        assert_eq!(
            ids(store, &ctx, cmp("userName", CompareOp::Eq, n)).await.unwrap(),
            want,
            "userName eq {n}"
        );
        assert_eq!(
            ids(store, &ctx, cmp("title", CompareOp::Eq, n)).await.unwrap(),
            want,
            "title eq {n}"
        );
        assert_eq!(
            ids(store, &ctx, cmp("displayName", CompareOp::Sw, n)).await.unwrap(),
            want,
            "sw {n}"
        );
    }
    // LIKE wildcards are plain characters here.
    assert_eq!(
        ids(store, &ctx, cmp("title", CompareOp::Co, "%_")).await.unwrap(),
        vec![by_name["50%_off"].clone()]
    );
    assert_eq!(
        ids(store, &ctx, cmp("title", CompareOp::Co, "'); DROP")).await.unwrap(),
        vec![by_name[evil].clone()]
    );
    assert_eq!(
        ids(store, &ctx, cmp("userName", CompareOp::Eq, "' OR '1'='1"))
            .await
            .unwrap(),
        Vec::<String>::new()
    );
    // The table is still there, with everyone in it.
    let all = store.query(&ctx, Kind::User, &Query::all(100)).await.unwrap();
    assert_eq!(all.total, names.len() as u64);
    let got = store
        .get(&ctx, Kind::User, &by_name[evil], Load::default())
        .await
        .unwrap();
    assert_eq!(got.doc["userName"], json!(evil));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_read_back_equal_including_big_floats_and_refuse_nul() {
    let Some(url) = url_or_skip("documents") else { return };
    let s = TempSchema::new(&url, "docs", registry()).await;
    let store: &dyn Store = &s;
    let ctx = tenant(store, "docs").await;
    let doc = json!({"schemas": [USER_URN], "userName": "n", "x": {"big": 1e16, "huge": -2.5e300, "tiny": 1e-7, "i": u64::MAX}});
    let created = store
        .create(
            &ctx,
            Kind::User,
            NewResource {
                doc: doc.clone(),
                members: vec![],
            },
        )
        .await
        .unwrap();
    let got = store.get(&ctx, Kind::User, &created.id, Load::default()).await.unwrap();
    assert_eq!(got.doc, doc);
    assert!(got.doc["x"]["big"].is_f64() && got.doc["x"]["i"].is_u64());
    let nul = json!({"schemas": [USER_URN], "userName": "nul\u{0}"});
    let err = store
        .create(
            &ctx,
            Kind::User,
            NewResource {
                doc: nul,
                members: vec![],
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidValue(_)), "{err:?}");
}

// ------------------------------------------------------------- time keys --

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sql_time_key_agrees_with_chrono() {
    let Some(url) = url_or_skip("time keys") else { return };
    let s = TempSchema::new(&url, "timekey", registry()).await;
    let mut texts: Vec<String> = [
        "2024-01-01T10:00:00Z",
        "2024-01-01t10:00:00z",
        "2024-01-01 10:00:00+02:00",
        "2024-01-01T10:00:00.123456789123Z",
        "2024-01-01T10:00:00.5-00:00",
        "2024-01-01T10:00:00\u{2212}05:30",
        "2016-12-31T23:59:60.999Z",
        "2016-12-31T23:59:60Z",
        "0000-01-01T00:00:00+23:59",
        "9999-12-31T23:59:59-23:59",
        "2000-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2024-04-31T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-00-01T00:00:00Z",
        "2024-01-00T00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01T10:60:00Z",
        "2024-01-01T10:00:61Z",
        "2024-01-01T10:00:00+24:00",
        "2024-01-01T10:00:00+23:60",
        "2024-01-01T10:00:00+0200",
        "2024-01-01T10:00:00",
        "2024-01-01T10:00:00.Z",
        "2024-01-01T10:00Z",
        "2024-1-01T10:00:00Z",
        "2024-01-01T10:00:00Z ",
        " 2024-01-01T10:00:00Z",
        "2024-01-01T10:00:00ZZ",
        "２０２４-01-01T10:00:00Z",
        "yesterday",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // And a spread of generated ones, in every offset format.
    for i in 0..200_i64 {
        let secs = -62_000_000_000 + i * 1_573_000_003;
        let t = DateTime::from_timestamp(secs, (i as u32 * 7_919_321) % 1_000_000_000).unwrap();
        let off = chrono::FixedOffset::east_opt(((i * 3_607) % 86_399) as i32 - 43_000).unwrap();
        texts.push(
            t.with_timezone(&off)
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, i % 2 == 0),
        );
    }
    let client = raw_client(&url).await;
    let sql = format!("SELECT \"{}\".scim_time_key($1)", s.schema);
    for text in &texts {
        let got: Option<String> = client.query_one(&sql, &[text]).await.unwrap().get(0);
        let want = DateTime::parse_from_rfc3339(text).ok().map(|t| {
            format!(
                "{:012}{:010}",
                t.timestamp() + 100_000_000_000,
                t.timestamp_subsec_nanos()
            )
        });
        assert_eq!(got, want, "scim_time_key({text:?})");
    }
}

// ------------------------------------------------------ evaluator fallback --

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_too_big_for_sql_are_evaluated_under_max_scan() {
    let Some(url) = url_or_skip("fallback") else { return };
    let reg = registry();
    let mut c = config(&url, &fresh_schema("fallback"));
    c.max_scan = 20;
    let s = TempSchema::with_config(c, reg.clone()).await;
    let store: &dyn Store = &s;
    let ctx = tenant(store, "fallback").await;
    for i in 0..30 {
        let doc = json!({"schemas": [USER_URN], "userName": format!("u{i:02}"), "title": format!("t{}", i % 7)});
        user(store, &ctx, doc).await;
    }
    let limits = FilterLimits {
        max_length: 1 << 20,
        max_depth: 64,
    };
    let ors = (0..900)
        .map(|i| format!("title eq \"t{}\"", i % 3))
        .collect::<Vec<_>>()
        .join(" or ");
    // Selective indexed part: 1 candidate, evaluated in Rust.
    let narrow = parse(&format!("userName eq \"U01\" and ({ors})"), &limits).unwrap();
    let got = store
        .query(
            &ctx,
            Kind::User,
            &Query {
                filter: Some(narrow.clone()),
                ..Query::all(100)
            },
        )
        .await
        .unwrap();
    assert_eq!(got.total, 1);
    assert_eq!(got.items[0].doc["userName"], json!("u01"));
    // No indexed part: 30 candidates > max_scan 20.
    let wide = parse(&format!("title pr and ({ors})"), &limits).unwrap();
    let err = store
        .query(
            &ctx,
            Kind::User,
            &Query {
                filter: Some(wide.clone()),
                ..Query::all(100)
            },
        )
        .await;
    assert!(matches!(err, Err(StoreError::TooMany(_))), "{err:?}");
    // Under the limit the answer is the evaluator's, sorted and paged.
    let mid = parse(&format!("userName sw \"u1\" and ({ors})"), &limits).unwrap();
    let all = store.query(&ctx, Kind::User, &Query::all(100)).await.unwrap().items;
    let mut want: Vec<String> = all
        .iter()
        .filter(|u| matches(&mid, reg.user(), &u.to_resource()))
        .map(|u| u.id.clone())
        .collect();
    want.sort();
    let page = store
        .query(
            &ctx,
            Kind::User,
            &Query {
                filter: Some(mid),
                start_index: 2,
                ..Query::all(2)
            },
        )
        .await
        .unwrap();
    assert_eq!(page.total, want.len() as u64);
    assert_eq!(
        page.items.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        want[1..3].to_vec()
    );
}

// ---------------------------------------------------------------- races --

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_nesting_never_makes_a_cycle() {
    let Some(url) = url_or_skip("nesting race") else { return };
    let s = Arc::new(TempSchema::new(&url, "cycles", registry()).await);
    let ctx = tenant(s.as_ref(), "cycles").await;
    for round in 0..15 {
        let a = group(s.as_ref(), &ctx, &format!("a{round}")).await;
        let b = group(s.as_ref(), &ctx, &format!("b{round}")).await;
        let add = |into: String, member: String| {
            let (s, ctx) = (s.clone(), ctx.clone());
            tokio::spawn(async move {
                let mut delta = MemberDelta::default();
                delta.add([Member::new(member)]);
                s.update(
                    &ctx,
                    Kind::Group,
                    &into,
                    Precondition::Any,
                    Update {
                        doc: None,
                        members: delta,
                    },
                )
                .await
            })
        };
        let (x, y) = tokio::join!(add(a.clone(), b.clone()), add(b.clone(), a.clone()));
        let results = [x.unwrap(), y.unwrap()];
        let ok = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "round {round}: exactly one nesting must win: {results:?}");
        assert!(results.iter().any(|r| matches!(r, Err(StoreError::InvalidValue(_)))));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_deleted_meanwhile_is_never_left_dangling() {
    let Some(url) = url_or_skip("member race") else { return };
    let s = Arc::new(TempSchema::new(&url, "dangling", registry()).await);
    let ctx = tenant(s.as_ref(), "dangling").await;
    let g = group(s.as_ref(), &ctx, "g").await;
    for round in 0..20 {
        let u = user(
            s.as_ref(),
            &ctx,
            json!({"schemas": [USER_URN], "userName": format!("m{round}")}),
        )
        .await;
        let (s1, s2, c1, c2, g1, u1, u2) = (
            s.clone(),
            s.clone(),
            ctx.clone(),
            ctx.clone(),
            g.clone(),
            u.clone(),
            u.clone(),
        );
        let add = tokio::spawn(async move {
            let mut delta = MemberDelta::default();
            delta.add([Member::new(u1)]);
            s1.update(
                &c1,
                Kind::Group,
                &g1,
                Precondition::Any,
                Update {
                    doc: None,
                    members: delta,
                },
            )
            .await
        });
        let del = tokio::spawn(async move { s2.delete(&c2, Kind::User, &u2, Precondition::Any).await });
        let (added, deleted) = (add.await.unwrap(), del.await.unwrap());
        deleted.unwrap();
        assert!(
            added.is_ok() || matches!(added, Err(StoreError::InvalidValue(_))),
            "{added:?}"
        );
        let page = s
            .members(
                &ctx,
                &g,
                scim_store::MemberCursor {
                    after: None,
                    limit: 100,
                },
            )
            .await
            .unwrap();
        assert!(
            page.members.iter().all(|m| m.value != u),
            "round {round}: a deleted user is still a member"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tailing_audit_reader_sees_every_event_once_while_writers_run() {
    let Some(url) = url_or_skip("audit tail") else { return };
    let s = Arc::new(TempSchema::new(&url, "tail", registry()).await);
    let ctx = tenant(s.as_ref(), "tail").await;
    const WRITERS: usize = 6;
    const EACH: usize = 25;
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let (s, ctx) = (s.clone(), ctx.clone());
        writers.spawn(async move {
            for i in 0..EACH {
                user(
                    s.as_ref(),
                    &ctx,
                    json!({"schemas": [USER_URN], "userName": format!("w{w}-{i}")}),
                )
                .await;
            }
        });
    }
    let mut seen: Vec<u64> = Vec::new();
    let tail = |after: Option<u64>| {
        let (s, tenant) = (s.clone(), ctx.tenant.clone());
        async move {
            let q = scim_store::AuditQuery {
                after_seq: after,
                limit: 7,
                ..Default::default()
            };
            s.audit(&tenant, &q).await.unwrap()
        }
    };
    loop {
        let done = writers.is_empty();
        let batch = tail(seen.last().copied()).await;
        seen.extend(batch.iter().map(|e| e.seq));
        if done && batch.is_empty() {
            break;
        }
        if !writers.is_empty()
            && let Some(r) = writers.try_join_next()
        {
            r.unwrap();
        }
        tokio::task::yield_now().await;
    }
    let want: Vec<u64> = (1..=(WRITERS * EACH) as u64).collect();
    assert_eq!(seen, want, "every event once, numbered 1..n in the order read");
}
