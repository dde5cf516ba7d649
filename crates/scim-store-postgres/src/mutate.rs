//! Mutations. Each runs in one READ COMMITTED transaction with its audit
//! event, so a failure anywhere rolls back everything it wrote.
//!
//! Concurrency, by construction rather than by retries:
//! - versions are compare-and-swapped by `UPDATE ... WHERE version = $v`;
//!   without a precondition `version = version + 1` is applied to the row as
//!   locked, so concurrent member changes of one group all land, one after
//!   the other;
//! - `userName` uniqueness is the unique index; member existence is the
//!   foreign key (a member deleted meanwhile fails the insert);
//! - adding groups to groups takes a per-tenant advisory lock before the
//!   cycle check, so two concurrent additions cannot close a cycle that
//!   neither saw;
//! - the audit event is inserted unnumbered, so writers of one tenant never
//!   wait for each other on a counter; `read::audit` numbers committed
//!   events (see the `audit` table).

use crate::error::{Error, Result};
use crate::json::{DbJson, Encoded, encode, encode_resource};
use crate::rows::{self, canonical_uuid, member_kind, now, parse_kind, uuid_or_not_found};
use crate::schema::{tenants, tokens};
use crate::sql::{self, Param, Sql};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use scim_core::members::{Member, MemberDelta};
use scim_store::{
    AuditOp, Ctx, Kind, NewResource, Precondition, StoreError, Stored, Tenant, TokenRecord, Update, audit_change,
};
use serde_json::Value;
use uuid::Uuid;

pub(crate) async fn create(conn: &mut AsyncPgConnection, ctx: &Ctx, kind: Kind, new: NewResource) -> Result<Stored> {
    let tenant = uuid_or_not_found(&ctx.tenant)?;
    if kind == Kind::User && !new.members.is_empty() {
        return Err(StoreError::InvalidValue("users have no members".into()).into());
    }
    let enc = encode_resource(kind, &new.doc)?;
    let mut delta = MemberDelta::default();
    delta.add(new.members);
    let adds = member_ids(&delta)?;
    let change = encode(&audit_change(AuditOp::Create, Some(&new.doc), &delta).to_value()?)?;
    let id = Uuid::new_v4();
    let at = now();
    let members = conn
        .transaction::<_, Error, _>(async |conn| {
            insert_resource(conn, tenant, id, kind, at, &enc).await?;
            let members = add_members(conn, tenant, id, &adds).await?;
            audit(conn, ctx, tenant, AuditOp::Create, kind, id, 1, at, &change).await?;
            Ok(members)
        })
        .await?;
    Ok(Stored {
        kind,
        id: id.to_string(),
        version: 1,
        created: at,
        modified: at,
        doc: new.doc,
        members: (kind == Kind::Group).then_some(members),
    })
}

async fn insert_resource(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    id: Uuid,
    kind: Kind,
    at: DateTime<Utc>,
    enc: &Encoded,
) -> Result<()> {
    let mut q = Sql::new();
    let values = [
        q.bind(tenant),
        q.bind(id),
        q.bind(kind.as_str()),
        q.bind(at),
        q.bind(Param::OptText(enc.keys.user_name.clone())),
        q.bind(Param::OptText(enc.keys.external_id.clone())),
        q.bind(Param::OptText(enc.keys.display_name.clone())),
        q.bind(Param::Texts(enc.keys.emails.clone())),
        q.bind(Param::Json(enc.doc.clone())),
        q.bind(Param::Json(enc.fold.clone())),
    ];
    let [t, i, k, at, user, ext, display, emails, doc, fold] = values;
    q.push(&format!(
        "INSERT INTO resources (tenant, id, kind, version, created, modified, user_name_key, external_id,
                                display_name_key, email_keys, doc, doc_fold)
         VALUES ({t}, {i}, {k}, 1, {at}, {at}, {user}, {ext}, {display}, {emails}, {doc}, {fold})"
    ));
    sql::execute(conn, q.build(true)).await?;
    Ok(())
}

/// A resource row as an update left it.
#[derive(QueryableByName)]
struct Bumped {
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = Timestamptz)]
    created: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    modified: DateTime<Utc>,
    /// The current document when the update kept it, else JSON null.
    #[diesel(sql_type = Jsonb)]
    doc: Value,
}

