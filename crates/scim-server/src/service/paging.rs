//! Lists and searches: of one kind (`/Users`, `/Groups`) or of all kinds
//! (root search, `GET /` and `POST /.search`, RFC 7644 §3.4.3), paged by
//! index (`startIndex`, RFC 7644 §3.4.2.4) or by cursor (RFC 9865).
//!
//! - Index paging of one kind is one store query (`start_index`).
//! - Everything else merges one sorted stream per kind: each stream reads
//!   its kind in sort order, in chunks, from a keyset position; the merge
//!   takes the smallest head under the same comparator the stores sort by
//!   (`SortSpec::compare_across`, ties by id). A cursor keeps one position
//!   per kind, so a page costs `count` items per kind whatever its depth,
//!   and creates or deletes elsewhere never skip or repeat an item.
//! - `previousCursor` is given for listings in id order (no `sortBy`): the
//!   previous page is read backwards with `id` descending, which is the
//!   exact reverse of id order. Other sorts break ties by id ascending in
//!   both directions, so their reverse is not a sort the stores offer; there
//!   `previousCursor` is omitted, as RFC 9865 allows.

use super::cursor::{Binding, Start};
use super::text::{ListPage, Location};
use super::{Service, ServiceError, View};
use scim_core::ScimError;
use scim_core::filter::{self, Filter};
use scim_core::path::AttrPath;
use scim_core::schema::{Container, ResourceType};
use scim_core::sort::{SortOrder, SortSpec};
use scim_store::{Ctx, GroupRef, Kind, Load, Position, Query, Stored, StoredText};
use serde_json::{Value, json};
use std::cmp::Ordering;
use std::collections::VecDeque;

/// The query part of a list or search, as the client sent it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListParams {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    /// RFC 9865: `Some("")` asks for the first page by cursor.
    pub cursor: Option<String>,
}

/// What a list pages through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    One(Kind),
    /// Every resource type: the root endpoint.
    All,
}

impl Scope {
    pub fn kinds(self) -> &'static [Kind] {
        match self {
            Scope::One(Kind::User) => &[Kind::User],
            Scope::One(Kind::Group) => &[Kind::Group],
            Scope::All => &[Kind::User, Kind::Group],
        }
    }

    /// What a cursor is bound to.
    fn tag(self) -> &'static str {
        match self {
            Scope::One(k) => k.as_str(),
            Scope::All => "root",
        }
    }
}

/// A checked query: what every page of it shares.
struct Checked {
    filter: Option<Filter>,
    sort: Option<SortSpec>,
    count: u64,
}

impl Service {
    /// GET a list, or POST .search, of one kind or of all.
    pub async fn list(
        &self,
        ctx: &Ctx,
        scope: Scope,
        params: &ListParams,
        view: &View,
    ) -> Result<ListPage, ServiceError> {
        let q = self.check(scope, params)?;
        match &params.cursor {
            None => {
                // RFC 7644 §3.4.2.4: below 1 means 1.
                let start_index = params.start_index.unwrap_or(1).max(1).unsigned_abs();
                match scope {
                    Scope::One(kind) => self.index_page(ctx, kind, &q, start_index, view).await,
                    Scope::All => {
                        let starts = scope.kinds().iter().map(|k| (*k, None)).collect();
                        let walk = self
                            .walk(ctx, &q, q.sort.as_ref(), starts, start_index - 1, view)
                            .await?;
                        let page = ListPage::index(walk.total, start_index, walk.items.len())?;
                        self.render_all(ctx, scope, walk.items, view, page).await
                    }
                }
            }
            Some(cursor) => self.cursor_page(ctx, scope, &q, cursor, params, view).await,
        }
    }

