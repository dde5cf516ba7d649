//! Nested groups: `groups_of` direct and indirect, and no cycles.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test suite: a failed step must fail the test"
)]

use super::support::*;
use crate::{GroupRef, Kind, Precondition, Store};
use std::sync::Arc;

async fn groups_of(f: &Fixture, id: &str) -> Vec<GroupRef> {
    let mut g = ok(f.store.groups_of(&f.ctx, id).await, &format!("groups_of {id}"));
    g.sort();
    g
}

fn gref(id: &str, display: &str, direct: bool) -> GroupRef {
    GroupRef {
        id: id.to_string(),
        display: Some(display.to_string()),
        direct,
    }
}

fn sorted_refs(mut v: Vec<GroupRef>) -> Vec<GroupRef> {
    v.sort();
    v
}

pub async fn members_groups_of_direct_and_nested(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "members-nested").await;
    let u = f.user("u").await;
    let b = f.group("B", &[&u.id]).await;
    let a = f.group("A", &[&b.id]).await;
    assert_eq!(
        groups_of(&f, &u.id).await,
        sorted_refs(vec![gref(&b.id, "B", true), gref(&a.id, "A", false)]),
        "A contains B contains u: B direct, A indirect"
    );
    assert_eq!(
        groups_of(&f, &b.id).await,
        vec![gref(&a.id, "A", true)],
        "groups_of the nested group B"
    );
    assert!(groups_of(&f, &a.id).await.is_empty(), "A is in no group");

    // Reachable both ways: listed once, as direct.
    ok(
        f.add_members(&a.id, &[&u.id], Precondition::Any).await,
        "add u to A directly",
    );
    assert_eq!(
        groups_of(&f, &u.id).await,
        sorted_refs(vec![gref(&b.id, "B", true), gref(&a.id, "A", true)]),
        "u in A directly and through B: A once, direct"
    );
    // Two levels up, and a diamond (D contains A and B).
    let d = f.group("D", &[&a.id, &b.id]).await;
    let top = f.group("Top", &[&d.id]).await;
    assert_eq!(
        groups_of(&f, &u.id).await,
        sorted_refs(vec![
            gref(&b.id, "B", true),
            gref(&a.id, "A", true),
            gref(&d.id, "D", false),
            gref(&top.id, "Top", false),
        ]),
        "groups_of u with D (over A and B) and Top (over D)"
    );
    // The display follows renames.
    ok(
        f.put(Kind::Group, &top.id, Precondition::Any, group_doc("Top renamed"))
            .await,
        "rename Top",
    );
    let refs = groups_of(&f, &u.id).await;
    assert!(
        refs.contains(&gref(&top.id, "Top renamed", false)),
        "display after rename: {refs:?}"
    );
}

/// `groups_of_each` answers, in order, what `groups_of` answers for each
/// member: nested and direct groups, no groups, an unknown id, a group as
/// member, the same id twice, and an empty list.
pub async fn members_groups_of_each_answers_per_member(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "members-groups-of-each").await;
    let u = f.user("u").await;
    let v = f.user("v").await;
    let loner = f.user("loner").await;
    let b = f.group("B", &[&u.id, &v.id]).await;
    let _a = f.group("A", &[&b.id]).await;
    let _c = f.group("C", &[&v.id]).await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let ids = vec![
        v.id.clone(),
        loner.id.clone(),
        u.id.clone(),
        unknown,
        b.id.clone(),
        u.id.clone(),
    ];
    let each = ok(f.store.groups_of_each(&f.ctx, &ids).await, "groups_of_each");
    assert_eq!(each.len(), ids.len(), "one answer per member asked");
    for (id, got) in ids.iter().zip(each) {
        assert_eq!(sorted_refs(got), groups_of(&f, id).await, "groups_of_each for {id}");
    }
    assert_eq!(
        ok(
            f.store.groups_of_each(&f.ctx, std::slice::from_ref(&v.id)).await,
            "one member"
        )
        .first()
        .map(Vec::len),
        Some(3),
        "v is in B and C directly and in A through B"
    );
    assert!(
        ok(f.store.groups_of_each(&f.ctx, &[]).await, "no members").is_empty(),
        "no members asked, no answers"
    );
}

