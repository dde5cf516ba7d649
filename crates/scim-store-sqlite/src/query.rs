//! `Store::query`: filter, sort and page in SQL when the filter translates;
//! otherwise the evaluator over the rows the translatable part selects,
//! under `max_scan`.
//!
//! Sorting uses `scim_sort_key` over the JSON of the sorted attribute as
//! `to_resource` has it (the document's, or `id`/`meta`/the first member
//! built from columns), so SQL orders exactly like `SortSpec::compare`:
//! `ORDER BY key IS NULL, key, id` ascending (missing last) and `key IS
//! NULL DESC, key DESC, id` descending (the exact reverse, ties still by id).
//! Keyset positions compare (key, id) the same way.

use crate::error::{Error, Result};
use crate::functions::encode_sort_key;
use crate::ranks::{Ranks, STEP};
use crate::read::{all_members, snapshot};
use crate::rows::{RESOURCE_COLUMNS, RawResource, to_i64};
use crate::sql::{self, Params, Translation, attr_path, is_common};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use scim_core::filter::{CompValue, CompareOp, Filter, matches};
use scim_core::schema::{Container, ResourceType};
use scim_core::sort::{SortOrder, SortSpec, sort_key};
use scim_store::{Kind, Page, Position, Query, StoreError, Stored, StoredText};
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// Up to this many matches, a page in id order is sorted rather than read
/// in primary-key order (see `in_sql`).
const SORT_MATCHES: u64 = 5_000;

/// `LIMIT ?a OFFSET ?b` written so the statement is planned once. SQLite
/// reads the value of a LIMIT or OFFSET that is a bare parameter while
/// planning, and then marks the statement for re-preparation whenever that
/// parameter is bound again: every execution of a cached statement paid a
/// full parse and plan. `?a + 0` is an expression the planner leaves alone;
/// its value is the same integer.
pub(crate) fn limit_offset(limit: &str, offset: &str) -> String {
    format!("LIMIT {limit} + 0 OFFSET {offset} + 0")
}

/// Limits of a query.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_results: u32,
    pub(crate) max_scan: u64,
    pub(crate) work: Work,
}

/// What a read may do besides reading the rows it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Work {
    /// Nothing: it runs on an async thread (`SqliteStore::read_returned`),
    /// and stops with `Error::WouldScan` where it would have to step over
    /// rows it does not return.
    Returned,
    /// Anything within `max_scan`: it runs on the blocking pool.
    Any,
}

/// Whether a query is an index page: every resource of the kind in id
/// order, from a position (`startIndex` or a cursor). Its read steps over
/// at most `ranks::STEP` rows it does not return, once the rank
/// checkpoints are current (`Work::Returned` stops where they are not).
pub(crate) fn is_index_page(kind: Kind, q: &Query) -> bool {
    q.filter.is_none() && q.sort.is_none() && !(kind == Kind::Group && q.load.members)
}

/// What one query is about, shared by both ways of answering it.
struct Scope<'a> {
    rt: &'a ResourceType,
    kind: Kind,
    tenant: &'a str,
    q: &'a Query,
    /// `r.tenant = ?1 AND r.kind = ?2`.
    base: String,
    limits: Limits,
    /// The page size, capped at `max_results`.
    count: usize,
    ranks: &'a Ranks,
}

/// What a page is made of: [`Stored`] (`Store::query`) or [`StoredText`]
/// (`Store::query_text`, which leaves the document text unparsed when SQL
/// answers the whole query).
pub(crate) trait Item: Sized {
    fn from_raw(raw: RawResource, kind: Kind) -> Result<Self>;
    /// A resource the evaluator had to parse (`in_rust`).
    fn from_stored(stored: Stored) -> Self;
    /// Loads what `q.load` asks for, inside the page's snapshot.
    fn load(&mut self, conn: &Connection, tenant: &str, q: &Query) -> Result<()>;
}

