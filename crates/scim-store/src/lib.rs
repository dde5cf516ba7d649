//! `scim-store`: the contract between the SCIM server and a storage backend.
//!
//! A backend implements [`Store`] and passes the shared conformance suite
//! (feature `conformance`, macro [`conformance_tests!`]). That is all a
//! backend author needs to read: this crate depends only on `scim-core`.
//!
//! The rules every backend keeps (each is a conformance case):
//! - Every method is atomic on its own; no transaction handle leaks out.
//! - Every call is scoped to `ctx.tenant`: ids of another tenant are
//!   `NotFound` (or absent from results), never their data.
//! - Every mutation of a resource (create, update, delete, membership
//!   changes included) bumps its integer version (a new resource has
//!   version 1) and appends exactly one audit event in the same atomic step;
//!   a failed mutation changes nothing and appends none.
//! - `userName` is unique per tenant, case-insensitively, enforced inside
//!   the store (unique index or atomic script), so it holds across server
//!   instances. Violations are `Conflict { attribute: "userName" }`.
//! - Deleting a resource removes every membership it takes part in.
//! - Timestamps (`created`, `modified`) have millisecond precision, so what a
//!   mutation returns is what a later read returns.
//! - Membership changes cost O(size of the change), never O(group size).

mod redact;
mod types;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use redact::redact_url;
pub use types::*;

use async_trait::async_trait;

/// What went wrong, in terms the server can map to SCIM errors. Backends map
/// their native errors onto these kinds (a unique violation is `Conflict`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique attribute already has this value in the tenant.
    #[error("conflict on unique attribute '{attribute}'")]
    Conflict { attribute: String },
    /// `Precondition::IfMatch` named a version that is no longer current.
    #[error("version mismatch: current version is {current}")]
    VersionMismatch { current: u64 },
    /// A request the backend cannot answer within its limits (for example a
    /// filter it would have to scan too many resources for). The message
    /// says what to do instead.
    #[error("too many: {0}")]
    TooMany(String),
    /// Data the contract forbids: a member id that does not exist in the
    /// tenant, a membership cycle. The message is safe to show.
    #[error("invalid value: {0}")]
    InvalidValue(String),
    /// An operation this backend does not support (see `Capabilities`).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The backend cannot be reached now; retrying later may succeed.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Anything else. The message is for logs, not for clients.
    #[error("backend error: {0}")]
    Backend(String),
}

/// What a backend can do, so the server's discovery documents never lie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Largest page `query` returns; the server caps `count` at it.
    pub max_results: u32,
    /// `sortBy` on any attribute.
    pub sort: bool,
    /// Keyset positions (`Query::after`) for cursor paging.
    pub cursor: bool,
    /// Filters the backend cannot translate are evaluated by scanning at most
    /// this many resources; past it, `TooMany`. `None`: no limit.
    pub max_scan: Option<u64>,
}

