//! Tenant isolation: ids of another tenant are `NotFound`, absent from
//! results, or rejected as members; that tenant's data never changes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test suite: a failed step must fail the test"
)]

use super::support::*;
use crate::{AuditQuery, Kind, MemberCursor, Precondition, Store, Stored};
use scim_core::members::Member;
use std::sync::Arc;

/// Tenant A with a user and a group holding it, tenant B with a user.
struct TwoTenants {
    a: Fixture,
    b: Fixture,
    ua: Stored,
    ga: Stored,
    ub: Stored,
}

async fn two_tenants(store: &Arc<dyn Store>, label: &str) -> TwoTenants {
    let a = Fixture::new(store, &format!("{label}-a")).await;
    let b = Fixture::new(store, &format!("{label}-b")).await;
    let ua = a.user("alice").await;
    let ga = a.group("A team", &[&ua.id]).await;
    let ub = b.user("bob").await;
    TwoTenants { a, b, ua, ga, ub }
}

impl TwoTenants {
    /// A's resources, members and audit log as they were after setup.
    async fn assert_a_untouched(&self, step: &str) {
        let ua = self.a.get_ok(Kind::User, &self.ua.id).await;
        assert_same_state(&self.ua, &ua, &format!("{step}: tenant A's user"));
        let ga = self.a.get_ok(Kind::Group, &self.ga.id).await;
        assert_same_state(&self.ga, &ga, &format!("{step}: tenant A's group"));
        assert_eq!(
            self.a.member_ids(&self.ga.id).await,
            vec![self.ua.id.clone()],
            "{step}: tenant A's members"
        );
        assert_eq!(self.a.audit_len().await, 2, "{step}: tenant A's audit log changed");
    }
}

pub async fn isolation_get(store: Arc<dyn Store>) {
    let t = two_tenants(&store, "iso-get").await;
    expect_not_found(t.b.get(Kind::User, &t.ua.id).await, "tenant B reading A's user");
    expect_not_found(t.b.get(Kind::Group, &t.ga.id).await, "tenant B reading A's group");
    expect_not_found(t.a.get(Kind::User, &t.ub.id).await, "tenant A reading B's user");
    t.assert_a_untouched("reads from B").await;
}

pub async fn isolation_query(store: Arc<dyn Store>) {
    let t = two_tenants(&store, "iso-query").await;
    let (_, users) = t.b.query_all(Kind::User, None, None).await;
    assert_eq!(
        users.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        vec![t.ub.id.clone()],
        "tenant B lists users"
    );
    let (total, _) = t.b.query_all(Kind::Group, None, None).await;
    assert_eq!(total, 0, "tenant B lists A's group");
    t.b.assert_filter(Kind::User, "userName eq \"alice\"", &[]).await;
    t.b.assert_filter(Kind::User, &format!("id eq \"{}\"", t.ua.id), &[])
        .await;
    t.b.assert_filter(Kind::User, "userName pr", &[&t.ub.id]).await;
    t.b.assert_filter(Kind::Group, &format!("members.value eq \"{}\"", t.ua.id), &[])
        .await;
    t.a.assert_filter(Kind::User, "userName pr", &[&t.ua.id]).await;
}

pub async fn isolation_update(store: Arc<dyn Store>) {
    let t = two_tenants(&store, "iso-update").await;
    expect_not_found(
        t.b.put(Kind::User, &t.ua.id, Precondition::Any, user_named("mallory"))
            .await,
        "B updating A's user",
    );
    expect_not_found(
        t.b.put(Kind::User, &t.ua.id, Precondition::IfMatch(1), user_named("mallory"))
            .await,
        "B updating A's user with its version",
    );
    expect_not_found(
        t.b.add_members(&t.ga.id, &[&t.ub.id], Precondition::Any).await,
        "B adding to A's group",
    );
    expect_not_found(
        t.b.remove_members(&t.ga.id, &[&t.ua.id], Precondition::Any).await,
        "B removing from A's group",
    );
    t.assert_a_untouched("updates from B").await;
    assert_eq!(t.b.audit_len().await, 1, "failed updates appended audit events to B");
}

