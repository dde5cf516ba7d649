//! `SqliteStore`: the `Store` implementation. Writes go to the writer
//! thread; reads that scan run on the reader pool through `spawn_blocking`,
//! the others on the calling thread (`pool.rs`).

use crate::checkpoint::Checkpointer;
use crate::config::SqliteConfig;
use crate::db::{self, Location};
use crate::error::Error;
use crate::pool::Readers;
use crate::query::{self, Limits, Work};
use crate::ranks::Ranks;
use crate::read;
use crate::writer::{Done, Op, Writer};
use async_trait::async_trait;
use scim_core::schema::{Registry, ResourceType};
use scim_store::{
    AuditEvent, AuditQuery, Capabilities, Ctx, GroupRef, Kind, Load, MemberCursor, MemberPage, NewResource, Page,
    Precondition, Query, Store, StoreError, Stored, StoredText, Tenant, TokenRecord, Update,
};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Largest page `query` returns.
const MAX_RESULTS: u32 = 1000;

/// The SQLite store. Cheap to clone; the writer thread stops (after
/// committing what is queued) when the last clone is dropped.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

/// Fields drop in order: the writer finishes its queue first, then the
/// readers close, then the checkpoint thread stops.
struct Inner {
    registry: Arc<Registry>,
    writer: Writer,
    readers: Arc<Readers>,
    _checkpointer: Option<Checkpointer>,
    config: SqliteConfig,
    /// Checkpoints for deep index pages (see `ranks.rs`).
    ranks: Arc<Ranks>,
}

/// What the writer has done since the store opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterStats {
    /// Transactions committed: one per batch.
    pub commits: u64,
    /// Write requests received (each in its own savepoint).
    pub requests: u64,
    /// The most requests one transaction held.
    pub largest_batch: u64,
    /// Batches whose transaction failed as a whole.
    pub failed_commits: u64,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Page cache shared by the point-read connections, in KiB (see `open`).
const POINT_CACHE_KIB: i64 = 16 * 1024;

