//! `scim-store-redis`: the Redis backend of the store contract.
//!
//! # Key layout
//!
//! Every key of a tenant starts with `<prefix>:{<tenant id>}:` (prefix
//! [`RedisConfig::key_prefix`], default `scim`). The braces make the tenant
//! id the hash tag, so all of a tenant's keys live in one Redis Cluster slot
//! and every script, which touches one tenant, runs on one node. Below
//! that base:
//!
//! | key | type | holds |
//! |---|---|---|
//! | `tenant` | string | the marker: exists exactly while the tenant does |
//! | `user:<id>`, `group:<id>` | hash | `doc` (JSON), `v` version, `c`/`m` created/modified (ms), `un`/`ix`: the index keys it holds |
//! | `users`, `groups` | sorted set | every id of the kind, score 0, so in id order: listing and paging |
//! | `username:<folded>` | string | the id of the user holding that userName (the unique index) |
//! | `ix:<kind>:<attr>:<folded>` | set | ids whose `externalId`, `displayName` or (users) `emails` value folds to this |
//! | `members:<group>` | sorted set | the group's member ids, score 0 (paged by id) |
//! | `memberof:<id>` | set | the groups `id` is a direct member of |
//! | `audit` | stream | one entry per mutation; entry id `<seq>-0` |
//! | `audit:seq` | string | the tenant's last audit seq |
//!
//! Values are folded with Rust's `to_lowercase`, the folding of the filter
//! evaluator. The global registry of tenants and tokens has its own hash
//! tag, `<prefix>:registry:{registry}:` (`tenant-names`, `tenants`,
//! `tokens`, `token:<id>`, `tenant-tokens:<tenant>`, `token-seq`), and no
//! script ever mixes registry keys with a tenant's.
//!
//! # Scripts
//!
//! Every mutation is one Lua script (`src/lua/`, each commented), called by
//! SHA: version check, uniqueness check, member existence and cycle checks
//! (a walk up the member-to-groups sets), document write, index and
//! membership maintenance, version bump and audit entry happen atomically
//! or not at all, with no WATCH/MULTI retry loop. Reads are scripts too: a
//! resource, a page of the listing, or an indexed query's candidates each
//! come from one consistent state; a scan reads in batches of 250, each
//! consistent in itself.
//!
//! # Queries
//!
//! Equality (`eq`) on `id`, `userName`, `externalId`, `displayName`, User
//! `emails` values and Group `members` values, alone or joined with `and`
//! (or `or` of such), is answered from the indexes; anything else by
//! scanning the kind, up to [`RedisConfig::max_scan`] resources (past it,
//! `TooMany` saying which filter to use). Either way every candidate is
//! checked with `scim_core::filter::matches`, so results are exactly the
//! reference evaluator's. Id order (the default, or `sortBy=id`) pages
//! natively; other sorts use `SortSpec::compare` within the scan limit.
//!
//! # Failure
//!
//! When Redis goes away, calls fail fast with `StoreError::Unavailable`;
//! the connection (or the cluster client) reconnects by itself on later
//! calls, and scripts are reloaded on `NOSCRIPT`.
//!
//! # Tests
//!
//! `SCIM_TEST_REDIS_URL=redis://127.0.0.1:6379 cargo test -p scim-store-redis`
//! runs the conformance suite and this crate's own tests against a real
//! server, each test under a fresh key prefix. For Redis Cluster:
//! `export SCIM_TEST_REDIS_CLUSTER_NODES=$(scripts/redis-cluster.sh start)`,
//! then `cargo test -p scim-store-redis --test cluster`, then
//! `scripts/redis-cluster.sh stop`. Without the variables the tests print
//! `skipped:` and pass.

mod admin;
mod config;
mod conn;
mod error;
mod index;
mod keys;
mod purge;
mod query;
mod reply;
mod resources;
mod scripts;

pub use config::{DEFAULT_MAX_SCAN, RedisConfig, redact_url};
pub use purge::delete_prefix;

use async_trait::async_trait;
use conn::Redis;
use error::Error;
use keys::Keys;
use scim_core::schema::{Registry, ResourceType};
use scim_store::{
    AuditEvent, AuditQuery, Capabilities, Ctx, GroupRef, Kind, Load, MemberCursor, MemberPage, NewResource, Page,
    Precondition, Query, Store, StoreError, Stored, Tenant, TokenRecord, Update,
};
use std::fmt;
use std::sync::Arc;

