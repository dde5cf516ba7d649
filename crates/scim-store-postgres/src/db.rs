//! Connections: how each is opened (timeouts, `search_path`,
//! `statement_timeout` in the startup packet, so no extra round trip), the
//! pool that keeps them, and the embedded migrations.
//!
//! Failing fast and recovering: opening a connection is bounded by
//! `connect_timeout` (TCP connect and, through the pool, the whole
//! handshake), and so is waiting for a free one. A connection whose socket
//! died is dropped when it returns to the pool (`RecyclingMethod::Fast`
//! checks `is_closed`, no query per checkout); the next checkout opens a
//! new one. So while PostgreSQL is down every call fails within about
//! `connect_timeout` with `Unavailable`, and once it is back the pool
//! refills by itself.

use crate::config::PgConfig;
use crate::error::{Error, Result};
use diesel::ConnectionError;
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncMigrationHarness, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::time::Duration;

/// The schema's history: `migrations/*/up.sql`, compiled in.
pub(crate) const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub(crate) type PgPool = Pool<AsyncPgConnection>;
pub(crate) type PgConn = Object<AsyncPgConnection>;

/// Everything needed to open one connection.
#[derive(Clone)]
struct Opener {
    pg: tokio_postgres::Config,
    schema: String,
    connect_timeout: Duration,
    statement_timeout: Duration,
}

impl Opener {
    fn new(config: &PgConfig) -> Result<Opener> {
        if let Some(problem) = config.problem() {
            return Err(Error::Config(problem));
        }
        // The parser's messages name the offending option, never its value,
        // so they cannot leak a password.
        let pg: tokio_postgres::Config = config
            .url
            .parse()
            .map_err(|e| Error::Config(format!("the connection string does not parse: {e}")))?;
        Ok(Opener {
            pg,
            schema: config.schema.clone(),
            connect_timeout: config.connect_timeout,
            statement_timeout: config.statement_timeout,
        })
    }

    async fn open(&self) -> Result<AsyncPgConnection, ConnectionError> {
        let mut pg = self.pg.clone();
        pg.connect_timeout(self.connect_timeout);
        // Notice a peer that vanished (no FIN, no RST) within about a
        // minute instead of the kernel's two hours.
        pg.keepalives(true)
            .keepalives_idle(Duration::from_secs(30))
            .keepalives_interval(Duration::from_secs(10))
            .keepalives_retries(3);
        if pg.get_application_name().is_none() {
            pg.application_name("scim-store-postgres");
        }
        // The schema name is checked (lower-case letters, digits, `_`), so it
        // needs no quoting here; other options in the URL are kept.
        // jit=off: filter statements are large expression trees that are
        // cheap per row; when an estimate puts one above jit_above_cost,
        // PostgreSQL spends seconds compiling what runs in a millisecond
        // (measured: an indexed email lookup, 2.7 s with JIT, 0.4 ms without).
        // plan_cache_mode=force_generic_plan: which index a statement uses
        // follows from its shape, never from its values, so one plan per
        // prepared statement is right; left to its cost comparison,
        // PostgreSQL kept re-planning the email lookup on every call (its
        // JSON subqueries are estimated at 1,000 rows each, which swamps
        // the difference the comparison looks for): 0.47 ms of planning
        // for a 0.06 ms execution.
        let mut options = pg.get_options().unwrap_or_default().to_string();
        options.push_str(&format!(
            " -c search_path={} -c statement_timeout={} -c jit=off -c plan_cache_mode=force_generic_plan",
            self.schema,
            self.statement_timeout.as_millis()
        ));
        pg.options(options.trim());
        let (client, connection) = pg
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| ConnectionError::BadConnection(with_causes(&e)))?;
        AsyncPgConnection::try_from_client_and_connection(client, connection).await
    }
}

/// The pool of `config`. Opens nothing yet.
pub(crate) fn pool(config: &PgConfig) -> Result<PgPool> {
    let opener = Opener::new(config)?;
    let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
    manager_config.recycling_method = RecyclingMethod::Fast;
    manager_config.custom_setup = Box::new(move |_url| {
        let opener = opener.clone();
        Box::pin(async move { opener.open().await })
    });
    // The manager only hands the URL to `custom_setup`, which has its own.
    let manager = AsyncDieselConnectionManager::new_with_config(config.redacted_url(), manager_config);
    Pool::builder(manager)
        .max_size(config.pool_size)
        .wait_timeout(Some(config.connect_timeout))
        .create_timeout(Some(config.connect_timeout))
        .recycle_timeout(Some(config.connect_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| Error::Config(format!("connection pool: {e}")))
}

/// Creates the schema if missing and applies the migrations it lacks.
/// Idempotent, and safe when several server instances start at once: they
/// take turns on an advisory lock named after the schema. Runs on its own
/// connection, closed at the end, so the session lock cannot outlive a
/// failure in a pooled connection.
pub(crate) async fn migrate(config: &PgConfig) -> Result<usize> {
    let opener = Opener::new(config)?;
    let mut conn = tokio::time::timeout(config.connect_timeout, opener.open())
        .await
        .map_err(|_| Error::Pool(format!("connecting timed out after {:?}", config.connect_timeout)))?
        .map_err(|e| Error::Pool(e.to_string()))?;
    let lock = advisory_key(&config.schema);
    // Both values are this crate's: a number, and a checked identifier.
    conn.batch_execute(&format!(
        "SELECT pg_advisory_lock({lock}); CREATE SCHEMA IF NOT EXISTS \"{}\"",
        config.schema
    ))
    .await?;
    // diesel_migrations is synchronous; AsyncMigrationHarness bridges with
    // block_in_place + block_on, which a blocking thread allows on any
    // runtime flavour (a worker of a current-thread runtime would panic).
    let (conn, applied) = tokio::task::spawn_blocking(move || {
        let mut harness = AsyncMigrationHarness::new(conn);
        let applied = harness
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.len())
            .map_err(|e| e.to_string());
        (harness.into_inner(), applied)
    })
    .await
    .map_err(|e| Error::Migration(format!("the migration task failed: {e}")))?;
    let applied = applied.map_err(Error::Migration)?;
    let mut conn = conn;
    conn.batch_execute(&format!("SELECT pg_advisory_unlock({lock})"))
        .await?;
    Ok(applied)
}

/// An error with its sources: tokio-postgres says "error connecting to
/// server" and keeps the reason (refused, timed out, DNS) as the source.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A stable 63-bit advisory lock key for a schema's migrations (FNV-1a).
fn advisory_key(schema: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in "scim-store-postgres migrations ".bytes().chain(schema.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    i64::try_from(h >> 1).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advisory_keys_differ_by_schema_and_are_stable() {
        assert_ne!(advisory_key("scim"), advisory_key("scim2"));
        assert_eq!(advisory_key("scim"), advisory_key("scim"));
        assert!(advisory_key("x") >= 0);
    }

    #[test]
    fn bad_configurations_are_refused_before_connecting() {
        assert!(matches!(
            pool(&PgConfig::new("postgres://h/d").with_schema("Nope")),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            pool(&PgConfig::new("postgres://h:notaport/d")),
            Err(Error::Config(_))
        ));
        assert!(pool(&PgConfig::new("postgres://h/d")).is_ok());
    }
}
