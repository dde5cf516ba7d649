//! Queries. Three ways to answer one:
//! - no filter, id order (the default, or `sortBy=id`): the kind's sorted
//!   set pages natively (by rank, or after a cursor id), with the total from
//!   ZCARD, in one script call;
//! - a filter with indexed equality ([`crate::index::plan`]): candidates
//!   from the indexes, read in the same script call as the indexes when
//!   they are few (the usual IdP lookup is one round trip), then checked
//!   with `filter::matches`;
//! - anything else: every resource of the kind, fetched in batches and
//!   checked, up to `max_scan`; past it, `TooMany` saying what to use
//!   instead.
//!
//! Sorting by anything but id happens in memory with `SortSpec::compare`
//! (ties by id), within the same limit.

use crate::RedisStore;
use crate::error::{Error, Result};
use crate::index::{self, Lookup};
use crate::keys::{self, Tenant};
use crate::reply::{self, Items};
use crate::scripts;
use futures_util::StreamExt;
use redis::Value;
use scim_core::filter::{self, Filter};
use scim_core::schema::{Container, ResourceType};
use scim_core::sort::{SortOrder, SortSpec};
use scim_store::{Ctx, Kind, Page, Position, Query, StoreError, Stored};
use serde_json::{Map, Value as Json};
use std::cmp::Ordering;
use std::collections::HashMap;

/// Largest page `query` returns.
pub(crate) const MAX_RESULTS: u32 = 1000;

/// Ids per `fetch.lua` call: big enough to amortise round trips, small
/// enough that no single script holds Redis for long.
const FETCH_BATCH: usize = 250;

/// Fetch batches a query keeps in flight.
const FETCHES_IN_FLIGHT: usize = 3;

/// Beyond any rank a sorted set can reach, and exact in a Lua number.
const RANK_CAP: u64 = 1 << 50;

impl RedisStore {
    pub(crate) async fn run_query(&self, ctx: &Ctx, kind: Kind, q: &Query) -> Result<Page> {
        let Some(t) = self.keys.tenant(&ctx.tenant) else {
            return Ok(Page {
                total: 0,
                items: Vec::new(),
            });
        };
        let rt = self.resource_type(kind);
        let count = q.count.min(u64::from(MAX_RESULTS));
        let id_order = match &q.sort {
            None => Some(SortOrder::Ascending),
            Some(spec) => is_id(rt, spec).then_some(spec.order),
        };
        if let (None, Some(order)) = (&q.filter, id_order) {
            return self.listing_page(&t, kind, q, order, count).await;
        }

        let needs_members = kind == Kind::Group
            && (q.filter.as_ref().is_some_and(|f| index::mentions(f, rt, &["members"]))
                || q.sort.as_ref().is_some_and(|s| index::path_is(&s.by, rt, &["members"])));
        // `Stored::to_resource` adds only id, meta and members to the stored
        // document: a filter that reads none of them is decided on the
        // document as it is, without rendering every candidate.
        let render = q
            .filter
            .as_ref()
            .is_some_and(|f| index::mentions(f, rt, &["id", "meta", "members"]));
        let with_members = needs_members || q.load.members;
        let candidates = match q.filter.as_ref().and_then(|f| index::plan(f, rt, kind)) {
            Some(lookup) => self.candidates(&t, kind, &lookup, q, with_members).await?,
            None => {
                self.fetch_all(&t, kind, self.every_id(&t, kind, q).await?, with_members)
                    .await?
            }
        };
        let mut hits: Vec<Stored> = Vec::new();
        for stored in candidates {
            let keep = match &q.filter {
                None => true,
                Some(f) if render => filter::matches(f, rt, &stored.to_resource()),
                Some(f) => filter::matches(f, rt, &stored.doc),
            };
            if keep {
                hits.push(stored);
            }
        }
        let total = hits.len() as u64;
        let take = usize::try_from(count).unwrap_or(usize::MAX);
        let page: Vec<Stored> = match &q.sort {
            // Ids are unique: id order needs no rendering.
            None => {
                hits.sort_by(|a, b| a.id.cmp(&b.id));
                match &q.after {
                    Some(pos) => hits.into_iter().filter(|s| s.id > pos.id).take(take).collect(),
                    None => hits.into_iter().skip(skip(q)).take(take).collect(),
                }
            }
            Some(spec) => {
                // Likewise a sort by an attribute of the stored document
                // compares stored documents; `SortSpec::compare` then ties
                // on their (absent) ids, and the explicit id tie-break below
                // gives the order it gives rendered resources.
                let render = index::path_is(&spec.by, rt, &["id", "meta", "members"]);
                let mut keyed: Vec<(Stored, Option<Json>)> = hits
                    .into_iter()
                    .map(|s| {
                        let doc = render.then(|| s.to_resource());
                        (s, doc)
                    })
                    .collect();
                keyed.sort_by(|a, b| {
                    spec.compare(rt, sort_doc(a), sort_doc(b))
                        .then_with(|| a.0.id.cmp(&b.0.id))
                });
                let keyed = keyed.into_iter();
                match &q.after {
                    Some(pos) => {
                        let position = position_doc(rt, spec, pos, render);
                        keyed
                            .filter(|hit| {
                                let order = spec.compare(rt, sort_doc(hit), &position);
                                order.then_with(|| hit.0.id.as_str().cmp(&pos.id)) == Ordering::Greater
                            })
                            .take(take)
                            .map(|(s, _)| s)
                            .collect()
                    }
                    None => keyed.skip(skip(q)).take(take).map(|(s, _)| s).collect(),
                }
            }
        };
        let items = page
            .into_iter()
            .map(|mut s| {
                if !q.load.members {
                    s.members = None;
                }
                s
            })
            .collect();
        Ok(Page { total, items })
    }