impl SqliteStore {
    /// Opens (creating if needed) the database, switches it to WAL, runs the
    /// migrations it lacks, starts the writer and opens the readers.
    /// Blocking: call it at start-up, not on a hot async path.
    pub fn open(config: SqliteConfig, registry: Arc<Registry>) -> Result<SqliteStore, StoreError> {
        let loc = Location::new(&config);
        let writer_conn = db::open_writer(&loc, &config, &registry)?;
        let mut readers = Vec::with_capacity(config.readers.max(1));
        for _ in 0..config.readers.max(1) {
            readers.push(db::open_reader(&loc, &config, &registry, None)?);
        }
        let checkpoint_conn = db::open_checkpointer(&loc, &config, &writer_conn)?;
        let writer = Writer::start(writer_conn, config.max_batch)?;
        let checkpointer = match checkpoint_conn {
            Some(conn) => Some(Checkpointer::start(conn, writer.counters.clone())?),
            None => None,
        };
        // Point reads run on the threads that call the store: one
        // connection per thread that can run at once. In-memory databases
        // get none (see `pool.rs`).
        //
        // They serve the hot path (reads by id, userName, externalId), whose
        // B-tree interior pages alone outgrow SQLite's default 2 MiB cache
        // at 100,000 users: they share `POINT_CACHE_KIB`, so memory stays
        // bounded however many cores there are.
        let mut point = Vec::new();
        if !loc.in_memory {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            let cache = POINT_CACHE_KIB / i64::try_from(threads).unwrap_or(1).max(1);
            for _ in 0..threads {
                point.push(db::open_reader(&loc, &config, &registry, Some(cache.max(2048)))?);
            }
        }
        let readers = Arc::new(Readers::new(readers, point, config.busy_timeout));
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                registry,
                writer,
                readers,
                _checkpointer: checkpointer,
                config,
                ranks: Arc::new(Ranks::default()),
            }),
        })
    }

    /// The writer's counters (commits versus requests shows group commit).
    pub fn stats(&self) -> WriterStats {
        let c = &self.inner.writer.counters;
        WriterStats {
            commits: c.commits.load(Ordering::Relaxed),
            requests: c.requests.load(Ordering::Relaxed),
            largest_batch: c.largest_batch.load(Ordering::Relaxed),
            failed_commits: c.failed_commits.load(Ordering::Relaxed),
        }
    }

    /// Creates many resources as one atomic write (all or none), each with
    /// its own audit event: for imports and bulk loads.
    pub async fn create_many(&self, ctx: &Ctx, kind: Kind, docs: Vec<NewResource>) -> Result<Vec<Stored>, StoreError> {
        match self
            .write(Op::CreateMany {
                ctx: ctx.clone(),
                kind,
                docs,
            })
            .await?
        {
            Done::Many(items) => Ok(items),
            _ => Err(unexpected()),
        }
    }

    /// The number of migrations applied to the database.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.inner.readers.with(db::schema_version).await?)
    }

    async fn write(&self, op: Op) -> Result<Done, StoreError> {
        self.inner.writer.submit(op).await
    }

    async fn write_unit(&self, op: Op) -> Result<(), StoreError> {
        match self.write(op).await? {
            Done::Unit => Ok(()),
            _ => Err(unexpected()),
        }
    }

    async fn write_stored(&self, op: Op) -> Result<Stored, StoreError> {
        match self.write(op).await? {
            Done::Stored(s) => Ok(s),
            _ => Err(unexpected()),
        }
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&rusqlite::Connection) -> crate::error::Result<T> + Send + 'static,
    {
        Ok(self.inner.readers.with(f).await?)
    }

    /// A point read, or a read of what it returns and nothing else (a
    /// page's groups, by index per member): run on the calling thread (see
    /// `pool.rs`).
    async fn read_point<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&rusqlite::Connection) -> crate::error::Result<T> + Send + 'static,
    {
        Ok(self.inner.readers.inline(f).await?)
    }

    /// A read that may or may not read only what it returns: a page of the
    /// index. Tried on the calling thread with `Work::Returned`, like a
    /// point read: it holds that thread no longer than rendering its answer
    /// will, and handing it to the blocking pool and back cost 13% of a
    /// page's CPU (docs/performance.md). Where it would step over rows it
    /// does not return (rank checkpoints not current), it stops with
    /// `WouldScan` and runs again on the pool with `Work::Any`.
    async fn read_returned<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&rusqlite::Connection, Work) -> crate::error::Result<T> + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let first = f.clone();
        match self.inner.readers.inline(move |conn| first(conn, Work::Returned)).await {
            Err(Error::WouldScan) => self.read(move |conn| f(conn, Work::Any)).await,
            other => Ok(other?),
        }
    }

    /// `query` and `query_text`: one implementation, two item types.
    async fn query_as<T: query::Item + Send + 'static>(
        &self,
        ctx: &Ctx,
        kind: Kind,
        query: &Query,
    ) -> Result<Page<T>, StoreError> {
        let (tenant, q, registry) = (ctx.tenant.clone(), query.clone(), self.inner.registry.clone());
        let (max_results, max_scan) = (MAX_RESULTS, self.inner.config.max_scan);
        let ranks = self.inner.ranks.clone();
        let point = query::is_point_query(resource_type(&registry, kind), kind, &q);
        let index_page = query::is_index_page(kind, &q);
        let run = move |conn: &rusqlite::Connection, work: Work| {
            let limits = Limits {
                max_results,
                max_scan,
                work,
            };
            query::run::<T>(conn, resource_type(&registry, kind), &tenant, kind, &q, limits, &ranks)
        };
        if index_page {
            self.read_returned(run).await
        } else if point {
            self.read_point(move |conn| run(conn, Work::Any)).await
        } else {
            self.read(move |conn| run(conn, Work::Any)).await
        }
    }
}

fn unexpected() -> StoreError {
    StoreError::Backend("the writer answered a request with the wrong kind of result".into())
}

