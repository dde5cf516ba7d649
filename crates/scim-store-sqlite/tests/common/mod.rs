//! Test helpers shared by this crate's integration tests: fresh database
//! files in unique temporary directories, removed when the store is gone.
#![allow(dead_code, reason = "each test binary uses part of the helpers")]
#![allow(clippy::expect_used, reason = "test helpers: a failed setup must fail the test")]

use async_trait::async_trait;
use scim_core::schema::Registry;
use scim_store::{
    AuditEvent, AuditQuery, Capabilities, Ctx, GroupRef, Kind, Load, MemberCursor, MemberPage, NewResource, Page,
    Precondition, Query, Store, StoreError, Stored, Tenant, TokenRecord, Update,
};
use scim_store_sqlite::{SqliteConfig, SqliteStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A unique directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("scim-sqlite-{label}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn db(&self) -> PathBuf {
        self.0.join("scim.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Opens a store on `dir/scim.db` with default settings.
pub fn open(dir: &TempDir, registry: Arc<Registry>) -> SqliteStore {
    SqliteStore::open(SqliteConfig::new(dir.db()), registry).expect("open the store")
}

/// A store that owns its temp directory: the store is dropped (its writer
/// joined, its files closed) before the directory is removed.
pub struct TempStore {
    pub store: SqliteStore,
    _dir: TempDir,
}

impl TempStore {
    pub fn new(label: &str, registry: Arc<Registry>) -> TempStore {
        let dir = TempDir::new(label);
        TempStore {
            store: open(&dir, registry),
            _dir: dir,
        }
    }
}

#[async_trait]
impl Store for TempStore {
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