    fn check(&self, scope: Scope, params: &ListParams) -> Result<Checked, ServiceError> {
        let rts: Vec<&ResourceType> = scope.kinds().iter().map(|k| self.rt(*k)).collect();
        let filter = match &params.filter {
            Some(text) => {
                let f = filter::parse(text, &self.settings.filter_limits)?;
                filter::check(&f, &rts)?;
                if mentions_password(&f) {
                    return Err(ScimError::invalid_filter("'password' cannot be used in a filter").into());
                }
                Some(f)
            }
            None => None,
        };
        let order = SortOrder::parse(params.sort_order.as_deref())?;
        let sort = match &params.sort_by {
            Some(by) => {
                let path = AttrPath::parse(by);
                if is_password(path.as_ref()) {
                    return Err(ScimError::invalid_value("cannot sort by 'password'").into());
                }
                if path.as_ref().is_some_and(|p| rts.iter().any(|rt| is_derived(rt, p))) {
                    return Err(ScimError::invalid_value(format!(
                        "cannot sort by '{by}': the server derives it when rendering (from memberships or \
                         the base URL), it is not stored with the resource"
                    ))
                    .into());
                }
                if !self.store.capabilities().sort {
                    return Err(ScimError::new(501, None, "this store cannot sort; leave out sortBy").into());
                }
                Some(SortSpec::new(by, order, &rts)?)
            }
            None => None,
        };
        // A negative count means 0 (RFC 7644 §3.4.2.4); above the largest
        // page, the largest page.
        let count = params
            .count
            .map(|c| c.max(0).unsigned_abs())
            .unwrap_or(self.settings.default_count)
            .min(self.settings.max_results);
        Ok(Checked { filter, sort, count })
    }

    /// Index paging of one kind: one store query.
    async fn index_page(
        &self,
        ctx: &Ctx,
        kind: Kind,
        q: &Checked,
        start_index: u64,
        view: &View,
    ) -> Result<ListPage, ServiceError> {
        let query = Query {
            filter: q.filter.clone(),
            sort: q.sort.clone(),
            start_index,
            count: q.count,
            after: None,
            load: self.load_for_list(kind, q.sort.as_ref(), view),
        };
        // Users under the default projection (what identity providers page
        // through) are rendered from the stored text (`text.rs`).
        if kind == Kind::User && view.projection.is_default() {
            let page = self.store.query_text(ctx, kind, &query).await?;
            let out = ListPage::index(page.total, start_index, page.items.len())?;
            return self.render_texts(ctx, page.items, view, out).await;
        }
        let page = self.store.query(ctx, kind, &query).await?;
        let out = ListPage::index(page.total, start_index, page.items.len())?;
        self.render_all(ctx, Scope::One(kind), page.items, view, out).await
    }

    /// Renders a page of users from their stored text, each through
    /// `Value` (`render_with_groups`) where `ListPage::push_user` declines,
    /// into `out`.
    async fn render_texts(
        &self,
        ctx: &Ctx,
        mut items: Vec<StoredText>,
        view: &View,
        mut out: ListPage,
    ) -> Result<ListPage, ServiceError> {
        // The ids lent to the store call and given back, not copied.
        let ids = items.iter_mut().map(|s| std::mem::take(&mut s.id)).collect();
        let (ids, groups) = self.groups_for(ctx, ids).await?;
        for (item, id) in items.iter_mut().zip(ids) {
            item.id = id;
        }
        let at = Location::new(&view.base, self.rt(Kind::User));
        out.reserve_users(&items, &groups, &at);
        for (item, groups) in items.into_iter().zip(groups) {
            if out.push_user(&self.users_unchanged, &item, &groups, &at) {
                continue;
            }
            let rendered = self.render_declined(ctx, item, view, groups).await?;
            out.push_value(&rendered.doc)?;
        }
        Ok(out)
    }

    /// Each of `users`' groups, in one store call for the page; `users`
    /// are handed back.
    async fn groups_for(
        &self,
        ctx: &Ctx,
        users: Vec<String>,
    ) -> Result<(Vec<String>, Vec<Vec<GroupRef>>), ServiceError> {
        let answers = if users.is_empty() {
            Vec::new()
        } else {
            self.store.groups_of_each(ctx, &users).await?
        };
        if answers.len() != users.len() {
            return Err(ServiceError::Internal(format!(
                "the store answered groups_of_each for {} of {} users",
                answers.len(),
                users.len()
            )));
        }
        Ok((users, answers))
    }

