//! `Store::query`: filter, sort and page in SQL when the filter translates
//! (one statement: the page, its members, and the total of all matches as
//! an uncorrelated subquery, so total and items come from one snapshot);
//! otherwise the evaluator over the rows the translatable part selects,
//! under `max_scan`.

use crate::error::Result;
use crate::filter::{self, Translated, Translation};
use crate::rows::{ResourceRow, canonical_uuid, resource_columns};
use crate::sort::{self, KeyType, PositionKey};
use crate::sql::{self, Param, Sql};
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::AsyncPgConnection;
use scim_core::filter::{Filter, matches};
use scim_core::schema::ResourceType;
use scim_store::{Kind, Page, Query, StoreError, Stored};
use serde_json::Value;
use std::cmp::Ordering;

/// Limits of a query.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_results: u32,
    pub(crate) max_scan: u64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// What one query is about, shared by both ways of answering it.
struct Scope<'a> {
    rt: &'a ResourceType,
    kind: Kind,
    q: &'a Query,
    /// `r.tenant = $1 AND r.kind = $2`.
    base: String,
    /// The tenant's placeholder.
    tenant: String,
    limits: Limits,
    /// The page size, capped at `max_results`.
    count: usize,
}

pub(crate) async fn run(
    conn: &mut AsyncPgConnection,
    rt: &ResourceType,
    tenant: &str,
    kind: Kind,
    q: &Query,
    limits: Limits,
) -> Result<Page> {
    let Some(tenant) = canonical_uuid(tenant) else {
        return Ok(Page {
            total: 0,
            items: Vec::new(),
        });
    };
    let mut sql = Sql::new();
    let t = sql.bind(tenant);
    let k = sql.bind(kind.as_str());
    let base = format!("r.tenant = {t} AND r.kind = {k}");
    let Translated { translation, indexed } = match &q.filter {
        None => Translated {
            translation: Translation::Exact("true".into()),
            indexed: false,
        },
        Some(f) => filter::translate(f, rt, kind, &t, &mut sql),
    };
    let count = usize::try_from(q.count.min(u64::from(limits.max_results))).unwrap_or(usize::MAX);
    let scope = Scope {
        rt,
        kind,
        q,
        base,
        tenant: t,
        limits,
        count,
    };
    match translation {
        Translation::Exact(filter) => match in_sql(conn, &scope, &filter, indexed, sql.clone()).await? {
            Some(page) => Ok(page),
            // A cursor position this sort cannot compare in SQL (only with
            // inconsistent data): the evaluator's order over the matches.
            None => in_rust(conn, &scope, Some(&filter), &sql).await,
        },
        Translation::Partial(prefilter) => in_rust(conn, &scope, prefilter.as_deref(), &sql).await,
    }
}

/// The whole query in SQL; `None` when a cursor position cannot be
/// compared in SQL.
async fn in_sql(
    conn: &mut AsyncPgConnection,
    s: &Scope<'_>,
    filter: &str,
    indexed: bool,
    mut sql: Sql,
) -> Result<Option<Page>> {
    let (q, base) = (s.q, &s.base);
    let count_sql = format!("SELECT count(*) AS n FROM resources r WHERE {base} AND {filter}");
    // The texts of simple filters without a sort come from a small set: the
    // statements identity providers repeat are kept prepared.
    let cacheable = q.sort.is_none() && q.filter.as_ref().is_none_or(filter::is_simple);
    if s.count == 0 {
        let total = total(conn, &sql, &count_sql, cacheable).await?;
        return Ok(Some(Page {
            total,
            items: Vec::new(),
        }));
    }
    let offset = if q.after.is_some() { 0 } else { q.start_index.max(1) - 1 };
    let members = s.kind == Kind::Group && q.load.members;
    let columns = resource_columns("p", members, &s.tenant, &format!("({count_sql})"));
    let (key, order, after) = match &q.sort {
        None => {
            let after = match &q.after {
                None => String::new(),
                Some(pos) => match canonical_uuid(&pos.id) {
                    // The (tenant, kind, id) index serves this range.
                    Some(id) => format!(" WHERE p.id > {}", sql.bind(id)),
                    None => format!(" WHERE p.id::text COLLATE \"C\" > {}", sql.bind(pos.id.as_str())),
                },
            };
            // With an indexed lookup the matches are few: find them through
            // that index and sort them. Ordering by `p.id` itself would
            // invite the planner to walk the id index and test every row,
            // betting on an estimate of thousands of matches (GIN's default
            // for `@>`) where there is one. The uuid's canonical text in
            // byte order is the uuid order.
            let order = if indexed { "p.id::text COLLATE \"C\"" } else { "p.id" };
            (String::new(), order, after)
        }
        Some(spec) => {
            let key = sort::key_sql(s.rt, s.kind, spec, &mut sql);
            let after = match &q.after {
                None => String::new(),
                Some(pos) => {
                    let Some(pk) = sort::position_key(s.rt, spec, key.ty, pos) else {
                        return Ok(None);
                    };
                    let pk = match pk {
                        PositionKey::Missing => None,
                        PositionKey::Value(p) => Some(bind_key(&mut sql, key.ty, p)),
                    };
                    let id = sql.bind(pos.id.as_str());
                    format!(" WHERE {}", sort::after(spec.order, pk.as_deref(), &id))
                }
            };
            (format!(", {} AS sk", key.expr), sort::order_by(spec.order), after)
        }
    };
    let (limit_p, offset_p) = (
        sql.bind(i64::try_from(s.count).unwrap_or(i64::MAX)),
        sql.bind(i64::try_from(offset).unwrap_or(i64::MAX)),
    );
    let text = format!(
        "SELECT {columns} FROM (
             SELECT r.id, r.version, r.created, r.modified, r.doc{key} FROM resources r WHERE {base} AND {filter}
         ) AS p{after} ORDER BY {order} LIMIT {limit_p} OFFSET {offset_p}"
    );
    let rows: Vec<ResourceRow> = sql::load(conn, sql.statement(&text, cacheable)).await?;
    let total = match rows.first() {
        Some(row) => u64::try_from(row.total).unwrap_or(0),
        // No matches at all, or a page past the end: count apart.
        None if offset == 0 && q.after.is_none() => 0,
        None => total(conn, &sql, &count_sql, cacheable).await?,
    };
    let items = rows
        .into_iter()
        .map(|r| r.into_stored(s.kind))
        .collect::<Result<Vec<Stored>>>()?;
    Ok(Some(Page { total, items }))
}

