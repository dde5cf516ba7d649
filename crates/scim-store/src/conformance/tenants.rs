//! Tenants and tokens.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test suite: a failed step must fail the test"
)]

use super::support::*;
use crate::{AuditQuery, Kind, Query, Store, StoreError, TokenRecord};
use chrono::{DateTime, Duration, SubsecRound, TimeZone, Utc};
use std::sync::Arc;

fn token(tenant: &str, created: DateTime<Utc>) -> TokenRecord {
    TokenRecord {
        id: unique("tok"),
        tenant: tenant.to_string(),
        hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
        description: Some("conformance".into()),
        user: None,
        created,
        last_used: None,
        revoked: None,
    }
}

/// Nothing left: an empty result, or `NotFound`.
#[track_caller]
fn assert_gone<T: std::fmt::Debug>(r: Result<T, StoreError>, empty: impl Fn(&T) -> bool, step: &str) {
    match r {
        Ok(v) if empty(&v) => {}
        Err(StoreError::NotFound) => {}
        other => panic!("{step}: expected nothing (empty or NotFound), got {other:?}"),
    }
}

pub async fn tenant_create_list_get(store: Arc<dyn Store>) {
    let names = [
        unique("conformance-tenant-b"),
        unique("conformance-tenant-a"),
        unique("conformance-tenant-c"),
    ];
    let mut created = Vec::new();
    for n in &names {
        let t = ok(store.create_tenant(n).await, &format!("create_tenant {n}"));
        assert_eq!(&t.name, n);
        assert!(
            uuid::Uuid::parse_str(&t.id).is_ok(),
            "tenant id '{}' is not a UUID",
            t.id
        );
        created.push(t);
    }
    for t in &created {
        let got = ok(
            store.tenant_by_name(&t.name).await,
            &format!("tenant_by_name {}", t.name),
        );
        assert_eq!(&got, t, "tenant_by_name must return the tenant create_tenant returned");
    }
    let all = ok(store.tenants().await, "tenants");
    for t in &created {
        assert!(all.contains(t), "tenants() lacks {t:?}");
    }
    for w in all.windows(2) {
        assert!(
            w[0].name <= w[1].name,
            "tenants() not ordered by name: '{}' before '{}'",
            w[0].name,
            w[1].name
        );
    }
}

pub async fn tenant_duplicate_name_conflict(store: Arc<dyn Store>) {
    let name = unique("conformance-dup");
    let first = ok(store.create_tenant(&name).await, "first create_tenant");
    expect_conflict(
        store.create_tenant(&name).await,
        "name",
        "a second tenant with the same name",
    );
    assert_eq!(
        ok(store.tenant_by_name(&name).await, "tenant_by_name"),
        first,
        "the failed create changed the tenant"
    );
}

pub async fn tenant_unknown_is_not_found(store: Arc<dyn Store>) {
    expect_not_found(
        store.tenant_by_name(&unique("conformance-never-created")).await,
        "tenant_by_name of an unknown name",
    );
    expect_not_found(
        store.delete_tenant(&uuid::Uuid::new_v4().to_string()).await,
        "delete_tenant of an unknown id",
    );
}

pub async fn tenant_delete_removes_everything(store: Arc<dyn Store>) {
    let doomed = Fixture::new(&store, "tenant-doomed").await;
    let other = Fixture::new(&store, "tenant-other").await;
    let u = doomed.user("u").await;
    let g = doomed.group("g", &[&u.id]).await;
    let tok = token(doomed.tenant(), Utc::now().trunc_subsecs(3));
    ok(store.create_token(tok.clone()).await, "create token");
    let ou = other.user("u").await;
    let otok = token(other.tenant(), Utc::now().trunc_subsecs(3));
    ok(
        store.create_token(otok.clone()).await,
        "create token of the other tenant",
    );
    let name = ok(store.tenants().await, "tenants")
        .into_iter()
        .find(|t| t.id == doomed.tenant())
        .expect("the tenant is listed")
        .name;

    ok(store.delete_tenant(doomed.tenant()).await, "delete_tenant");
    expect_not_found(store.tenant_by_name(&name).await, "tenant_by_name after delete");
    assert!(
        !ok(store.tenants().await, "tenants")
            .iter()
            .any(|t| t.id == doomed.tenant()),
        "a deleted tenant is listed"
    );
    expect_not_found(doomed.get(Kind::User, &u.id).await, "a user of a deleted tenant");
    expect_not_found(doomed.get(Kind::Group, &g.id).await, "a group of a deleted tenant");
    // Reads scoped to a tenant that no longer exists find nothing: an empty
    // result or NotFound, whichever the backend's schema makes natural.
    let users = store.query(&doomed.ctx, Kind::User, &Query::all(10)).await;
    assert_gone(
        users,
        |p| p.total == 0 && p.items.is_empty(),
        "query users of a deleted tenant",
    );
    let groups = store.groups_of(&doomed.ctx, &u.id).await;
    assert_gone(groups, Vec::is_empty, "groups_of in a deleted tenant");
    expect_not_found(store.token(&tok.id).await, "a token of a deleted tenant");
    assert_gone(
        store.tokens(Some(doomed.tenant())).await,
        Vec::is_empty,
        "tokens of a deleted tenant",
    );
    let everything = AuditQuery {
        limit: 100,
        ..AuditQuery::default()
    };
    assert_gone(
        store.audit(doomed.tenant(), &everything).await,
        Vec::is_empty,
        "audit of a deleted tenant",
    );

    assert_same_state(&ou, &other.get_ok(Kind::User, &ou.id).await, "the other tenant's user");
    assert_eq!(ok(store.token(&otok.id).await, "the other tenant's token"), otok);
    assert_eq!(other.audit_len().await, 1, "the other tenant's audit log");
    // The name is free again.
    ok(store.create_tenant(&name).await, "re-creating a deleted tenant's name");
}

