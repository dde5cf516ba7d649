//! `PgStore`: the `Store` implementation. Every call checks a connection
//! out of the pool, runs its statements (a transaction for mutations) and
//! returns it.

use crate::config::PgConfig;
use crate::db::{self, PgConn, PgPool};
use crate::error::{Error, Result};
use crate::query::{self, Limits};
use crate::{mutate, read};
use async_trait::async_trait;
use diesel_async::pooled_connection::PoolableConnection;
use scim_core::schema::{Registry, ResourceType};
use scim_store::{
    AuditEvent, AuditQuery, Capabilities, Ctx, GroupRef, Kind, Load, MemberCursor, MemberPage, NewResource, Page,
    Precondition, Query, Store, StoreError, Stored, Tenant, TokenRecord, Update,
};
use std::sync::Arc;

/// Largest page `query` returns.
const MAX_RESULTS: u32 = 1000;

/// The PostgreSQL store. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Arc<Registry>,
    pool: PgPool,
    config: PgConfig,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Runs `$body` (an expression using the connection `$conn`) on a pooled
/// connection, and tells a lost connection from other database errors.
macro_rules! on_conn {
    ($self:ident, |$conn:ident| $body:expr) => {{
        let mut pooled = $self.checkout().await?;
        let result = {
            let $conn: &mut diesel_async::AsyncPgConnection = &mut pooled;
            $body.await
        };
        finish(&mut pooled, result)
    }};
}

impl PgStore {
    /// Checks the configuration, creates the schema if missing, applies the
    /// migrations it lacks (see [`PgStore::migrate`]) and returns the store.
    /// Fails with `Unavailable` within about `connect_timeout` when the
    /// server cannot be reached, and with `Backend` for a bad configuration.
    pub async fn connect(config: PgConfig, registry: Arc<Registry>) -> Result<PgStore, StoreError> {
        let pool = db::pool(&config)?;
        db::migrate(&config).await?;
        Ok(PgStore {
            inner: Arc::new(Inner { registry, pool, config }),
        })
    }

    /// Applies the embedded migrations the schema lacks; returns how many.
    /// Idempotent, and safe to run from several instances at once (they
    /// take turns on an advisory lock). Works on any tokio runtime flavour.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        Ok(db::migrate(&self.inner.config).await?)
    }

    /// Readiness: a round trip to the server on a pooled connection.
    /// `Unavailable` when it cannot be reached within `connect_timeout`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_conn!(self, |conn| async move {
            diesel_async::SimpleAsyncConnection::batch_execute(conn, "SELECT 1").await?;
            Ok::<(), Error>(())
        })
    }

    /// Closes the pool: idle connections now, the others as they return.
    /// Later calls fail with `Unavailable`.
    pub fn close(&self) {
        self.inner.pool.close();
    }

    /// The configuration the store runs with.
    pub fn config(&self) -> &PgConfig {
        &self.inner.config
    }

    async fn checkout(&self) -> Result<PgConn, StoreError> {
        self.inner.pool.get().await.map_err(|e| Error::from(e).into())
    }

    fn rt(&self, kind: Kind) -> &ResourceType {
        match kind {
            Kind::User => self.inner.registry.user(),
            Kind::Group => self.inner.registry.group(),
        }
    }
}

/// A database error on a connection that has since closed was the
/// connection's failure, not the statement's: `Unavailable`, and the pool
/// drops the connection.
fn finish<T>(conn: &mut PgConn, result: Result<T>) -> Result<T, StoreError> {
    match result {
        Err(Error::Db(e)) if conn.is_broken() => Err(Error::Lost(e).into()),
        other => other.map_err(StoreError::from),
    }
}

#[async_trait]
impl Store for PgStore {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_results: MAX_RESULTS,
            sort: true,
            cursor: true,
            max_scan: Some(self.inner.config.max_scan),
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        PgStore::ping(self).await
    }

    async fn create(&self, ctx: &Ctx, kind: Kind, doc: NewResource) -> Result<Stored, StoreError> {
        on_conn!(self, |conn| mutate::create(conn, ctx, kind, doc))
    }

    async fn get(&self, ctx: &Ctx, kind: Kind, id: &str, load: Load) -> Result<Stored, StoreError> {
        on_conn!(self, |conn| read::get(conn, &ctx.tenant, kind, id, load))
    }

    async fn query(&self, ctx: &Ctx, kind: Kind, query: &Query) -> Result<Page, StoreError> {
        let limits = Limits {
            max_results: MAX_RESULTS,
            max_scan: self.inner.config.max_scan,
        };
        let rt = self.rt(kind);
        on_conn!(self, |conn| query::run(conn, rt, &ctx.tenant, kind, query, limits))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        kind: Kind,
        id: &str,
        expect: Precondition,
        update: Update,
    ) -> Result<Stored, StoreError> {
        on_conn!(self, |conn| mutate::update(conn, ctx, kind, id, expect, update))
    }

    async fn delete(&self, ctx: &Ctx, kind: Kind, id: &str, expect: Precondition) -> Result<(), StoreError> {
        on_conn!(self, |conn| mutate::delete(conn, ctx, kind, id, expect))
    }

    async fn members(&self, ctx: &Ctx, group: &str, page: MemberCursor) -> Result<MemberPage, StoreError> {
        on_conn!(self, |conn| read::members(conn, &ctx.tenant, group, &page))
    }

    async fn groups_of(&self, ctx: &Ctx, member: &str) -> Result<Vec<GroupRef>, StoreError> {
        on_conn!(self, |conn| read::groups_of(conn, &ctx.tenant, member))
    }

    async fn groups_of_each(&self, ctx: &Ctx, members: &[String]) -> Result<Vec<Vec<GroupRef>>, StoreError> {
        if members.is_empty() {
            return Ok(Vec::new());
        }
        on_conn!(self, |conn| read::groups_of_each(conn, &ctx.tenant, members))
    }

    async fn create_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        on_conn!(self, |conn| mutate::create_tenant(conn, name))
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        on_conn!(self, |conn| read::tenants(conn))
    }

    async fn tenant_by_name(&self, name: &str) -> Result<Tenant, StoreError> {
        on_conn!(self, |conn| read::tenant_by_name(conn, name))
    }

    async fn delete_tenant(&self, id: &str) -> Result<(), StoreError> {
        on_conn!(self, |conn| mutate::delete_tenant(conn, id))
    }

    async fn create_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        on_conn!(self, |conn| mutate::create_token(conn, &token))
    }

    async fn token(&self, id: &str) -> Result<TokenRecord, StoreError> {
        on_conn!(self, |conn| read::token(conn, id))
    }

    async fn tokens(&self, tenant: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        on_conn!(self, |conn| read::tokens(conn, tenant))
    }

    async fn revoke_token(&self, id: &str) -> Result<(), StoreError> {
        on_conn!(self, |conn| mutate::revoke_token(conn, id))
    }

    async fn touch_token(&self, id: &str, at: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError> {
        on_conn!(self, |conn| mutate::touch_token(conn, id, at))
    }

    async fn audit(&self, tenant: &str, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        on_conn!(self, |conn| read::audit(conn, tenant, query))
    }
}