    /// A page of the kind's listing in id order, in one atomic script call.
    async fn listing_page(&self, t: &Tenant, kind: Kind, q: &Query, order: SortOrder, count: u64) -> Result<Page> {
        let direction = match order {
            SortOrder::Ascending => "asc",
            SortOrder::Descending => "desc",
        };
        // Count 0 still reads the total; an empty rank range reads nothing.
        let (mode, from, to) = match (&q.after, count) {
            (Some(pos), _) => ("after", pos.id.clone(), count.to_string()),
            (None, 0) => ("rank", "1".to_string(), "0".to_string()),
            (None, _) => {
                let first = (q.start_index.max(1) - 1).min(RANK_CAP);
                ("rank", first.to_string(), (first + count - 1).to_string())
            }
        };
        let with_members = q.load.members && kind == Kind::Group;
        let args = [
            t.base.as_str(),
            keys::kind_segment(kind),
            if with_members { "1" } else { "0" },
            direction,
            mode,
            from.as_str(),
            to.as_str(),
        ];
        let reply: Value = self.redis.script(&scripts::PAGE, &[&t.marker], &args).await?;
        let mut items = Items::new(reply)?;
        let total = u64::try_from(items.int()?).map_err(|_| Error::Corrupt("a negative count".into()))?;
        // Every id on the page was read in the same script: none is missing.
        let page = reply::entries(kind, items.value()?, with_members)?
            .into_iter()
            .flatten()
            .collect();
        Ok(Page { total, items: page })
    }

    /// The resources an index lookup names (a superset of the matches);
    /// `TooMany` past `max_scan`. Few of them come in the lookup's own
    /// script call.
    async fn candidates(
        &self,
        t: &Tenant,
        kind: Kind,
        lookup: &Lookup,
        q: &Query,
        with_members: bool,
    ) -> Result<Vec<Stored>> {
        let mut reads = Vec::new();
        lookup.reads(&mut reads);
        let inline = FETCH_BATCH.to_string();
        let mut args = vec![
            t.base.as_str(),
            keys::kind_segment(kind),
            if with_members { "1" } else { "0" },
            inline.as_str(),
        ];
        for (ty, value) in &reads {
            args.push(ty);
            args.push(value);
        }
        let reply: Value = self.redis.script(&scripts::LOOKUP, &[&t.marker], &args).await?;
        let mut items = Items::new(reply)?;
        if items.len() != reads.len() + 1 {
            // The tenant does not exist: nothing matches.
            return Ok(Vec::new());
        }
        let mut results = Vec::with_capacity(reads.len());
        for _ in 0..reads.len() {
            results.push(reply::strings(items.value()?)?);
        }
        let ids: Vec<String> = lookup.resolve(&mut results.into_iter()).into_iter().collect();
        let n = ids.len() as u64;
        if n > self.config.max_scan {
            return Err(too_many(format!(
                "{} would check {n} {} resources that its indexed part selects, more than the limit of {}; \
                 add a more selective equality (eq) on {} with `and`",
                describe(q),
                kind.as_str(),
                self.config.max_scan,
                indexed_attributes(kind)
            )));
        }
        match items.value()? {
            Value::Nil => self.fetch_all(t, kind, ids, with_members).await,
            docs => {
                // Every id any read named, read in the same step as the
                // indexes: keep the candidates (the `and` may have dropped
                // some; an id that does not exist has no entry).
                let mut by_id: HashMap<String, Stored> = reply::entries(kind, docs, with_members)?
                    .into_iter()
                    .flatten()
                    .map(|s| (s.id.clone(), s))
                    .collect();
                Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
            }
        }
    }

