//! Reads: one resource, and rendering a stored resource for the wire
//! (lists and searches are in `paging.rs`).

use super::error::about;
use super::text::{self, Location};
use super::{Output, Rendered, Service, ServiceError, View};
use scim_core::members::Member;
use scim_store::{Ctx, GroupRef, Kind, Load, MemberCursor, Stored, StoredText};
use serde_json::{Map, Value, json};

/// Members read per `Store::members` call.
const MEMBER_PAGE: u32 = 1000;

impl Service {
    /// GET one resource. A user under the default projection (what
    /// identity providers read) is rendered from its stored text, as list
    /// pages render it (`text.rs`); anything else through `Value`.
    pub async fn get(&self, ctx: &Ctx, kind: Kind, id: &str, view: &View) -> Result<Rendered, ServiceError> {
        if kind == Kind::User && view.projection.is_default() {
            let item = self.store.get_text(ctx, kind, id).await.map_err(about(kind, id))?;
            let groups = self.store.groups_of(ctx, id).await?;
            let at = Location::new(&view.base, self.rt(kind));
            if let Some(json) = text::user_json(&self.users_unchanged, &item, &groups, &at) {
                return Ok(Rendered {
                    json,
                    version: item.version,
                });
            }
            return self.render_declined(ctx, item, view, groups).await?.into_rendered();
        }
        let load = self.load_for(kind, view);
        let stored = self.store.get(ctx, kind, id, load).await.map_err(about(kind, id))?;
        self.render(ctx, stored, view).await?.into_rendered()
    }

    /// A user the text path declined (`text::user_json`,
    /// `ListPage::push_user`), rendered through `Value` with its `groups`.
    pub(super) async fn render_declined(
        &self,
        ctx: &Ctx,
        item: StoredText,
        view: &View,
        groups: Vec<GroupRef>,
    ) -> Result<Output, ServiceError> {
        let id = item.id.clone();
        let stored = item
            .into_stored()
            .map_err(|e| ServiceError::Internal(format!("the stored document of user {id} is not JSON: {e}")))?;
        self.render_with_groups(ctx, stored, view, Some(groups)).await
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
        self.render_with_groups(ctx, stored, view, None).await
    }

    /// `render`, with a user's groups when the caller already knows them
    /// (`None`: read them from the store).
    pub(super) async fn render_with_groups(
        &self,
        ctx: &Ctx,
        stored: Stored,
        view: &View,
        known_groups: Option<Vec<GroupRef>>,
    ) -> Result<Output, ServiceError> {
        let (kind, id, version) = (stored.kind, stored.id.clone(), stored.version);
        let rt = self.rt(kind);
        let location = format!("{}{}/{}", view.base, rt.endpoint, id);
        let mut doc = into_resource(stored);
        let Some(obj) = doc.as_object_mut() else {
            return Err(ServiceError::Internal("a stored resource is not a JSON object".into()));
        };
        obj.remove("password");
        if let Some(meta) = obj.get_mut("meta").and_then(Value::as_object_mut) {
            meta.insert("location".into(), Value::String(location.clone()));
        }
        match kind {
            Kind::User if view.projection.includes(rt, "groups") => {
                let groups = match known_groups {
                    Some(groups) => groups,
                    None => self.store.groups_of(ctx, &id).await?,
                };
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
            doc: view.projection.apply_owned(rt, doc),
            version,
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

/// `Stored::to_resource`, moving the document instead of copying it (the
/// stored resource is not needed after rendering): the same members in the
/// same order, which `tests.rs` checks against `to_resource`.
pub(super) fn into_resource(stored: Stored) -> Value {
    let Stored {
        kind,
        id,
        version,
        created,
        modified,
        doc,
        members,
    } = stored;
    // The document's own map, with `id` put after `schemas` (both first),
    // rather than a new map that hashes every key again.
    let mut out = match doc {
        Value::Object(fields) => fields,
        _ => Map::new(),
    };
    // Stored documents begin with `schemas`; only others move it.
    let id_at = if out.keys().next().is_some_and(|k| k == "schemas") {
        1
    } else {
        match out.shift_remove("schemas") {
            Some(schemas) => {
                out.shift_insert(0, "schemas".into(), schemas);
                1
            }
            None => 0,
        }
    };
    out.shift_insert(id_at, "id".into(), Value::String(id));
    if let Some(members) = members
        && !members.is_empty()
    {
        out.insert(
            "members".into(),
            Value::Array(members.iter().map(scim_store::member_json).collect()),
        );
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": kind.as_str(),
            "created": scim_store::rfc3339(created),
            "lastModified": scim_store::rfc3339(modified),
            "version": scim_core::etag::render(version),
        }),
    );
    Value::Object(out)
}
