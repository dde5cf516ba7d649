//! The same store figures on every backend, side by side, with 100,000
//! users: create throughput at 32 concurrent clients (the preload itself),
//! get by id, `userName eq`, `externalId eq` (medians), and adding one
//! member to a group of 100,000 against a group of 10 (medians, taking
//! turns; target within 2x). Every backend is opened the way the server
//! opens it (`scim_server::store::open`), so the figures are those of the
//! configuration a deployment runs, SQLite at `synchronous = full`.
//!
//! `cargo bench -p scim-server --bench backends`; PostgreSQL and Redis join
//! when `SCIM_TEST_POSTGRES_URL` / `SCIM_TEST_REDIS_URL` are set (each in a
//! fresh schema / key prefix, removed at the end). `SCIM_BENCH_USERS`
//! changes the size. It reports, it does not assert.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a benchmark whose setup fails must stop, not report nothing"
)]

use scim_core::filter::{self, FilterLimits};
use scim_core::members::{Member, MemberDelta};
use scim_core::schema::{GROUP_URN, USER_URN};
use scim_server::Config;
use scim_store::{Ctx, Kind, Load, NewResource, Precondition, Query, Store, Update};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const WRITERS: usize = 32;
const LOOKUPS: usize = 2_000;
const MEMBER_ADDS: usize = 300;
/// Members added per store call while building the big group.
const MEMBER_BATCH: usize = 1_000;

/// A tiny deterministic generator: the same picks in every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

struct Figures {
    backend: &'static str,
    creates_per_s: f64,
    get: Duration,
    user_name: Duration,
    external_id: Duration,
    add_big: Duration,
    add_small: Duration,
}

/// Creates `users` users from 32 concurrent clients; returns their ids in
/// creation order and the rate.
async fn preload(store: &Arc<dyn Store>, ctx: &Ctx, users: usize) -> (Vec<String>, f64) {
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let (store, ctx) = (store.clone(), ctx.clone());
        set.spawn(async move {
            let mut ids = Vec::new();
            for i in (w..users).step_by(WRITERS) {
                let doc = json!({
                    "schemas": [USER_URN],
                    "userName": format!("user{i:07}@example.com"),
                    "externalId": format!("ext-{i:07}"),
                    "displayName": format!("User {i}"),
                    "active": true,
                    "name": {"givenName": "User", "familyName": format!("N{i}")},
                    "emails": [{"value": format!("user{i:07}@example.com"), "type": "work", "primary": true}],
                });
                let s = store
                    .create(
                        &ctx,
                        Kind::User,
                        NewResource {
                            doc,
                            members: Vec::new(),
                        },
                    )
                    .await
                    .expect("create");
                ids.push(s.id);
            }
            ids
        });
    }
    let mut ids = Vec::with_capacity(users);
    while let Some(r) = set.join_next().await {
        ids.extend(r.expect("writer"));
    }
    (ids, users as f64 / started.elapsed().as_secs_f64())
}

async fn group(store: &Arc<dyn Store>, ctx: &Ctx, name: &str, members: &[String]) -> String {
    let doc = json!({"schemas": [GROUP_URN], "displayName": name});
    let g = store
        .create(
            ctx,
            Kind::Group,
            NewResource {
                doc,
                members: Vec::new(),
            },
        )
        .await
        .expect("group");
    for chunk in members.chunks(MEMBER_BATCH) {
        let mut delta = MemberDelta::default();
        delta.add(chunk.iter().map(|m| Member::new(m.clone())));
        let update = Update {
            doc: None,
            members: delta,
        };
        store
            .update(ctx, Kind::Group, &g.id, Precondition::Any, update)
            .await
            .expect("members");
    }
    g.id
}

async fn lookup_median(store: &Arc<dyn Store>, ctx: &Ctx, ids: &[String], what: &str) -> Duration {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let registry = scim_core::schema::Registry::builtin();
    let mut samples = Vec::with_capacity(LOOKUPS);
    for round in 0..(LOOKUPS + LOOKUPS / 10) {
        let i = rng.below(ids.len());
        let started = Instant::now();
        let found = if what == "get" {
            store.get(ctx, Kind::User, &ids[i], Load::default()).await.map(|_| 1)
        } else {
            // The preload's i-th user has userName user{i}, whatever its id.
            let text = match what {
                "userName" => format!("userName eq \"User{i:07}@Example.com\""),
                _ => format!("externalId eq \"ext-{i:07}\""),
            };
            let f = filter::parse(&text, &FilterLimits::default()).expect("filter");
            filter::check(&f, &[registry.user()]).expect("check");
            let q = Query {
                filter: Some(f),
                ..Query::all(100)
            };
            store.query(ctx, Kind::User, &q).await.map(|p| p.total)
        };
        let took = started.elapsed();
        assert_eq!(found.expect("lookup"), 1, "{what} lookup of user {i}");
        if round >= LOOKUPS / 10 {
            samples.push(took);
        }
    }
    median(samples)
}

