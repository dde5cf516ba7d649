//! Resources: create, get, update, delete, members, groups_of. Every
//! mutation is one script call; Rust prepares what the script cannot (the
//! folded unique key, the index entries, the audit change) and reads the
//! outcome.

use crate::RedisStore;
use crate::error::{Error, Result};
use crate::index;
use crate::keys::{self, Tenant};
use crate::reply::{self, Items};
use crate::scripts;
use redis::Value;
use scim_core::members::{Member, MemberDelta};
use scim_store::{
    AuditChange, AuditOp, Ctx, GroupRef, Kind, Load, MemberCursor, MemberPage, NewResource, Precondition, StoreError,
    Stored, Update, audit_change,
};
use std::collections::BTreeMap;

impl RedisStore {
    /// The tenant's keys, or `NotFound` for an id no tenant can have.
    pub(crate) fn tenant_keys(&self, tenant: &str) -> Result<Tenant> {
        self.keys.tenant(tenant).ok_or(Error::Store(StoreError::NotFound))
    }

    pub(crate) async fn create_resource(&self, ctx: &Ctx, kind: Kind, new: NewResource) -> Result<Stored> {
        let t = self.tenant_keys(&ctx.tenant)?;
        let un = match kind {
            Kind::User => index::user_name_key(&new.doc)?,
            Kind::Group => String::new(),
        };
        // Each member once, in id order: the order members are listed in.
        let members: BTreeMap<String, Member> = new.members.into_iter().map(|m| (m.value.clone(), m)).collect();
        let mut delta = MemberDelta::default();
        delta.add(members.values().cloned());
        let event = event(ctx, audit_change(AuditOp::Create, Some(&new.doc), &delta))?;
        let id = uuid::Uuid::new_v4().to_string();
        let doc = serde_json::to_string(&new.doc)?;
        let ix = serde_json::to_string(&index::terms(kind, &new.doc))?;
        let mut args = vec![
            t.base.as_str(),
            keys::kind_segment(kind),
            id.as_str(),
            doc.as_str(),
            un.as_str(),
            ix.as_str(),
            event.as_str(),
        ];
        args.extend(members.keys().map(String::as_str));
        let reply: Value = self.redis.script(&scripts::CREATE, &[&t.marker], &args).await?;
        let mut items = reply::outcome(reply)?;
        let at = reply::millis(items.int()?)?;
        let mut listed = Vec::with_capacity(members.len());
        for value in members.into_keys() {
            let kind = reply::member_kind(&items.string()?)?;
            listed.push(Member {
                value,
                kind: Some(kind),
            });
        }
        Ok(Stored {
            kind,
            id,
            version: 1,
            created: at,
            modified: at,
            doc: new.doc,
            members: (kind == Kind::Group).then_some(listed),
        })
    }

    pub(crate) async fn get_resource(&self, ctx: &Ctx, kind: Kind, id: &str, load: Load) -> Result<Stored> {
        let t = self.tenant_keys(&ctx.tenant)?;
        let mut found = self.fetch(&t, kind, &[id], load.members).await?;
        found.pop().flatten().ok_or(Error::Store(StoreError::NotFound))
    }

    /// Reads resources by id in one atomic script call: one entry per id,
    /// `None` for ids that do not exist (or all, for a tenant that does not).
    pub(crate) async fn fetch(
        &self,
        t: &Tenant,
        kind: Kind,
        ids: &[&str],
        with_members: bool,
    ) -> Result<Vec<Option<Stored>>> {
        let mut args = vec![
            t.base.as_str(),
            keys::kind_segment(kind),
            if with_members { "1" } else { "0" },
        ];
        args.extend_from_slice(ids);
        let reply: Value = self.redis.script(&scripts::FETCH, &[&t.marker], &args).await?;
        reply::entries(kind, reply, with_members)
    }

