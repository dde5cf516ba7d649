//! Reads on a pooled read-only connection. Reads that take more than one
//! statement run in one read transaction, so they see one snapshot.

use crate::error::Result;
use crate::rows::{self, RESOURCE_COLUMNS, RawResource, fmt_ms, to_i64};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use scim_core::members::Member;
use scim_store::{
    AuditEvent, AuditOp, AuditQuery, GroupRef, Kind, Load, MemberCursor, MemberPage, StoreError, Stored, StoredText,
    Tenant, TokenRecord,
};

/// Runs `f` inside a read transaction (one snapshot for all its statements).
pub(crate) fn snapshot<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    conn.prepare_cached("BEGIN")?.execute([])?;
    let out = f(conn);
    // A read transaction has nothing to lose: end it whatever happened.
    let end = conn.prepare_cached("COMMIT").and_then(|mut s| s.execute([]));
    let out = out?;
    end?;
    Ok(out)
}

pub(crate) fn get(conn: &Connection, tenant: &str, kind: Kind, id: &str, load: Load) -> Result<Stored> {
    let read = |conn: &Connection| {
        let mut stored = raw_resource(conn, tenant, kind, id)?.into_stored(kind)?;
        if kind == Kind::Group && load.members {
            stored.members = Some(all_members(conn, tenant, id)?);
        }
        Ok(stored)
    };
    if kind == Kind::Group && load.members {
        snapshot(conn, read)
    } else {
        // One statement is its own snapshot: BEGIN and COMMIT around it
        // would be two more statements for nothing.
        read(conn)
    }
}

/// `get` without members, the document as it is stored (with its verdict).
pub(crate) fn get_text(conn: &Connection, tenant: &str, kind: Kind, id: &str) -> Result<StoredText> {
    raw_resource(conn, tenant, kind, id)?.into_text(kind)
}

/// One resource's row, or `NotFound`.
fn raw_resource(conn: &Connection, tenant: &str, kind: Kind, id: &str) -> Result<RawResource> {
    conn.prepare_cached(&format!(
        "SELECT {RESOURCE_COLUMNS} FROM resources r WHERE r.tenant = ?1 AND r.kind = ?2 AND r.id = ?3"
    ))?
    .query_row(params![tenant, kind.as_str(), id], RawResource::from_row)
    .optional()?
    .ok_or_else(|| StoreError::NotFound.into())
}

