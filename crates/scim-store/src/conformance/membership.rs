//! Membership deltas: add, remove, replace-all, existence checks, member
//! paging, deletes, and a group of 10,000.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test suite: a failed step must fail the test"
)]

use super::support::*;
use crate::{Kind, Load, MemberCursor, Precondition, Store};
use scim_core::members::{Member, MemberDelta, MemberKind};
use std::sync::Arc;
use std::time::Instant;

pub async fn members_add_is_idempotent(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "members-idem").await;
    let (a, b) = (f.user("a").await, f.user("b").await);
    let g = f.group("g", &[&a.id]).await;
    let up = ok(
        f.add_members(&g.id, &[&a.id], Precondition::Any).await,
        "adding a present member",
    );
    assert_eq!(
        f.member_ids(&g.id).await,
        vec![a.id.clone()],
        "adding a present member changed the members"
    );
    assert_eq!(up.version, 2, "the update still counts as a mutation");
    ok(
        f.add_members(&g.id, &[&a.id, &b.id, &b.id], Precondition::Any).await,
        "adding a present and a new member",
    );
    assert_eq!(f.member_ids(&g.id).await, sorted([&a.id, &b.id]));
}

pub async fn members_remove_absent_is_noop(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "members-absent").await;
    let (a, b) = (f.user("a").await, f.user("b").await);
    let g = f.group("g", &[&a.id]).await;
    ok(
        f.remove_members(&g.id, &[&b.id], Precondition::Any).await,
        "removing a non-member",
    );
    let unknown = uuid::Uuid::new_v4().to_string();
    ok(
        f.remove_members(&g.id, &[&unknown], Precondition::Any).await,
        "removing an id that does not exist",
    );
    assert_eq!(
        f.member_ids(&g.id).await,
        vec![a.id.clone()],
        "removing absent members changed the members"
    );
    ok(
        f.remove_members(&g.id, &[&a.id], Precondition::Any).await,
        "removing the member",
    );
    ok(
        f.remove_members(&g.id, &[&a.id], Precondition::Any).await,
        "removing it again",
    );
    assert!(f.member_ids(&g.id).await.is_empty());
}

pub async fn members_add_and_remove_together(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "members-both").await;
    let (a, b, c) = (f.user("a").await, f.user("b").await, f.user("c").await);
    let g = f.group("g", &[&a.id, &b.id]).await;
    let mut delta = MemberDelta::default();
    delta.remove([a.id.clone()]);
    delta.add([Member::new(c.id.clone())]);
    ok(
        f.update(Kind::Group, &g.id, Precondition::Any, None, delta).await,
        "remove a, add c",
    );
    assert_eq!(f.member_ids(&g.id).await, sorted([&b.id, &c.id]));
    let groups = ok(f.store.groups_of(&f.ctx, &a.id).await, "groups_of a");
    assert!(groups.is_empty(), "a was removed but groups_of(a) = {groups:?}");
}

pub async fn members_replace_all(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "members-replace").await;
    let (a, b, c) = (f.user("a").await, f.user("b").await, f.user("c").await);
    let g = f.group("g", &[&a.id, &b.id]).await;
    let mut delta = MemberDelta::default();
    delta.replace_all([Member::new(c.id.clone()), Member::new(b.id.clone())]);
    let up = ok(
        f.update(Kind::Group, &g.id, Precondition::Any, None, delta).await,
        "replace-all with b, c",
    );
    assert_eq!(up.version, 2);
    assert_eq!(
        f.member_ids(&g.id).await,
        sorted([&b.id, &c.id]),
        "members after replace-all"
    );
    assert!(
        ok(f.store.groups_of(&f.ctx, &a.id).await, "groups_of a").is_empty(),
        "a still in a group after replace-all"
    );
    let mut delta = MemberDelta::default();
    delta.replace_all([Member::new(a.id.clone())]);
    let up = ok(
        f.update(
            Kind::Group,
            &g.id,
            Precondition::IfMatch(2),
            Some(group_doc("renamed")),
            delta,
        )
        .await,
        "PUT with members",
    );
    assert_eq!(up.doc, group_doc("renamed"));
    assert_eq!(
        f.member_ids(&g.id).await,
        vec![a.id.clone()],
        "members after PUT with replace-all"
    );
    let mut delta = MemberDelta::default();
    delta.replace_all(Vec::<Member>::new());
    ok(
        f.update(Kind::Group, &g.id, Precondition::Any, None, delta).await,
        "replace-all with nothing",
    );
    assert!(
        f.member_ids(&g.id).await.is_empty(),
        "replace-all with nothing must empty the group"
    );
}

