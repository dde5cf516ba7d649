//! Versions: every mutation bumps, `IfMatch` is a compare-and-swap.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test suite: a failed step must fail the test"
)]

use super::support::*;
use crate::{Kind, Precondition, Store};
use scim_core::members::{Member, MemberDelta};
use serde_json::json;
use std::sync::Arc;

pub async fn version_every_mutation_bumps(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "version-bump").await;
    let u = f.user("v").await;
    assert_eq!(u.version, 1);
    for expected in 2..=4 {
        let up = ok(
            f.put(
                Kind::User,
                &u.id,
                Precondition::Any,
                user_named(&format!("v{expected}")),
            )
            .await,
            "PUT",
        );
        assert_eq!(up.version, expected, "version after PUT number {}", expected - 1);
    }
    let got = f.get_ok(Kind::User, &u.id).await;
    assert_eq!(got.version, 4, "version read back");
    assert_eq!(
        got.to_resource()["meta"]["version"],
        json!("W/\"4\""),
        "meta.version read back"
    );

    let g = f.group("g", &[]).await;
    let steps: [(&str, u64); 3] = [("add member", 2), ("remove member", 3), ("replace document", 4)];
    for (step, expected) in steps {
        let r = match step {
            "add member" => f.add_members(&g.id, &[&u.id], Precondition::Any).await,
            "remove member" => f.remove_members(&g.id, &[&u.id], Precondition::Any).await,
            _ => f.put(Kind::Group, &g.id, Precondition::Any, group_doc("g2")).await,
        };
        assert_eq!(ok(r, step).version, expected, "group version after {step}");
    }
    assert_eq!(f.get_ok(Kind::Group, &g.id).await.version, 4, "group version read back");
}

pub async fn version_membership_only_update_bumps(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "version-members").await;
    let u = f.user("m").await;
    let g = f.group("g", &[]).await;
    tick().await;
    let up = ok(
        f.add_members(&g.id, &[&u.id], Precondition::Any).await,
        "Update{doc: None} adding a member",
    );
    assert_eq!(up.version, 2, "a membership-only update must bump the version");
    assert!(
        up.modified > g.modified,
        "a membership-only update must advance modified"
    );
    assert_eq!(up.doc, g.doc, "a membership-only update changed the document");
    let mut delta = MemberDelta::default();
    delta.replace_all(Vec::<Member>::new());
    let up = ok(
        f.update(Kind::Group, &g.id, Precondition::Any, None, delta).await,
        "replace-all with nothing",
    );
    assert_eq!(up.version, 3, "a replace-all must bump the version");
    assert!(f.member_ids(&g.id).await.is_empty());
}

pub async fn version_stale_update_changes_nothing(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "version-stale").await;
    let u = f.user("stale").await;
    ok(
        f.put(Kind::User, &u.id, Precondition::IfMatch(1), user_named("stale2"))
            .await,
        "PUT If-Match 1",
    );
    let before = snapshot(&f, Kind::User, &u.id).await;
    expect_mismatch(
        f.put(Kind::User, &u.id, Precondition::IfMatch(1), user_named("stale3"))
            .await,
        2,
        "PUT with stale If-Match 1",
    );
    expect_mismatch(
        f.put(Kind::User, &u.id, Precondition::IfMatch(7), user_named("stale3"))
            .await,
        2,
        "PUT with future If-Match 7",
    );
    assert_unchanged(&f, Kind::User, &u.id, &before, "a stale update").await;
    // The name the failed update wanted is still free.
    f.user("stale3").await;
}

pub async fn version_stale_member_update_changes_nothing(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "version-stale-members").await;
    let a = f.user("a").await;
    let b = f.user("b").await;
    let g = f.group("g", &[&a.id]).await;
    ok(
        f.put(Kind::Group, &g.id, Precondition::Any, group_doc("g v2")).await,
        "PUT group",
    );
    let before = snapshot(&f, Kind::Group, &g.id).await;
    expect_mismatch(
        f.add_members(&g.id, &[&b.id], Precondition::IfMatch(1)).await,
        2,
        "stale member add",
    );
    expect_mismatch(
        f.remove_members(&g.id, &[&a.id], Precondition::IfMatch(1)).await,
        2,
        "stale member remove",
    );
    let mut delta = MemberDelta::default();
    delta.replace_all([Member::new(b.id.clone())]);
    expect_mismatch(
        f.update(
            Kind::Group,
            &g.id,
            Precondition::IfMatch(1),
            Some(group_doc("g v3")),
            delta,
        )
        .await,
        2,
        "stale document and replace-all",
    );
    assert_unchanged(&f, Kind::Group, &g.id, &before, "stale member updates").await;
    assert!(
        f.store.groups_of(&f.ctx, &b.id).await.unwrap().is_empty(),
        "a stale add made b a member"
    );
}

pub async fn version_current_if_match_succeeds(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "version-current").await;
    let u = f.user("u").await;
    let g = f.group("g", &[]).await;
    let up = ok(
        f.put(Kind::Group, &g.id, Precondition::IfMatch(1), group_doc("g2"))
            .await,
        "PUT If-Match 1",
    );
    assert_eq!(up.version, 2);
    let up = ok(
        f.add_members(&g.id, &[&u.id], Precondition::IfMatch(2)).await,
        "member add If-Match 2",
    );
    assert_eq!(up.version, 3);
    let mut delta = MemberDelta::default();
    delta.remove([u.id.clone()]);
    let up = ok(
        f.update(
            Kind::Group,
            &g.id,
            Precondition::IfMatch(3),
            Some(group_doc("g4")),
            delta,
        )
        .await,
        "document and members If-Match 3",
    );
    assert_eq!(up.version, 4);
    assert_eq!(up.doc, group_doc("g4"));
    assert!(f.member_ids(&g.id).await.is_empty(), "the member removal was lost");
}

pub async fn version_stale_delete_keeps_resource(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "version-delete-stale").await;
    let u = f.user("keep").await;
    let g = f.group("keep", &[&u.id]).await;
    let before_user = snapshot(&f, Kind::User, &u.id).await;
    expect_mismatch(
        f.delete(Kind::User, &u.id, Precondition::IfMatch(2)).await,
        1,
        "delete user with stale If-Match",
    );
    assert_unchanged(&f, Kind::User, &u.id, &before_user, "a stale delete").await;
    let before_group = snapshot(&f, Kind::Group, &g.id).await;
    expect_mismatch(
        f.delete(Kind::Group, &g.id, Precondition::IfMatch(0)).await,
        1,
        "delete group with stale If-Match",
    );
    assert_unchanged(&f, Kind::Group, &g.id, &before_group, "a stale group delete").await;
    assert_eq!(
        f.member_ids(&g.id).await,
        vec![u.id.clone()],
        "a stale delete removed memberships"
    );
}

pub async fn version_current_if_match_delete(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "version-delete").await;
    let u = f.user("del").await;
    ok(
        f.put(Kind::User, &u.id, Precondition::Any, user_named("del2")).await,
        "PUT",
    );
    ok(
        f.delete(Kind::User, &u.id, Precondition::IfMatch(2)).await,
        "delete with current If-Match 2",
    );
    expect_not_found(f.get(Kind::User, &u.id).await, "get after delete");
}
