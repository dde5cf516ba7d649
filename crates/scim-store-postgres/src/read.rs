//! Reads. Each is one statement, so it sees one snapshot without a
//! transaction (a group and its members included). The audit read first
//! numbers the events committed since the last one (a short write).

use crate::error::{Error, Result};
use crate::rows::{self, ResourceRow, canonical_uuid, resource_columns, uuid_or_not_found};
use crate::schema::{tenants, tokens};
use crate::sql::{self, Param, Sql};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Jsonb, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use scim_core::members::Member;
use scim_store::{
    AuditEvent, AuditOp, AuditQuery, GroupRef, Kind, Load, MemberCursor, MemberPage, StoreError, Stored, Tenant,
    TokenRecord,
};
use serde_json::Value;
use uuid::Uuid;

pub(crate) async fn get(
    conn: &mut AsyncPgConnection,
    tenant: &str,
    kind: Kind,
    id: &str,
    load: Load,
) -> Result<Stored> {
    let tenant = uuid_or_not_found(tenant)?;
    let id = uuid_or_not_found(id)?;
    let mut q = Sql::new();
    let (t, i, k) = (q.bind(tenant), q.bind(id), q.bind(kind.as_str()));
    let columns = resource_columns("r", kind == Kind::Group && load.members, &t, "0::bigint");
    q.push(&format!(
        "SELECT {columns} FROM resources r WHERE r.tenant = {t} AND r.id = {i} AND r.kind = {k}"
    ));
    let rows: Vec<ResourceRow> = sql::load(conn, q.build(true)).await?;
    match rows.into_iter().next() {
        Some(row) => row.into_stored(kind),
        None => Err(StoreError::NotFound.into()),
    }
}

#[derive(QueryableByName)]
struct MemberRow {
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    member_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    member_kind: Option<String>,
}

pub(crate) async fn members(
    conn: &mut AsyncPgConnection,
    tenant: &str,
    group: &str,
    page: &MemberCursor,
) -> Result<MemberPage> {
    let tenant = uuid_or_not_found(tenant)?;
    let group = uuid_or_not_found(group)?;
    // A zero limit would hand out `next` without progress; one is the
    // smallest page that always moves forward.
    let limit = i64::from(page.limit.max(1));
    let mut q = Sql::new();
    let (t, g) = (q.bind(tenant), q.bind(group));
    let after = match page.after.as_deref().map(|a| (a, canonical_uuid(a))) {
        None => String::new(),
        // Ids this store hands out: the index range.
        Some((_, Some(u))) => format!(" AND mm.member_id > {}", q.bind(u)),
        // Anything else orders as text, as the reference compares ids.
        Some((a, None)) => format!(" AND mm.member_id::text COLLATE \"C\" > {}", q.bind(a)),
    };
    // One more than asked tells whether there is a next page.
    let n = q.bind(limit + 1);
    q.push(&format!(
        "SELECT m.member_id, m.member_kind FROM resources g LEFT JOIN LATERAL (
             SELECT mm.member_id, mm.member_kind FROM memberships mm
             WHERE mm.tenant = g.tenant AND mm.group_id = g.id{after}
             ORDER BY mm.member_id LIMIT {n}) m ON true
         WHERE g.tenant = {t} AND g.id = {g} AND g.kind = 'Group'"
    ));
    let rows: Vec<MemberRow> = sql::load(conn, q.build(true)).await?;
    if rows.is_empty() {
        return Err(StoreError::NotFound.into());
    }
    let mut members = Vec::with_capacity(rows.len());
    for row in rows {
        if let (Some(id), Some(kind)) = (row.member_id, row.member_kind) {
            members.push(Member {
                value: id.to_string(),
                kind: Some(rows::parse_member_kind(&kind)?),
            });
        }
    }
    let more = members.len() as i64 > limit;
    members.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = if more {
        members.last().map(|m| m.value.clone())
    } else {
        None
    };
    Ok(MemberPage { members, next })
}

/// Direct groups, then the groups above them, walking up the
/// (tenant, member_id) index; a group reached both ways counts as direct.
pub(crate) async fn groups_of(conn: &mut AsyncPgConnection, tenant: &str, member: &str) -> Result<Vec<GroupRef>> {
    let mut each = groups_of_each(conn, tenant, &[member.to_string()]).await?;
    Ok(each.pop().unwrap_or_default())
}

#[derive(QueryableByName)]
struct MemberGroupRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    member: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = Bool)]
    direct: bool,
    #[diesel(sql_type = Nullable<Text>)]
    display: Option<String>,
}

