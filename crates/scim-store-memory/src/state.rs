//! The data of the memory store and the rules that keep it consistent. Every
//! function here runs under the store's one lock, so each is atomic simply by
//! being called once per store method.

use chrono::{DateTime, SubsecRound, Utc};
use scim_core::members::{Member, MemberKind};
use scim_store::{AuditEvent, AuditOp, Ctx, GroupRef, Kind, StoreError, Stored, Tenant, TokenRecord};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Everything the store holds.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub tenants: BTreeMap<String, TenantData>,
    /// Tenant name to id: names are unique.
    pub tenant_names: BTreeMap<String, String>,
    /// Token id to (insertion number, record): the number orders tokens
    /// created in the same millisecond oldest first.
    pub tokens: BTreeMap<String, (u64, TokenRecord)>,
    pub next_token: u64,
}

/// One resource as kept: `Stored` without the members, which live in the
/// membership maps.
#[derive(Debug, Clone)]
pub(crate) struct Resource {
    pub version: u64,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub doc: Value,
    /// `Stored::to_resource()` without members, kept current by every
    /// mutation: queries evaluate filters on it without rendering each
    /// resource again (a group's members are added at query time, so a
    /// membership change never re-renders the group).
    pub rendered: Value,
}

impl Resource {
    pub fn new(kind: Kind, id: &str, doc: Value, at: DateTime<Utc>) -> Resource {
        let mut r = Resource {
            version: 1,
            created: at,
            modified: at,
            doc,
            rendered: Value::Null,
        };
        r.render(kind, id);
        r
    }

    /// Bumps the version, sets `modified`, replaces the document if given.
    pub fn bump(&mut self, kind: Kind, id: &str, doc: Option<Value>, at: DateTime<Utc>) {
        self.version += 1;
        self.modified = at;
        if let Some(doc) = doc {
            self.doc = doc;
        }
        self.render(kind, id);
    }

    fn render(&mut self, kind: Kind, id: &str) {
        let stored = Stored {
            kind,
            id: id.to_string(),
            version: self.version,
            created: self.created,
            modified: self.modified,
            doc: self.doc.clone(),
            members: None,
        };
        self.rendered = stored.to_resource();
    }
}

/// One tenant's data. Users and groups live in separate maps keyed by id, so
/// a query of one kind never walks the other and id order comes for free.
#[derive(Debug)]
pub(crate) struct TenantData {
    pub tenant: Tenant,
    pub users: BTreeMap<String, Resource>,
    pub groups: BTreeMap<String, Resource>,
    /// `userName.to_lowercase()` to user id: the case-insensitive unique
    /// index (Unicode lower-casing, the folding the filter evaluator uses).
    pub user_names: HashMap<String, String>,
    /// Group id to its members (member id to kind), in member-id order.
    pub members: BTreeMap<String, BTreeMap<String, MemberKind>>,
    /// Member id to the groups it is a direct member of: the reverse index,
    /// so `groups_of` and deletes never scan every group.
    pub member_of: BTreeMap<String, BTreeSet<String>>,
    pub audit: Vec<AuditEvent>,
    pub next_seq: u64,
}

/// Now, to the millisecond: timestamps are rendered with millisecond
/// precision, so keeping more would make a resource read back differ from
/// its own rendering (and `meta.lastModified` filters disagree with it).
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

pub(crate) fn member_kind(kind: Kind) -> MemberKind {
    match kind {
        Kind::User => MemberKind::User,
        Kind::Group => MemberKind::Group,
    }
}

/// The unique key of a user document, if it has a userName.
pub(crate) fn user_name_key(doc: &Value) -> Result<String, StoreError> {
    doc.get("userName")
        .and_then(Value::as_str)
        .map(str::to_lowercase)
        .ok_or_else(|| StoreError::InvalidValue("a user needs a 'userName' string".into()))
}

impl TenantData {
    pub fn new(tenant: Tenant) -> TenantData {
        TenantData {
            tenant,
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
            user_names: HashMap::new(),
            members: BTreeMap::new(),
            member_of: BTreeMap::new(),
            audit: Vec::new(),
            next_seq: 1,
        }
    }