pub async fn members_large_group(store: Arc<dyn Store>) {
    const USERS: usize = 10_000;
    const TASKS: usize = 32;
    let f = Arc::new(Fixture::new(&store, "members-large").await);
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let f = f.clone();
        set.spawn(async move {
            let mut ids = Vec::new();
            for i in (task..USERS).step_by(TASKS) {
                let doc = user_named(&format!("bulk{i:05}"));
                ids.push(
                    ok(
                        f.try_create(Kind::User, doc, Vec::new()).await,
                        &format!("create user bulk{i:05}"),
                    )
                    .id,
                );
            }
            ids
        });
    }
    let ids = sorted(join_all(set).await.into_iter().flatten());
    let created_in = started.elapsed();
    assert_eq!(ids.len(), USERS);

    let t = Instant::now();
    let members: Vec<Member> = ids.iter().map(|i| Member::new(i.clone())).collect();
    let g = ok(
        f.try_create(Kind::Group, group_doc("everyone"), members).await,
        "create a group of 10,000",
    );
    let group_in = t.elapsed();
    assert_eq!(
        f.all_members(&g.id, 1000)
            .await
            .into_iter()
            .map(|m| m.value)
            .collect::<Vec<_>>(),
        ids,
        "members of the large group, paged by 1000"
    );
    let got = f.get_ok(Kind::Group, &g.id).await;
    assert_eq!(
        got.members.map(|m| m.len()),
        Some(USERS),
        "get with members of the large group"
    );

    // One more member, then one less: the cost must not depend on the group size.
    let extra = f.user("extra").await;
    let t = Instant::now();
    let up = ok(
        f.add_members(&g.id, &[&extra.id], Precondition::IfMatch(1)).await,
        "add one to the large group",
    );
    let add_in = t.elapsed();
    assert_eq!(up.version, 2);
    let t = Instant::now();
    let up = ok(
        f.remove_members(&g.id, &[&ids[0]], Precondition::IfMatch(2)).await,
        "remove one from the large group",
    );
    let remove_in = t.elapsed();
    assert_eq!(up.version, 3);
    let groups = ok(
        f.store.groups_of(&f.ctx, &ids[USERS / 2]).await,
        "groups_of a member of the large group",
    );
    assert_eq!(
        groups.iter().map(|r| (r.id.clone(), r.direct)).collect::<Vec<_>>(),
        vec![(g.id.clone(), true)]
    );
    ok(
        f.delete(Kind::User, &ids[1], Precondition::Any).await,
        "delete a member of the large group",
    );
    let page = ok(
        f.store
            .members(&f.ctx, &g.id, MemberCursor { after: None, limit: 2 })
            .await,
        "first members",
    );
    assert!(
        page.members.iter().all(|m| m.value != ids[0] && m.value != ids[1]),
        "removed members still listed"
    );
    let count = f.all_members(&g.id, 5000).await.len();
    assert_eq!(count, USERS - 1, "10,000 + 1 added - 1 removed - 1 deleted");
    println!(
        "large group: {USERS} users in {created_in:.2?} ({TASKS} tasks), group create {group_in:.2?}, add one {add_in:.2?}, remove one {remove_in:.2?}"
    );
}

pub async fn members_paging_in_id_order(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "members-paging").await;
    let mut ids = Vec::new();
    for i in 0..57 {
        ids.push(f.user(&format!("m{i}")).await.id);
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let g = f.group("paged", &refs).await;
    let ids = sorted(&ids);
    for size in [1, 10, 56, 57, 100] {
        let got: Vec<String> = f.all_members(&g.id, size).await.into_iter().map(|m| m.value).collect();
        assert_eq!(
            got, ids,
            "members paged by {size} must be every member once, in id order"
        );
    }
    let page = ok(
        f.store
            .members(
                &f.ctx,
                &g.id,
                MemberCursor {
                    after: Some(ids[9].clone()),
                    limit: 5,
                },
            )
            .await,
        "page after the 10th",
    );
    let got: Vec<String> = page.members.into_iter().map(|m| m.value).collect();
    assert_eq!(got, ids[10..15].to_vec(), "a page starts right after `after`");
    assert_eq!(
        page.next.as_deref(),
        Some(ids[14].as_str()),
        "next is the last id of a page that has more after it"
    );
    let page = ok(
        f.store
            .members(
                &f.ctx,
                &g.id,
                MemberCursor {
                    after: Some(ids[56].clone()),
                    limit: 5,
                },
            )
            .await,
        "page after the last",
    );
    assert!(
        page.members.is_empty() && page.next.is_none(),
        "after the last member: empty page, no next ({page:?})"
    );
}

pub async fn members_unknown_group_is_not_found(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "members-unknown").await;
    let cursor = MemberCursor { after: None, limit: 10 };
    let unknown = uuid::Uuid::new_v4().to_string();
    expect_not_found(
        f.store.members(&f.ctx, &unknown, cursor.clone()).await,
        "members of an unknown group",
    );
    let g = f.group("short-lived", &[]).await;
    ok(f.delete(Kind::Group, &g.id, Precondition::Any).await, "delete group");
    expect_not_found(
        f.store.members(&f.ctx, &g.id, cursor).await,
        "members of a deleted group",
    );
    let groups = ok(f.store.groups_of(&f.ctx, &unknown).await, "groups_of an unknown id");
    assert!(groups.is_empty(), "groups_of an unknown id: {groups:?}");
}