impl Item for Stored {
    fn from_raw(raw: RawResource, kind: Kind) -> Result<Self> {
        raw.into_stored(kind)
    }
    fn from_stored(stored: Stored) -> Self {
        stored
    }
    fn load(&mut self, conn: &Connection, tenant: &str, q: &Query) -> Result<()> {
        self.members = if self.kind == Kind::Group && q.load.members {
            Some(all_members(conn, tenant, &self.id)?)
        } else {
            None
        };
        Ok(())
    }
}

impl Item for StoredText {
    fn from_raw(raw: RawResource, kind: Kind) -> Result<Self> {
        raw.into_text(kind)
    }
    fn from_stored(stored: Stored) -> Self {
        StoredText::of(stored)
    }
    /// Text pages carry no members (`Store::query_text`).
    fn load(&mut self, _: &Connection, _: &str, _: &Query) -> Result<()> {
        Ok(())
    }
}

pub(crate) fn run<T: Item>(
    conn: &Connection,
    rt: &ResourceType,
    tenant: &str,
    kind: Kind,
    q: &Query,
    limits: Limits,
    ranks: &Ranks,
) -> Result<Page<T>> {
    if limits.work == Work::Returned && !is_index_page(kind, q) {
        return Err(Error::WouldScan);
    }
    let mut params = Params::default();
    let tenant_p = params.bind(tenant.to_string());
    let kind_p = params.bind(kind.as_str().to_string());
    let base = format!("r.tenant = {tenant_p} AND r.kind = {kind_p}");
    let translation = match &q.filter {
        None => Translation::Exact("1".into()),
        Some(f) => sql::translate(f, rt, kind, &tenant_p, &mut params),
    };
    let count = usize::try_from(q.count.min(u64::from(limits.max_results))).unwrap_or(usize::MAX);
    let scope = Scope {
        rt,
        kind,
        tenant,
        q,
        base,
        limits,
        count,
        ranks,
    };
    if let Translation::Exact(filter) = &translation
        && q.after.is_none()
        && q.start_index <= 1
        && count >= 1
        && is_point_query(rt, kind, q)
    {
        return pinned_page(conn, &scope, filter, &params);
    }
    snapshot(conn, |conn| {
        let mut page = match translation {
            Translation::Exact(filter) => {
                let mut page_params = Params::default();
                for v in params.values() {
                    page_params.bind(v.clone());
                }
                match sort_key_sql(rt, kind, q.sort.as_ref(), &mut page_params) {
                    Some(key) => in_sql::<T>(conn, &scope, &filter, &params, key, page_params)?,
                    // A sort this store cannot write in SQL: sort in Rust.
                    None => items_of(in_rust(conn, &scope, Some(&filter), &params)?),
                }
            }
            Translation::Partial(prefilter) => items_of(in_rust(conn, &scope, prefilter.as_deref(), &params)?),
        };
        for item in &mut page.items {
            item.load(conn, tenant, q)?;
        }
        Ok(page)
    })
}

/// Whether a query is a point read: its filter pins at most one resource
/// (`userName eq` for users, `id eq`, ANDed with anything), so its cost does
/// not grow with the data, and it loads no member lists.
pub(crate) fn is_point_query(rt: &ResourceType, kind: Kind, q: &Query) -> bool {
    fn pins_one(f: &Filter, rt: &ResourceType, kind: Kind) -> bool {
        match f {
            Filter::And(a, b) => pins_one(a, rt, kind) || pins_one(b, rt, kind),
            Filter::Compare(path, CompareOp::Eq, CompValue::String(_)) => rt.resolve_attr(path).is_some_and(|r| {
                r.sub.is_none()
                    && r.container == Container::Top
                    && (r.attr.name == "id" || (kind == Kind::User && r.attr.name == "userName"))
            }),
            _ => false,
        }
    }
    !(kind == Kind::Group && q.load.members) && q.filter.as_ref().is_some_and(|f| pins_one(f, rt, kind))
}