/// Every member of a group, in member id order.
pub(crate) fn all_members(conn: &Connection, tenant: &str, group: &str) -> Result<Vec<Member>> {
    let mut stmt = conn.prepare_cached(
        "SELECT member_id, member_kind FROM memberships WHERE tenant = ?1 AND group_id = ?2 ORDER BY member_id",
    )?;
    let raw: Vec<(String, String)> = stmt
        .query_map(params![tenant, group], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    raw.into_iter()
        .map(|(value, kind)| {
            Ok(Member {
                value,
                kind: Some(rows::parse_member_kind(&kind)?),
            })
        })
        .collect()
}

pub(crate) fn members(conn: &Connection, tenant: &str, group: &str, page: &MemberCursor) -> Result<MemberPage> {
    snapshot(conn, |conn| {
        let exists = exists(
            conn,
            "SELECT 1 FROM resources WHERE tenant = ?1 AND kind = 'Group' AND id = ?2",
            params![tenant, group],
        )?;
        if !exists {
            return Err(StoreError::NotFound.into());
        }
        // A zero limit would hand out `next` without progress; one is the
        // smallest page that always moves forward.
        let limit = i64::from(page.limit.max(1));
        let mut stmt = conn.prepare_cached(
            "SELECT member_id, member_kind FROM memberships
             WHERE tenant = ?1 AND group_id = ?2 AND member_id > ?3
             ORDER BY member_id LIMIT ?4 + 0",
        )?;
        // One more than asked tells whether there is a next page. `?4 + 0`:
        // a bare parameter as LIMIT makes SQLite re-prepare the statement on
        // every execution (see `query::limit_offset`).
        let after = page.after.clone().unwrap_or_default();
        let raw: Vec<(String, String)> = stmt
            .query_map(params![tenant, group, after, limit + 1], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let more = raw.len() as i64 > limit;
        let mut members = Vec::with_capacity(raw.len());
        for (value, kind) in raw.into_iter().take(usize::try_from(limit).unwrap_or(usize::MAX)) {
            members.push(Member {
                value,
                kind: Some(rows::parse_member_kind(&kind)?),
            });
        }
        let next = if more {
            members.last().map(|m| m.value.clone())
        } else {
            None
        };
        Ok(MemberPage { members, next })
    })
}

/// The statement of `groups_of`. Direct groups, then the groups above them,
/// walking up the (tenant, member_id) index; a group reached both ways
/// counts as direct. `CROSS JOIN` fixes the join order (SQLite never
/// reorders it): left to itself, the planner may make `memberships` the
/// outer loop and scan every membership of the tenant per step, which with
/// a 50,000-member group costs milliseconds per lookup instead of a few
/// index probes.
pub(crate) const GROUPS_OF_SQL: &str = "WITH RECURSIVE up(id, direct) AS (
         SELECT group_id, 1 FROM memberships WHERE tenant = ?1 AND member_id = ?2
         UNION
         SELECT m.group_id, 0 FROM up CROSS JOIN memberships m ON m.tenant = ?1 AND m.member_id = up.id
     )
     SELECT up.id, MAX(up.direct), json_extract(r.doc, '$.displayName')
     FROM up CROSS JOIN resources r ON r.tenant = ?1 AND r.kind = 'Group' AND r.id = up.id
     GROUP BY up.id ORDER BY up.id";

/// The direct groups of the member `?2` (`?1` is the tenant): member id,
/// group id, the group's displayName, and whether that group is itself a
/// member of a group (then the walk up, `GROUPS_OF_SQL`, gives the whole
/// answer). `CROSS JOIN` fixes the join order (SQLite never reorders it):
/// from the member's entries in the (tenant, member_id) index to each
/// group's row. (Taking the member in a JSON array, as the page's
/// statements do, cost a third more: `DISTINCT` over `json_each` builds a
/// temporary b-tree per call.)
const DIRECT_GROUPS_SQL: &str = "SELECT m.member_id, m.group_id, json_extract(r.doc, '$.displayName'),
            EXISTS (SELECT 1 FROM memberships p WHERE p.tenant = ?1 AND p.member_id = m.group_id)
     FROM memberships m INDEXED BY memberships_member
     CROSS JOIN resources r ON r.tenant = ?1 AND r.kind = 'Group' AND r.id = m.group_id
     WHERE m.tenant = ?1 AND m.member_id = ?2";

/// The groups `member` is in, directly or through nested groups.
pub(crate) fn groups_of(conn: &Connection, tenant: &str, member: &str) -> Result<Vec<GroupRef>> {
    let mut each = groups_of_each(conn, tenant, &[member.to_string()])?;
    Ok(each.pop().unwrap_or_default())
}

/// The memberships of the members between `?2` and `?3` (`?1` is the
/// tenant), in the (tenant, member_id) index: one range scan, stopped after
/// `?4` rows. `+ 0` keeps the limit out of the plan (see
/// `query::limit_offset`). The order is the index's own (its entries end
/// with the primary key's `group_id`), so it costs no sort; `asked_only`
/// relies on it, and `per_member`'s sort then finds the rows in order.
const MEMBER_RANGE_SQL: &str = "SELECT member_id, group_id FROM memberships INDEXED BY memberships_member
     WHERE tenant = ?1 AND member_id >= ?2 AND member_id <= ?3 ORDER BY member_id, group_id LIMIT ?4 + 0";

/// The memberships of the members in the JSON array `?2`: one probe each.
const MEMBER_PROBES_SQL: &str = "SELECT m.member_id, m.group_id
     FROM (SELECT DISTINCT value AS id FROM json_each(?2)) AS w
     CROSS JOIN memberships m ON m.tenant = ?1 AND m.member_id = w.id";

/// Each group in the JSON array `?2`: its displayName, and whether it is
/// itself a member of a group.
const GROUP_DETAILS_SQL: &str = "SELECT r.id, json_extract(r.doc, '$.displayName'),
            EXISTS (SELECT 1 FROM memberships p WHERE p.tenant = ?1 AND p.member_id = r.id)
     FROM json_each(?2) AS w
     CROSS JOIN resources r ON r.tenant = ?1 AND r.kind = 'Group' AND r.id = w.value";

/// Index rows a page's range scan may read per member asked about before
/// the members count as too sparse for it (see `member_groups`).
const RANGE_ROWS_PER_MEMBER: usize = 32;

/// `groups_of` of each of `members`, in their order: one statement for a
/// single member; for a page, one snapshot holding the memberships (two
/// or three statements) and the walk up from each member whose groups are
/// nested.
pub(crate) fn groups_of_each(conn: &Connection, tenant: &str, members: &[String]) -> Result<Vec<Vec<GroupRef>>> {
    match members {
        [] => Ok(Vec::new()),
        [member] => {
            let rows = conn
                .prepare_cached(DIRECT_GROUPS_SQL)?
                .query_map(params![tenant, member], direct_group_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            per_member(conn, tenant, members, rows)
        }
        _ => snapshot(conn, |conn| {
            let rows = page_direct_groups(conn, tenant, members)?;
            per_member(conn, tenant, members, rows)
        }),
    }
}

/// Each member's answer from the (member, group, nested) rows of its direct
/// memberships: those groups by id, or the walk up when one is nested.
///
/// The rows are sorted by member, so each member's are one run found by
/// binary search, and moved into its answer; a member asked about twice
/// gets a copy of its first answer. (A map from member to groups cost
/// 7% of a page of 100 users: hashing, and a copy of every group.)
fn per_member(
    conn: &Connection,
    tenant: &str,
    members: &[String],
    mut rows: Vec<(String, GroupRef, bool)>,
) -> Result<Vec<Vec<GroupRef>>> {
    rows.sort_unstable_by(|a, b| (&a.0, &a.1.id).cmp(&(&b.0, &b.1.id)));
    // For each run (by its first row), the answer that took its groups.
    let mut answered: Vec<Option<usize>> = vec![None; rows.len()];
    let mut out: Vec<Vec<GroupRef>> = Vec::with_capacity(members.len());
    // Members in order (a page in id order) walk the rows once; others
    // search them. (Id comparisons were the largest part of a page's
    // groups after SQLite's own work: docs/performance.md.)
    let in_order = members.is_sorted();
    let mut walked = 0;
    for member in members {
        let start = if in_order {
            walked += rows[walked..].iter().take_while(|(m, ..)| m < member).count();
            walked
        } else {
            rows.partition_point(|(m, ..)| m < member)
        };
        let end = start + rows[start..].iter().take_while(|(m, ..)| m == member).count();
        let answer = match answered.get(start).copied().flatten() {
            _ if start == end => Vec::new(),
            Some(first) => out[first].clone(),
            None if rows[start..end].iter().any(|(.., nested)| *nested) => nested_groups_of(conn, tenant, member)?,
            None => rows[start..end]
                .iter_mut()
                .map(|(_, group, _)| {
                    std::mem::replace(
                        group,
                        GroupRef {
                            id: String::new(),
                            display: None,
                            direct: true,
                        },
                    )
                })
                .collect(),
        };
        if start < end {
            answered[start] = Some(out.len());
        }
        out.push(answer);
    }
    Ok(out)
}

/// `DIRECT_GROUPS_SQL` for each member of a page: the memberships first,
/// then each distinct group once, instead of the group's row and a probe
/// of its own memberships for every member in it (a page of a big group's
/// members asked about the same group a hundred times).
fn page_direct_groups(conn: &Connection, tenant: &str, members: &[String]) -> Result<Vec<(String, GroupRef, bool)>> {
    let pairs = member_groups(conn, tenant, members)?;
    let mut ids: Vec<&str> = pairs.iter().map(|(_, g)| g.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = serde_json::to_string(&ids)?;
    let mut details: Vec<(String, (Option<String>, bool))> = conn
        .prepare_cached(GROUP_DETAILS_SQL)?
        .query_map(params![tenant, list], |r| {
            Ok((r.get::<_, String>(0)?, (text_or_none(r.get(1)?), r.get::<_, bool>(2)?)))
        })?
        .collect::<rusqlite::Result<_>>()?;
    details.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    // A membership whose group has no row is left out, as the join of
    // `DIRECT_GROUPS_SQL` leaves it out.
    Ok(pairs
        .into_iter()
        .filter_map(|(member, group)| {
            let at = details.binary_search_by(|(id, _)| id.as_str().cmp(&group)).ok()?;
            let (display, nested) = &details[at].1;
            Some((
                member,
                GroupRef {
                    id: group,
                    direct: true,
                    display: display.clone(),
                },
                *nested,
            ))
        })
        .collect())
}

/// (member, group) of every membership of `members`. A page in id order
/// holds every user between its first and last id, so one range scan of
/// the (tenant, member_id) index reads their memberships and little else
/// (those of groups nested in others whose ids fall in the range);
/// that is several times cheaper than a probe per member. Members spread
/// thinly over the ids (a filtered or sorted page) would make the range
/// read memberships of members not asked about: past
/// `RANGE_ROWS_PER_MEMBER` rows per member the scan stops and each member
/// is probed instead. Either way the answer is exact: the range holds every
/// membership of every member asked about, and rows of others are dropped.
fn member_groups(conn: &Connection, tenant: &str, members: &[String]) -> Result<Vec<(String, String)>> {
    let (Some(low), Some(high)) = (members.iter().min(), members.iter().max()) else {
        return Ok(Vec::new());
    };
    let cap = RANGE_ROWS_PER_MEMBER.saturating_mul(members.len());
    let pair = |r: &rusqlite::Row<'_>| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?));
    let rows: Vec<(String, String)> = conn
        .prepare_cached(MEMBER_RANGE_SQL)?
        .query_map(params![tenant, low, high, to_i64((cap as u64).saturating_add(1))], pair)?
        .collect::<rusqlite::Result<_>>()?;
    if rows.len() <= cap {
        return Ok(asked_only(rows, members));
    }
    let list = serde_json::Value::from(members.to_vec()).to_string();
    Ok(conn
        .prepare_cached(MEMBER_PROBES_SQL)?
        .query_map(params![tenant, list], pair)?
        .collect::<rusqlite::Result<_>>()?)
}

/// The rows (in member order) of the members asked about: for members in
/// order too (a page in id order), one walk of both lists; otherwise a
/// binary search of each row's member among them, sorted.
fn asked_only(rows: Vec<(String, String)>, members: &[String]) -> Vec<(String, String)> {
    if members.is_sorted() {
        let mut asked = members.iter().peekable();
        return rows
            .into_iter()
            .filter(|(m, _)| {
                while asked.next_if(|a| *a < m).is_some() {}
                asked.peek().is_some_and(|a| *a == m)
            })
            .collect();
    }
    let mut wanted: Vec<&str> = members.iter().map(String::as_str).collect();
    wanted.sort_unstable();
    rows.into_iter()
        .filter(|(m, _)| wanted.binary_search(&m.as_str()).is_ok())
        .collect()
}

fn direct_group_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, GroupRef, bool)> {
    Ok((
        r.get(0)?,
        GroupRef {
            id: r.get(1)?,
            direct: true,
            display: text_or_none(r.get(2)?),
        },
        r.get(3)?,
    ))
}

fn text_or_none(v: Option<SqlValue>) -> Option<String> {
    match v {
        Some(SqlValue::Text(t)) => Some(t),
        _ => None,
    }
}

/// `groups_of` for a member whose groups are nested: the walk up.
fn nested_groups_of(conn: &Connection, tenant: &str, member: &str) -> Result<Vec<GroupRef>> {
    let mut stmt = conn.prepare_cached(GROUPS_OF_SQL)?;
    let refs = stmt
        .query_map(params![tenant, member], |r| {
            Ok(GroupRef {
                id: r.get(0)?,
                direct: r.get::<_, i64>(1)? == 1,
                display: text_or_none(r.get(2)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(refs)
}

// ------------------------------------------------------- tenants, tokens --

fn tenant_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn to_tenant((id, name, created): (String, String, String)) -> Result<Tenant> {
    Ok(Tenant {
        id,
        name,
        created: rows::parse_utc(&created)?,
    })
}

pub(crate) fn tenants(conn: &Connection) -> Result<Vec<Tenant>> {
    let mut stmt = conn.prepare_cached("SELECT id, name, created FROM tenants ORDER BY name")?;
    let raw: Vec<_> = stmt.query_map([], tenant_row)?.collect::<Result<_, _>>()?;
    raw.into_iter().map(to_tenant).collect()
}

pub(crate) fn tenant_by_name(conn: &Connection, name: &str) -> Result<Tenant> {
    let raw = conn
        .prepare_cached("SELECT id, name, created FROM tenants WHERE name = ?1")?
        .query_row([name], tenant_row)
        .optional()?;
    match raw {
        Some(raw) => to_tenant(raw),
        None => Err(StoreError::NotFound.into()),
    }
}

const TOKEN_COLUMNS: &str = "id, tenant, hash, description, user_id, created, last_used, revoked";

type RawToken = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawToken> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn to_token(raw: RawToken) -> Result<TokenRecord> {
    let (id, tenant, hash, description, user, created, last_used, revoked) = raw;
    let opt = |t: Option<String>| t.as_deref().map(rows::parse_utc).transpose();
    Ok(TokenRecord {
        id,
        tenant,
        hash,
        description,
        user,
        created: rows::parse_utc(&created)?,
        last_used: opt(last_used)?,
        revoked: opt(revoked)?,
    })
}

pub(crate) fn token(conn: &Connection, id: &str) -> Result<TokenRecord> {
    let raw = conn
        .prepare_cached(&format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = ?1"))?
        .query_row([id], token_row)
        .optional()?;
    match raw {
        Some(raw) => to_token(raw),
        None => Err(StoreError::NotFound.into()),
    }
}

pub(crate) fn tokens(conn: &Connection, tenant: Option<&str>) -> Result<Vec<TokenRecord>> {
    // rowid breaks ties between tokens created in the same instant:
    // insertion order, oldest first.
    let raw: Vec<RawToken> = match tenant {
        Some(t) => conn
            .prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM tokens WHERE tenant = ?1 ORDER BY created, rowid"
            ))?
            .query_map([t], token_row)?
            .collect::<Result<_, _>>()?,
        None => conn
            .prepare_cached(&format!("SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created, rowid"))?
            .query_map([], token_row)?
            .collect::<Result<_, _>>()?,
    };
    raw.into_iter().map(to_token).collect()
}

// ---------------------------------------------------------------- audit --

type RawEvent = (i64, String, Option<String>, String, String, String, String, i64, String);

pub(crate) fn audit(conn: &Connection, tenant: &str, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
    let (sql, args) = audit_sql(tenant, q);
    events(conn, tenant, &sql, args)
}

const EVENT_COLUMNS: &str = "seq, time, actor, request_id, op, kind, resource_id, version, change";

/// The statement of an audit query and its parameters.
fn audit_sql(tenant: &str, q: &AuditQuery) -> (String, Vec<SqlValue>) {
    let mut args: Vec<SqlValue> = vec![SqlValue::Text(tenant.to_string())];
    let mut conditions = String::new();
    if let Some(after) = q.after_seq {
        args.push(SqlValue::Integer(to_i64(after)));
        conditions.push_str(&format!(" AND seq > ?{}", args.len()));
    }
    if let Some(since) = q.since {
        // Event times are whole milliseconds: `time >= since` is `time >=
        // since rounded up to a millisecond`, which text order can answer.
        let floor = since.trunc_subsecs(3);
        let ceil: DateTime<Utc> = if floor < since {
            floor + Duration::milliseconds(1)
        } else {
            floor
        };
        args.push(SqlValue::Text(fmt_ms(ceil)));
        conditions.push_str(&format!(" AND time >= ?{}", args.len()));
    }
    let from = match &q.resource_id {
        None => format!("SELECT {EVENT_COLUMNS} FROM audit WHERE tenant = ?1{conditions}"),
        Some(id) => {
            args.push(SqlValue::Text(id.clone()));
            let id = format!("?{}", args.len());
            // audit_resource leaves create events out (see the migration):
            // the create event is the one resources.created_seq names, or
            // for a deleted resource, the origin of its delete event.
            // INDEXED BY: without statistics the planner prefers walking the
            // primary key (the table itself) over the index plus a lookup.
            format!(
                "SELECT {EVENT_COLUMNS} FROM audit INDEXED BY audit_resource
                 WHERE tenant = ?1 AND resource_id = {id} AND op <> 'create'{conditions}
                 UNION ALL
                 SELECT {EVENT_COLUMNS} FROM audit WHERE tenant = ?1 AND resource_id = {id}{conditions} AND seq = COALESCE(
                     (SELECT created_seq FROM resources WHERE tenant = ?1 AND kind IN ('User', 'Group') AND id = {id}),
                     (SELECT origin FROM audit INDEXED BY audit_resource
                      WHERE tenant = ?1 AND resource_id = {id} AND op <> 'create' AND op = 'delete'))"
            )
        }
    };
    args.push(SqlValue::Integer(i64::from(q.limit)));
    // `+ 0`: planned once, see `query::limit_offset`.
    (format!("{from} ORDER BY seq LIMIT ?{} + 0", args.len()), args)
}

fn events(conn: &Connection, tenant: &str, sql: &str, args: Vec<SqlValue>) -> Result<Vec<AuditEvent>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let raw: Vec<RawEvent> = stmt
        .query_map(params_from_iter(args), |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    raw.into_iter()
        .map(
            |(seq, time, actor, request_id, op, kind, resource_id, version, change)| {
                Ok(AuditEvent {
                    seq: rows::version(seq)?,
                    time: rows::parse_utc(&time)?,
                    tenant: tenant.to_string(),
                    actor,
                    request_id,
                    op: parse_op(&op)?,
                    kind: rows::parse_kind(&kind)?,
                    resource_id,
                    version: rows::version(version)?,
                    change: serde_json::from_str(&change)?,
                })
            },
        )
        .collect()
}

fn parse_op(s: &str) -> Result<AuditOp> {
    match s {
        "create" => Ok(AuditOp::Create),
        "update" => Ok(AuditOp::Update),
        "delete" => Ok(AuditOp::Delete),
        other => Err(crate::error::Error::Corrupt(format!("unknown audit op '{other}'"))),
    }
}

/// Whether `sql` (a `SELECT 1 ...`) finds a row.
pub(crate) fn exists(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<bool> {
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params, |_| Ok(()))
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SqliteConfig;
    use crate::db::{self, Location};
    use scim_core::schema::Registry;
    use std::sync::Arc;

    #[test]
    fn a_resource_history_is_read_through_indexes() {
        let config = SqliteConfig::new(":memory:");
        let conn = db::open_writer(&Location::new(&config), &config, &Arc::new(Registry::builtin())).unwrap();
        let q = AuditQuery {
            resource_id: Some("r".into()),
            after_seq: Some(3),
            limit: 10,
            ..AuditQuery::default()
        };
        let (sql, args) = audit_sql("t", &q);
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let plan: Vec<String> = stmt
            .query_map(params_from_iter(args), |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let plan = plan.join("\n");
        assert!(plan.contains("audit_resource"), "{plan}");
        assert!(!plan.lines().any(|l| l.trim_start().starts_with("SCAN")), "{plan}");
    }

    /// The plan of `sql` with `args`, one line per step.
    fn plan_of(conn: &Connection, sql: &str, args: &[&str]) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let plan: Vec<String> = stmt
            .query_map(params_from_iter(args), |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        plan.join("\n")
    }

    #[test]
    fn groups_of_walks_up_the_member_index_and_never_scans_memberships() {
        let config = SqliteConfig::new(":memory:");
        let conn = db::open_writer(&Location::new(&config), &config, &Arc::new(Registry::builtin())).unwrap();
        let plan = plan_of(&conn, GROUPS_OF_SQL, &["t", "u"]);
        // `SCAN up` (the few rows found so far) is expected; a scan of a
        // table or index is not, and neither is a search on the tenant
        // alone (`memberships_member (tenant=?)` walks every membership of
        // the tenant: that was the plan before `CROSS JOIN`).
        for line in plan.lines().map(str::trim_start) {
            assert!(!line.starts_with("SCAN") || line == "SCAN up", "{plan}");
            if line.contains("memberships") || line.contains("SEARCH m ") {
                assert!(line.contains("member_id=?"), "{plan}");
            }
            if line.starts_with("SEARCH r ") {
                assert!(line.contains("id=?)"), "{plan}");
            }
        }
    }

    #[test]
    fn a_pages_memberships_come_in_member_order_without_a_sort() {
        let config = SqliteConfig::new(":memory:");
        let conn = db::open_writer(&Location::new(&config), &config, &Arc::new(Registry::builtin())).unwrap();
        let plan = plan_of(&conn, MEMBER_RANGE_SQL, &["t", "a", "b", "10"]);
        assert!(plan.contains("COVERING INDEX memberships_member"), "{plan}");
        // `asked_only` relies on this order; a sort step would mean the
        // index no longer gives it.
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }

    #[test]
    fn asked_only_keeps_the_rows_of_the_members_asked_in_or_out_of_order() {
        let row = |m: &str, g: &str| (m.to_string(), g.to_string());
        let rows = vec![
            row("a", "g1"),
            row("b", "g1"),
            row("b", "g2"),
            row("c", "g1"),
            row("d", "g3"),
        ];
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let want = vec![row("b", "g1"), row("b", "g2"), row("d", "g3")];
        assert_eq!(asked_only(rows.clone(), &ids(&["b", "bb", "d", "e"])), want);
        assert_eq!(asked_only(rows.clone(), &ids(&["d", "b", "e"])), want);
        assert_eq!(asked_only(rows.clone(), &ids(&["b", "b", "d"])), want);
        assert_eq!(asked_only(rows.clone(), &ids(&["0", "z"])), Vec::new());
        assert_eq!(asked_only(rows, &ids(&["a", "b", "c", "d"])).len(), 5);
    }
}