    async fn cursor_page(
        &self,
        ctx: &Ctx,
        scope: Scope,
        q: &Checked,
        cursor: &str,
        params: &ListParams,
        view: &View,
    ) -> Result<ListPage, ServiceError> {
        if !self.store.capabilities().cursor {
            return Err(ScimError::invalid_value(
                "this server's store cannot page by cursor (pagination.cursor is false in \
                 /ServiceProviderConfig); use startIndex and count",
            )
            .into());
        }
        if params.start_index.is_some() {
            return Err(ScimError::invalid_value("send either startIndex or cursor, not both").into());
        }
        let filter_text = q.filter.as_ref().map(ToString::to_string).unwrap_or_default();
        let sort_text = q
            .sort
            .as_ref()
            .map(|s| format!("{} {:?}", s.by.to_string().to_lowercase(), s.order))
            .unwrap_or_default();
        let binding = Binding::new(&ctx.tenant, scope.tag(), &filter_text, &sort_text);
        let now = chrono::Utc::now().timestamp();
        let codec = self.cursors();
        let start = if cursor.is_empty() {
            Start::After(scope.kinds().iter().map(|k| (*k, None)).collect())
        } else {
            codec.decode(cursor, &binding, now)?
        };
        let (items, total, next, previous) = match start {
            Start::After(positions) => {
                let starts: Vec<(Kind, Option<Position>)> = scope
                    .kinds()
                    .iter()
                    .map(|k| {
                        (
                            *k,
                            positions.iter().find(|(pk, _)| pk == k).and_then(|(_, p)| p.clone()),
                        )
                    })
                    .collect();
                let resumed = starts.iter().any(|(_, p)| p.is_some());
                let walk = self.walk(ctx, q, q.sort.as_ref(), starts.clone(), 0, view).await?;
                // Each kind resumes after its last item on this page, or
                // where it was when none of its items made the page.
                let ends: Vec<(Kind, Option<Position>)> = starts
                    .into_iter()
                    .map(|(kind, at)| {
                        let last = walk.items.iter().rev().find(|s| s.kind == kind);
                        (
                            kind,
                            last.map(|s| Position::of(self.rt(kind), q.sort.as_ref(), s)).or(at),
                        )
                    })
                    .collect();
                let next = walk.more.then(|| Start::After(ends));
                let previous = match (&q.sort, walk.items.first()) {
                    (None, Some(first)) if resumed => Some(Start::Before(first.id.clone())),
                    _ => None,
                };
                (walk.items, walk.total, next, previous)
            }
            Start::Before(id) => {
                if q.sort.is_some() {
                    return Err(ScimError::bad_request(
                        scim_core::ScimType::InvalidCursor,
                        "invalid cursor: it pages backwards, which only listings without sortBy do",
                    )
                    .into());
                }
                let rts: Vec<&ResourceType> = scope.kinds().iter().map(|k| self.rt(*k)).collect();
                let backwards = SortSpec::new("id", SortOrder::Descending, &rts)?;
                let at = Position {
                    key: Value::String(id.clone()),
                    id,
                };
                let starts = scope.kinds().iter().map(|k| (*k, Some(at.clone()))).collect();
                let mut walk = self.walk(ctx, q, Some(&backwards), starts, 0, view).await?;
                walk.items.reverse();
                // Id order is one order across kinds: every kind resumes
                // after the last id of this page (or from the start when
                // nothing is left before the page it came from).
                let resume = walk.items.last().map(|s| Position {
                    key: Value::Null,
                    id: s.id.clone(),
                });
                let next = Start::After(scope.kinds().iter().map(|k| (*k, resume.clone())).collect());
                let previous = match walk.items.first() {
                    Some(first) if walk.more => Some(Start::Before(first.id.clone())),
                    _ => None,
                };
                (walk.items, walk.total, Some(next), previous)
            }
        };
        let page = ListPage::cursor(
            total,
            next.map(|s| codec.encode(&binding, s, now)),
            previous.map(|s| codec.encode(&binding, s, now)),
            items.len(),
        )?;
        self.render_all(ctx, scope, items, view, page).await
    }