/// A point query read from the first position (no cursor, `startIndex` 1,
/// a page of at least one): its page, of at most one resource, is the
/// whole answer, so the page's length is the total. One statement, which
/// is its own snapshot, instead of a count and a page in a transaction.
fn pinned_page<T: Item>(conn: &Connection, s: &Scope<'_>, filter: &str, params: &Params) -> Result<Page<T>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RESOURCE_COLUMNS} FROM resources r WHERE {} AND {filter}",
        s.base
    ))?;
    let raw: Vec<RawResource> = stmt
        .query_map(params_from_iter(params.values()), RawResource::from_row)?
        .collect::<Result<_, _>>()?;
    let items: Vec<T> = raw.into_iter().map(|r| T::from_raw(r, s.kind)).collect::<Result<_>>()?;
    Ok(Page {
        total: items.len() as u64,
        items,
    })
}

/// How a page is ordered: by id (no sort), or by a key expression.
enum Key {
    Id,
    Expr {
        sql: String,
        order: SortOrder,
        spec: SortSpec,
    },
}

/// `None` when the sorted attribute cannot be addressed in SQL.
fn sort_key_sql(rt: &ResourceType, kind: Kind, sort: Option<&SortSpec>, params: &mut Params) -> Option<Key> {
    let Some(spec) = sort else { return Some(Key::Id) };
    let attr_json = match rt.resolve_attr(&spec.by) {
        None => "NULL".to_string(),
        Some(r) if is_common(rt, &r) && r.attr.name == "id" => "json_quote(r.id)".into(),
        Some(r) if is_common(rt, &r) && r.attr.name == "meta" => "json_object('resourceType', r.kind, \
             'created', r.created, 'lastModified', r.modified, 'version', 'W/\"' || r.version || '\"')"
            .into(),
        // Members are in id order and never primary: the first one decides.
        Some(r) if kind == Kind::Group && r.container == Container::Top && r.attr.name == "members" => {
            "(SELECT json_array(json_object('value', m.member_id, 'type', m.member_kind)) FROM memberships m \
             WHERE m.tenant = r.tenant AND m.group_id = r.id ORDER BY m.member_id LIMIT 1)"
                .into()
        }
        Some(r) => format!("(r.doc -> {})", params.bind(attr_path(r.container, &r.attr.name)?)),
    };
    let sql = format!(
        "scim_sort_key({attr_json}, {}, {})",
        params.bind(kind.as_str().to_string()),
        params.bind(spec.by.to_string())
    );
    Some(Key::Expr {
        sql,
        order: spec.order,
        spec: spec.clone(),
    })
}