/// The Redis store. Cheap to share: one multiplexed connection (or cluster
/// client) serves every concurrent call.
pub struct RedisStore {
    redis: Redis,
    keys: Keys,
    registry: Arc<Registry>,
    config: RedisConfig,
}

impl RedisStore {
    /// Connects to Redis (or the cluster), checks that it answers, and loads
    /// the scripts. `Unavailable` when it cannot be reached within the
    /// configured timeouts, `Backend` for an invalid configuration (the
    /// message names the problem). `registry` gives filters and sorting
    /// their meaning.
    pub async fn connect(config: RedisConfig, registry: Arc<Registry>) -> Result<RedisStore, StoreError> {
        let redis = Redis::connect(&config).await?;
        for script in scripts::all() {
            redis.load(script).await?;
        }
        Ok(RedisStore {
            redis,
            keys: Keys::new(&config.key_prefix),
            registry,
            config,
        })
    }

    /// Whether Redis answers now, for readiness probes.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let _: String = self.redis.cmd(&redis::cmd("PING")).await?;
        Ok(())
    }

    /// The configuration the store was connected with.
    pub fn config(&self) -> &RedisConfig {
        &self.config
    }

    fn resource_type(&self, kind: Kind) -> &ResourceType {
        match kind {
            Kind::User => self.registry.user(),
            Kind::Group => self.registry.group(),
        }
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn map<T>(r: Result<T, Error>) -> Result<T, StoreError> {
    r.map_err(StoreError::from)
}

#[async_trait]
impl Store for RedisStore {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_results: query::MAX_RESULTS,
            sort: true,
            cursor: true,
            max_scan: Some(self.config.max_scan),
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        RedisStore::ping(self).await
    }

    async fn create(&self, ctx: &Ctx, kind: Kind, doc: NewResource) -> Result<Stored, StoreError> {
        map(self.create_resource(ctx, kind, doc).await)
    }

    async fn get(&self, ctx: &Ctx, kind: Kind, id: &str, load: Load) -> Result<Stored, StoreError> {
        map(self.get_resource(ctx, kind, id, load).await)
    }

    async fn query(&self, ctx: &Ctx, kind: Kind, query: &Query) -> Result<Page, StoreError> {
        map(self.run_query(ctx, kind, query).await)
    }

    async fn update(
        &self,
        ctx: &Ctx,
        kind: Kind,
        id: &str,
        expect: Precondition,
        update: Update,
    ) -> Result<Stored, StoreError> {
        map(self.update_resource(ctx, kind, id, expect, update).await)
    }

    async fn delete(&self, ctx: &Ctx, kind: Kind, id: &str, expect: Precondition) -> Result<(), StoreError> {
        map(self.delete_resource(ctx, kind, id, expect).await)
    }

    async fn members(&self, ctx: &Ctx, group: &str, page: MemberCursor) -> Result<MemberPage, StoreError> {
        map(self.member_page(ctx, group, page).await)
    }

    async fn groups_of(&self, ctx: &Ctx, member: &str) -> Result<Vec<GroupRef>, StoreError> {
        map(self.groups_of_member(ctx, member).await)
    }

    async fn create_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        map(self.create_tenant_record(name).await)
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        map(self.all_tenants().await)
    }

    async fn tenant_by_name(&self, name: &str) -> Result<Tenant, StoreError> {
        map(self.tenant_named(name).await)
    }

    async fn delete_tenant(&self, id: &str) -> Result<(), StoreError> {
        map(self.remove_tenant(id).await)
    }

    async fn create_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        map(self.add_token(&token).await)
    }

    async fn token(&self, id: &str) -> Result<TokenRecord, StoreError> {
        map(self.token_by_id(id).await)
    }

    async fn tokens(&self, tenant: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        map(self.token_list(tenant).await)
    }

    async fn revoke_token(&self, id: &str) -> Result<(), StoreError> {
        let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 3);
        map(self.mark_token(id, true, now).await)
    }

    async fn touch_token(&self, id: &str, at: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError> {
        map(self.mark_token(id, false, at).await)
    }

    async fn audit(&self, tenant: &str, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        map(self.audit_events(tenant, query).await)
    }
}