pub(crate) async fn update(
    conn: &mut AsyncPgConnection,
    ctx: &Ctx,
    kind: Kind,
    id: &str,
    expect: Precondition,
    update: Update,
) -> Result<Stored> {
    let tenant = uuid_or_not_found(&ctx.tenant)?;
    let rid = uuid_or_not_found(id)?;
    let enc = update.doc.as_ref().map(|d| encode_resource(kind, d)).transpose()?;
    let change = encode(&audit_change(AuditOp::Update, update.doc.as_ref(), &update.members).to_value()?)?;
    let at = now();
    let bumped = conn
        .transaction::<_, Error, _>(async |conn| {
            let bumped = bump(conn, tenant, rid, kind, expect, at, enc.as_ref()).await?;
            if kind == Kind::User && !update.members.is_empty() {
                return Err(StoreError::InvalidValue("users have no members".into()).into());
            }
            apply_members(conn, tenant, rid, &update.members).await?;
            let version = rows::version(bumped.version)?;
            audit(
                conn,
                ctx,
                tenant,
                AuditOp::Update,
                kind,
                rid,
                version,
                bumped.modified,
                &change,
            )
            .await?;
            Ok(bumped)
        })
        .await?;
    Ok(Stored {
        kind,
        id: rid.to_string(),
        version: rows::version(bumped.version)?,
        created: bumped.created,
        modified: bumped.modified,
        doc: update.doc.unwrap_or(bumped.doc),
        members: None,
    })
}

/// Bumps the version (compare-and-swap under `IfMatch`), sets `modified`
/// (never backwards, should clocks of server instances disagree) and the
/// new document with its derived columns, if any.
async fn bump(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    id: Uuid,
    kind: Kind,
    expect: Precondition,
    at: DateTime<Utc>,
    enc: Option<&Encoded>,
) -> Result<Bumped> {
    let mut q = Sql::new();
    let (t, i, k, at) = (q.bind(tenant), q.bind(id), q.bind(kind.as_str()), q.bind(at));
    let mut text = format!("UPDATE resources SET version = version + 1, modified = GREATEST({at}, modified)");
    if let Some(enc) = enc {
        let (user, ext, display) = (
            q.bind(Param::OptText(enc.keys.user_name.clone())),
            q.bind(Param::OptText(enc.keys.external_id.clone())),
            q.bind(Param::OptText(enc.keys.display_name.clone())),
        );
        let (emails, doc, fold) = (
            q.bind(Param::Texts(enc.keys.emails.clone())),
            q.bind(Param::Json(enc.doc.clone())),
            q.bind(Param::Json(enc.fold.clone())),
        );
        text.push_str(&format!(
            ", user_name_key = {user}, external_id = {ext}, display_name_key = {display}, email_keys = {emails}, \
             doc = {doc}, doc_fold = {fold}"
        ));
    }
    text.push_str(&format!(" WHERE tenant = {t} AND id = {i} AND kind = {k}"));
    if let Precondition::IfMatch(v) = expect {
        text.push_str(&format!(" AND version = {}", q.bind(rows::to_i64(v))));
    }
    // The new document is the caller's: no need to send it back.
    let doc = if enc.is_some() { "'null'::jsonb" } else { "doc" };
    text.push_str(&format!(" RETURNING version, created, modified, {doc} AS doc"));
    q.push(&text);
    let rows: Vec<Bumped> = sql::load(conn, q.build(true)).await?;
    match rows.into_iter().next() {
        Some(b) => Ok(b),
        None => Err(missed(conn, tenant, id, kind).await),
    }
}

#[derive(QueryableByName)]
struct VersionRow {
    #[diesel(sql_type = BigInt)]
    version: i64,
}

/// Why an update or delete matched no row: the resource is not there, or
/// its version is not the expected one.
async fn missed(conn: &mut AsyncPgConnection, tenant: Uuid, id: Uuid, kind: Kind) -> Error {
    let mut q = Sql::new();
    let (t, i, k) = (q.bind(tenant), q.bind(id), q.bind(kind.as_str()));
    q.push(&format!(
        "SELECT version FROM resources WHERE tenant = {t} AND id = {i} AND kind = {k}"
    ));
    match sql::load::<VersionRow>(conn, q.build(true)).await {
        Ok(rows) => match rows.into_iter().next().map(|r| rows::version(r.version)) {
            Some(Ok(current)) => StoreError::VersionMismatch { current }.into(),
            Some(Err(e)) => e,
            None => StoreError::NotFound.into(),
        },
        Err(e) => e,
    }
}