fn in_sql<T: Item>(
    conn: &Connection,
    s: &Scope<'_>,
    filter: &str,
    params: &Params,
    key: Key,
    mut page_params: Params,
) -> Result<Page<T>> {
    let (rt, q, base, count) = (s.rt, s.q, &s.base, s.count);
    // Without a filter every resource of the kind matches: the counts
    // table (kept by triggers, migration 2) has the total without counting
    // the index, which is O(n) per page.
    let counted = match q.filter {
        None => Some(resource_count(conn, s.tenant, s.kind)?),
        Some(_) => None,
    };
    let total = match counted {
        Some((n, _)) => n,
        None => {
            let total: i64 = conn
                .prepare_cached(&format!("SELECT COUNT(*) FROM resources r WHERE {base} AND {filter}"))?
                .query_row(params_from_iter(params.values()), |r| r.get(0))?;
            u64::try_from(total).unwrap_or(0)
        }
    };
    let mut offset = if q.after.is_some() { 0 } else { q.start_index.max(1) - 1 };
    // Past the end: no page, and no OFFSET stepping over every match.
    if count == 0 || offset >= total {
        return Ok(Page {
            total,
            items: Vec::new(),
        });
    }
    let sql = match key {
        Key::Id => {
            let after = match (&q.after, counted) {
                (Some(pos), _) => format!(" AND r.id > {}", page_params.bind(pos.id.clone())),
                // Deep index pages of everything start from a checkpoint.
                (None, Some(counts)) => {
                    let may_build = s.limits.work == Work::Any;
                    match s.ranks.start(conn, s.tenant, s.kind, counts, offset, may_build)? {
                        Some(start) => {
                            offset = start.skip;
                            format!(" AND r.id >= {}", page_params.bind(start.from_id))
                        }
                        None if offset >= STEP && !may_build => return Err(Error::WouldScan),
                        None => String::new(),
                    }
                }
                (None, None) => String::new(),
            };
            // With few matches, `+r.id` (no index for the ORDER BY) lets the
            // planner pick the filter's index and sort the few rows; left to
            // itself it may walk the primary key in id order to skip the
            // sort and test every row. With many matches that walk is the
            // cheap way to the first page. Without a filter the primary
            // key is both the filter's index and the order: sorting would
            // read every row of the kind for one page.
            let order = if total <= SORT_MATCHES && q.filter.is_some() {
                "+r.id"
            } else {
                "r.id"
            };
            format!(
                "SELECT {RESOURCE_COLUMNS} FROM resources r WHERE {base} AND {filter}{after} ORDER BY {order} {}",
                limit_offset(
                    &page_params.bind(to_i64(count as u64)),
                    &page_params.bind(to_i64(offset))
                )
            )
        }
        Key::Expr { sql: key, order, spec } => {
            let after = match &q.after {
                Some(pos) => {
                    let pk = position_key(rt, &spec, pos);
                    let id = page_params.bind(pos.id.clone());
                    let cond = match (order, pk) {
                        (SortOrder::Ascending, Some(pk)) => {
                            let pk = page_params.bind(pk);
                            format!("(sk > {pk} OR (sk = {pk} AND id > {id}) OR sk IS NULL)")
                        }
                        (SortOrder::Ascending, None) => format!("(sk IS NULL AND id > {id})"),
                        (SortOrder::Descending, Some(pk)) => {
                            let pk = page_params.bind(pk);
                            format!("(sk < {pk} OR (sk = {pk} AND id > {id}))")
                        }
                        (SortOrder::Descending, None) => format!("(sk IS NOT NULL OR id > {id})"),
                    };
                    format!(" WHERE {cond}")
                }
                None => String::new(),
            };
            let order_by = match order {
                SortOrder::Ascending => "sk IS NULL, sk, id",
                SortOrder::Descending => "sk IS NULL DESC, sk DESC, id",
            };
            format!(
                "SELECT id, version, created, modified, doc, verdict FROM (
                     SELECT r.id AS id, r.version AS version, r.created AS created, r.modified AS modified,
                            r.doc AS doc, r.verdict AS verdict, {key} AS sk
                     FROM resources r WHERE {base} AND {filter}
                 ){after} ORDER BY {order_by} {}",
                limit_offset(
                    &page_params.bind(to_i64(count as u64)),
                    &page_params.bind(to_i64(offset))
                )
            )
        }
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    // One vector of the page's size, not one grown row by row and another
    // for the items. A page holds at most `count` of the `total` matches.
    let mut items = Vec::with_capacity(count.min(usize::try_from(total).unwrap_or(usize::MAX)));
    let mut rows = stmt.query(params_from_iter(page_params.values()))?;
    while let Some(row) = rows.next()? {
        items.push(T::from_raw(RawResource::from_row(row)?, s.kind)?);
    }
    Ok(Page { total, items })
}

/// A page the evaluator answered, as items of the page's type.
fn items_of<T: Item>(page: Page) -> Page<T> {
    Page {
        total: page.total,
        items: page.items.into_iter().map(T::from_stored).collect(),
    }
}

