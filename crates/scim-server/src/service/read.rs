//! Reads: one resource, a list or search, and rendering a stored resource
//! for the wire.

use super::error::about;
use super::{Output, Service, ServiceError, View};
use scim_core::ScimError;
use scim_core::filter::{self, Filter};
use scim_core::members::Member;
use scim_core::messages::ListResponse;
use scim_core::path::AttrPath;
use scim_core::sort::{SortOrder, SortSpec};
use scim_store::{Ctx, Kind, Load, MemberCursor, Query, Stored};
use serde_json::{Map, Value, json};

/// Members read per `Store::members` call.
const MEMBER_PAGE: u32 = 1000;

/// The query part of a list or search, as the client sent it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListParams {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
}

impl Service {
    /// GET one resource.
    pub async fn get(&self, ctx: &Ctx, kind: Kind, id: &str, view: &View) -> Result<Output, ServiceError> {
        let load = self.load_for(kind, view);
        let stored = self.store.get(ctx, kind, id, load).await.map_err(about(kind, id))?;
        self.render(ctx, stored, view).await
    }

    /// GET a list, or POST .search.
    pub async fn list(
        &self,
        ctx: &Ctx,
        kind: Kind,
        params: &ListParams,
        view: &View,
    ) -> Result<ListResponse, ServiceError> {
        let rt = self.rt(kind);
        let filter = match &params.filter {
            Some(text) => {
                let f = filter::parse(text, &self.settings.filter_limits)?;
                filter::check(&f, &[rt])?;
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
                if is_password(AttrPath::parse(by).as_ref()) {
                    return Err(ScimError::invalid_value("cannot sort by 'password'").into());
                }
                if !self.store.capabilities().sort {
                    return Err(ScimError::new(501, None, "this store cannot sort; leave out sortBy").into());
                }
                Some(SortSpec::new(by, order, &[rt])?)
            }
            None => None,
        };
        // RFC 7644 §3.4.2.4: below 1 means 1; a negative count means 0.
        let start_index = params.start_index.unwrap_or(1).max(1).unsigned_abs();
        let count = params
            .count
            .map(|c| c.max(0).unsigned_abs())
            .unwrap_or(self.settings.default_count)
            .min(self.settings.max_results);
        let query = Query {
            filter,
            sort,
            start_index,
            count,
            after: None,
            load: self.load_for(kind, view),
        };
        let page = self.store.query(ctx, kind, &query).await?;
        let mut resources = Vec::with_capacity(page.items.len());
        for item in page.items {
            resources.push(self.render(ctx, item, view).await?.doc);
        }
        Ok(ListResponse::new(page.total, start_index, resources))
    }

    /// Whether to load a group's members: only when the response shows them.
    pub(super) fn load_for(&self, kind: Kind, view: &View) -> Load {
        Load {
            members: kind == Kind::Group && view.projection.includes(self.rt(kind), "members"),
        }
    }

    /// A stored resource as the client sees it: `meta.location`, a user's
    /// `groups` (derived from memberships), `$ref` on members, the
    /// projection applied, `password` never.
    pub(super) async fn render(&self, ctx: &Ctx, stored: Stored, view: &View) -> Result<Output, ServiceError> {
        let rt = self.rt(stored.kind);
        let location = format!("{}{}/{}", view.base, rt.endpoint, stored.id);
        let mut doc = stored.to_resource();
        let Some(obj) = doc.as_object_mut() else {
            return Err(ServiceError::Internal("a stored resource is not a JSON object".into()));
        };
        obj.remove("password");
        if let Some(meta) = obj.get_mut("meta").and_then(Value::as_object_mut) {
            meta.insert("location".into(), Value::String(location.clone()));
        }
        match stored.kind {
            Kind::User if view.projection.includes(rt, "groups") => {
                let groups = self.store.groups_of(ctx, &stored.id).await?;
                if !groups.is_empty() {
                    let list = groups
                        .into_iter()
                        .map(|g| {
                            let mut o = Map::new();
                            o.insert("value".into(), json!(g.id));
                            o.insert("$ref".into(), json!(format!("{}/Groups/{}", view.base, g.id)));
                            if let Some(d) = g.display {
                                o.insert("display".into(), json!(d));
                            }
                            o.insert("type".into(), json!(if g.direct { "direct" } else { "indirect" }));
                            Value::Object(o)
                        })
                        .collect();
                    obj.insert("groups".into(), Value::Array(list));
                }
            }
            Kind::Group => {
                if let Some(Value::Array(members)) = obj.get_mut("members") {
                    for m in members.iter_mut().filter_map(Value::as_object_mut) {
                        let endpoint = match m.get("type").and_then(Value::as_str) {
                            Some("Group") => "Groups",
                            _ => "Users",
                        };
                        if let Some(id) = m.get("value").and_then(Value::as_str) {
                            let r = format!("{}/{endpoint}/{id}", view.base);
                            m.insert("$ref".into(), Value::String(r));
                        }
                    }
                }
            }
            Kind::User => {}
        }
        Ok(Output {
            doc: view.projection.apply(rt, &doc),
            version: stored.version,
            location,
        })
    }

    /// Up to `limit` members of a group, and whether there are more.
    pub(super) async fn members_up_to(
        &self,
        ctx: &Ctx,
        group: &str,
        limit: u64,
    ) -> Result<(Vec<Member>, bool), ServiceError> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let want = limit.saturating_sub(out.len() as u64).saturating_add(1);
            let page = self
                .store
                .members(
                    ctx,
                    group,
                    MemberCursor {
                        after,
                        limit: u32::try_from(want).unwrap_or(MEMBER_PAGE).min(MEMBER_PAGE),
                    },
                )
                .await
                .map_err(about(Kind::Group, group))?;
            out.extend(page.members);
            if out.len() as u64 > limit {
                out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                return Ok((out, true));
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok((out, false)),
            }
        }
    }
}

fn is_password(path: Option<&AttrPath>) -> bool {
    path.is_some_and(|p| p.name.eq_ignore_ascii_case("password"))
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
