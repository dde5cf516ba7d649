//! `scim-store-memory`: the reference backend, the store contract in its
//! simplest executable form.
//!
//! Everything lives in one `std::sync::Mutex<State>`; every method takes the
//! lock once, does all its checks, then all its writes, and releases it
//! before returning (it is never held across an `.await`), so each method is
//! atomic and a failed one changes nothing. Filters are evaluated by
//! `scim_core::filter::matches` over `Stored::to_resource`, sorting is
//! `SortSpec::compare`: the definitions every other backend is tested
//! against. Memberships are kept in two maps (group to members, member to
//! groups), so adding or removing one member is O(log n) whatever the group
//! size.

mod query;
mod state;

use async_trait::async_trait;
use scim_core::members::{Member, MemberDelta};
use scim_core::schema::Registry;
use scim_store::{
    AuditEvent, AuditOp, AuditQuery, Capabilities, Ctx, GroupRef, Kind, Load, MemberCursor, MemberPage, NewResource,
    Page, Precondition, Query, Store, StoreError, Stored, Tenant, TokenRecord, Update, audit_change,
};
use state::{Resource, State, TenantData, now, user_name_key};
use std::sync::{Arc, Mutex, MutexGuard};

/// Largest page `query` returns.
const MAX_RESULTS: u32 = 1000;

/// The in-memory store. Data lives as long as the value.
#[derive(Debug)]
pub struct MemoryStore {
    registry: Arc<Registry>,
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store; `registry` gives filters and sorting their meaning.
    pub fn new(registry: Arc<Registry>) -> MemoryStore {
        MemoryStore {
            registry,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        // Poisoning needs a panic while the lock is held, which no method
        // does; if it ever happens the data may be half-written, so refuse.
        self.state
            .lock()
            .map_err(|_| StoreError::Backend("memory store state is poisoned".into()))
    }
}

fn tenant_mut<'a>(state: &'a mut State, ctx: &Ctx) -> Result<&'a mut TenantData, StoreError> {
    state.tenants.get_mut(&ctx.tenant).ok_or(StoreError::NotFound)
}