    pub fn resources(&self, kind: Kind) -> &BTreeMap<String, Resource> {
        match kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
        }
    }

    pub fn resources_mut(&mut self, kind: Kind) -> &mut BTreeMap<String, Resource> {
        match kind {
            Kind::User => &mut self.users,
            Kind::Group => &mut self.groups,
        }
    }

    /// The kind of an existing resource of this tenant.
    pub fn kind_of(&self, id: &str) -> Option<Kind> {
        if self.users.contains_key(id) {
            Some(Kind::User)
        } else if self.groups.contains_key(id) {
            Some(Kind::Group)
        } else {
            None
        }
    }

    /// A group's members in member-id order, kinds filled in.
    pub fn member_list(&self, group: &str) -> Vec<Member> {
        self.members
            .get(group)
            .map(|m| {
                m.iter()
                    .map(|(id, kind)| Member {
                        value: id.clone(),
                        kind: Some(*kind),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn stored(&self, kind: Kind, id: &str, r: &Resource, with_members: bool) -> Stored {
        Stored {
            kind,
            id: id.to_string(),
            version: r.version,
            created: r.created,
            modified: r.modified,
            doc: r.doc.clone(),
            members: (with_members && kind == Kind::Group).then(|| self.member_list(id)),
        }
    }

    /// Checks that `add` can become members of `group` (which need not exist
    /// yet, for a create): every id exists in this tenant, and no group
    /// would end up containing itself. Returns the members with their kinds.
    pub fn resolve_members<'a>(
        &self,
        group: &str,
        add: impl IntoIterator<Item = &'a Member>,
    ) -> Result<Vec<(String, MemberKind)>, StoreError> {
        let mut out = Vec::new();
        let mut ancestors: Option<BTreeSet<String>> = None;
        for m in add {
            let Some(kind) = self.kind_of(&m.value) else {
                return Err(StoreError::InvalidValue(format!("member '{}' does not exist", m.value)));
            };
            if kind == Kind::Group {
                // Adding M to G closes a cycle exactly when M is G or G is
                // (transitively) inside M, that is, M is among G's ancestors.
                let up = ancestors.get_or_insert_with(|| self.ancestors(group));
                if m.value == group || up.contains(&m.value) {
                    return Err(StoreError::InvalidValue(format!(
                        "adding group '{}' to group '{group}' would make a membership cycle",
                        m.value
                    )));
                }
            }
            out.push((m.value.clone(), member_kind(kind)));
        }
        Ok(out)
    }

    /// Every group that contains `id`, directly or through nested groups.
    pub fn ancestors(&self, id: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![id.to_string()];
        while let Some(current) = todo.pop() {
            for g in self.member_of.get(&current).into_iter().flatten() {
                if seen.insert(g.clone()) {
                    todo.push(g.clone());
                }
            }
        }
        seen
    }

    pub fn add_member(&mut self, group: &str, member: &str, kind: MemberKind) {
        self.members
            .entry(group.to_string())
            .or_default()
            .insert(member.to_string(), kind);
        self.member_of
            .entry(member.to_string())
            .or_default()
            .insert(group.to_string());
    }

    pub fn remove_member(&mut self, group: &str, member: &str) {
        if let Some(m) = self.members.get_mut(group) {
            m.remove(member);
            if m.is_empty() {
                self.members.remove(group);
            }
        }
        if let Some(g) = self.member_of.get_mut(member) {
            g.remove(group);
            if g.is_empty() {
                self.member_of.remove(member);
            }
        }
    }

    /// Removes every membership `id` takes part in, as member and as group.
    pub fn remove_memberships(&mut self, id: &str) {
        for group in self.member_of.remove(id).unwrap_or_default() {
            if let Some(m) = self.members.get_mut(&group) {
                m.remove(id);
                if m.is_empty() {
                    self.members.remove(&group);
                }
            }
        }
        for member in self.members.remove(id).unwrap_or_default().into_keys() {
            if let Some(g) = self.member_of.get_mut(&member) {
                g.remove(id);
                if g.is_empty() {
                    self.member_of.remove(&member);
                }
            }
        }
    }

    /// The groups `member` belongs to, direct ones marked, in id order.
    pub fn groups_of(&self, member: &str) -> Vec<GroupRef> {
        let direct: BTreeSet<String> = self.member_of.get(member).cloned().unwrap_or_default();
        let all = self.ancestors(member);
        all.into_iter()
            .map(|id| {
                let display = self
                    .groups
                    .get(&id)
                    .and_then(|g| g.doc.get("displayName"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let direct = direct.contains(&id);
                GroupRef { id, display, direct }
            })
            .collect()
    }

    /// Appends the audit event of a mutation that has just succeeded.
    pub fn record(&mut self, ctx: &Ctx, op: AuditOp, kind: Kind, id: &str, version: u64, change: Value) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.audit.push(AuditEvent {
            seq,
            time: now(),
            tenant: self.tenant.id.clone(),
            actor: ctx.actor.clone(),
            request_id: ctx.request_id.clone(),
            op,
            kind,
            resource_id: id.to_string(),
            version,
            change,
        });
    }
}
