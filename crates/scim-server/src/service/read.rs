//! Reads: one resource, and rendering a stored resource for the wire
//! (lists and searches are in `paging.rs`).

use super::error::about;
use super::{Output, Service, ServiceError, View};
use scim_core::members::Member;
use scim_store::{Ctx, Kind, Load, MemberCursor, Stored};
use serde_json::{Map, Value, json};

/// Members read per `Store::members` call.
const MEMBER_PAGE: u32 = 1000;

impl Service {
    /// GET one resource.
    pub async fn get(&self, ctx: &Ctx, kind: Kind, id: &str, view: &View) -> Result<Output, ServiceError> {
        let load = self.load_for(kind, view);
        let stored = self.store.get(ctx, kind, id, load).await.map_err(about(kind, id))?;
        self.render(ctx, stored, view).await
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
