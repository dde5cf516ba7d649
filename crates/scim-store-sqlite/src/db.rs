//! Opening connections: the file or URI, the pragmas, the SQL functions, and
//! the embedded migrations that run when the store opens.

use crate::config::SqliteConfig;
use crate::error::{Error, Result};
use crate::functions;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use scim_core::projection::UnchangedByDefault;
use scim_core::schema::Registry;
use std::sync::Arc;

/// The numbered migrations, applied in order. `PRAGMA user_version` holds
/// how many have been applied; each runs in the transaction that also
/// bumps it, so a crash mid-migration leaves the previous version.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_resource_counts.sql"),
    include_str!("../migrations/0003_resources_clustered.sql"),
    include_str!("../migrations/0004_resource_verdicts.sql"),
    include_str!("../migrations/0005_verdict_seal.sql"),
];

/// Prepared statements kept per connection: a filter shape is one
/// statement text (values are bound), so IdP traffic reuses a handful.
const STATEMENT_CACHE: usize = 128;

/// Bytes the WAL file is truncated to when it restarts.
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// Where the database lives, resolved once at open.
#[derive(Debug, Clone)]
pub(crate) struct Location {
    path: String,
    uri: bool,
    pub(crate) in_memory: bool,
}

impl Location {
    pub(crate) fn new(config: &SqliteConfig) -> Location {
        let path = config.path.to_string_lossy().into_owned();
        if path == ":memory:" {
            // Plain `:memory:` would give every connection its own database.
            let name = uuid::Uuid::new_v4();
            return Location {
                path: format!("file:scim-{name}?mode=memory&cache=shared"),
                uri: true,
                in_memory: true,
            };
        }
        let uri = path.starts_with("file:");
        let in_memory = uri && path.contains("mode=memory");
        Location { path, uri, in_memory }
    }
}

/// Opens the writer connection, switches the database to WAL and migrates
/// it. Called once, before any reader opens.
pub(crate) fn open_writer(loc: &Location, config: &SqliteConfig, registry: &Arc<Registry>) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if loc.uri {
        flags |= OpenFlags::SQLITE_OPEN_URI;
    }
    let conn = Connection::open_with_flags(&loc.path, flags)?;
    conn.busy_timeout(config.busy_timeout)?;
    if !loc.in_memory {
        // WAL: readers never block the writer nor the writer readers, and a
        // commit is one append (plus one fsync at synchronous=FULL).
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Corrupt(format!(
                "could not switch the database to WAL (journal_mode is {mode})"
            )));
        }
    }
    conn.pragma_update(None, "synchronous", config.synchronous.as_str())?;
    // After a checkpoint lets the WAL start over, cut it back to this size
    // instead of keeping the high-water mark of a bulk load on disk.
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
    // Each request's SAVEPOINT journals the pages it touches; in memory that
    // costs a copy, on disk a temp file opened, written and removed per batch.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    functions::register(&conn, registry.clone())?;
    let users = UnchangedByDefault::for_rendering(registry.user());
    let seal = users.seal();
    functions::register_verdict(&conn, users)?;
    migrate(&conn)?;
    refresh_verdicts(&conn, seal)?;
    Ok(conn)
}

/// Opens the connection of the checkpoint thread and turns the writer's
/// automatic checkpoints off (see `checkpoint.rs`). `None` for in-memory
/// databases, which have no WAL.
pub(crate) fn open_checkpointer(
    loc: &Location,
    config: &SqliteConfig,
    writer: &Connection,
) -> Result<Option<Connection>> {
    if loc.in_memory {
        return Ok(None);
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let flags = if loc.uri {
        flags | OpenFlags::SQLITE_OPEN_URI
    } else {
        flags
    };
    let conn = Connection::open_with_flags(&loc.path, flags)?;
    conn.busy_timeout(config.busy_timeout)?;
    conn.pragma_update(None, "synchronous", config.synchronous.as_str())?;
    writer.pragma_update(None, "wal_autocheckpoint", 0)?;
    Ok(Some(conn))
}

/// Opens one read-only connection of the pool; `cache_kib`: its page cache
/// in KiB (`None`: SQLite's default, about 2 MiB).
pub(crate) fn open_reader(
    loc: &Location,
    config: &SqliteConfig,
    registry: &Arc<Registry>,
    cache_kib: Option<i64>,
) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if loc.uri {
        flags |= OpenFlags::SQLITE_OPEN_URI;
    }
    let conn = Connection::open_with_flags(&loc.path, flags)?;
    conn.busy_timeout(config.busy_timeout)?;
    if !loc.in_memory {
        conn.pragma_update(None, "mmap_size", i64::try_from(config.mmap_size).unwrap_or(i64::MAX))?;
    }
    if let Some(kib) = cache_kib {
        // A negative cache_size is a size in KiB rather than in pages.
        conn.pragma_update(None, "cache_size", -kib)?;
    }
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    functions::register(&conn, registry.clone())?;
    Ok(conn)
}

/// Applies the migrations this database has not seen yet.
fn migrate(conn: &Connection) -> Result<()> {
    let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    immediate(conn, || {
        let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if current > known {
            return Err(Error::NewerSchema { found: current, known });
        }
        for (i, sql) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(current).unwrap_or(0))
        {
            conn.execute_batch(sql)?;
            conn.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap_or(i64::MAX))?;
        }
        Ok(())
    })
}

/// Finds every user's verdict again (`scim_verdict`) when the stored ones
/// were found by another check than the one sealed `seal` (migrations 4
/// and 5):
/// on the first open after migration 5, and after a schema or a build whose
/// check answers otherwise. Without it those users' list pages would read
/// each text until the user is written again. Once per such change, not
/// once per open: a second open finds its own seal.
fn refresh_verdicts(conn: &Connection, seal: u64) -> Result<()> {
    // The column is an INTEGER: the same 64 bits, signed.
    let seal = i64::from_ne_bytes(seal.to_ne_bytes());
    immediate(conn, || {
        let stored: Option<i64> = conn
            .query_row("SELECT seal FROM verdict_seal", [], |r| r.get(0))
            .optional()?;
        if stored == Some(seal) {
            return Ok(());
        }
        conn.execute(
            "UPDATE resources SET verdict = scim_verdict(kind, doc) WHERE kind = 'User'",
            [],
        )?;
        conn.execute("DELETE FROM verdict_seal", [])?;
        conn.execute("INSERT INTO verdict_seal (seal) VALUES (?1)", [seal])?;
        Ok(())
    })
}

/// `f` in one `BEGIN IMMEDIATE` transaction (two processes opening one
/// file must not both change it), committed when it succeeds.
fn immediate(conn: &Connection, f: impl FnOnce() -> Result<()>) -> Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match f() {
        Ok(()) => Ok(conn.execute_batch("COMMIT")?),
        Err(e) => {
            // The change's own error is the one worth reporting.
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// The schema version of an open database (for tests and diagnostics).
pub(crate) fn schema_version(conn: &Connection) -> Result<i64> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}
