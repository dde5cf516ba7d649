//! Benchmarks of the PostgreSQL store, as ratios against a baseline measured
//! in the same run (so they hold on a noisy machine). Run with
//! `SCIM_TEST_POSTGRES_URL=postgres://... cargo bench -p scim-store-postgres`
//! (without the variable it prints `skipped` and exits); prints one table:
//!
//! - lookups (get by id; filters `userName eq`, `externalId eq`,
//!   `emails[type eq "work"].value eq`) with 1,000,000 users against the
//!   same with 10,000, medians, the two sizes taking turns: target within 2x;
//! - adding one member to a group of 100,000 against a group of 10
//!   (medians, taking turns): target within 2x;
//! - 32 concurrent clients creating users, against 32 raw tokio-postgres
//!   connections inserting one row per transaction (the ceiling of the
//!   server and its fsync).
//!
//! Users are preloaded server-side (`INSERT ... SELECT generate_series`, in
//! batches) into two fresh schemas, not through the store; the derived
//! columns are filled exactly as the store computes them for this ASCII
//! data. The schemas are dropped at the end (`SCIM_BENCH_KEEP=1` keeps them).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a benchmark whose setup fails must stop, not report nothing"
)]

use scim_core::filter::{self, FilterLimits};
use scim_core::members::{Member, MemberDelta};
use scim_core::schema::{GROUP_URN, Registry};
use scim_store::{Ctx, Kind, Load, NewResource, Precondition, Query, Store, Update};
use scim_store_postgres::{PgConfig, PgStore};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const LOOKUPS: usize = 2_000;
const MEMBER_ADDS: usize = 300;
const WRITERS: usize = 32;
const CREATES_PER_WRITER: usize = 60;
const PRELOAD_BATCH: i64 = 100_000;
const BIG_GROUP: i64 = 100_000;

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

async fn raw(url: &str, schema: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("raw connection");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("SET search_path TO \"{schema}\""))
        .await
        .expect("search_path");
    client
}

/// A store in a fresh schema with `users` users in one tenant, preloaded.
struct Loaded {
    store: PgStore,
    schema: String,
    ctx: Ctx,
    tenant: uuid::Uuid,
    users: i64,
    ids: Vec<String>,
}

async fn load(url: &str, registry: &Arc<Registry>, users: i64) -> Loaded {
    let schema = format!("scim_bench_{users}_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let mut config = PgConfig::new(url).with_schema(&schema);
    config.pool_size = WRITERS;
    let store = PgStore::connect(config, registry.clone()).await.expect("connect");
    let tenant = store.create_tenant(&format!("bench-{users}")).await.expect("tenant");
    let ctx = Ctx::new(tenant.id.clone(), None, "bench");
    let tenant_id: uuid::Uuid = tenant.id.parse().expect("uuid");
    let client = raw(url, &schema).await;
    let started = Instant::now();
    let mut from = 1;
    while from <= users {
        let to = (from + PRELOAD_BATCH - 1).min(users);
        client
            .execute(
                "INSERT INTO resources (tenant, id, kind, version, created, modified, user_name_key, external_id,
                                        display_name_key, email_keys, doc, doc_fold)
                 SELECT $1::text::uuid, gen_random_uuid(), 'User', 1, t, t, 'user' || n || '@example.com', 'ext-' || n,
                        'user ' || n, ARRAY['user' || n || '@example.com'],
                        jsonb_build_object('schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:User'),
                            'userName', 'user' || n || '@example.com', 'externalId', 'ext-' || n,
                            'displayName', 'User ' || n, 'active', true,
                            'name', jsonb_build_object('givenName', 'User', 'familyName', 'N' || n),
                            'emails', jsonb_build_array(jsonb_build_object('value', 'user' || n || '@example.com',
                                                        'type', 'work', 'primary', true))),
                        jsonb_build_object('schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:user'),
                            'userName', 'user' || n || '@example.com', 'externalId', 'ext-' || n,
                            'displayName', 'user ' || n, 'active', true,
                            'name', jsonb_build_object('givenName', 'user', 'familyName', 'n' || n),
                            'emails', jsonb_build_array(jsonb_build_object('value', 'user' || n || '@example.com',
                                                        'type', 'work', 'primary', true)))
                 FROM generate_series($2::bigint, $3::bigint) AS g(i),
                      LATERAL (SELECT lpad(i::text, 7, '0') AS n, date_trunc('milliseconds', now()) AS t) AS x",
                &[&tenant_id.to_string(), &from, &to],
            )
            .await
            .expect("preload");
        from = to + 1;
        if users >= 1_000_000 {
            eprintln!("  preloaded {to} of {users} users ({:.0?})", started.elapsed());
        }
    }
    client.batch_execute("ANALYZE resources").await.expect("analyze");
    let rows = client
        .query(
            "SELECT id::text FROM resources WHERE tenant = $1::text::uuid AND kind = 'User' ORDER BY id",
            &[&tenant_id.to_string()],
        )
        .await
        .expect("ids");
    let ids = rows.iter().map(|r| r.get::<_, String>(0)).collect();
    eprintln!("  {users} users in {schema} ({:.1?})", started.elapsed());
    Loaded {
        store,
        schema,
        ctx,
        tenant: tenant_id,
        users,
        ids,
    }
}