    /// Resources by id, in batches of `FETCH_BATCH` (each batch one atomic
    /// script call, a few in flight at once: Redis runs one while the
    /// previous one's JSON is parsed here). Ids deleted since they were read
    /// are left out, as if the query had run a moment later.
    async fn fetch_all(&self, t: &Tenant, kind: Kind, ids: Vec<String>, with_members: bool) -> Result<Vec<Stored>> {
        // Owned chunks: a closure taking borrowed ones fails the compiler's
        // higher-ranked lifetime check inside `async_trait`'s boxed future.
        let chunks: Vec<Vec<String>> = ids.chunks(FETCH_BATCH).map(<[String]>::to_vec).collect();
        let mut batches = futures_util::stream::iter(chunks)
            .map(|chunk| async move {
                let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
                self.fetch(t, kind, &refs, with_members).await
            })
            .buffer_unordered(FETCHES_IN_FLIGHT);
        let mut out = Vec::with_capacity(ids.len());
        while let Some(batch) = batches.next().await {
            out.extend(batch?.into_iter().flatten());
        }
        Ok(out)
    }

    /// Every id of the kind, in id order; `TooMany` past `max_scan`.
    async fn every_id(&self, t: &Tenant, kind: Kind, q: &Query) -> Result<Vec<String>> {
        let limit = self.config.max_scan.to_string();
        let args = [t.base.as_str(), keys::kind_segment(kind), limit.as_str()];
        let reply: Value = self.redis.script(&scripts::SCAN, &[&t.marker], &args).await?;
        let mut items = Items::new(reply)?;
        let n = u64::try_from(items.int()?).map_err(|_| Error::Corrupt("a negative count".into()))?;
        if n > self.config.max_scan {
            let instead = match &q.filter {
                Some(_) => format!(
                    "filter by equality (eq) on {}, alone or joined with `and`",
                    indexed_attributes(kind)
                ),
                None => "sort by id (the default order), or filter by equality first".to_string(),
            };
            return Err(too_many(format!(
                "{} needs a scan of all {n} {} resources, more than the limit of {}; {instead}",
                describe(q),
                kind.as_str(),
                self.config.max_scan
            )));
        }
        let ids = items.string()?;
        Ok(ids
            .split('\n')
            .filter(|id| !id.is_empty())
            .map(str::to_string)
            .collect())
    }
}

/// What a sort compares of a hit: the rendered resource when there is one.
fn sort_doc(hit: &(Stored, Option<Json>)) -> &Json {
    hit.1.as_ref().unwrap_or(&hit.0.doc)
}

/// How many matches `startIndex` skips (1-based; below 1 means 1).
fn skip(q: &Query) -> usize {
    usize::try_from(q.start_index.max(1) - 1).unwrap_or(usize::MAX)
}

fn too_many(message: String) -> Error {
    Error::Store(StoreError::TooMany(message))
}

/// The query as a message names it.
fn describe(q: &Query) -> String {
    match (&q.filter, &q.sort) {
        (Some(f), _) => format!("the filter `{}`", filter_text(f)),
        (None, Some(s)) => format!("sorting by '{}'", s.by),
        (None, None) => "the query".into(),
    }
}

fn filter_text(f: &Filter) -> String {
    const MAX: usize = 200;
    let text = f.to_string();
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

fn indexed_attributes(kind: Kind) -> &'static str {
    match kind {
        Kind::User => "id, userName, externalId, displayName or emails.value",
        Kind::Group => "id, externalId, displayName or members.value",
    }
}

/// `sortBy=id`: the listing's own order.
fn is_id(rt: &ResourceType, spec: &SortSpec) -> bool {
    rt.resolve_attr(&spec.by)
        .is_some_and(|a| a.container == Container::Top && a.sub.is_none() && a.attr.name == "id")
}

/// A document that sorts exactly where `pos` is: its key placed where
/// `spec.by` reads it, and its id when the documents it is compared with are
/// rendered resources (stored documents have none: the caller breaks ties
/// by id itself). Comparing against it with the reference comparator gives
/// keyset paging the very order of the sorted list.
fn position_doc(rt: &ResourceType, spec: &SortSpec, pos: &Position, with_id: bool) -> Json {
    let mut doc = Map::new();
    if let Some(a) = rt.resolve_attr(&spec.by) {
        // A complex attribute named without a sub-attribute sorts by `value`.
        let leaf = match (a.sub, a.attr.is_complex()) {
            (Some(sub), _) => Some(sub.name.clone()),
            (None, true) => a.attr.value_sub_attribute().map(|v| v.name.clone()),
            (None, false) => None,
        };
        let value = match leaf {
            Some(leaf) => {
                let mut o = Map::new();
                o.insert(leaf, pos.key.clone());
                Json::Object(o)
            }
            None => pos.key.clone(),
        };
        match a.container {
            Container::Top => {
                doc.insert(a.attr.name.clone(), value);
            }
            Container::Extension(urn) => {
                let mut o = Map::new();
                o.insert(a.attr.name.clone(), value);
                doc.insert(urn.to_string(), Json::Object(o));
            }
        }
    }
    // Last, so a sort by `id` itself keeps the position's id.
    if with_id {
        doc.insert("id".into(), Json::String(pos.id.clone()));
    }
    Json::Object(doc)
}