fn check_precondition(expect: Precondition, current: u64) -> Result<(), StoreError> {
    match expect {
        Precondition::IfMatch(v) if v != current => Err(StoreError::VersionMismatch { current }),
        _ => Ok(()),
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_results: MAX_RESULTS,
            sort: true,
            cursor: true,
            max_scan: None,
        }
    }

    async fn create(&self, ctx: &Ctx, kind: Kind, doc: NewResource) -> Result<Stored, StoreError> {
        let mut state = self.lock()?;
        let t = tenant_mut(&mut state, ctx)?;
        let id = uuid::Uuid::new_v4().to_string();
        let key = match kind {
            Kind::User => {
                let key = user_name_key(&doc.doc)?;
                if t.user_names.contains_key(&key) {
                    return Err(StoreError::Conflict {
                        attribute: "userName".into(),
                    });
                }
                Some(key)
            }
            Kind::Group => None,
        };
        if kind == Kind::User && !doc.members.is_empty() {
            return Err(StoreError::InvalidValue("users have no members".into()));
        }
        let members = t.resolve_members(&id, &doc.members)?;
        // Every check passed: from here on nothing fails.
        let at = now();
        if let Some(key) = key {
            t.user_names.insert(key, id.clone());
        }
        for (member, member_kind) in &members {
            t.add_member(&id, member, *member_kind);
        }
        let resource = Resource::new(kind, &id, doc.doc, at);
        let mut delta = MemberDelta::default();
        delta.add(members.iter().map(|(m, _)| Member::new(m.clone())));
        let change = audit_change(AuditOp::Create, Some(&resource.doc), &delta).to_value()?;
        t.record(ctx, AuditOp::Create, kind, &id, 1, change);
        let stored = t.stored(kind, &id, &resource, true);
        t.resources_mut(kind).insert(id, resource);
        Ok(stored)
    }

    async fn get(&self, ctx: &Ctx, kind: Kind, id: &str, load: Load) -> Result<Stored, StoreError> {
        let state = self.lock()?;
        let t = state.tenants.get(&ctx.tenant).ok_or(StoreError::NotFound)?;
        let r = t.resources(kind).get(id).ok_or(StoreError::NotFound)?;
        Ok(t.stored(kind, id, r, load.members))
    }

    async fn query(&self, ctx: &Ctx, kind: Kind, query: &Query) -> Result<Page, StoreError> {
        let state = self.lock()?;
        let Some(t) = state.tenants.get(&ctx.tenant) else {
            return Ok(Page {
                total: 0,
                items: Vec::new(),
            });
        };
        let rt = match kind {
            Kind::User => self.registry.user(),
            Kind::Group => self.registry.group(),
        };
        query::run(t, rt, kind, query, MAX_RESULTS)
    }

    async fn update(
        &self,
        ctx: &Ctx,
        kind: Kind,
        id: &str,
        expect: Precondition,
        update: Update,
    ) -> Result<Stored, StoreError> {
        let mut state = self.lock()?;
        let t = tenant_mut(&mut state, ctx)?;
        let current = t.resources(kind).get(id).ok_or(StoreError::NotFound)?;
        check_precondition(expect, current.version)?;
        let new_key = match (&update.doc, kind) {
            (Some(doc), Kind::User) => {
                let key = user_name_key(doc)?;
                if t.user_names.get(&key).is_some_and(|owner| owner != id) {
                    return Err(StoreError::Conflict {
                        attribute: "userName".into(),
                    });
                }
                Some((user_name_key(&current.doc)?, key))
            }
            _ => None,
        };
        if kind == Kind::User && !update.members.is_empty() {
            return Err(StoreError::InvalidValue("users have no members".into()));
        }
        let added = t.resolve_members(id, update.members.add.values())?;
        // Every check passed: from here on nothing fails.
        if let Some((old, new)) = new_key {
            t.user_names.remove(&old);
            t.user_names.insert(new, id.to_string());
        }
        if update.members.replace_all {
            let current: Vec<String> = t
                .members
                .get(id)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            for m in current {
                t.remove_member(id, &m);
            }
        }
        for m in &update.members.remove {
            t.remove_member(id, m);
        }
        for (m, member_kind) in &added {
            t.add_member(id, m, *member_kind);
        }
        let at = now();
        let change = audit_change(AuditOp::Update, update.doc.as_ref(), &update.members).to_value()?;
        let resource = t.resources_mut(kind).get_mut(id).ok_or(StoreError::NotFound)?;
        resource.bump(kind, id, update.doc, at);
        let resource = resource.clone();
        t.record(ctx, AuditOp::Update, kind, id, resource.version, change);
        Ok(t.stored(kind, id, &resource, false))
    }

    async fn delete(&self, ctx: &Ctx, kind: Kind, id: &str, expect: Precondition) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let t = tenant_mut(&mut state, ctx)?;
        let current = t.resources(kind).get(id).ok_or(StoreError::NotFound)?;
        check_precondition(expect, current.version)?;
        let key = match kind {
            Kind::User => Some(user_name_key(&current.doc)?),
            Kind::Group => None,
        };
        if let Some(key) = key {
            t.user_names.remove(&key);
        }
        t.resources_mut(kind).remove(id);
        t.remove_memberships(id);
        let change = audit_change(AuditOp::Delete, None, &MemberDelta::default()).to_value()?;
        t.record(ctx, AuditOp::Delete, kind, id, 0, change);
        Ok(())
    }

    async fn members(&self, ctx: &Ctx, group: &str, page: MemberCursor) -> Result<MemberPage, StoreError> {
        let state = self.lock()?;
        let t = state.tenants.get(&ctx.tenant).ok_or(StoreError::NotFound)?;
        if !t.groups.contains_key(group) {
            return Err(StoreError::NotFound);
        }
        let Some(all) = t.members.get(group) else {
            return Ok(MemberPage {
                members: Vec::new(),
                next: None,
            });
        };
        let start = match &page.after {
            Some(after) => std::ops::Bound::Excluded(after.clone()),
            None => std::ops::Bound::Unbounded,
        };
        // A zero limit would hand out `next` without progress; one is the
        // smallest page that always moves forward.
        let limit = page.limit.max(1) as usize;
        let mut iter = all.range((start, std::ops::Bound::Unbounded));
        let members: Vec<Member> = iter
            .by_ref()
            .take(limit)
            .map(|(id, kind)| Member {
                value: id.clone(),
                kind: Some(*kind),
            })
            .collect();
        let next = if iter.next().is_some() {
            members.last().map(|m| m.value.clone())
        } else {
            None
        };
        Ok(MemberPage { members, next })
    }

    async fn groups_of(&self, ctx: &Ctx, member: &str) -> Result<Vec<GroupRef>, StoreError> {
        let state = self.lock()?;
        Ok(state
            .tenants
            .get(&ctx.tenant)
            .map(|t| t.groups_of(member))
            .unwrap_or_default())
    }

    async fn create_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        let mut state = self.lock()?;
        if state.tenant_names.contains_key(name) {
            return Err(StoreError::Conflict {
                attribute: "name".into(),
            });
        }
        let tenant = Tenant {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_string(),
            created: now(),
        };
        state.tenant_names.insert(name.to_string(), tenant.id.clone());
        state.tenants.insert(tenant.id.clone(), TenantData::new(tenant.clone()));
        Ok(tenant)
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let state = self.lock()?;
        // `tenant_names` is ordered by name.
        Ok(state
            .tenant_names
            .values()
            .filter_map(|id| state.tenants.get(id))
            .map(|t| t.tenant.clone())
            .collect())
    }

    async fn tenant_by_name(&self, name: &str) -> Result<Tenant, StoreError> {
        let state = self.lock()?;
        state
            .tenant_names
            .get(name)
            .and_then(|id| state.tenants.get(id))
            .map(|t| t.tenant.clone())
            .ok_or(StoreError::NotFound)
    }

    async fn delete_tenant(&self, id: &str) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let data = state.tenants.remove(id).ok_or(StoreError::NotFound)?;
        state.tenant_names.remove(&data.tenant.name);
        state.tokens.retain(|_, (_, t)| t.tenant != id);
        Ok(())
    }

    async fn create_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        if !state.tenants.contains_key(&token.tenant) {
            return Err(StoreError::NotFound);
        }
        if state.tokens.contains_key(&token.id) {
            return Err(StoreError::Conflict { attribute: "id".into() });
        }
        let n = state.next_token;
        state.next_token += 1;
        state.tokens.insert(token.id.clone(), (n, token));
        Ok(())
    }

    async fn token(&self, id: &str) -> Result<TokenRecord, StoreError> {
        let state = self.lock()?;
        state.tokens.get(id).map(|(_, t)| t.clone()).ok_or(StoreError::NotFound)
    }

    async fn tokens(&self, tenant: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        let state = self.lock()?;
        let mut list: Vec<&(u64, TokenRecord)> = state
            .tokens
            .values()
            .filter(|(_, t)| tenant.is_none_or(|id| t.tenant == id))
            .collect();
        list.sort_by(|(n1, t1), (n2, t2)| t1.created.cmp(&t2.created).then(n1.cmp(n2)));
        Ok(list.into_iter().map(|(_, t)| t.clone()).collect())
    }

    async fn revoke_token(&self, id: &str) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let (_, token) = state.tokens.get_mut(id).ok_or(StoreError::NotFound)?;
        // Idempotent: the first revocation time stays.
        token.revoked.get_or_insert_with(now);
        Ok(())
    }

    async fn touch_token(&self, id: &str, at: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let (_, token) = state.tokens.get_mut(id).ok_or(StoreError::NotFound)?;
        token.last_used = Some(at);
        Ok(())
    }

    async fn audit(&self, tenant: &str, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        let state = self.lock()?;
        let Some(t) = state.tenants.get(tenant) else {
            return Ok(Vec::new());
        };
        Ok(t.audit
            .iter()
            .filter(|e| query.after_seq.is_none_or(|s| e.seq > s))
            .filter(|e| query.since.is_none_or(|s| e.time >= s))
            .filter(|e| query.resource_id.as_ref().is_none_or(|r| &e.resource_id == r))
            .take(query.limit as usize)
            .cloned()
            .collect())
    }
}