/// `groups_of` of each of `members`, in their order, in one round trip:
/// the same walk up, carrying the member it started from.
pub(crate) async fn groups_of_each(
    conn: &mut AsyncPgConnection,
    tenant: &str,
    members: &[String],
) -> Result<Vec<Vec<GroupRef>>> {
    let asked: Vec<Option<Uuid>> = members.iter().map(|m| canonical_uuid(m)).collect();
    let mut ids: Vec<Uuid> = asked.iter().flatten().copied().collect();
    ids.sort_unstable();
    ids.dedup();
    let (Some(tenant), false) = (canonical_uuid(tenant), ids.is_empty()) else {
        return Ok(vec![Vec::new(); members.len()]);
    };
    let mut q = Sql::new();
    let (t, m) = (q.bind(tenant), q.bind(Param::Uuids(ids)));
    q.push(&format!(
        "WITH RECURSIVE up(member, id, direct) AS (
             SELECT member_id, group_id, true FROM memberships WHERE tenant = {t} AND member_id = ANY({m})
             UNION
             SELECT up.member, mm.group_id, false FROM memberships mm JOIN up ON mm.tenant = {t} AND mm.member_id = up.id
         )
         SELECT g.member, g.id, g.direct,
                CASE WHEN jsonb_typeof(r.doc -> 'displayName') = 'string' THEN r.doc ->> 'displayName' END AS display
         FROM (SELECT member, id, bool_or(direct) AS direct FROM up GROUP BY member, id) g
         JOIN resources r ON r.tenant = {t} AND r.id = g.id
         ORDER BY g.member, g.id"
    ));
    let rows: Vec<MemberGroupRow> = sql::load(conn, q.build(true)).await?;
    let mut by_member: std::collections::HashMap<Uuid, Vec<GroupRef>> = std::collections::HashMap::new();
    for r in rows {
        by_member.entry(r.member).or_default().push(GroupRef {
            id: r.id.to_string(),
            display: r.display,
            direct: r.direct,
        });
    }
    Ok(asked
        .iter()
        .map(|m| m.and_then(|m| by_member.get(&m).cloned()).unwrap_or_default())
        .collect())
}

// ------------------------------------------------------- tenants, tokens --

#[derive(Queryable, Selectable)]
#[diesel(table_name = tenants)]
struct TenantRow {
    id: Uuid,
    name: String,
    created: DateTime<Utc>,
}

impl From<TenantRow> for Tenant {
    fn from(r: TenantRow) -> Tenant {
        Tenant {
            id: r.id.to_string(),
            name: r.name,
            created: r.created,
        }
    }
}

pub(crate) async fn tenants(conn: &mut AsyncPgConnection) -> Result<Vec<Tenant>> {
    // `name` is COLLATE "C": byte order, Rust's `str` order.
    let rows: Vec<TenantRow> = tenants::table
        .select(TenantRow::as_select())
        .order(tenants::name.asc())
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(Tenant::from).collect())
}

pub(crate) async fn tenant_by_name(conn: &mut AsyncPgConnection, name: &str) -> Result<Tenant> {
    let row: Option<TenantRow> = tenants::table
        .select(TenantRow::as_select())
        .filter(tenants::name.eq(name))
        .first(conn)
        .await
        .optional()?;
    row.map(Tenant::from).ok_or(Error::Store(StoreError::NotFound))
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = tokens)]
struct TokenRow {
    id: String,
    tenant: Uuid,
    hash: String,
    description: Option<String>,
    user_id: Option<String>,
    created: DateTime<Utc>,
    last_used: Option<DateTime<Utc>>,
    revoked: Option<DateTime<Utc>>,
}

impl From<TokenRow> for TokenRecord {
    fn from(r: TokenRow) -> TokenRecord {
        TokenRecord {
            id: r.id,
            tenant: r.tenant.to_string(),
            hash: r.hash,
            description: r.description,
            user: r.user_id,
            created: r.created,
            last_used: r.last_used,
            revoked: r.revoked,
        }
    }
}

pub(crate) async fn token(conn: &mut AsyncPgConnection, id: &str) -> Result<TokenRecord> {
    let row: Option<TokenRow> = tokens::table
        .select(TokenRow::as_select())
        .filter(tokens::id.eq(id))
        .first(conn)
        .await
        .optional()?;
    row.map(TokenRecord::from).ok_or(Error::Store(StoreError::NotFound))
}

pub(crate) async fn tokens(conn: &mut AsyncPgConnection, tenant: Option<&str>) -> Result<Vec<TokenRecord>> {
    // `ordinal` breaks ties between tokens created in the same instant:
    // insertion order, oldest first.
    let rows: Vec<TokenRow> = match tenant {
        Some(t) => {
            let Some(t) = canonical_uuid(t) else {
                return Ok(Vec::new());
            };
            tokens::table
                .select(TokenRow::as_select())
                .filter(tokens::tenant.eq(t))
                .order((tokens::created.asc(), tokens::ordinal.asc()))
                .load(conn)
                .await?
        }
        None => {
            tokens::table
                .select(TokenRow::as_select())
                .order((tokens::created.asc(), tokens::ordinal.asc()))
                .load(conn)
                .await?
        }
    };
    Ok(rows.into_iter().map(TokenRecord::from).collect())
}