pub(crate) async fn delete(
    conn: &mut AsyncPgConnection,
    ctx: &Ctx,
    kind: Kind,
    id: &str,
    expect: Precondition,
) -> Result<()> {
    let tenant = uuid_or_not_found(&ctx.tenant)?;
    let rid = uuid_or_not_found(id)?;
    let change = encode(&audit_change(AuditOp::Delete, None, &MemberDelta::default()).to_value()?)?;
    conn.transaction::<_, Error, _>(async |conn| {
        let mut q = Sql::new();
        let (t, i, k) = (q.bind(tenant), q.bind(rid), q.bind(kind.as_str()));
        let mut text = format!("DELETE FROM resources WHERE tenant = {t} AND id = {i} AND kind = {k}");
        if let Precondition::IfMatch(v) = expect {
            text.push_str(&format!(" AND version = {}", q.bind(rows::to_i64(v))));
        }
        q.push(&text);
        // Memberships go with it both ways: the foreign keys cascade.
        if sql::execute(conn, q.build(true)).await? == 0 {
            return Err(missed(conn, tenant, rid, kind).await);
        }
        audit(conn, ctx, tenant, AuditOp::Delete, kind, rid, 0, now(), &change).await
    })
    .await
}

/// The ids a delta adds, in id order. Resource ids are UUIDs, so any other
/// text names a member that does not exist.
fn member_ids(delta: &MemberDelta) -> Result<Vec<Uuid>> {
    delta
        .add
        .keys()
        .map(|id| {
            canonical_uuid(id).ok_or_else(|| StoreError::InvalidValue(format!("member '{id}' does not exist")).into())
        })
        .collect()
}

/// Applies a member delta in the order `MemberDelta` defines: replace-all
/// empties the group, then removals, then additions. Each step is one
/// statement over the rows it names (replace-all aside), never a read of
/// the member list.
async fn apply_members(conn: &mut AsyncPgConnection, tenant: Uuid, group: Uuid, delta: &MemberDelta) -> Result<()> {
    if delta.replace_all {
        let mut q = Sql::new();
        let (t, g) = (q.bind(tenant), q.bind(group));
        q.push(&format!(
            "DELETE FROM memberships WHERE tenant = {t} AND group_id = {g}"
        ));
        sql::execute(conn, q.build(true)).await?;
    }
    // Text that is no UUID is no member: removing it is a no-op.
    let remove: Vec<Uuid> = delta.remove.iter().filter_map(|id| canonical_uuid(id)).collect();
    if !remove.is_empty() {
        let mut q = Sql::new();
        let (t, g, ids) = (q.bind(tenant), q.bind(group), q.bind(Param::Uuids(remove)));
        q.push(&format!(
            "DELETE FROM memberships WHERE tenant = {t} AND group_id = {g} AND member_id = ANY({ids})"
        ));
        sql::execute(conn, q.build(true)).await?;
    }
    add_members(conn, tenant, group, &member_ids(delta)?).await?;
    Ok(())
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
}

#[derive(QueryableByName)]
struct KindRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    kind: String,
}