/// Adds members that are in neither group, taking turns between the two
/// groups; medians of each.
async fn member_adds(store: &Arc<dyn Store>, ctx: &Ctx, groups: [&str; 2], spare: &[String]) -> [Duration; 2] {
    let mut samples = [Vec::new(), Vec::new()];
    for (i, pair) in spare.chunks(2).take(MEMBER_ADDS).enumerate() {
        for (g, member) in pair.iter().enumerate() {
            let mut delta = MemberDelta::default();
            delta.add([Member::new(member.clone())]);
            let update = Update {
                doc: None,
                members: delta,
            };
            let started = Instant::now();
            store
                .update(ctx, Kind::Group, groups[g], Precondition::Any, update)
                .await
                .expect("add member");
            if i >= MEMBER_ADDS / 10 {
                samples[g].push(started.elapsed());
            }
        }
    }
    samples.map(median)
}

async fn measure(backend: &'static str, config: Config, users: usize) -> Figures {
    let registry = Arc::new(config.registry().expect("registry"));
    let store = scim_server::store::open(&config, registry).await.expect("open");
    let tenant = store.create_tenant("bench").await.expect("tenant");
    let ctx = Ctx::new(tenant.id.clone(), None, "bench");
    eprintln!("{backend}: creating {users} users from {WRITERS} clients");
    let (ids, creates_per_s) = preload(&store, &ctx, users + 2 * MEMBER_ADDS).await;
    // The last 2 * MEMBER_ADDS users are the members the timed adds add.
    let (ids, spare) = ids.split_at(users);
    eprintln!("{backend}: groups of {users} and 10 members");
    let big = group(&store, &ctx, "big", ids).await;
    let small = group(&store, &ctx, "small", &ids[..10]).await;
    if let Some(url) = &config.storage.postgres.url
        && config.storage.backend == "postgres"
    {
        // Statistics for the planner, as autovacuum's analyze would gather
        // within a minute of a bulk load: without them PostgreSQL plans the
        // lookups on a freshly filled table as sequential scans.
        let schema = &config.storage.postgres.schema;
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        client
            .batch_execute(&format!(
                "ANALYZE \"{schema}\".resources; ANALYZE \"{schema}\".memberships"
            ))
            .await
            .expect("analyze");
    }
    eprintln!("{backend}: lookups");
    let get = lookup_median(&store, &ctx, ids, "get").await;
    let user_name = lookup_median(&store, &ctx, ids, "userName").await;
    let external_id = lookup_median(&store, &ctx, ids, "externalId").await;
    let [add_big, add_small] = member_adds(&store, &ctx, [&big, &small], spare).await;
    Figures {
        backend,
        creates_per_s,
        get,
        user_name,
        external_id,
        add_big,
        add_small,
    }
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let users: usize = std::env::var("SCIM_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let suffix = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let mut runs: Vec<(&'static str, Config)> = Vec::new();
    let mut sqlite = Config::default();
    sqlite.storage.sqlite.path = dir.path().join("bench.db");
    runs.push(("SQLite", sqlite));
    let pg_schema = format!("scim_bench_{suffix}");
    let pg_url = std::env::var("SCIM_TEST_POSTGRES_URL").ok();
    if let Some(url) = &pg_url {
        let mut c = Config::default();
        c.storage.backend = "postgres".into();
        c.storage.postgres.url = Some(url.clone());
        c.storage.postgres.schema = pg_schema.clone();
        c.storage.postgres.pool_size = WRITERS;
        runs.push(("PostgreSQL", c));
    }
    let redis_prefix = format!("scimbench{suffix}");
    let redis_url = std::env::var("SCIM_TEST_REDIS_URL").ok();
    if let Some(url) = &redis_url {
        let mut c = Config::default();
        c.storage.backend = "redis".into();
        c.storage.redis.url = url.clone();
        c.storage.redis.key_prefix = redis_prefix.clone();
        runs.push(("Redis", c));
    }
    let mut table = Vec::new();
    for (name, config) in runs {
        table.push(measure(name, config, users).await);
    }
    if let Some(url) = &redis_url
        && let Err(e) = scim_store_redis::delete_prefix(url, &redis_prefix)
    {
        eprintln!("cannot remove the keys under {redis_prefix}: {e}");
    }
    if let Some(url) = &pg_url {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        if let Err(e) = client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{pg_schema}\" CASCADE"))
            .await
        {
            eprintln!("cannot drop schema {pg_schema}: {e}");
        }
    }
    println!(
        "\n{users} users; medians of {LOOKUPS} lookups and {} adds per group",
        MEMBER_ADDS * 9 / 10
    );
    println!(
        "\n| backend | creates/s (32 clients) | get by id | userName eq | externalId eq | add member: group of {users} | group of 10 | ratio |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for f in table {
        println!(
            "| {} | {:.0} | {} | {} | {} | {} | {} | {:.2}x |",
            f.backend,
            f.creates_per_s,
            us(f.get),
            us(f.user_name),
            us(f.external_id),
            us(f.add_big),
            us(f.add_small),
            f.add_big.as_secs_f64() / f.add_small.as_secs_f64()
        );
    }
    if pg_url.is_none() || redis_url.is_none() {
        println!("\n(set SCIM_TEST_POSTGRES_URL and SCIM_TEST_REDIS_URL to include PostgreSQL and Redis)");
    }
}