pub async fn token_create_get_list(store: Arc<dyn Store>) {
    let a = Fixture::new(&store, "token-a").await;
    let b = Fixture::new(&store, "token-b").await;
    let now = Utc::now().trunc_subsecs(3);
    let mut t1 = token(a.tenant(), now - Duration::seconds(20));
    t1.user = Some("some-user".into());
    let t2 = token(a.tenant(), now - Duration::seconds(10));
    let t3 = token(b.tenant(), now - Duration::seconds(15));
    // Created out of order: listing is by age, not by insertion.
    for t in [&t2, &t1, &t3] {
        ok(
            store.create_token((*t).clone()).await,
            &format!("create_token {}", t.id),
        );
    }
    assert_eq!(
        ok(store.token(&t1.id).await, "token t1"),
        t1,
        "token(id) must return the record as created"
    );
    assert_eq!(
        ok(store.tokens(Some(a.tenant())).await, "tokens of a"),
        vec![t1.clone(), t2.clone()],
        "tokens of one tenant, oldest first"
    );
    assert_eq!(
        ok(store.tokens(Some(b.tenant())).await, "tokens of b"),
        vec![t3.clone()]
    );
    let all = ok(store.tokens(None).await, "all tokens");
    let ours: Vec<&TokenRecord> = all
        .iter()
        .filter(|t| [&t1.id, &t2.id, &t3.id].contains(&&t.id))
        .collect();
    assert_eq!(ours, vec![&t1, &t3, &t2], "all tokens, oldest first");
    for w in all.windows(2) {
        assert!(
            w[0].created <= w[1].created,
            "tokens(None) not oldest first: {} then {}",
            w[0].created,
            w[1].created
        );
    }
}

pub async fn token_create_errors(store: Arc<dyn Store>) {
    let a = Fixture::new(&store, "token-errors").await;
    let t = token(a.tenant(), Utc::now().trunc_subsecs(3));
    ok(store.create_token(t.clone()).await, "create_token");
    match store.create_token(t.clone()).await {
        Err(StoreError::Conflict { .. }) => {}
        other => panic!("a duplicate token id: expected Err(Conflict), got {other:?}"),
    }
    expect_not_found(
        store
            .create_token(token(&uuid::Uuid::new_v4().to_string(), t.created))
            .await,
        "a token of an unknown tenant",
    );
    let unknown = unique("tok-unknown");
    expect_not_found(store.token(&unknown).await, "token of an unknown id");
    expect_not_found(store.revoke_token(&unknown).await, "revoke of an unknown id");
    expect_not_found(store.touch_token(&unknown, Utc::now()).await, "touch of an unknown id");
    assert_eq!(
        ok(store.token(&t.id).await, "token"),
        t,
        "failed calls changed the token"
    );
}

pub async fn token_revoke_is_idempotent(store: Arc<dyn Store>) {
    let a = Fixture::new(&store, "token-revoke").await;
    let t = token(a.tenant(), Utc::now().trunc_subsecs(3));
    let keep = token(a.tenant(), t.created);
    ok(store.create_token(t.clone()).await, "create_token");
    ok(store.create_token(keep.clone()).await, "create_token");
    let before = Utc::now().trunc_subsecs(3);
    ok(store.revoke_token(&t.id).await, "revoke");
    let after = Utc::now();
    let revoked = ok(store.token(&t.id).await, "token after revoke");
    let at = revoked
        .revoked
        .unwrap_or_else(|| panic!("revoke_token did not set revoked: {revoked:?}"));
    assert!(
        before <= at && at <= after,
        "revoked at {at}, not between {before} and {after}"
    );
    ok(store.revoke_token(&t.id).await, "revoking again");
    assert!(
        ok(store.token(&t.id).await, "token").revoked.is_some(),
        "a second revoke un-revoked the token"
    );
    assert_eq!(
        ok(store.token(&keep.id).await, "other token"),
        keep,
        "revoke changed another token"
    );
    let listed = ok(store.tokens(Some(a.tenant())).await, "tokens");
    assert_eq!(listed.len(), 2, "revoked tokens are still listed");
}

pub async fn token_touch_sets_last_used(store: Arc<dyn Store>) {
    let a = Fixture::new(&store, "token-touch").await;
    let t = token(a.tenant(), Utc::now().trunc_subsecs(3));
    ok(store.create_token(t.clone()).await, "create_token");
    let first = Utc.with_ymd_and_hms(2030, 5, 1, 12, 0, 0).single().expect("valid time") + Duration::milliseconds(123);
    ok(store.touch_token(&t.id, first).await, "touch");
    assert_eq!(
        ok(store.token(&t.id).await, "token").last_used,
        Some(first),
        "last_used after touch"
    );
    let second = first + Duration::seconds(61);
    ok(store.touch_token(&t.id, second).await, "touch again");
    let got = ok(store.token(&t.id).await, "token");
    assert_eq!(got.last_used, Some(second), "last_used after a second touch");
    assert_eq!(
        TokenRecord { last_used: None, ..got },
        t,
        "touch changed more than last_used"
    );
}