/// Binds a position's key with the SQL type of the row keys.
fn bind_key(sql: &mut Sql, ty: KeyType, p: Param) -> String {
    let placeholder = sql.bind(p);
    match ty {
        KeyType::Text | KeyType::Time => format!("{placeholder} COLLATE \"C\""),
        KeyType::Bool | KeyType::Float => placeholder,
    }
}

async fn total(conn: &mut AsyncPgConnection, sql: &Sql, count_sql: &str, cacheable: bool) -> Result<u64> {
    let rows: Vec<Count> = sql::load(conn, sql.statement(count_sql, cacheable)).await?;
    Ok(rows.first().map_or(0, |c| u64::try_from(c.n).unwrap_or(0)))
}

/// The evaluator over the rows `prefilter` selects (every row of the kind
/// without one), refusing past `max_scan` rows.
async fn in_rust(conn: &mut AsyncPgConnection, s: &Scope<'_>, prefilter: Option<&str>, sql: &Sql) -> Result<Page> {
    let (rt, kind, q, base, limits) = (s.rt, s.kind, s.q, &s.base, s.limits);
    let filter_sql = prefilter.map(|p| format!(" AND {p}")).unwrap_or_default();
    // Counting at most max_scan + 1 candidates is enough to refuse.
    let mut guard = sql.clone();
    let bound = guard.bind(i64::try_from(limits.max_scan.saturating_add(1)).unwrap_or(i64::MAX));
    let candidates: Vec<Count> = sql::load(
        conn,
        guard.statement(
            &format!(
                "SELECT count(*) AS n FROM (SELECT 1 FROM resources r WHERE {base}{filter_sql} LIMIT {bound}) AS c"
            ),
            false,
        ),
    )
    .await?;
    let candidates = candidates.first().map_or(0, |c| u64::try_from(c.n).unwrap_or(0));
    if candidates > limits.max_scan {
        return Err(StoreError::TooMany(too_many_message(q.filter.as_ref(), limits.max_scan)).into());
    }
    // Filters and sorts see a group with its members.
    let columns = resource_columns("r", kind == Kind::Group, &s.tenant, "0::bigint");
    let text = format!("SELECT {columns} FROM resources r WHERE {base}{filter_sql}");
    let rows: Vec<ResourceRow> = sql::load(conn, sql.statement(&text, false)).await?;
    let mut hits: Vec<(Stored, Value)> = Vec::new();
    for row in rows {
        let stored = row.into_stored(kind)?;
        let doc = stored.to_resource();
        if q.filter.as_ref().is_none_or(|f| matches(f, rt, &doc)) {
            hits.push((stored, doc));
        }
    }
    match &q.sort {
        Some(spec) => hits.sort_by(|a, b| spec.compare(rt, &a.1, &b.1)),
        None => hits.sort_by(|a, b| a.0.id.cmp(&b.0.id)),
    }
    let total = hits.len() as u64;
    let page: Vec<Stored> = match &q.after {
        Some(pos) => {
            let anchor = q.sort.as_ref().map(|spec| sort::position_doc(rt, spec, pos));
            hits.into_iter()
                .filter(|(item, doc)| match (&q.sort, &anchor) {
                    (Some(spec), Some(anchor)) => spec.compare(rt, doc, anchor) == Ordering::Greater,
                    _ => item.id > pos.id,
                })
                .take(s.count)
                .map(|(item, _)| item)
                .collect()
        }
        None => {
            let skip = usize::try_from(q.start_index.max(1) - 1).unwrap_or(usize::MAX);
            hits.into_iter()
                .skip(skip)
                .take(s.count)
                .map(|(item, _)| item)
                .collect()
        }
    };
    let items = page
        .into_iter()
        .map(|mut item| {
            if !q.load.members {
                item.members = None;
            }
            item
        })
        .collect();
    Ok(Page { total, items })
}

fn too_many_message(filter: Option<&Filter>, max_scan: u64) -> String {
    let text = filter.map_or_else(String::new, |f| format!("the filter `{f}` "));
    format!(
        "{text}cannot be answered from indexes and would scan more than {max_scan} resources; \
         add a condition such as `userName eq`, `externalId eq`, `displayName eq`, `id eq` or `emails.value eq`"
    )
}