    /// Merges one stream per kind under `order`: skips `skip` items, then
    /// takes `q.count`, and tells whether more follow.
    async fn walk(
        &self,
        ctx: &Ctx,
        q: &Checked,
        order: Option<&SortSpec>,
        starts: Vec<(Kind, Option<Position>)>,
        skip: u64,
        view: &View,
    ) -> Result<Walk, ServiceError> {
        let caps = self.store.capabilities();
        // One more than the page tells whether another page follows.
        let chunk = skip
            .saturating_add(q.count)
            .saturating_add(1)
            .min(self.settings.max_results)
            .min(u64::from(caps.max_results))
            .max(1);
        let mut streams: Vec<Stream<'_>> = starts
            .into_iter()
            .map(|(kind, after)| Stream {
                kind,
                rt: self.rt(kind),
                // Stores without keyset positions page by index instead.
                by_index: !caps.cursor,
                query: Query {
                    filter: q.filter.clone(),
                    sort: order.cloned(),
                    start_index: 1,
                    count: chunk,
                    after,
                    load: self.load_for_list(kind, order, view),
                },
                buf: VecDeque::new(),
                done: false,
                total: 0,
            })
            .collect();
        // Every stream reads once, for its total.
        for s in &mut streams {
            s.fill(self, ctx).await?;
        }
        let total = streams.iter().map(|s| s.total).sum();
        let mut items = Vec::new();
        let mut skipped = 0;
        while skipped < skip {
            if self.pop(ctx, &mut streams, order).await?.is_none() {
                break;
            }
            skipped += 1;
        }
        while (items.len() as u64) < q.count {
            match self.pop(ctx, &mut streams, order).await? {
                Some(item) => items.push(item),
                None => break,
            }
        }
        let more = self.peek(ctx, &mut streams).await?;
        Ok(Walk { items, total, more })
    }