/// Inserts `ids` (in id order) into `group`: each must name a resource of
/// the tenant (one index lookup each, which also gives the kind to fill
/// in), and no group may end up inside itself. Returns the members, kinds
/// filled in. Members already there stay (`ON CONFLICT DO NOTHING`).
async fn add_members(conn: &mut AsyncPgConnection, tenant: Uuid, group: Uuid, ids: &[Uuid]) -> Result<Vec<Member>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new();
    let (t, wanted) = (q.bind(tenant), q.bind(Param::Uuids(ids.to_vec())));
    q.push(&format!(
        "SELECT id, kind FROM resources WHERE tenant = {t} AND id = ANY({wanted})"
    ));
    let found: Vec<KindRow> = sql::load(conn, q.build(true)).await?;
    let kinds: std::collections::HashMap<Uuid, Kind> = found
        .into_iter()
        .map(|r| Ok((r.id, parse_kind(&r.kind)?)))
        .collect::<Result<_>>()?;
    let mut members = Vec::with_capacity(ids.len());
    let mut groups = Vec::new();
    for id in ids {
        let Some(kind) = kinds.get(id) else {
            return Err(StoreError::InvalidValue(format!("member '{id}' does not exist")).into());
        };
        if *kind == Kind::Group {
            groups.push(*id);
        }
        members.push(Member {
            value: id.to_string(),
            kind: Some(member_kind(*kind)),
        });
    }
    if !groups.is_empty() {
        check_cycles(conn, tenant, group, groups).await?;
    }
    let mut q = Sql::new();
    let (t, g) = (q.bind(tenant), q.bind(group));
    let ids = q.bind(Param::Uuids(ids.to_vec()));
    let kinds = q.bind(Param::Texts(
        members
            .iter()
            .map(|m| m.kind.map_or("User", |k| k.as_str()).to_string())
            .collect(),
    ));
    q.push(&format!(
        "INSERT INTO memberships (tenant, group_id, member_id, member_kind)
         SELECT {t}, {g}, x.id, x.kind FROM unnest({ids}::uuid[], {kinds}::text[]) AS x(id, kind)
         ON CONFLICT DO NOTHING"
    ));
    sql::execute(conn, q.build(true)).await?;
    Ok(members)
}

/// Putting group M into `group` closes a cycle exactly when M is `group` or
/// one of the groups that (transitively) contain it: the walk goes up from
/// `group` along the (tenant, member_id) index, so it costs the number of
/// ancestors, whatever the group sizes.
async fn check_cycles(conn: &mut AsyncPgConnection, tenant: Uuid, group: Uuid, members: Vec<Uuid>) -> Result<()> {
    // Serializes nesting changes within the tenant for the rest of the
    // transaction: a concurrent addition either committed before this walk
    // (which then sees it; READ COMMITTED reads anew per statement) or waits.
    let mut q = Sql::new();
    let (space, key) = (q.bind(i64::from(NESTING_LOCK_SPACE)), q.bind(tenant_lock_key(tenant)));
    q.push(&format!(
        "SELECT pg_advisory_xact_lock(CAST({space} AS integer), CAST({key} AS integer))"
    ));
    sql::execute(conn, q.build(true)).await?;
    let mut q = Sql::new();
    let (t, g, m) = (q.bind(tenant), q.bind(group), q.bind(Param::Uuids(members)));
    q.push(&format!(
        "WITH RECURSIVE up(id) AS (
             SELECT {g}::uuid
             UNION
             SELECT mm.group_id FROM memberships mm JOIN up ON mm.tenant = {t} AND mm.member_id = up.id
         )
         SELECT id FROM up WHERE id = ANY({m}) LIMIT 1"
    ));
    let closing: Vec<IdRow> = sql::load(conn, q.build(true)).await?;
    match closing.into_iter().next() {
        Some(r) if r.id == group => Err(StoreError::InvalidValue(format!(
            "group '{group}' cannot be a member of itself (a membership cycle)"
        ))
        .into()),
        Some(r) => Err(StoreError::InvalidValue(format!(
            "adding group '{}' to group '{group}' would make a membership cycle",
            r.id
        ))
        .into()),
        None => Ok(()),
    }
}

/// The first key of the two-key advisory locks this crate takes per tenant
/// (their own key space, apart from the one-key migration lock).
const NESTING_LOCK_SPACE: i32 = 0x5C1A;

