//! The memory and start-up check: a database of 1,000,000 users, the
//! server started on it (start-up to the first 200 from /readyz, several
//! times), and the read workloads run against it while its resident set is
//! sampled.
//!
//! The users are written straight into SQLite, not through the API: the
//! store creates the file, its schema and the tenant, then one transaction
//! inserts the rows the store itself would write for each create (resource,
//! email, `create` audit event; the counts table follows by its triggers),
//! in id order. Loading a million users over HTTP (or even one `create` at
//! a time) would take tens of minutes and measure only the load.

use crate::load::{self, Load, Outcome};
use crate::server::{Memory, Server, Spec};
use crate::workloads::{self, user, user_name};
use scim_core::members::MemberDelta;
use scim_core::projection::UnchangedByDefault;
use scim_core::schema::Registry;
use scim_store::{AuditOp, Store, audit_change};
use scim_store_sqlite::{SqliteConfig, SqliteStore, Synchronous};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Starts measured on the existing database.
const STARTS: usize = 3;

pub struct RssReport {
    pub users: usize,
    pub generate: Duration,
    pub db_bytes: u64,
    pub startups: Vec<Duration>,
    /// (workload, outcome, peak sampled resident set while it ran)
    pub runs: Vec<(&'static str, Outcome, Memory)>,
    /// At the end: VmHWM is the peak over the whole life of the process.
    pub end: Memory,
    pub server_cpus: String,
}

/// Writes `n` users into a new database at `spec.db`; returns their ids.
pub async fn generate(spec: &Spec, n: usize) -> Result<Vec<String>, String> {
    let mut config = SqliteConfig::new(&spec.db);
    config.synchronous = Synchronous::Off;
    let registry = Arc::new(Registry::builtin());
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(config, registry))
        .await
        .map_err(|e| format!("open: {e}"))?
        .map_err(|e| format!("open {}: {e}", spec.db.display()))?;
    let tenant = store
        .create_tenant("bench")
        .await
        .map_err(|e| format!("create tenant: {e}"))?;
    // Closing joins the writer: the file is complete and unlocked.
    tokio::task::spawn_blocking(move || drop(store))
        .await
        .map_err(|e| format!("close: {e}"))?;
    let db = spec.db.clone();
    tokio::task::spawn_blocking(move || fill(&db, &tenant.id, n))
        .await
        .map_err(|e| format!("fill: {e}"))?
        .map_err(|e| format!("fill {}: {e}", spec.db.display()))
}

/// The rows `scim-store-sqlite` writes for `n` creates, in one transaction.
fn fill(db: &std::path::Path, tenant: &str, n: usize) -> rusqlite::Result<Vec<String>> {
    let conn = rusqlite::Connection::open(db)?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.pragma_update(None, "cache_size", -262_144)?;
    // Sorted ids: every index is then appended to, not split at random.
    let mut ids: Vec<String> = (0..n).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    ids.sort_unstable();
    let stamp = "2026-01-01T00:00:00.000Z";
    // The verdict the store's `scim_verdict` writes with each document,
    // for the server `scim-bench` starts (the built-in schemas: a server
    // with extensions would find these foreign and read each user).
    let check = UnchangedByDefault::for_rendering(Registry::builtin().user());
    conn.execute_batch("BEGIN")?;
    let first_seq: i64 = conn.query_row(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM audit WHERE tenant = ?1",
        [tenant],
        |r| r.get(0),
    )?;
    {
        let mut resource = conn.prepare(
            "INSERT INTO resources (tenant, kind, id, version, created, modified, user_name_key, external_id,
                                    display_name_key, doc, created_seq, verdict)
             VALUES (?1, 'User', ?2, 1, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        let mut email = conn.prepare(
            "INSERT INTO resource_emails (tenant, value_key, resource_id, type) VALUES (?1, ?2, ?3, 'work')",
        )?;
        let mut audit = conn.prepare(
            "INSERT INTO audit (tenant, seq, time, actor, request_id, op, kind, resource_id, version, change, origin)
             VALUES (?1, ?2, ?3, NULL, 'scim-bench-generate', 'create', 'User', ?4, 1, ?5, NULL)",
        )?;
        for (i, id) in ids.iter().enumerate() {
            let name = user_name(i);
            let doc = user(i, &name);
            let seq = first_seq + i as i64;
            let none = MemberDelta::default();
            let change = serde_json::to_string(&audit_change(AuditOp::Create, Some(&doc), &none))
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            let text = doc.to_string();
            let verdict = check.verdict(&text).to_bytes();
            resource.execute(rusqlite::params![
                tenant,
                id,
                stamp,
                name.to_lowercase(),
                doc["externalId"].as_str(),
                doc["displayName"].as_str().map(str::to_lowercase),
                text,
                seq,
                verdict.as_slice()
            ])?;
            email.execute(rusqlite::params![tenant, name.to_lowercase(), id])?;
            audit.execute(rusqlite::params![tenant, seq, stamp, id, change])?;
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(ids)
}

/// Runs the whole check.
pub async fn check(spec: &Spec, n: usize, concurrency: usize, seconds: Duration) -> Result<RssReport, String> {
    let t = Instant::now();
    let ids = Arc::new(generate(spec, n).await?);
    let generate = t.elapsed();
    let db_bytes = std::fs::metadata(&spec.db).map(|m| m.len()).unwrap_or(0);
    let token = spec.tenant_with_token("bench", false)?;
    let mut startups = Vec::new();
    for _ in 1..STARTS {
        let mut s = Server::start(spec).await?;
        startups.push(s.startup);
        s.stop();
    }
    let server = Server::start(spec).await?;
    startups.push(server.startup);
    let load = Load {
        addr: server.addr,
        concurrency,
        warmup: Duration::from_secs(1),
        window: seconds,
        server_pid: Some(server.pid),
    };
    let mut runs = Vec::new();
    let workloads: [(&'static str, load::Next); 3] = [
        ("W2 GET /Users/{id}", workloads::w2_get(workloads::BASE, ids.clone())),
        ("W3 filter userName eq", workloads::w3_filter(workloads::BASE, n)),
        (
            "W6 list startIndex=random count=100",
            workloads::w6_page(workloads::BASE, n),
        ),
    ];
    for (name, next) in workloads {
        let pid = server.pid;
        let sampler = tokio::spawn(sample_peak(pid, load.warmup + load.window));
        let outcome = load::run(load, &token, 7, next).await;
        let peak = sampler.await.unwrap_or_default();
        runs.push((name, outcome, peak));
    }
    let end = server.memory();
    let server_cpus = server.cpus();
    drop(server);
    Ok(RssReport {
        users: n,
        generate,
        db_bytes,
        startups,
        runs,
        end,
        server_cpus,
    })
}

/// The largest resident set seen, sampled every 50 ms for `span`.
async fn sample_peak(pid: u32, span: Duration) -> Memory {
    let until = Instant::now() + span;
    let mut peak = Memory::default();
    while Instant::now() < until {
        let m = crate::server::memory_of(pid);
        if m.rss > peak.rss {
            peak = m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    peak
}