fn resource_type(registry: &Registry, kind: Kind) -> &ResourceType {
    match kind {
        Kind::User => registry.user(),
        Kind::Group => registry.group(),
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_results: MAX_RESULTS,
            sort: true,
            cursor: true,
            max_scan: Some(self.inner.config.max_scan),
        }
    }

    /// One indexed read on a reader connection.
    async fn ping(&self) -> Result<(), StoreError> {
        self.schema_version().await.map(drop)
    }

    async fn create(&self, ctx: &Ctx, kind: Kind, doc: NewResource) -> Result<Stored, StoreError> {
        self.write_stored(Op::Create {
            ctx: ctx.clone(),
            kind,
            doc,
        })
        .await
    }

    async fn get(&self, ctx: &Ctx, kind: Kind, id: &str, load: Load) -> Result<Stored, StoreError> {
        let (tenant, id) = (ctx.tenant.clone(), id.to_string());
        let read = move |conn: &rusqlite::Connection| read::get(conn, &tenant, kind, &id, load);
        if kind == Kind::Group && load.members {
            // A group's member list can be any length.
            self.read(read).await
        } else {
            self.read_point(read).await
        }
    }

    async fn get_text(&self, ctx: &Ctx, kind: Kind, id: &str) -> Result<StoredText, StoreError> {
        let (tenant, id) = (ctx.tenant.clone(), id.to_string());
        self.read_point(move |conn| read::get_text(conn, &tenant, kind, &id))
            .await
    }

    async fn query(&self, ctx: &Ctx, kind: Kind, query: &Query) -> Result<Page, StoreError> {
        self.query_as(ctx, kind, query).await
    }

    async fn query_text(&self, ctx: &Ctx, kind: Kind, query: &Query) -> Result<Page<StoredText>, StoreError> {
        self.query_as(ctx, kind, query).await
    }

    async fn update(
        &self,
        ctx: &Ctx,
        kind: Kind,
        id: &str,
        expect: Precondition,
        update: Update,
    ) -> Result<Stored, StoreError> {
        self.write_stored(Op::Update {
            ctx: ctx.clone(),
            kind,
            id: id.to_string(),
            expect,
            update,
        })
        .await
    }

    async fn delete(&self, ctx: &Ctx, kind: Kind, id: &str, expect: Precondition) -> Result<(), StoreError> {
        self.write_unit(Op::Delete {
            ctx: ctx.clone(),
            kind,
            id: id.to_string(),
            expect,
        })
        .await
    }

    async fn members(&self, ctx: &Ctx, group: &str, page: MemberCursor) -> Result<MemberPage, StoreError> {
        let (tenant, group) = (ctx.tenant.clone(), group.to_string());
        self.read(move |conn| read::members(conn, &tenant, &group, &page)).await
    }

    async fn groups_of(&self, ctx: &Ctx, member: &str) -> Result<Vec<GroupRef>, StoreError> {
        let (tenant, member) = (ctx.tenant.clone(), member.to_string());
        self.read_point(move |conn| read::groups_of(conn, &tenant, &member))
            .await
    }

    async fn groups_of_each(&self, ctx: &Ctx, members: &[String]) -> Result<Vec<Vec<GroupRef>>, StoreError> {
        if members.is_empty() {
            return Ok(Vec::new());
        }
        // Each member's memberships by index: what it reads is what it
        // returns, as for the page these members came from.
        let (tenant, members) = (ctx.tenant.clone(), members.to_vec());
        self.read_point(move |conn| read::groups_of_each(conn, &tenant, &members))
            .await
    }

    async fn create_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        match self.write(Op::CreateTenant { name: name.to_string() }).await? {
            Done::Tenant(t) => Ok(t),
            _ => Err(unexpected()),
        }
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.read(read::tenants).await
    }

    async fn tenant_by_name(&self, name: &str) -> Result<Tenant, StoreError> {
        let name = name.to_string();
        self.read_point(move |conn| read::tenant_by_name(conn, &name)).await
    }

    async fn delete_tenant(&self, id: &str) -> Result<(), StoreError> {
        self.write_unit(Op::DeleteTenant { id: id.to_string() }).await
    }

    async fn create_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        self.write_unit(Op::CreateToken { token }).await
    }

    async fn token(&self, id: &str) -> Result<TokenRecord, StoreError> {
        let id = id.to_string();
        self.read_point(move |conn| read::token(conn, &id)).await
    }

    async fn tokens(&self, tenant: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        let tenant = tenant.map(str::to_string);
        self.read(move |conn| read::tokens(conn, tenant.as_deref())).await
    }

    async fn revoke_token(&self, id: &str) -> Result<(), StoreError> {
        self.write_unit(Op::RevokeToken { id: id.to_string() }).await
    }

    async fn touch_token(&self, id: &str, at: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError> {
        self.write_unit(Op::TouchToken { id: id.to_string(), at }).await
    }

    async fn audit(&self, tenant: &str, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        let (tenant, q) = (tenant.to_string(), query.clone());
        self.read(move |conn| read::audit(conn, &tenant, &q)).await
    }
}
