//! `userName` is unique per tenant, case-insensitively (Unicode lower-casing),
//! enforced by the store.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test suite: a failed step must fail the test"
)]

use super::support::*;
use crate::{Kind, Precondition, Store};
use scim_core::members::Member;
use std::sync::Arc;

pub async fn unique_user_name_conflict(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "unique").await;
    f.user("alice").await;
    let audit = f.audit_len().await;
    expect_conflict(
        f.try_create(Kind::User, user_named("alice"), Vec::new()).await,
        "userName",
        "second 'alice'",
    );
    assert_eq!(f.audit_len().await, audit, "a failed create appended an audit event");
    assert_eq!(
        f.ids(Kind::User, "userName eq \"alice\"").await.len(),
        1,
        "a failed create left a resource"
    );
}

pub async fn unique_user_name_ignores_ascii_case(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "unique-ascii").await;
    f.user("Bob.Smith@Example.com").await;
    for other in [
        "bob.smith@example.com",
        "BOB.SMITH@EXAMPLE.COM",
        "bOB.sMITH@eXAMPLE.cOM",
    ] {
        expect_conflict(
            f.try_create(Kind::User, user_named(other), Vec::new()).await,
            "userName",
            other,
        );
    }
}

pub async fn unique_user_name_ignores_unicode_case(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "unique-unicode").await;
    f.user("ÄLICE").await;
    expect_conflict(
        f.try_create(Kind::User, user_named("älice"), Vec::new()).await,
        "userName",
        "'älice' after 'ÄLICE'",
    );
    f.user("Ωmega").await;
    expect_conflict(
        f.try_create(Kind::User, user_named("ωMEGA"), Vec::new()).await,
        "userName",
        "'ωMEGA' after 'Ωmega'",
    );
    // Different letters stay different: no accent stripping.
    f.user("alice").await;
    f.user("omega").await;
}

pub async fn unique_user_name_per_tenant(store: Arc<dyn Store>) {
    let a = Fixture::new(&store, "unique-t1").await;
    let b = Fixture::new(&store, "unique-t2").await;
    let ua = a.user("shared").await;
    let ub = b.user("SHARED").await;
    assert_ne!(ua.id, ub.id);
    assert_eq!(a.ids(Kind::User, "userName eq \"shared\"").await, vec![ua.id]);
    assert_eq!(b.ids(Kind::User, "userName eq \"shared\"").await, vec![ub.id]);
}

pub async fn unique_conflicting_update_changes_nothing(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "unique-put").await;
    f.user("taken").await;
    let u = f.user("mine").await;
    let before = snapshot(&f, Kind::User, &u.id).await;
    expect_conflict(
        f.put(Kind::User, &u.id, Precondition::Any, user_named("TAKEN")).await,
        "userName",
        "PUT changing userName to a taken one",
    );
    expect_conflict(
        f.put(Kind::User, &u.id, Precondition::IfMatch(1), user_named("Taken"))
            .await,
        "userName",
        "PUT with a current If-Match changing userName to a taken one",
    );
    assert_unchanged(&f, Kind::User, &u.id, &before, "a conflicting update").await;
    // The old name still belongs to the user, and the taken one to its owner.
    expect_conflict(
        f.try_create(Kind::User, user_named("mine"), Vec::new()).await,
        "userName",
        "reusing 'mine'",
    );
    assert_eq!(f.ids(Kind::User, "userName eq \"taken\"").await.len(), 1);
}

pub async fn unique_update_own_user_name_case(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "unique-own").await;
    let u = f.user("carol").await;
    let up = ok(
        f.put(Kind::User, &u.id, Precondition::Any, user_named("CAROL")).await,
        "changing only the case of one's own userName",
    );
    assert_eq!(up.doc["userName"], "CAROL");
    let up = ok(
        f.put(Kind::User, &u.id, Precondition::Any, user_named("carol2")).await,
        "renaming",
    );
    assert_eq!(up.version, 3);
    // The old name is free again, the new one is taken.
    f.user("Carol").await;
    expect_conflict(
        f.try_create(Kind::User, user_named("CAROL2"), Vec::new()).await,
        "userName",
        "the new name",
    );
}

pub async fn unique_user_name_reusable_after_delete(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "unique-reuse").await;
    let u = f.user("dave").await;
    ok(f.delete(Kind::User, &u.id, Precondition::Any).await, "delete dave");
    let again = f.user("DAVE").await;
    assert_ne!(again.id, u.id, "a new resource must get a new id");
    assert_eq!(again.version, 1);
}

pub async fn unique_group_display_names_may_repeat(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "unique-groups").await;
    let a = f.group("Same", &[]).await;
    let b = f.group("same", &[]).await;
    let c = f.group("Same", &[]).await;
    assert_eq!(
        f.ids(Kind::Group, "displayName eq \"same\"").await,
        sorted([&a.id, &b.id, &c.id])
    );
    // A group's displayName never collides with a userName either.
    let u = f.user("Same").await;
    let g = ok(
        f.try_create(Kind::Group, group_doc("Same"), vec![Member::new(u.id.clone())])
            .await,
        "group named like a user",
    );
    assert_eq!(g.version, 1);
}