    pub(crate) async fn update_resource(
        &self,
        ctx: &Ctx,
        kind: Kind,
        id: &str,
        expect: Precondition,
        update: Update,
    ) -> Result<Stored> {
        let t = self.tenant_keys(&ctx.tenant)?;
        let event = event(ctx, audit_change(AuditOp::Update, update.doc.as_ref(), &update.members))?;
        let (has_doc, doc, un, ix) = match &update.doc {
            Some(doc) => {
                let un = match kind {
                    Kind::User => index::user_name_key(doc)?,
                    Kind::Group => String::new(),
                };
                (
                    "1",
                    serde_json::to_string(doc)?,
                    un,
                    serde_json::to_string(&index::terms(kind, doc))?,
                )
            }
            None => ("0", String::new(), String::new(), "[]".to_string()),
        };
        let expected = expected(expect);
        let delta = &update.members;
        let n_remove = delta.remove.len().to_string();
        let mut args = vec![
            t.base.as_str(),
            keys::kind_segment(kind),
            id,
            expected.as_str(),
            has_doc,
            doc.as_str(),
            un.as_str(),
            ix.as_str(),
            if delta.replace_all { "1" } else { "0" },
            event.as_str(),
            n_remove.as_str(),
        ];
        args.extend(delta.remove.iter().map(String::as_str));
        args.extend(delta.add.keys().map(String::as_str));
        let reply: Value = self.redis.script(&scripts::UPDATE, &[&t.marker], &args).await?;
        let mut items = reply::outcome(reply)?;
        let version = u64::try_from(items.int()?).map_err(|_| Error::Corrupt("a negative version".into()))?;
        let created = reply::millis(items.int()?)?;
        let modified = reply::millis(items.int()?)?;
        let doc = match update.doc {
            Some(doc) => doc,
            None => serde_json::from_str(&items.string()?)?,
        };
        Ok(Stored {
            kind,
            id: id.to_string(),
            version,
            created,
            modified,
            doc,
            members: None,
        })
    }

    pub(crate) async fn delete_resource(&self, ctx: &Ctx, kind: Kind, id: &str, expect: Precondition) -> Result<()> {
        let t = self.tenant_keys(&ctx.tenant)?;
        let event = event(ctx, audit_change(AuditOp::Delete, None, &MemberDelta::default()))?;
        let expected = expected(expect);
        let args = [
            t.base.as_str(),
            keys::kind_segment(kind),
            id,
            expected.as_str(),
            event.as_str(),
        ];
        let reply: Value = self.redis.script(&scripts::DELETE, &[&t.marker], &args).await?;
        reply::outcome(reply).map(drop)
    }

    pub(crate) async fn member_page(&self, ctx: &Ctx, group: &str, page: MemberCursor) -> Result<MemberPage> {
        let t = self.tenant_keys(&ctx.tenant)?;
        // A zero limit would hand out `next` without progress; one is the
        // smallest page that always moves forward.
        let limit = page.limit.max(1).to_string();
        let after = page.after.unwrap_or_default();
        let args = [t.base.as_str(), group, after.as_str(), limit.as_str()];
        let reply: Value = self.redis.script(&scripts::MEMBERS, &[&t.marker], &args).await?;
        let mut items = reply::outcome(reply)?;
        let more = items.int()? == 1;
        let members = reply::members(Value::Array(items.collect()))?;
        let next = if more {
            members.last().map(|m| m.value.clone())
        } else {
            None
        };
        Ok(MemberPage { members, next })
    }

    pub(crate) async fn groups_of_member(&self, ctx: &Ctx, member: &str) -> Result<Vec<GroupRef>> {
        let Some(t) = self.keys.tenant(&ctx.tenant) else {
            return Ok(Vec::new());
        };
        let args = [t.base.as_str(), member];
        let reply: Value = self.redis.script(&scripts::GROUPS_OF, &[&t.marker], &args).await?;
        let mut items = Items::new(reply)?;
        let mut out = Vec::new();
        while !items.is_empty() {
            let id = items.string()?;
            let direct = items.int()? == 1;
            let doc = items.string()?;
            let display = if doc.is_empty() {
                None
            } else {
                let doc: serde_json::Value = serde_json::from_str(&doc)?;
                doc.get("displayName")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_string)
            };
            out.push(GroupRef { id, display, direct });
        }
        out.sort();
        Ok(out)
    }
}

/// The expected version argument of a compare-and-swap ('' = any).
fn expected(expect: Precondition) -> String {
    match expect {
        Precondition::Any => String::new(),
        Precondition::IfMatch(v) => v.to_string(),
    }
}

/// The audit details a script stores with the event it appends: who, which
/// request, what changed. The script adds time, op, kind, id and version.
fn event(ctx: &Ctx, change: AuditChange<'_>) -> Result<String> {
    #[derive(serde::Serialize)]
    struct Details<'a> {
        actor: &'a Option<String>,
        request_id: &'a str,
        change: AuditChange<'a>,
    }
    Ok(serde_json::to_string(&Details {
        actor: &ctx.actor,
        request_id: &ctx.request_id,
        change,
    })?)
}