/// The storage contract. Object-safe: the server holds an `Arc<dyn Store>`.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// What this backend supports.
    fn capabilities(&self) -> Capabilities;

    /// Readiness: one cheap round trip to the backend. `Unavailable` when it
    /// cannot be reached now (the server answers `/readyz` with 503). The
    /// default, for backends in the process (memory), always succeeds.
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    // ----- resources -----

    /// Creates a resource with a new UUID v4 id, version 1, and `created` =
    /// `modified` = now. For groups, `doc.members` are inserted; each must
    /// name an existing resource of the tenant (else `InvalidValue`, nothing
    /// written) and gets its kind filled in. `Conflict` when the userName is
    /// taken (case-insensitively). Appends one `create` audit event.
    async fn create(&self, ctx: &Ctx, kind: Kind, doc: NewResource) -> Result<Stored, StoreError>;

    /// Reads one resource; `load.members` decides whether a group's members
    /// come with it. `NotFound` when absent or in another tenant.
    async fn get(&self, ctx: &Ctx, kind: Kind, id: &str, load: Load) -> Result<Stored, StoreError>;

    /// `get` without members, with the document as the JSON text the store
    /// keeps, so a single resource can be rendered without parsing it (the
    /// text as [`StoredText::doc`] requires). The default serialises
    /// `get`'s document; a backend that stores exactly that text overrides
    /// it.
    async fn get_text(&self, ctx: &Ctx, kind: Kind, id: &str) -> Result<StoredText, StoreError> {
        Ok(StoredText::of(self.get(ctx, kind, id, Load::WITHOUT_MEMBERS).await?))
    }

    /// Runs a query: filter (semantics of `scim_core::filter::matches` over
    /// `Stored::to_resource`), sort (`SortSpec::compare`, ties by id; no
    /// sort means id order), then paging. `total` counts every match.
    async fn query(&self, ctx: &Ctx, kind: Kind, query: &Query) -> Result<Page, StoreError>;

    /// `query`, with each document as the JSON text the store keeps, so a
    /// list page can be rendered without parsing it (`load` is ignored: no
    /// members come with a group). The text must be serde_json's compact
    /// form of the document (see [`StoredText::doc`]). The default
    /// serialises `query`'s documents; a backend that stores exactly that
    /// text overrides it.
    async fn query_text(&self, ctx: &Ctx, kind: Kind, query: &Query) -> Result<Page<StoredText>, StoreError> {
        let query = Query {
            load: Load::default(),
            ..query.clone()
        };
        let page = self.query(ctx, kind, &query).await?;
        Ok(Page {
            total: page.total,
            items: page.items.into_iter().map(StoredText::of).collect(),
        })
    }

    /// Compare-and-swap update for PUT and PATCH: replaces the document when
    /// `update.doc` is `Some`, applies the member delta (adding a present
    /// member or removing an absent one is a no-op; added ids must exist in
    /// the tenant, else `InvalidValue` and nothing changes), bumps the
    /// version, sets `modified`, appends one `update` audit event. With
    /// `IfMatch(v)` and a current version other than `v`:
    /// `VersionMismatch { current }` and nothing changes. The returned
    /// resource has no members loaded.
    async fn update(
        &self,
        ctx: &Ctx,
        kind: Kind,
        id: &str,
        expect: Precondition,
        update: Update,
    ) -> Result<Stored, StoreError>;

    /// Deletes a resource and every membership it is part of (as a member,
    /// and a group's own member list), under the same precondition rules as
    /// `update`. Appends one `delete` audit event.
    async fn delete(&self, ctx: &Ctx, kind: Kind, id: &str, expect: Precondition) -> Result<(), StoreError>;

    /// A page of a group's members in member-id order. `NotFound` when the
    /// group does not exist.
    async fn members(&self, ctx: &Ctx, group: &str, page: MemberCursor) -> Result<MemberPage, StoreError>;

    /// The groups `member` belongs to: directly (`direct: true`) and through
    /// nested groups (`direct: false`; a group reachable both ways is listed
    /// once, as direct). Empty for an unknown id.
    async fn groups_of(&self, ctx: &Ctx, member: &str) -> Result<Vec<GroupRef>, StoreError>;
    /// `groups_of` for each of `members` (a page of a list): entry `i` of
    /// the answer is `groups_of(members[i])`. The default asks one member
    /// at a time; a backend that can answer a page in one round trip
    /// overrides it.
    async fn groups_of_each(&self, ctx: &Ctx, members: &[String]) -> Result<Vec<Vec<GroupRef>>, StoreError> {
        let mut out = Vec::with_capacity(members.len());
        for member in members {
            out.push(self.groups_of(ctx, member).await?);
        }
        Ok(out)
    }

    // ----- tenants -----

    /// Creates a tenant; `Conflict { attribute: "name" }` if the name exists.
    async fn create_tenant(&self, name: &str) -> Result<Tenant, StoreError>;
    /// All tenants, by name.
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError>;
    async fn tenant_by_name(&self, name: &str) -> Result<Tenant, StoreError>;
    /// Deletes a tenant with all its resources, memberships, tokens and audit
    /// events; `NotFound` for an unknown id.
    async fn delete_tenant(&self, id: &str) -> Result<(), StoreError>;

    // ----- tokens -----

    /// Stores a token record (its id is chosen by the caller; `Conflict` on a
    /// duplicate id, `NotFound` for an unknown tenant).
    async fn create_token(&self, token: TokenRecord) -> Result<(), StoreError>;
    /// A token by id, revoked ones included (the caller checks `revoked`).
    async fn token(&self, id: &str) -> Result<TokenRecord, StoreError>;
    /// Tokens of one tenant, or of all, oldest first.
    async fn tokens(&self, tenant: Option<&str>) -> Result<Vec<TokenRecord>, StoreError>;
    /// Marks a token revoked (idempotent); `NotFound` for an unknown id.
    async fn revoke_token(&self, id: &str) -> Result<(), StoreError>;
    /// Records use of a token. The server calls it off the request path, at
    /// most about once a minute per token.
    async fn touch_token(&self, id: &str, at: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError>;

    // ----- audit -----

    /// Audit events of one tenant, oldest first, filtered by `query`.
    async fn audit(&self, tenant: &str, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError>;
}