pub async fn isolation_delete(store: Arc<dyn Store>) {
    let t = two_tenants(&store, "iso-delete").await;
    expect_not_found(
        t.b.delete(Kind::User, &t.ua.id, Precondition::Any).await,
        "B deleting A's user",
    );
    expect_not_found(
        t.b.delete(Kind::Group, &t.ga.id, Precondition::IfMatch(1)).await,
        "B deleting A's group",
    );
    t.assert_a_untouched("deletes from B").await;
    // B can still take A's userName: uniqueness is per tenant.
    t.b.user("alice").await;
}

pub async fn isolation_members(store: Arc<dyn Store>) {
    let t = two_tenants(&store, "iso-members").await;
    expect_not_found(
        t.b.store
            .members(&t.b.ctx, &t.ga.id, MemberCursor { after: None, limit: 10 })
            .await,
        "B listing the members of A's group",
    );
    t.assert_a_untouched("member reads from B").await;
}

pub async fn isolation_groups_of(store: Arc<dyn Store>) {
    let t = two_tenants(&store, "iso-groups-of").await;
    let groups = ok(
        t.b.store.groups_of(&t.b.ctx, &t.ua.id).await,
        "B asking groups_of A's user",
    );
    assert!(groups.is_empty(), "B sees A's groups: {groups:?}");
    let groups = ok(
        t.a.store.groups_of(&t.a.ctx, &t.ua.id).await,
        "A asking groups_of its user",
    );
    assert_eq!(groups.len(), 1, "A's own groups_of");
    let each = ok(
        t.b.store.groups_of_each(&t.b.ctx, std::slice::from_ref(&t.ua.id)).await,
        "B asking groups_of_each A's user",
    );
    assert_eq!(each, vec![Vec::new()], "B sees A's groups through groups_of_each");
}

pub async fn isolation_audit(store: Arc<dyn Store>) {
    let t = two_tenants(&store, "iso-audit").await;
    let q = AuditQuery {
        limit: 1000,
        ..AuditQuery::default()
    };
    let a = ok(store.audit(t.a.tenant(), &q).await, "audit of A");
    let b = ok(store.audit(t.b.tenant(), &q).await, "audit of B");
    assert_eq!(a.len(), 2, "A's audit: {a:?}");
    assert_eq!(b.len(), 1, "B's audit: {b:?}");
    assert!(
        a.iter().all(|e| e.tenant == t.a.tenant()),
        "A's audit has foreign events: {a:?}"
    );
    assert!(
        b.iter().all(|e| e.tenant == t.b.tenant() && e.resource_id == t.ub.id),
        "B's audit: {b:?}"
    );
    let q = AuditQuery {
        resource_id: Some(t.ua.id.clone()),
        limit: 1000,
        ..AuditQuery::default()
    };
    assert!(
        ok(store.audit(t.b.tenant(), &q).await, "B's audit by A's id").is_empty(),
        "B's audit shows A's resource"
    );
}

pub async fn isolation_foreign_member_rejected(store: Arc<dyn Store>) {
    let t = two_tenants(&store, "iso-foreign").await;
    expect_invalid(
        t.b.try_create(
            Kind::Group,
            group_doc("B team"),
            vec![Member::new(t.ub.id.clone()), Member::new(t.ua.id.clone())],
        )
        .await,
        "B creating a group with A's user",
    );
    let (total, _) = t.b.query_all(Kind::Group, None, None).await;
    assert_eq!(total, 0, "the rejected group create left a group");
    let gb = t.b.group("B team", &[]).await;
    let before = snapshot(&t.b, Kind::Group, &gb.id).await;
    expect_invalid(
        t.b.add_members(&gb.id, &[&t.ua.id], Precondition::Any).await,
        "B adding A's user",
    );
    expect_invalid(
        t.b.add_members(&gb.id, &[&t.ub.id, &t.ga.id], Precondition::Any).await,
        "B adding its user and A's group",
    );
    assert_unchanged(&t.b, Kind::Group, &gb.id, &before, "rejected foreign member adds").await;
    t.assert_a_untouched("foreign member adds in B").await;
}