const LOOKUP_KINDS: [&str; 4] = ["get", "userName", "externalId", "emails"];

/// One lookup of a random existing user: by id, or by a filter as an IdP
/// sends it (parsed and checked as the server would).
async fn lookup(l: &Loaded, registry: &Registry, what: &str, rng: &mut Rng) -> Duration {
    let i = 1 + rng.below(l.users as usize);
    let n = format!("{i:07}");
    let started = Instant::now();
    let found = match what {
        "get" => {
            let id = &l.ids[rng.below(l.ids.len())];
            l.store.get(&l.ctx, Kind::User, id, Load::default()).await.map(|_| 1)
        }
        _ => {
            let text = match what {
                "userName" => format!("userName eq \"User{n}@Example.com\""),
                "externalId" => format!("externalId eq \"ext-{n}\""),
                _ => format!("emails[type eq \"work\"].value eq \"user{n}@example.com\""),
            };
            let f = filter::parse(&text, &FilterLimits::default()).expect("filter");
            filter::check(&f, &[registry.user()]).expect("check");
            let q = Query {
                filter: Some(f),
                ..Query::all(100)
            };
            l.store.query(&l.ctx, Kind::User, &q).await.map(|p| p.total)
        }
    };
    let took = started.elapsed();
    assert_eq!(found.expect("lookup"), 1, "{what} lookup of {n}");
    took
}

