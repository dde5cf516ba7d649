//! Benchmarks of the SQLite store, as ratios against a baseline measured in
//! the same run (so they hold on a noisy machine). Run with
//! `cargo bench -p scim-store-sqlite`; prints one table:
//!
//! - lookups (get by id; filters `userName eq`, `externalId eq`,
//!   `emails.value eq`) on 100,000 users against the same on 1,000 users:
//!   target within 2x;
//! - adding one member to a group of 100,000 against a group of 10:
//!   target within 2x;
//! - 32 concurrent writers creating users against raw SQLite inserting one
//!   row per transaction with the same pragmas (WAL, synchronous=FULL):
//!   target at least 2x the raw rate (group commit).
//!
//! The 100,000 users are preloaded with large atomic batches
//! (`SqliteStore::create_many`), not one by one. `-- lookups`, `-- members`
//! or `-- creates` runs one part only.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a benchmark whose setup fails must stop, not report nothing"
)]

use scim_core::filter::{self, FilterLimits};
use scim_core::members::{Member, MemberDelta};
use scim_core::schema::{GROUP_URN, Registry, USER_URN};
use scim_store::{Ctx, Kind, Load, NewResource, Precondition, Query, Store, Update};
use scim_store_sqlite::{SqliteConfig, SqliteStore};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const LOOKUPS: usize = 2_000;
const MEMBER_ADDS: usize = 200;
const WRITERS: usize = 32;
const CREATES_PER_WRITER: usize = 200;
const RAW_INSERTS: usize = 2_000;
const PRELOAD_BATCH: usize = 10_000;

struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("scim-sqlite-bench-{label}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
    fn db(&self) -> PathBuf {
        self.0.join("scim.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A user as IdPs provision them, ~400 bytes of JSON.
fn user(i: usize) -> Value {
    json!({
        "schemas": [USER_URN],
        "userName": format!("user{i:06}@example.com"),
        "externalId": format!("ext-{i:06}"),
        "displayName": format!("User {i:06}"),
        "name": {"givenName": "User", "familyName": format!("N{i:06}")},
        "active": true,
        "emails": [{"value": format!("user{i:06}@example.com"), "type": "work", "primary": true}],
    })
}

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

struct Loaded {
    store: SqliteStore,
    ctx: Ctx,
    ids: Vec<String>,
    _dir: TempDir,
}

async fn load(n: usize, registry: &Arc<Registry>) -> Loaded {
    let dir = TempDir::new(&format!("{n}"));
    let store = SqliteStore::open(SqliteConfig::new(dir.db()), registry.clone()).expect("open");
    let tenant = store.create_tenant("bench").await.expect("tenant");
    let ctx = Ctx::new(tenant.id, None, "bench");
    let mut ids = Vec::with_capacity(n);
    for start in (0..n).step_by(PRELOAD_BATCH) {
        let docs = (start..n.min(start + PRELOAD_BATCH))
            .map(|i| NewResource {
                doc: user(i),
                members: Vec::new(),
            })
            .collect();
        ids.extend(
            store
                .create_many(&ctx, Kind::User, docs)
                .await
                .expect("preload")
                .into_iter()
                .map(|s| s.id),
        );
    }
    Loaded {
        store,
        ctx,
        ids,
        _dir: dir,
    }
}

/// Mean microseconds per call of `op` over `LOOKUPS` picks.
async fn per_op<F, Fut>(mut op: F) -> f64
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for i in 0..50 {
        op(i).await; // warm the caches and the statement cache
    }
    let t = Instant::now();
    for i in 0..LOOKUPS {
        op(i).await;
    }
    t.elapsed().as_secs_f64() * 1e6 / LOOKUPS as f64
}

async fn filter_lookup(l: &Loaded, text: &str) {
    let f = filter::parse(text, &FilterLimits::default()).expect("filter");
    let q = Query {
        filter: Some(f),
        ..Query::all(10)
    };
    let page = l.store.query(&l.ctx, Kind::User, &q).await.expect("query");
    assert_eq!(page.total, 1, "`{text}` must match one user");
}

/// Mean microseconds of get, userName eq, externalId eq, emails.value eq.
async fn lookups(l: &Loaded) -> [f64; 4] {
    let n = l.ids.len();
    let picks: Vec<usize> = {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        (0..LOOKUPS + 50).map(|_| rng.below(n)).collect()
    };
    let picks = &picks;
    let get = per_op(|i| {
        let id = l.ids[picks[i]].clone();
        async move {
            l.store
                .get(&l.ctx, Kind::User, &id, Load::WITHOUT_MEMBERS)
                .await
                .expect("get");
        }
    })
    .await;
    let user_name =
        per_op(|i| async move { filter_lookup(l, &format!("userName eq \"USER{:06}@example.com\"", picks[i])).await })
            .await;
    let external =
        per_op(|i| async move { filter_lookup(l, &format!("externalId eq \"ext-{:06}\"", picks[i])).await }).await;
    let email =
        per_op(
            |i| async move { filter_lookup(l, &format!("emails.value eq \"user{:06}@example.com\"", picks[i])).await },
        )
        .await;
    [get, user_name, external, email]
}

async fn add_member(l: &Loaded, group: &str, member: &str) -> Duration {
    let mut members = MemberDelta::default();
    members.add([Member::new(member)]);
    let t = Instant::now();
    l.store
        .update(
            &l.ctx,
            Kind::Group,
            group,
            Precondition::Any,
            Update { doc: None, members },
        )
        .await
        .expect("add member");
    t.elapsed()
}

/// Mean microseconds of adding one member to a group of `big` members and
/// to a group of 10, interleaved so that drift hits both alike.
async fn member_adds(l: &Loaded, big: usize) -> (f64, f64) {
    let group = |name: &str, members: &[String]| NewResource {
        doc: json!({"schemas": [GROUP_URN], "displayName": name}),
        members: members.iter().map(|m| Member::new(m.clone())).collect(),
    };
    let large = l
        .store
        .create(&l.ctx, Kind::Group, group("large", &l.ids[..big]))
        .await
        .expect("large group");
    let small = l
        .store
        .create(&l.ctx, Kind::Group, group("small", &l.ids[..10]))
        .await
        .expect("small group");
    let extra = &l.ids[big..];
    assert!(
        extra.len() >= MEMBER_ADDS,
        "need {MEMBER_ADDS} users outside the large group"
    );
    let (mut t_large, mut t_small) = (Duration::ZERO, Duration::ZERO);
    for m in &extra[..MEMBER_ADDS] {
        t_large += add_member(l, &large.id, m).await;
        t_small += add_member(l, &small.id, m).await;
    }
    let per = |d: Duration| d.as_secs_f64() * 1e6 / MEMBER_ADDS as f64;
    (per(t_large), per(t_small))
}

/// Creates per second with `WRITERS` concurrent tasks on a fresh store.
async fn concurrent_creates(registry: &Arc<Registry>) -> (f64, u64) {
    let dir = TempDir::new("creates");
    let store = Arc::new(SqliteStore::open(SqliteConfig::new(dir.db()), registry.clone()).expect("open"));
    let tenant = store.create_tenant("bench").await.expect("tenant");
    let ctx = Ctx::new(tenant.id, None, "bench");
    let before = store.stats();
    let t = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let (store, ctx) = (store.clone(), ctx.clone());
        tasks.spawn(async move {
            for i in 0..CREATES_PER_WRITER {
                let doc = user(1_000_000 + w * CREATES_PER_WRITER + i);
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
    while let Some(r) = tasks.join_next().await {
        r.expect("writer task");
    }
    let elapsed = t.elapsed().as_secs_f64();
    let commits = store.stats().commits - before.commits;
    ((WRITERS * CREATES_PER_WRITER) as f64 / elapsed, commits)
}

/// Rows per second of raw rusqlite, one INSERT per transaction, with the
/// store's pragmas (WAL, synchronous=FULL) on its own file.
fn raw_inserts() -> f64 {
    let dir = TempDir::new("raw");
    let conn = rusqlite::Connection::open(dir.db()).expect("open raw");
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .expect("wal");
    assert_eq!(mode, "wal");
    conn.pragma_update(None, "synchronous", "FULL").expect("synchronous");
    conn.execute_batch(
        "CREATE TABLE resources (tenant TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
            created TEXT NOT NULL, modified TEXT NOT NULL, user_name_key TEXT, doc TEXT NOT NULL,
            PRIMARY KEY (tenant, kind, id));
         CREATE UNIQUE INDEX resources_user_name ON resources (tenant, kind, user_name_key);",
    )
    .expect("schema");
    let mut insert = conn
        .prepare("INSERT INTO resources VALUES ('t', 'User', ?1, 1, ?2, ?2, ?3, ?4)")
        .expect("prepare");
    let now = chrono::Utc::now().to_rfc3339();
    let t = Instant::now();
    for i in 0..RAW_INSERTS {
        let doc = user(2_000_000 + i);
        let key = doc["userName"].as_str().unwrap_or_default().to_lowercase();
        // Autocommit: each INSERT is its own transaction, one WAL sync each.
        insert
            .execute(rusqlite::params![
                uuid::Uuid::new_v4().to_string(),
                now,
                key,
                doc.to_string()
            ])
            .expect("insert");
    }
    RAW_INSERTS as f64 / t.elapsed().as_secs_f64()
}

/// `cargo bench -p scim-store-sqlite -- creates` runs one part only
/// (`lookups`, `members` or `creates`); no argument runs everything.
fn wanted(part: &str) -> bool {
    let parts: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    parts.is_empty() || parts.iter().any(|p| p == part)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let registry = Arc::new(Registry::builtin());
        let started = Instant::now();
        let mut rows = Vec::new();
        // Writes first, on a quiet disk: the 100k preload leaves the kernel
        // writing back for a while, which would slow both sides unevenly.
        if wanted("creates") {
            // The raw rate before and after, averaged: the disk's speed drifts.
            let raw_before = tokio::task::spawn_blocking(raw_inserts).await.expect("raw inserts");
            let (creates, commits) = concurrent_creates(&registry).await;
            let raw_after = tokio::task::spawn_blocking(raw_inserts).await.expect("raw inserts");
            let raw = (raw_before + raw_after) / 2.0;
            rows.push(Row::rate(
                format!("{WRITERS} concurrent creates vs raw 1-row txns"),
                raw,
                creates,
                Target::AtLeast(2.0),
            ));
            println!(
                "group commit: {} creates in {commits} transactions ({:.1} per commit)",
                WRITERS * CREATES_PER_WRITER,
                (WRITERS * CREATES_PER_WRITER) as f64 / commits.max(1) as f64
            );
        }
        if wanted("lookups") || wanted("members") {
            let t = Instant::now();
            let small = load(1_000, &registry).await;
            let large = load(100_000 + MEMBER_ADDS, &registry).await;
            println!(
                "preloaded 1,000 + {} users in {:.1?}",
                100_000 + MEMBER_ADDS,
                t.elapsed()
            );
            if wanted("lookups") {
                // Alternating rounds, best of five: a one-off stall (another
                // process, the writeback of the preload) hits one round only.
                let (mut at_1k, mut at_100k) = ([f64::MAX; 4], [f64::MAX; 4]);
                for _ in 0..5 {
                    for (best, l) in [(&mut at_1k, &small), (&mut at_100k, &large)] {
                        for (b, t) in best.iter_mut().zip(lookups(l).await) {
                            *b = b.min(t);
                        }
                    }
                }
                let names = [
                    "get by id",
                    "filter userName eq",
                    "filter externalId eq",
                    "filter emails.value eq",
                ];
                for (i, name) in names.iter().enumerate() {
                    rows.push(Row::micros(
                        format!("{name}: 100k users vs 1k"),
                        at_1k[i],
                        at_100k[i],
                        Target::AtMost(2.0),
                    ));
                }
            }
            if wanted("members") {
                let (add_large, add_small) = member_adds(&large, 100_000).await;
                rows.push(Row::micros(
                    "add one member: group of 100k vs of 10".into(),
                    add_small,
                    add_large,
                    Target::AtMost(2.0),
                ));
            }
        }
        println!();
        println!("scim-store-sqlite benchmark (WAL, synchronous=FULL; baselines measured in the same run)");
        println!(
            "{:<44} {:>12} {:>12} {:>8} {:>8}",
            "measure", "baseline", "measured", "ratio", "target"
        );
        for row in &rows {
            row.print();
        }
        println!("total run {:.1?}", started.elapsed());
    });
}

enum Target {
    AtMost(f64),
    AtLeast(f64),
}

struct Row {
    name: String,
    baseline: String,
    measured: String,
    ratio: f64,
    target: Target,
}

impl Row {
    fn micros(name: String, baseline: f64, measured: f64, target: Target) -> Row {
        Row {
            name,
            baseline: format!("{baseline:.1} us"),
            measured: format!("{measured:.1} us"),
            ratio: measured / baseline,
            target,
        }
    }

    fn rate(name: String, baseline: f64, measured: f64, target: Target) -> Row {
        Row {
            name,
            baseline: format!("{baseline:.0}/s"),
            measured: format!("{measured:.0}/s"),
            ratio: measured / baseline,
            target,
        }
    }

    fn print(&self) {
        let (target, ok) = match self.target {
            Target::AtMost(t) => (format!("<= {t}x"), self.ratio <= t),
            Target::AtLeast(t) => (format!(">= {t}x"), self.ratio >= t),
        };
        let verdict = if ok { "ok" } else { "MISSED" };
        println!(
            "{:<44} {:>12} {:>12} {:>7.2}x {:>8}  {verdict}",
            self.name, self.baseline, self.measured, self.ratio, target
        );
    }
}