/// `(n, gen)` of the counts table for a tenant and kind (`(0, 0)` before
/// the first resource of the kind).
fn resource_count(conn: &Connection, tenant: &str, kind: Kind) -> Result<(u64, i64)> {
    let row: Option<(i64, i64)> = conn
        .prepare_cached("SELECT n, gen FROM resource_counts WHERE tenant = ?1 AND kind = ?2")?
        .query_row(params![tenant, kind.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (n, generation) = row.unwrap_or((0, 0));
    Ok((u64::try_from(n).unwrap_or(0), generation))
}

/// The evaluator over the rows `prefilter` selects (all rows of the kind
/// without one), refusing past `max_scan` rows.
fn in_rust(conn: &Connection, s: &Scope<'_>, prefilter: Option<&str>, params: &Params) -> Result<Page> {
    let (rt, kind, q, base, limits, count) = (s.rt, s.kind, s.q, &s.base, s.limits, s.count);
    let filter_sql = prefilter.map(|p| format!(" AND {p}")).unwrap_or_default();
    let candidates: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM resources r WHERE {base}{filter_sql}"))?
        .query_row(params_from_iter(params.values()), |r| r.get(0))?;
    let candidates = u64::try_from(candidates).unwrap_or(0);
    if candidates > limits.max_scan {
        return Err(StoreError::TooMany(too_many_message(q.filter.as_ref(), candidates, limits.max_scan)).into());
    }
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RESOURCE_COLUMNS} FROM resources r WHERE {base}{filter_sql}"
    ))?;
    let raw: Vec<RawResource> = stmt
        .query_map(params_from_iter(params.values()), RawResource::from_row)?
        .collect::<Result<_, _>>()?;
    let mut hits: Vec<(Stored, Value)> = Vec::new();
    for r in raw {
        let mut stored = r.into_stored(kind)?;
        // Filters and sorts see a group with its members.
        if kind == Kind::Group {
            stored.members = Some(all_members(conn, s.tenant, &stored.id)?);
        }
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
    let items: Vec<Stored> = match &q.after {
        Some(pos) => {
            let anchor = q.sort.as_ref().map(|s| position_doc(rt, s, pos));
            hits.into_iter()
                .filter(|(s, doc)| match (&q.sort, &anchor) {
                    (Some(spec), Some(anchor)) => spec.compare(rt, doc, anchor) == Ordering::Greater,
                    _ => s.id > pos.id,
                })
                .take(count)
                .map(|(s, _)| s)
                .collect()
        }
        None => {
            let skip = usize::try_from(q.start_index.max(1) - 1).unwrap_or(usize::MAX);
            hits.into_iter().skip(skip).take(count).map(|(s, _)| s).collect()
        }
    };
    Ok(Page { total, items })
}

fn too_many_message(filter: Option<&Filter>, candidates: u64, max_scan: u64) -> String {
    let text = filter.map_or_else(String::new, |f| format!("the filter `{f}` "));
    format!(
        "{text}cannot be answered from indexes and would scan {candidates} resources (the limit is {max_scan}); \
         add a condition such as `userName eq`, `externalId eq`, `displayName eq`, `id eq` or `emails.value eq`"
    )
}

/// A document that sorts exactly where `pos` is: its key placed where
/// `spec.by` reads it, and its id (as the reference store builds it).
pub(crate) fn position_doc(rt: &ResourceType, spec: &SortSpec, pos: &Position) -> Value {
    let mut doc = Map::new();
    if let Some(a) = rt.resolve_attr(&spec.by) {
        // A complex attribute named without a sub-attribute sorts by `value`.
        let leaf = match (a.sub, a.attr.is_complex()) {
            (Some(sub), _) => Some(sub.name.clone()),
            (None, true) => a.attr.value_sub_attribute().map(|v| v.name.clone()),
            (None, false) => None,
        };
        let value = match leaf {
            Some(leaf) => Value::Object(Map::from_iter([(leaf, pos.key.clone())])),
            None => pos.key.clone(),
        };
        match a.container {
            Container::Top => {
                doc.insert(a.attr.name.clone(), value);
            }
            Container::Extension(urn) => {
                doc.insert(
                    urn.to_string(),
                    Value::Object(Map::from_iter([(a.attr.name.clone(), value)])),
                );
            }
        }
    }
    // Last, so a sort by `id` itself keeps the position's id.
    doc.insert("id".into(), Value::String(pos.id.clone()));
    Value::Object(doc)
}

