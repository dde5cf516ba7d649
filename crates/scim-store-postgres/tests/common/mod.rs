//! Test helpers shared by this crate's integration tests: the database from
//! `SCIM_TEST_POSTGRES_URL`, and stores in fresh uuid-named schemas that are
//! dropped when the store is.
#![allow(dead_code, reason = "each test binary uses part of the helpers")]
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: a failed setup must fail the test"
)]

use async_trait::async_trait;
use scim_core::schema::Registry;
use scim_store::{
    AuditEvent, AuditQuery, Capabilities, Ctx, GroupRef, Kind, Load, MemberCursor, MemberPage, NewResource, Page,
    Precondition, Query, Store, StoreError, Stored, Tenant, TokenRecord, Update,
};
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

#[async_trait]
impl Store for TempSchema {
    fn capabilities(&self) -> Capabilities {
        self.store.capabilities()
    }
    async fn create(&self, ctx: &Ctx, kind: Kind, doc: NewResource) -> Result<Stored, StoreError> {
        self.store.create(ctx, kind, doc).await
    }
    async fn get(&self, ctx: &Ctx, kind: Kind, id: &str, load: Load) -> Result<Stored, StoreError> {
        self.store.get(ctx, kind, id, load).await
    }
    async fn query(&self, ctx: &Ctx, kind: Kind, query: &Query) -> Result<Page, StoreError> {
        self.store.query(ctx, kind, query).await
    }
    async fn update(
        &self,
        ctx: &Ctx,
        kind: Kind,
        id: &str,
        expect: Precondition,
        update: Update,
    ) -> Result<Stored, StoreError> {
        self.store.update(ctx, kind, id, expect, update).await
    }
    async fn delete(&self, ctx: &Ctx, kind: Kind, id: &str, expect: Precondition) -> Result<(), StoreError> {
        self.store.delete(ctx, kind, id, expect).await
    }
    async fn members(&self, ctx: &Ctx, group: &str, page: MemberCursor) -> Result<MemberPage, StoreError> {
        self.store.members(ctx, group, page).await
    }
    async fn groups_of(&self, ctx: &Ctx, member: &str) -> Result<Vec<GroupRef>, StoreError> {
        self.store.groups_of(ctx, member).await
    }
    async fn create_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        self.store.create_tenant(name).await
    }
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.store.tenants().await
    }
    async fn tenant_by_name(&self, name: &str) -> Result<Tenant, StoreError> {
        self.store.tenant_by_name(name).await
    }
    async fn delete_tenant(&self, id: &str) -> Result<(), StoreError> {
        self.store.delete_tenant(id).await
    }
    async fn create_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        self.store.create_token(token).await
    }
    async fn token(&self, id: &str) -> Result<TokenRecord, StoreError> {
        self.store.token(id).await
    }
    async fn tokens(&self, tenant: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        self.store.tokens(tenant).await
    }
    async fn revoke_token(&self, id: &str) -> Result<(), StoreError> {
        self.store.revoke_token(id).await
    }
    async fn touch_token(&self, id: &str, at: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError> {
        self.store.touch_token(id, at).await
    }
    async fn audit(&self, tenant: &str, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        self.store.audit(tenant, query).await
    }
}