    /// Takes the smallest head of all streams.
    async fn pop(
        &self,
        ctx: &Ctx,
        streams: &mut [Stream<'_>],
        order: Option<&SortSpec>,
    ) -> Result<Option<Stored>, ServiceError> {
        self.peek(ctx, streams).await?;
        let mut best: Option<usize> = None;
        for (i, s) in streams.iter().enumerate() {
            let Some(head) = s.buf.front() else { continue };
            let better = match best.and_then(|b| streams[b].buf.front().map(|h| (b, h))) {
                None => true,
                Some((b, current)) => {
                    let ord = match order {
                        Some(spec) => spec.compare_across((s.rt, &head.1), (streams[b].rt, &current.1)),
                        None => head.0.id.cmp(&current.0.id),
                    };
                    ord == Ordering::Less
                }
            };
            if better {
                best = Some(i);
            }
        }
        Ok(best.and_then(|b| streams[b].buf.pop_front()).map(|(stored, _)| stored))
    }

    /// Refills empty streams; whether any item is left.
    async fn peek(&self, ctx: &Ctx, streams: &mut [Stream<'_>]) -> Result<bool, ServiceError> {
        for s in streams.iter_mut() {
            s.fill(self, ctx).await?;
        }
        Ok(streams.iter().any(|s| !s.buf.is_empty()))
    }

    /// Members come with groups only when the response shows them, or when
    /// the sort reads them.
    fn load_for_list(&self, kind: Kind, sort: Option<&SortSpec>, view: &View) -> Load {
        let sorts_by_members = sort.is_some_and(|s| {
            self.rt(kind)
                .resolve_attr(&s.by)
                .is_some_and(|a| a.container == Container::Top && a.attr.name == "members")
        });
        Load {
            members: self.load_for(kind, view).members || (kind == Kind::Group && sorts_by_members),
        }
    }

    /// Renders a page into `out`. Across kinds, each resource keeps
    /// `meta.resourceType` whatever the projection, so a client can tell
    /// users from groups.
    async fn render_all(
        &self,
        ctx: &Ctx,
        scope: Scope,
        items: Vec<Stored>,
        view: &View,
        mut out: ListPage,
    ) -> Result<ListPage, ServiceError> {
        // Every user's groups in one store call for the page, not one each.
        let users: Vec<String> = if view.projection.includes(self.rt(Kind::User), "groups") {
            items
                .iter()
                .filter(|s| s.kind == Kind::User)
                .map(|s| s.id.clone())
                .collect()
        } else {
            Vec::new()
        };
        let mut groups = self.groups_for(ctx, users).await?.1.into_iter();
        for item in items {
            let kind = item.kind;
            // `groups` answers the users in page order.
            let known = if kind == Kind::User { groups.next() } else { None };
            let mut doc = self.render_with_groups(ctx, item, view, known).await?.doc;
            if scope == Scope::All
                && let Some(obj) = doc.as_object_mut()
            {
                let meta = obj.entry("meta").or_insert_with(|| json!({}));
                if let Some(meta) = meta.as_object_mut() {
                    meta.entry("resourceType").or_insert_with(|| json!(kind.as_str()));
                }
            }
            out.push_value(&doc)?;
        }
        Ok(out)
    }
}

/// What a merge produced.
struct Walk {
    items: Vec<Stored>,
    total: u64,
    more: bool,
}

/// One kind read in order, a chunk at a time.
struct Stream<'a> {
    kind: Kind,
    rt: &'a ResourceType,
    by_index: bool,
    /// The next chunk to read: `after` (or `start_index`) moves on.
    query: Query,
    /// Read, not yet taken: each with the document the merge compares.
    buf: VecDeque<(Stored, Value)>,
    done: bool,
    total: u64,
}

impl Stream<'_> {
    async fn fill(&mut self, service: &Service, ctx: &Ctx) -> Result<(), ServiceError> {
        if !self.buf.is_empty() || self.done {
            return Ok(());
        }
        let page = service.store.query(ctx, self.kind, &self.query).await?;
        self.total = page.total;
        let n = page.items.len() as u64;
        self.done = n < self.query.count;
        if let Some(last) = page.items.last() {
            if self.by_index {
                self.query.start_index += n;
            } else {
                self.query.after = Some(Position::of(self.rt, self.query.sort.as_ref(), last));
            }
        }
        self.buf.extend(page.items.into_iter().map(|s| {
            let doc = s.to_resource();
            (s, doc)
        }));
        Ok(())
    }
}

fn is_password(path: Option<&AttrPath>) -> bool {
    path.is_some_and(|p| p.name.eq_ignore_ascii_case("password"))
}

/// Values the server adds when rendering (`User.groups` from memberships,
/// a member's `$ref` from the base URL): stores never see them, so they
/// cannot order by them.
fn is_derived(rt: &ResourceType, path: &AttrPath) -> bool {
    let Some(a) = rt.resolve_attr(path) else {
        return false;
    };
    if a.container != Container::Top {
        return false;
    }
    match (rt.name.as_str(), a.attr.name.as_str()) {
        ("User", "groups") => true,
        ("Group", "members") => a.sub.is_some_and(|s| s.name == "$ref"),
        _ => false,
    }
}

/// Whether a filter names `password` anywhere: it is writeOnly, so it
/// cannot be compared (and a stored hash must not become an oracle).
fn mentions_password(f: &Filter) -> bool {
    match f {
        Filter::And(a, b) | Filter::Or(a, b) => mentions_password(a) || mentions_password(b),
        Filter::Not(inner) => mentions_password(inner),
        Filter::Present(p) | Filter::Compare(p, _, _) => is_password(Some(p)),
        Filter::ValuePath(p, inner) => is_password(Some(p)) || mentions_password(inner),
    }
}