/// `groups_of_each` over pages of a tenant where every user is in a group
/// and some in two (one nested): a whole page in id order, members spread
/// thinly over the ids with many others' memberships between them, every
/// tenth, and in reverse. A backend may read a page's memberships by id
/// range; each answer must still be exactly `groups_of`'s.
pub async fn members_groups_of_each_over_pages_and_spread_members(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "members-groups-of-each-pages").await;
    let mut users = Vec::new();
    for i in 0..120 {
        users.push(f.user(&format!("page{i:03}")).await.id);
    }
    users.sort();
    let everyone: Vec<&str> = users.iter().map(String::as_str).collect();
    let all = f.group("All", &everyone).await;
    let some: Vec<&str> = everyone.iter().copied().step_by(3).collect();
    let thirds = f.group("Thirds", &some).await;
    f.group("Parent", &[&thirds.id]).await;
    let pick = |step: usize| -> Vec<String> { users.iter().step_by(step).cloned().collect() };
    let spread = vec![users[0].clone(), users[users.len() - 1].clone()];
    let mut reversed = users[10..60].to_vec();
    reversed.reverse();
    let cases = [
        ("a page in id order", users[20..120].to_vec()),
        ("first and last of 120", spread),
        ("every tenth", pick(10)),
        ("fifty in reverse", reversed),
        (
            "users and a group",
            vec![users[5].clone(), all.id.clone(), thirds.id.clone(), users[6].clone()],
        ),
        (
            "members asked about more than once",
            [1, 4, 1, 0, 1, 0, 2].iter().map(|&i| users[i].clone()).collect(),
        ),
        (
            "in id order, some twice",
            [0, 0, 1, 3, 3, 3, 4].iter().map(|&i| users[i].clone()).collect(),
        ),
    ];
    for (what, ids) in cases {
        let each = ok(f.store.groups_of_each(&f.ctx, &ids).await, what);
        assert_eq!(each.len(), ids.len(), "{what}: one answer per member asked");
        for (id, got) in ids.iter().zip(each) {
            assert_eq!(
                sorted_refs(got),
                groups_of(&f, id).await,
                "{what}: groups_of_each for {id}"
            );
        }
    }
    let first = ok(f.store.groups_of_each(&f.ctx, &users[..2]).await, "first two");
    assert_eq!(
        first.iter().map(Vec::len).collect::<Vec<_>>(),
        [3, 1],
        "the first user is in All, Thirds and (through Thirds) Parent; the second only in All"
    );
}

pub async fn members_cycle_rejected(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "members-cycle").await;
    let a = f.group("A", &[]).await;
    let b = f.group("B", &[&a.id]).await;
    let before = snapshot(&f, Kind::Group, &a.id).await;
    expect_invalid(
        f.add_members(&a.id, &[&b.id], Precondition::Any).await,
        "A in B, then B in A",
    );
    assert_unchanged(&f, Kind::Group, &a.id, &before, "a rejected cycle").await;
    let c = f.group("C", &[&b.id]).await;
    let before = snapshot(&f, Kind::Group, &a.id).await;
    expect_invalid(
        f.add_members(&a.id, &[&c.id], Precondition::Any).await,
        "A in B in C, then C in A",
    );
    let mut delta = scim_core::members::MemberDelta::default();
    delta.replace_all([scim_core::members::Member::new(c.id.clone())]);
    expect_invalid(
        f.update(Kind::Group, &a.id, Precondition::Any, None, delta).await,
        "replace A's members with C",
    );
    assert_unchanged(&f, Kind::Group, &a.id, &before, "rejected longer cycles").await;
    // Not a cycle: a diamond. D contains A and C, where C contains A too.
    f.group("D", &[&a.id, &c.id]).await;
}

pub async fn members_self_membership_rejected(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "members-self").await;
    let a = f.group("A", &[]).await;
    let before = snapshot(&f, Kind::Group, &a.id).await;
    expect_invalid(f.add_members(&a.id, &[&a.id], Precondition::Any).await, "A in A");
    expect_invalid(
        f.add_members(&a.id, &[&a.id], Precondition::IfMatch(1)).await,
        "A in A with If-Match",
    );
    assert_unchanged(&f, Kind::Group, &a.id, &before, "a rejected self-membership").await;
}
