//! The write ceiling: plain rusqlite inserting one resource row per
//! transaction into its own database, in the run's directory (same disk),
//! with the server's pragmas (WAL, the same `synchronous`). Every commit is
//! one WAL sync, so this is the rate a store without group commit cannot
//! beat; the schema and row are those of `scim-store-sqlite`'s own bench.

use crate::workloads::{user, user_name};
use std::path::Path;
use std::time::{Duration, Instant};

fn e(what: &'static str) -> impl Fn(rusqlite::Error) -> String {
    move |err| format!("raw ceiling, {what}: {err}")
}

/// Inserts for `window` (after a short warm-up); returns rows per second.
pub fn raw_inserts(dir: &Path, synchronous: &str, window: Duration) -> Result<f64, String> {
    let path = dir.join("raw-ceiling.db");
    let conn = rusqlite::Connection::open(&path).map_err(e("open"))?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(e("WAL"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(format!("raw ceiling: journal_mode is {mode}, not WAL"));
    }
    conn.pragma_update(None, "synchronous", synchronous)
        .map_err(e("synchronous"))?;
    conn.execute_batch(
        "CREATE TABLE resources (tenant TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
            created TEXT NOT NULL, modified TEXT NOT NULL, user_name_key TEXT, doc TEXT NOT NULL,
            PRIMARY KEY (tenant, kind, id));
         CREATE UNIQUE INDEX resources_user_name ON resources (tenant, kind, user_name_key);",
    )
    .map_err(e("schema"))?;
    let mut insert = conn
        .prepare("INSERT INTO resources VALUES ('t', 'User', ?1, 1, ?2, ?2, ?3, ?4)")
        .map_err(e("prepare"))?;
    let now = "2026-01-01T00:00:00.000Z";
    let warmup = Duration::from_millis(300);
    let started = Instant::now();
    let mut counted = 0u64;
    let mut measure_from = None;
    for i in 0.. {
        let elapsed = started.elapsed();
        if elapsed >= warmup && measure_from.is_none() {
            measure_from = Some(Instant::now());
        }
        if let Some(from) = measure_from
            && from.elapsed() >= window
        {
            break;
        }
        let name = user_name(9_000_000 + i);
        let doc = user(i, &name);
        // Autocommit: each INSERT is its own transaction, one WAL sync each.
        insert
            .execute(rusqlite::params![
                uuid::Uuid::new_v4().to_string(),
                now,
                name.to_lowercase(),
                doc.to_string()
            ])
            .map_err(e("insert"))?;
        if measure_from.is_some() {
            counted += 1;
        }
    }
    drop(insert);
    drop(conn);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(counted as f64 / window.as_secs_f64())
}