/// A tenant's second advisory key: its first 32 bits (UUID v4s spread
/// evenly; a collision only makes two tenants take turns).
fn tenant_lock_key(tenant: Uuid) -> i64 {
    let b = tenant.as_bytes();
    i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Appends the audit event of a mutation, unnumbered (the first read after
/// commit numbers it). An unknown tenant fails the foreign key: `NotFound`.
#[allow(
    clippy::too_many_arguments,
    reason = "one column each; a struct would only rename them"
)]
async fn audit(
    conn: &mut AsyncPgConnection,
    ctx: &Ctx,
    tenant: Uuid,
    op: AuditOp,
    kind: Kind,
    id: Uuid,
    version: u64,
    at: DateTime<Utc>,
    change: &DbJson,
) -> Result<()> {
    let mut q = Sql::new();
    let t = q.bind(tenant);
    let values = [
        q.bind(at),
        q.bind(Param::OptText(ctx.actor.clone())),
        q.bind(ctx.request_id.as_str()),
        q.bind(op.as_str()),
        q.bind(kind.as_str()),
        q.bind(id),
        q.bind(rows::to_i64(version)),
        q.bind(Param::Json(change.clone())),
    ];
    let [at, actor, request, op, kind, id, version, change] = values;
    q.push(&format!(
        "INSERT INTO audit (tenant, time, actor, request_id, op, kind, resource_id, version, change)
         VALUES ({t}, {at}, {actor}, {request}, {op}, {kind}, {id}, {version}, {change})"
    ));
    sql::execute(conn, q.build(true)).await?;
    Ok(())
}

// ------------------------------------------------------- tenants, tokens --

pub(crate) async fn create_tenant(conn: &mut AsyncPgConnection, name: &str) -> Result<Tenant> {
    let tenant = Tenant {
        id: Uuid::new_v4().to_string(),
        name: name.to_string(),
        created: now(),
    };
    let id = uuid_or_not_found(&tenant.id)?;
    diesel::insert_into(tenants::table)
        .values((
            tenants::id.eq(id),
            tenants::name.eq(name),
            tenants::created.eq(tenant.created),
        ))
        .execute(conn)
        .await?;
    Ok(tenant)
}

/// Deletes a tenant and everything it has, set by set (memberships first,
/// so deleting its resources finds nothing left to cascade to).
pub(crate) async fn delete_tenant(conn: &mut AsyncPgConnection, id: &str) -> Result<()> {
    let tenant = uuid_or_not_found(id)?;
    conn.transaction::<_, Error, _>(async |conn| {
        for table in ["memberships", "audit", "tokens", "resources"] {
            let mut q = Sql::new();
            let t = q.bind(tenant);
            // Table names come from the list above, never from input.
            q.push(&format!("DELETE FROM {table} WHERE tenant = {t}"));
            sql::execute(conn, q.build(true)).await?;
        }
        let n = diesel::delete(tenants::table.filter(tenants::id.eq(tenant)))
            .execute(conn)
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound.into());
        }
        Ok(())
    })
    .await
}

pub(crate) async fn create_token(conn: &mut AsyncPgConnection, t: &TokenRecord) -> Result<()> {
    let tenant = uuid_or_not_found(&t.tenant)?;
    // An unknown tenant fails the foreign key: `NotFound`.
    diesel::insert_into(tokens::table)
        .values((
            tokens::id.eq(&t.id),
            tokens::tenant.eq(tenant),
            tokens::hash.eq(&t.hash),
            tokens::description.eq(&t.description),
            tokens::user_id.eq(&t.user),
            tokens::created.eq(t.created),
            tokens::last_used.eq(t.last_used),
            tokens::revoked.eq(t.revoked),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) async fn revoke_token(conn: &mut AsyncPgConnection, id: &str) -> Result<()> {
    // Idempotent: the first revocation time stays.
    let n = diesel::update(tokens::table.filter(tokens::id.eq(id)))
        .set(
            tokens::revoked.eq(
                diesel::dsl::sql::<diesel::sql_types::Nullable<Timestamptz>>("COALESCE(revoked, ")
                    .bind::<Timestamptz, _>(Utc::now())
                    .sql(")"),
            ),
        )
        .execute(conn)
        .await?;
    if n == 0 {
        Err(StoreError::NotFound.into())
    } else {
        Ok(())
    }
}

pub(crate) async fn touch_token(conn: &mut AsyncPgConnection, id: &str, at: DateTime<Utc>) -> Result<()> {
    let n = diesel::update(tokens::table.filter(tokens::id.eq(id)))
        .set(tokens::last_used.eq(Some(at)))
        .execute(conn)
        .await?;
    if n == 0 {
        Err(StoreError::NotFound.into())
    } else {
        Ok(())
    }
}