/// The encoded sort key of a position, as `scim_sort_key` encodes rows.
fn position_key(rt: &ResourceType, spec: &SortSpec, pos: &Position) -> Option<Vec<u8>> {
    sort_key(rt, &spec.by, &position_doc(rt, spec, pos)).map(|k| encode_sort_key(&k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStore;
    use crate::config::SqliteConfig;
    use crate::db::{self, Location};
    use scim_core::filter::{FilterLimits, parse};
    use scim_core::schema::{Registry, USER_URN};
    use scim_store::{Ctx, NewResource, Store};
    use std::sync::Arc;

    /// A page of the index read on an async thread (`Work::Returned`)
    /// starts near the first user or at a current rank checkpoint, or
    /// stops; what it reads is what `Work::Any` reads. Anything else stops.
    #[tokio::test]
    async fn an_index_page_read_with_returned_work_is_the_same_page_or_stops() {
        let dir = std::env::temp_dir().join(format!("scim-sqlite-work-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let (config, registry) = (SqliteConfig::new(dir.join("scim.db")), Arc::new(Registry::builtin()));
        let store = SqliteStore::open(config.clone(), registry.clone()).unwrap();
        let ctx = Ctx::new(store.create_tenant("t").await.unwrap().id, None, "r");
        let docs = (0..600)
            .map(|i| NewResource {
                doc: serde_json::json!({"schemas": [USER_URN], "userName": format!("u{i}")}),
                members: Vec::new(),
            })
            .collect();
        store.create_many(&ctx, Kind::User, docs).await.unwrap();
        let conn = db::open_reader(&Location::new(&config), &config, &registry, None).unwrap();
        let ranks = Ranks::default();
        let page = |q: &Query, work: Work| {
            let limits = Limits {
                max_results: 1000,
                max_scan: 10_000,
                work,
            };
            run::<Stored>(&conn, registry.user(), &ctx.tenant, Kind::User, q, limits, &ranks)
                .map(|p| (p.total, p.items.into_iter().map(|s| s.id).collect::<Vec<_>>()))
        };
        let at = |start: u64| {
            let mut q = Query::all(100);
            q.start_index = start;
            q
        };
        // Near the start: at most STEP rows stepped over, no checkpoints.
        let first = page(&at(STEP), Work::Returned).unwrap();
        assert_eq!(first, page(&at(STEP), Work::Any).unwrap());
        assert_eq!((first.0, first.1.len()), (600, 100));
        // Deeper, before any checkpoint: it stops rather than scan.
        assert!(matches!(page(&at(301), Work::Returned), Err(Error::WouldScan)));
        // `Work::Any` builds the checkpoints; then the same page is read.
        let deep = page(&at(301), Work::Any).unwrap();
        assert_eq!(deep, page(&at(301), Work::Returned).unwrap());
        assert_eq!((deep.0, deep.1.len()), (600, 100));
        assert_ne!(deep.1, first.1);
        // Past the end: no page, whatever the work.
        for start in [601, 10_000] {
            assert_eq!(page(&at(start), Work::Returned).unwrap(), (600, Vec::new()));
        }
        // A filter or a sort may step over rows it does not return.
        let mut filtered = at(1);
        filtered.filter = Some(parse("userName sw \"u1\"", &FilterLimits::default()).unwrap());
        assert!(matches!(page(&filtered, Work::Returned), Err(Error::WouldScan)));
        assert_eq!(page(&filtered, Work::Any).unwrap().0, 111);
        drop(conn);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_cached_page_statement_is_not_prepared_again_for_new_limits() {
        let config = SqliteConfig::new(":memory:");
        let conn = db::open_writer(&Location::new(&config), &config, &Arc::new(Registry::builtin())).unwrap();
        let sql = format!("SELECT id FROM resources ORDER BY id {}", limit_offset("?1", "?2"));
        for (limit, offset) in [(10, 0), (100, 5), (1, 1000)] {
            let mut stmt = conn.prepare_cached(&sql).unwrap();
            let _: Vec<String> = stmt
                .query_map(params![limit, offset], |r| r.get(0))
                .unwrap()
                .collect::<std::result::Result<_, _>>()
                .unwrap();
            assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
        }
    }
}
