//! Test helpers shared by this crate's integration tests: the database from
//! `SCIM_TEST_POSTGRES_URL`, and stores in fresh uuid-named schemas that are
//! dropped when the store is.
#![allow(dead_code, reason = "each test binary uses part of the helpers")]
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: a failed setup must fail the test"
)]

use scim_core::schema::Registry;
use scim_store_postgres::{PgConfig, PgStore};
use std::sync::Arc;
use std::time::Duration;

pub const URL_VAR: &str = "SCIM_TEST_POSTGRES_URL";

/// The test database, if one is configured.
pub fn url() -> Option<String> {
    std::env::var(URL_VAR).ok().filter(|u| !u.trim().is_empty())
}

/// The test database, or `None` after printing why the test is skipped.
pub fn url_or_skip(test: &str) -> Option<String> {
    let url = url();
    if url.is_none() {
        println!("skipped: {test}: {URL_VAR} is not set");
    }
    url
}

/// A schema name no other test (or earlier run) has used.
pub fn fresh_schema(label: &str) -> String {
    format!("scim_test_{label}_{}", uuid::Uuid::new_v4().simple())
}

/// Small pools: tests run in parallel against one server.
pub fn config(url: &str, schema: &str) -> PgConfig {
    let mut c = PgConfig::new(url).with_schema(schema);
    c.pool_size = 6;
    c.connect_timeout = Duration::from_secs(10);
    c
}

/// A store in its own schema, dropped (with everything in it) when the
/// store is.
pub struct TempSchema {
    pub store: PgStore,
    pub url: String,
    pub schema: String,
}

impl TempSchema {
    /// Connects and migrates a fresh schema. Panics when the server cannot
    /// be reached: a configured database that is down must fail the run.
    pub async fn new(url: &str, label: &str, registry: Arc<Registry>) -> TempSchema {
        TempSchema::with_config(config(url, &fresh_schema(label)), registry).await
    }

    pub async fn with_config(config: PgConfig, registry: Arc<Registry>) -> TempSchema {
        let (url, schema) = (config.url.clone(), config.schema.clone());
        let shown = config.to_string();
        let store = PgStore::connect(config, registry)
            .await
            .unwrap_or_else(|e| panic!("{URL_VAR} is set but PostgreSQL at {shown} is not usable: {e}"));
        TempSchema { store, url, schema }
    }
}

/// A plain tokio-postgres client, for checks behind the store's back.
pub async fn raw_client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("raw connection to the test database");
    tokio::spawn(connection);
    client
}

impl Drop for TempSchema {
    fn drop(&mut self) {
        self.store.close();
        let (url, schema) = (self.url.clone(), self.schema.clone());
        // Drop runs inside the test's runtime, which cannot block on a
        // future: a thread with its own runtime does the cleanup.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async move {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.ok()?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                    .await
                    .ok()
            })
        });
        let _ = cleanup.join();
    }
}

scim_store::forward_store!(TempSchema, store);