pub async fn members_deleting_user_removes_memberships(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "members-del-user").await;
    let (u, v) = (f.user("u").await, f.user("v").await);
    let g1 = f.group("g1", &[&u.id, &v.id]).await;
    let g2 = f.group("g2", &[&u.id]).await;
    ok(f.delete(Kind::User, &u.id, Precondition::Any).await, "delete u");
    assert_eq!(
        f.member_ids(&g1.id).await,
        vec![v.id.clone()],
        "g1 still lists the deleted user"
    );
    assert!(f.member_ids(&g2.id).await.is_empty(), "g2 still lists the deleted user");
    let loaded = f.get_ok(Kind::Group, &g1.id).await.members.unwrap_or_default();
    assert_eq!(loaded.len(), 1, "get with members still lists the deleted user");
    assert!(ok(f.store.groups_of(&f.ctx, &u.id).await, "groups_of deleted").is_empty());
    f.assert_filter(Kind::Group, &format!("members.value eq \"{}\"", u.id), &[])
        .await;
    // The id can no longer be added.
    expect_invalid(
        f.add_members(&g2.id, &[&u.id], Precondition::Any).await,
        "adding a deleted user",
    );
}

pub async fn members_deleting_group_removes_memberships(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "members-del-group").await;
    let u = f.user("u").await;
    let inner = f.group("inner", &[&u.id]).await;
    let outer = f.group("outer", &[&inner.id]).await;
    ok(
        f.delete(Kind::Group, &inner.id, Precondition::Any).await,
        "delete the inner group",
    );
    assert!(
        f.member_ids(&outer.id).await.is_empty(),
        "the outer group still lists the deleted group"
    );
    let groups = ok(f.store.groups_of(&f.ctx, &u.id).await, "groups_of u");
    assert!(
        groups.is_empty(),
        "u is still in groups through a deleted group: {groups:?}"
    );
    // A new group may now contain u again, and the outer one may take it.
    let again = f.group("inner again", &[&u.id]).await;
    ok(
        f.add_members(&outer.id, &[&again.id], Precondition::Any).await,
        "nest again",
    );
}

pub async fn members_must_exist_in_tenant(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "members-exist").await;
    let u = f.user("u").await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let audit = f.audit_len().await;
    expect_invalid(
        f.try_create(
            Kind::Group,
            group_doc("bad"),
            vec![Member::new(u.id.clone()), Member::new(unknown.clone())],
        )
        .await,
        "create a group with an unknown member",
    );
    assert_eq!(f.audit_len().await, audit, "a rejected create appended an audit event");
    let (total, _) = f.query_all(Kind::Group, None, None).await;
    assert_eq!(total, 0, "a rejected create left a group");
    assert!(
        ok(f.store.groups_of(&f.ctx, &u.id).await, "groups_of u").is_empty(),
        "a rejected create left memberships"
    );

    let g = f.group("good", &[]).await;
    let before = snapshot(&f, Kind::Group, &g.id).await;
    expect_invalid(
        f.add_members(&g.id, &[&u.id, &unknown], Precondition::Any).await,
        "add a known and an unknown member",
    );
    expect_invalid(
        f.add_members(&g.id, &["not-a-uuid"], Precondition::IfMatch(1)).await,
        "add a malformed id",
    );
    let mut delta = MemberDelta::default();
    delta.replace_all([Member::new(unknown.clone())]);
    expect_invalid(
        f.update(Kind::Group, &g.id, Precondition::Any, Some(group_doc("renamed")), delta)
            .await,
        "replace-all with an unknown id",
    );
    assert_unchanged(&f, Kind::Group, &g.id, &before, "rejected member adds").await;
}

pub async fn members_kind_filled_in(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "members-kind").await;
    let u = f.user("u").await;
    let inner = f.group("inner", &[]).await;
    let g = f.group("mixed", &[&u.id, &inner.id]).await;
    let members = f.all_members(&g.id, 10).await;
    for m in &members {
        let want = if m.value == u.id {
            MemberKind::User
        } else {
            MemberKind::Group
        };
        assert_eq!(m.kind, Some(want), "members(): kind of {}", m.value);
    }
    let loaded = ok(f.store.get(&f.ctx, Kind::Group, &g.id, Load::WITH_MEMBERS).await, "get")
        .members
        .unwrap_or_default();
    assert_eq!(sorted(loaded.iter().map(|m| &m.value)), sorted([&u.id, &inner.id]));
    for m in &loaded {
        let want = if m.value == u.id {
            MemberKind::User
        } else {
            MemberKind::Group
        };
        assert_eq!(m.kind, Some(want), "get with members: kind of {}", m.value);
    }
    let v = f.user("v").await;
    ok(
        f.add_members(&g.id, &[&v.id], Precondition::Any).await,
        "add v without a kind",
    );
    let m = f
        .all_members(&g.id, 10)
        .await
        .into_iter()
        .find(|m| m.value == v.id)
        .expect("v is a member");
    assert_eq!(m.kind, Some(MemberKind::User), "kind of a member added by update");
}
