//! Opening the configured backend, and the decorator that times every store
//! call for `/metrics`.

use crate::config::{Backend, Config, ConfigError};
use crate::metrics::Metrics;
use async_trait::async_trait;
use scim_core::schema::Registry;
use scim_store::{
    AuditEvent, AuditQuery, Capabilities, Ctx, GroupRef, Kind, Load, MemberCursor, MemberPage, NewResource, Page,
    Precondition, Query, Store, StoreError, Stored, StoredText, Tenant, TokenRecord, Update,
};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot create the directory {path}: {source}")]
    Directory { path: String, source: std::io::Error },
    #[error("cannot open the {backend} store: {source}")]
    Store { backend: &'static str, source: StoreError },
}

/// Opens the backend named by `[storage] backend`, running its migrations.
pub async fn open(config: &Config, registry: Arc<Registry>) -> Result<Arc<dyn Store>, OpenError> {
    Ok(open_described(config, registry).await?.0)
}

/// `open`, and a description of what was opened, safe to log or print
/// (passwords masked).
pub async fn open_described(config: &Config, registry: Arc<Registry>) -> Result<(Arc<dyn Store>, String), OpenError> {
    match config.backend()? {
        Backend::Memory => Ok((
            Arc::new(scim_store_memory::MemoryStore::new(registry)),
            "memory (nothing survives a restart)".into(),
        )),
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => Ok((
            open_sqlite(&config.storage.sqlite, registry).await?,
            format!("SQLite {}", config.storage.sqlite.path.display()),
        )),
        #[cfg(feature = "postgres")]
        Backend::Postgres => open_postgres(&config.storage.postgres, registry).await,
        #[cfg(feature = "redis")]
        Backend::Redis => open_redis(&config.storage.redis, registry).await,
    }
}

#[cfg(feature = "postgres")]
async fn open_postgres(
    section: &crate::config::PostgresSection,
    registry: Arc<Registry>,
) -> Result<(Arc<dyn Store>, String), OpenError> {
    use scim_store_postgres::{PgConfig, PgStore};
    let Some(url) = &section.url else {
        return Err(ConfigError::Invalid {
            key: "storage.postgres.url",
            message: "is required with backend 'postgres'".into(),
        }
        .into());
    };
    let mut pg = PgConfig::new(url.clone()).with_schema(section.schema.clone());
    pg.pool_size = section.pool_size;
    pg.connect_timeout = section.connect_timeout.0;
    pg.statement_timeout = section.statement_timeout.0;
    pg.max_scan = section.max_scan;
    // PgConfig's Display masks the password.
    let shown = format!("PostgreSQL {pg}");
    let store = PgStore::connect(pg, registry)
        .await
        .map_err(|source| OpenError::Store {
            backend: "postgres",
            source,
        })?;
    Ok((Arc::new(store), shown))
}

