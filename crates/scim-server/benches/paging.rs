//! Paging cost on SQLite with 100,000 users: page 1 and page 1,000 (100
//! users a page) by index (`startIndex`) and by cursor (RFC 9865), through
//! the service layer (what every HTTP list request runs; the HTTP part is
//! the same for every page). Run with `cargo bench -p scim-server --bench
//! paging`; prints one table of medians. It reports, it does not assert:
//! index paging is OFFSET (page N reads N pages), cursor paging is a keyset
//! seek (page N costs what page 1 costs).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a benchmark whose setup fails must stop, not report nothing"
)]

use scim_core::schema::{Registry, USER_URN};
use scim_server::Config;
use scim_server::service::{ListParams, Scope, Service, Settings, View};
use scim_store::{Ctx, Kind, NewResource, Store};
use scim_store_sqlite::{SqliteConfig, SqliteStore, Synchronous};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const USERS: usize = 100_000;
const PAGE: i64 = 100;
const DEEP_PAGE: i64 = 1_000;
const RUNS: usize = 15;
const PRELOAD_BATCH: usize = 10_000;

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn time<F, Fut>(mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    f().await; // warm the page cache and prepared statements
    let mut runs = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        f().await;
        runs.push(t.elapsed());
    }
    median(runs)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let dir = TempDir(std::env::temp_dir().join(format!("scim-paging-bench-{}", uuid::Uuid::new_v4().simple())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let registry = Arc::new(Registry::builtin());
    let mut sc = SqliteConfig::new(dir.0.join("scim.db"));
    sc.synchronous = Synchronous::Off;
    let sqlite = Arc::new(SqliteStore::open(sc, registry.clone()).unwrap());
    let tenant = sqlite.create_tenant("bench").await.unwrap();
    let ctx = Ctx::new(tenant.id, None, "bench");
    let started = Instant::now();
    for batch in 0..USERS / PRELOAD_BATCH {
        let docs = (0..PRELOAD_BATCH)
            .map(|i| {
                let n = batch * PRELOAD_BATCH + i;
                NewResource {
                    doc: json!({"schemas": [USER_URN], "userName": format!("user{n:06}@example.com"),
                                "displayName": format!("User {n:06}"), "active": true}),
                    members: Vec::new(),
                }
            })
            .collect();
        sqlite.create_many(&ctx, Kind::User, docs).await.unwrap();
    }
    eprintln!("preloaded {USERS} users in {:.1?}", started.elapsed());
    let store: Arc<dyn Store> = sqlite;
    let settings = Settings::new(&Config::default(), store.as_ref());
    let service = Service::new(store, registry, settings);
    let view = View {
        base: "https://scim.example.com/scim/v2".into(),
        projection: Default::default(),
    };
    let list = |params: ListParams| {
        let (service, ctx, view) = (&service, &ctx, &view);
        async move { service.list(ctx, Scope::One(Kind::User), &params, view).await.unwrap() }
    };
    let index = |page: i64| ListParams {
        start_index: Some((page - 1) * PAGE + 1),
        count: Some(PAGE),
        ..ListParams::default()
    };
    let cursor = |c: String| ListParams {
        cursor: Some(c),
        count: Some(PAGE),
        ..ListParams::default()
    };

    // The cursor of page 1,000: walk there, as a client would.
    let walk = Instant::now();
    let mut next = String::new();
    for _ in 1..DEEP_PAGE {
        let body: serde_json::Value = serde_json::from_str(&list(cursor(next)).await.body().unwrap()).unwrap();
        next = body["nextCursor"].as_str().expect("a next page").to_string();
    }
    let walk = walk.elapsed();
    let deep = list(cursor(next.clone())).await;
    let by_index = list(index(DEEP_PAGE)).await;
    let ids = |r: &scim_server::service::ListPage| -> Vec<String> {
        r.resources()
            .map(|u| {
                let u: serde_json::Value = serde_json::from_str(u).unwrap();
                u["id"].as_str().unwrap().to_string()
            })
            .collect()
    };
    assert_eq!(ids(&deep), ids(&by_index), "both ways reach the same page 1,000");

    let rows = [
        ("index", 1, time(|| async { drop(list(index(1)).await) }).await),
        (
            "index",
            DEEP_PAGE,
            time(|| async { drop(list(index(DEEP_PAGE)).await) }).await,
        ),
        (
            "cursor",
            1,
            time(|| async { drop(list(cursor(String::new())).await) }).await,
        ),
        (
            "cursor",
            DEEP_PAGE,
            time(|| async { drop(list(cursor(next.clone())).await) }).await,
        ),
    ];
    println!("\npaging {USERS} users on SQLite, {PAGE} per page, median of {RUNS} runs");
    println!("| paging | page | median | vs page 1 |");
    println!("|---|---:|---:|---:|");
    for (how, page, t) in rows {
        let first = rows.iter().find(|(h, p, _)| *h == how && *p == 1).map(|r| r.2).unwrap();
        println!(
            "| {how} | {page} | {:.2} ms | {:.1}x |",
            t.as_secs_f64() * 1e3,
            t.as_secs_f64() / first.as_secs_f64()
        );
    }
    println!(
        "(walking cursors from page 1 to page {DEEP_PAGE}: {:.2} s, {:.2} ms a page)",
        walk.as_secs_f64(),
        walk.as_secs_f64() * 1e3 / (DEEP_PAGE - 1) as f64
    );
}