/// Median lookup time of each kind at each size. The sizes take turns
/// lookup by lookup, so a burst of load elsewhere on the machine hits both
/// alike; the median ignores the bursts themselves. The first tenth warms
/// caches and prepared statements.
async fn lookups(sizes: [&Loaded; 2], registry: &Registry) -> [[Duration; 4]; 2] {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut samples: Vec<Vec<Vec<Duration>>> = vec![vec![Vec::new(); LOOKUP_KINDS.len()]; 2];
    for round in 0..(LOOKUPS + LOOKUPS / 10) {
        for (k, what) in LOOKUP_KINDS.iter().enumerate() {
            for (s, l) in sizes.iter().enumerate() {
                let took = lookup(l, registry, what, &mut rng).await;
                if round >= LOOKUPS / 10 {
                    samples[s][k].push(took);
                }
            }
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let mut out = [[Duration::ZERO; 4]; 2];
    for s in 0..2 {
        for k in 0..LOOKUP_KINDS.len() {
            out[s][k] = median(&mut samples[s][k]);
        }
    }
    out
}

/// Median time to add one (new) member to each group; the groups take
/// turns, so machine load hits both alike.
async fn member_adds(l: &Loaded, groups: [&str; 2], members: [&[String]; 2]) -> [Duration; 2] {
    let mut samples = [Vec::new(), Vec::new()];
    for (i, pair) in members[0].iter().zip(members[1]).enumerate() {
        for (g, member) in [pair.0, pair.1].into_iter().enumerate() {
            let mut delta = MemberDelta::default();
            delta.add([Member::new(member.clone())]);
            let update = Update {
                doc: None,
                members: delta,
            };
            let started = Instant::now();
            l.store
                .update(&l.ctx, Kind::Group, groups[g], Precondition::Any, update)
                .await
                .expect("add member");
            if i >= MEMBER_ADDS / 10 {
                samples[g].push(started.elapsed());
            }
        }
    }
    samples.map(|mut v| {
        v.sort();
        v[v.len() / 2]
    })
}

async fn group_of(l: &Loaded, name: &str, first: i64, size: i64) -> String {
    let doc = json!({"schemas": [GROUP_URN], "displayName": name});
    let g = l
        .store
        .create(
            &l.ctx,
            Kind::Group,
            NewResource {
                doc,
                members: Vec::new(),
            },
        )
        .await
        .expect("group");
    let gid: uuid::Uuid = g.id.parse().expect("uuid");
    // Members straight into the table, as a preload: the first `size`
    // users after skipping `first`, in id order.
    let client = raw_for(l).await;
    client
        .execute(
            "INSERT INTO memberships (tenant, group_id, member_id, member_kind)
             SELECT tenant, $2::text::uuid, id, 'User' FROM resources WHERE tenant = $1::text::uuid AND kind = 'User'
             ORDER BY id OFFSET $3 LIMIT $4",
            &[&l.tenant.to_string(), &gid.to_string(), &first, &size],
        )
        .await
        .expect("members");
    client.batch_execute("ANALYZE memberships").await.expect("analyze");
    g.id
}

async fn raw_for(l: &Loaded) -> tokio_postgres::Client {
    raw(&l.store.config().url, &l.schema).await
}

/// Creates per second with `WRITERS` concurrent clients.
async fn creates(l: &Loaded) -> f64 {
    let tenant = l.store.create_tenant("bench-creates").await.expect("tenant");
    let ctx = Ctx::new(tenant.id, None, "bench-creates");
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let (store, ctx) = (l.store.clone(), ctx.clone());
        set.spawn(async move {
            for i in 0..CREATES_PER_WRITER {
                let doc = json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": format!("new{w:02}-{i:04}@example.com"),
                    "externalId": format!("new-{w}-{i}"),
                    "displayName": format!("New {w} {i}"),
                    "emails": [{"value": format!("new{w:02}-{i:04}@example.com"), "type": "work", "primary": true}],
                });
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
                    .expect("create");
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("writer");
    }
    (WRITERS * CREATES_PER_WRITER) as f64 / started.elapsed().as_secs_f64()
}

/// Single-row autocommit inserts per second over `WRITERS` raw connections.
async fn raw_inserts(l: &Loaded) -> f64 {
    let setup = raw_for(l).await;
    setup
        .batch_execute("CREATE TABLE bench_raw (id uuid PRIMARY KEY, user_name text UNIQUE, doc jsonb NOT NULL)")
        .await
        .expect("raw table");
    let mut clients = Vec::new();
    for _ in 0..WRITERS {
        clients.push(raw_for(l).await);
    }
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for (w, client) in clients.into_iter().enumerate() {
        set.spawn(async move {
            let stmt = client
                .prepare("INSERT INTO bench_raw (id, user_name, doc) VALUES (gen_random_uuid(), $1, $2::text::jsonb)")
                .await
                .expect("prepare");
            for i in 0..CREATES_PER_WRITER {
                let name = format!("raw{w:02}-{i:04}@example.com");
                let doc = json!({"userName": name, "emails": [{"value": name}]}).to_string();
                client.execute(&stmt, &[&name, &doc]).await.expect("insert");
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("raw writer");
    }
    (WRITERS * CREATES_PER_WRITER) as f64 / started.elapsed().as_secs_f64()
}

async fn drop_schema(url: &str, schema: &str) {
    if std::env::var_os("SCIM_BENCH_KEEP").is_some() {
        eprintln!("  kept schema {schema}");
        return;
    }
    let client = raw(url, "public").await;
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .await
        .expect("drop schema");
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

async fn bench(url: String) {
    let registry = Arc::new(Registry::builtin());
    let bench_started = Instant::now();
    eprintln!("preloading 10,000 users");
    let small = load(&url, &registry, 10_000).await;
    eprintln!("preloading 1,000,000 users");
    let large = load(&url, &registry, 1_000_000).await;

    eprintln!("lookups");
    let [at_10k, at_1m] = lookups([&small, &large], &registry).await;

    eprintln!("member adds");
    let big = group_of(&large, "big", 0, BIG_GROUP).await;
    let tiny = group_of(&large, "tiny", BIG_GROUP, 10).await;
    // New members for each group: users in neither group.
    let spare: Vec<String> = large.ids[(BIG_GROUP as usize + 10)..].to_vec();
    let (for_tiny, for_big) = spare.split_at(MEMBER_ADDS);
    let [tiny_add, big_add] = member_adds(&large, [&tiny, &big], [for_tiny, &for_big[..MEMBER_ADDS]]).await;

    eprintln!("creates");
    let store_rate = creates(&small).await;
    let raw_rate = raw_inserts(&small).await;

    println!();
    println!(
        "PostgreSQL store benchmark ({} users vs {} users)",
        small.users, large.users
    );
    println!();
    println!("| measurement | 10k users | 1M users | 1M / 10k | target |");
    println!("|---|---:|---:|---:|---|");
    let names = [
        "get by id",
        "filter userName eq",
        "filter externalId eq",
        "filter emails[type eq work].value eq",
    ];
    for (i, name) in names.iter().enumerate() {
        let ratio = at_1m[i].as_secs_f64() / at_10k[i].as_secs_f64();
        let verdict = if ratio <= 2.0 { "≤ 2x: ok" } else { "≤ 2x: MISSED" };
        println!(
            "| {name} | {} | {} | {ratio:.2}x | {verdict} |",
            us(at_10k[i]),
            us(at_1m[i])
        );
    }
    println!();
    println!("| measurement | baseline | store | ratio | target |");
    println!("|---|---:|---:|---:|---|");
    let ratio = big_add.as_secs_f64() / tiny_add.as_secs_f64();
    let verdict = if ratio <= 2.0 { "≤ 2x: ok" } else { "≤ 2x: MISSED" };
    println!(
        "| add 1 member: 10-member group vs {BIG_GROUP}-member group (1M users) | {} | {} | {ratio:.2}x | {verdict} |",
        us(tiny_add),
        us(big_add)
    );
    println!(
        "| creates/s, {WRITERS} clients: raw 1-row INSERT per txn vs store.create | {raw_rate:.0}/s | {store_rate:.0}/s | {:.2} | report |",
        store_rate / raw_rate
    );
    println!();
    println!("whole run: {:.0?}", bench_started.elapsed());

    small.store.close();
    large.store.close();
    drop_schema(&url, &small.schema).await;
    drop_schema(&url, &large.schema).await;
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass
    // nothing useful either: this binary only ever runs the benchmark.
    let Some(url) = std::env::var("SCIM_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) else {
        println!("skipped: SCIM_TEST_POSTGRES_URL is not set");
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench(url));
}