#[cfg(feature = "redis")]
async fn open_redis(
    section: &crate::config::RedisSection,
    registry: Arc<Registry>,
) -> Result<(Arc<dyn Store>, String), OpenError> {
    use scim_store_redis::{RedisConfig, RedisStore};
    let mut rc = if section.cluster && !section.nodes.is_empty() {
        RedisConfig::cluster(section.nodes.iter().cloned())
    } else {
        let mut rc = RedisConfig::new(section.url.clone());
        rc.cluster = section.cluster;
        rc
    };
    rc.key_prefix = section.key_prefix.clone();
    rc.connect_timeout = section.connect_timeout.0;
    rc.response_timeout = section.response_timeout.0;
    rc.max_scan = section.max_scan;
    // RedisConfig's Display masks passwords.
    let shown = rc.to_string();
    let store = RedisStore::connect(rc, registry)
        .await
        .map_err(|source| OpenError::Store {
            backend: "redis",
            source,
        })?;
    Ok((Arc::new(store), shown))
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(
    section: &crate::config::SqliteSection,
    registry: Arc<Registry>,
) -> Result<Arc<dyn Store>, OpenError> {
    use crate::config::Synchronous as S;
    use scim_store_sqlite::{SqliteConfig, SqliteStore, Synchronous};
    let path = section.path.clone();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !path.to_string_lossy().starts_with("file:")
        && path.as_os_str() != ":memory:"
    {
        std::fs::create_dir_all(dir).map_err(|source| OpenError::Directory {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let mut sc = SqliteConfig::new(path);
    sc.synchronous = match section.synchronous {
        S::Off => Synchronous::Off,
        S::Normal => Synchronous::Normal,
        S::Full => Synchronous::Full,
        S::Extra => Synchronous::Extra,
    };
    sc.readers = section.readers;
    // Opening runs migrations and may wait on file locks: blocking work.
    let opened = tokio::task::spawn_blocking(move || SqliteStore::open(sc, registry))
        .await
        .map_err(|e| OpenError::Store {
            backend: "sqlite",
            source: StoreError::Backend(format!("the opening task failed: {e}")),
        })?;
    let store = opened.map_err(|source| OpenError::Store {
        backend: "sqlite",
        source,
    })?;
    Ok(Arc::new(store))
}

/// A store that reports the latency of every call to [`Metrics`].
pub struct Instrumented {
    inner: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl Instrumented {
    pub fn wrap(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> Arc<dyn Store> {
        Arc::new(Instrumented { inner, metrics })
    }

    async fn timed<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let result = call.await;
        // Outcomes that are answers (absent, taken, stale, refused) are not
        // store failures; only an unreachable or broken backend counts.
        let failed = matches!(result, Err(StoreError::Unavailable(_) | StoreError::Backend(_)));
        self.metrics.observe_store(op, started.elapsed(), failed);
        result
    }
}

#[async_trait]
impl Store for Instrumented {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.timed("ping", self.inner.ping()).await
    }

    async fn create(&self, ctx: &Ctx, kind: Kind, doc: NewResource) -> Result<Stored, StoreError> {
        self.timed("create", self.inner.create(ctx, kind, doc)).await
    }

    async fn get(&self, ctx: &Ctx, kind: Kind, id: &str, load: Load) -> Result<Stored, StoreError> {
        self.timed("get", self.inner.get(ctx, kind, id, load)).await
    }

    async fn get_text(&self, ctx: &Ctx, kind: Kind, id: &str) -> Result<StoredText, StoreError> {
        self.timed("get_text", self.inner.get_text(ctx, kind, id)).await
    }

    async fn query(&self, ctx: &Ctx, kind: Kind, query: &Query) -> Result<Page, StoreError> {
        self.timed("query", self.inner.query(ctx, kind, query)).await
    }

    async fn query_text(&self, ctx: &Ctx, kind: Kind, query: &Query) -> Result<Page<StoredText>, StoreError> {
        self.timed("query_text", self.inner.query_text(ctx, kind, query)).await
    }

    async fn update(
        &self,
        ctx: &Ctx,
        kind: Kind,
        id: &str,
        expect: Precondition,
        update: Update,
    ) -> Result<Stored, StoreError> {
        self.timed("update", self.inner.update(ctx, kind, id, expect, update))
            .await
    }

    async fn delete(&self, ctx: &Ctx, kind: Kind, id: &str, expect: Precondition) -> Result<(), StoreError> {
        self.timed("delete", self.inner.delete(ctx, kind, id, expect)).await
    }

    async fn members(&self, ctx: &Ctx, group: &str, page: MemberCursor) -> Result<MemberPage, StoreError> {
        self.timed("members", self.inner.members(ctx, group, page)).await
    }

    async fn groups_of(&self, ctx: &Ctx, member: &str) -> Result<Vec<GroupRef>, StoreError> {
        self.timed("groups_of", self.inner.groups_of(ctx, member)).await
    }

    async fn groups_of_each(&self, ctx: &Ctx, members: &[String]) -> Result<Vec<Vec<GroupRef>>, StoreError> {
        self.timed("groups_of_each", self.inner.groups_of_each(ctx, members))
            .await
    }

    async fn create_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        self.timed("create_tenant", self.inner.create_tenant(name)).await
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.timed("tenants", self.inner.tenants()).await
    }

    async fn tenant_by_name(&self, name: &str) -> Result<Tenant, StoreError> {
        self.timed("tenant_by_name", self.inner.tenant_by_name(name)).await
    }

    async fn delete_tenant(&self, id: &str) -> Result<(), StoreError> {
        self.timed("delete_tenant", self.inner.delete_tenant(id)).await
    }

    async fn create_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        self.timed("create_token", self.inner.create_token(token)).await
    }

    async fn token(&self, id: &str) -> Result<TokenRecord, StoreError> {
        self.timed("token", self.inner.token(id)).await
    }

    async fn tokens(&self, tenant: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        self.timed("tokens", self.inner.tokens(tenant)).await
    }

    async fn revoke_token(&self, id: &str) -> Result<(), StoreError> {
        self.timed("revoke_token", self.inner.revoke_token(id)).await
    }

    async fn touch_token(&self, id: &str, at: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError> {
        self.timed("touch_token", self.inner.touch_token(id, at)).await
    }

    async fn audit(&self, tenant: &str, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        self.timed("audit", self.inner.audit(tenant, query)).await
    }
}