// ---------------------------------------------------------------- audit --

#[derive(QueryableByName)]
struct EventRow {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Timestamptz)]
    time: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    actor: Option<String>,
    #[diesel(sql_type = Text)]
    request_id: String,
    #[diesel(sql_type = Text)]
    op: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    resource_id: Uuid,
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = Jsonb)]
    change: Value,
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    flag: bool,
}

/// Numbers the tenant's committed, unnumbered audit events, in the order
/// they were written, after the tenant's last number. One numbering at a
/// time per tenant (the tenant row lock, taken before the statement that
/// reads the events, so that statement's snapshot sees every event the
/// previous numbering saw). Events committed later get later numbers, so a
/// reader that has seen `seq` n never meets a smaller one afterwards.
async fn number_events(conn: &mut AsyncPgConnection, tenant: Uuid) -> Result<()> {
    let mut q = Sql::new();
    let t = q.bind(tenant);
    q.push(&format!(
        "SELECT EXISTS (SELECT 1 FROM audit WHERE tenant = {t} AND seq IS NULL) AS flag"
    ));
    let pending: Vec<Flag> = sql::load(conn, q.build(true)).await?;
    if !pending.iter().any(|p| p.flag) {
        return Ok(());
    }
    conn.transaction::<_, Error, _>(async |conn| {
        let mut q = Sql::new();
        let t = q.bind(tenant);
        q.push(&format!(
            "SELECT true AS flag FROM tenants WHERE id = {t} FOR NO KEY UPDATE"
        ));
        sql::load::<Flag>(conn, q.build(true)).await?;
        let mut q = Sql::new();
        let t = q.bind(tenant);
        q.push(&format!(
            "WITH pending AS (
                 SELECT id, row_number() OVER (ORDER BY id) AS n FROM audit WHERE tenant = {t} AND seq IS NULL
             ), base AS (
                 UPDATE tenants SET audit_seq = audit_seq + (SELECT count(*) FROM pending) WHERE id = {t}
                 RETURNING audit_seq - (SELECT count(*) FROM pending) AS last
             )
             UPDATE audit a SET seq = base.last + pending.n FROM pending, base
             WHERE a.tenant = {t} AND a.id = pending.id"
        ));
        sql::execute(conn, q.build(true)).await?;
        Ok(())
    })
    .await
}

pub(crate) async fn audit(conn: &mut AsyncPgConnection, tenant: &str, query: &AuditQuery) -> Result<Vec<AuditEvent>> {
    let Some(tenant_id) = canonical_uuid(tenant) else {
        return Ok(Vec::new());
    };
    number_events(conn, tenant_id).await?;
    let mut q = Sql::new();
    let t = q.bind(tenant_id);
    // Events committed after the numbering above wait for the next read.
    let mut text = format!(
        "SELECT seq, time, actor, request_id, op, kind, resource_id, version, change FROM audit \
         WHERE tenant = {t} AND seq IS NOT NULL"
    );
    if let Some(after) = query.after_seq {
        text.push_str(&format!(" AND seq > {}", q.bind(rows::to_i64(after))));
    }
    if let Some(since) = query.since {
        // Event times are whole milliseconds, so `time >= since` is `time >=
        // since rounded up to a microsecond`, which PostgreSQL can hold.
        let floor = since.trunc_subsecs(6);
        let ceil = if floor < since {
            floor + Duration::microseconds(1)
        } else {
            floor
        };
        text.push_str(&format!(" AND time >= {}", q.bind(Param::Time(ceil))));
    }
    if let Some(id) = &query.resource_id {
        // Resource ids are UUIDs: any other text names no event.
        let Some(id) = canonical_uuid(id) else {
            return Ok(Vec::new());
        };
        text.push_str(&format!(" AND resource_id = {}", q.bind(id)));
    }
    text.push_str(&format!(" ORDER BY seq LIMIT {}", q.bind(i64::from(query.limit))));
    q.push(&text);
    let rows: Vec<EventRow> = sql::load(conn, q.build(true)).await?;
    rows.into_iter()
        .map(|r| {
            Ok(AuditEvent {
                seq: rows::version(r.seq)?,
                time: r.time,
                tenant: tenant.to_string(),
                actor: r.actor,
                request_id: r.request_id,
                op: parse_op(&r.op)?,
                kind: rows::parse_kind(&r.kind)?,
                resource_id: r.resource_id.to_string(),
                version: rows::version(r.version)?,
                change: r.change,
            })
        })
        .collect()
}

fn parse_op(s: &str) -> Result<AuditOp> {
    match s {
        "create" => Ok(AuditOp::Create),
        "update" => Ok(AuditOp::Update),
        "delete" => Ok(AuditOp::Delete),
        other => Err(Error::Corrupt(format!("unknown audit op '{other}'"))),
    }
}
