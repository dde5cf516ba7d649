//! Concurrent calls: uniqueness and compare-and-swap hold under races, and
//! concurrent member adds are never lost.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test suite: a failed step must fail the test"
)]

use super::support::*;
use crate::{AuditOp, Kind, Precondition, Store, StoreError};
use std::sync::Arc;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

pub async fn concurrent_creates_one_user_name(store: Arc<dyn Store>) {
    const N: usize = 20;
    let f = Arc::new(Fixture::new(&store, "race-create").await);
    let barrier = Arc::new(Barrier::new(N));
    let mut set = JoinSet::new();
    for i in 0..N {
        let (f, barrier) = (f.clone(), barrier.clone());
        set.spawn(async move {
            // Case variants of one name: the unique key must fold them.
            let name = if i % 2 == 0 { "Racer" } else { "rACER" };
            barrier.wait().await;
            f.try_create(Kind::User, user_named(name), Vec::new()).await
        });
    }
    let results = join_all(set).await;
    let oks = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Conflict { attribute }) if attribute == "userName"))
        .count();
    assert_eq!(
        (oks, conflicts),
        (1, N - 1),
        "{N} racing creates of one userName: want 1 Ok and {} Conflict, got {results:?}",
        N - 1
    );
    assert_eq!(
        f.ids(Kind::User, "userName eq \"racer\"").await.len(),
        1,
        "users named racer"
    );
    let creates = f.audit().await.into_iter().filter(|e| e.op == AuditOp::Create).count();
    assert_eq!(creates, 1, "audit events for racing creates");
}

pub async fn concurrent_updates_same_if_match(store: Arc<dyn Store>) {
    const N: usize = 16;
    let f = Arc::new(Fixture::new(&store, "race-update").await);
    let u = f.user("cas").await;
    let barrier = Arc::new(Barrier::new(N));
    let mut set = JoinSet::new();
    for i in 0..N {
        let (f, barrier, id) = (f.clone(), barrier.clone(), u.id.clone());
        set.spawn(async move {
            barrier.wait().await;
            f.put(
                Kind::User,
                &id,
                Precondition::IfMatch(1),
                user_named(&format!("cas{i}")),
            )
            .await
        });
    }
    let results = join_all(set).await;
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let mismatches = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::VersionMismatch { current: 2 })))
        .count();
    assert_eq!(
        (winners.len(), mismatches),
        (1, N - 1),
        "{N} racing updates with If-Match 1: want 1 Ok and {} VersionMismatch {{ current: 2 }}, got {results:?}",
        N - 1
    );
    let got = f.get_ok(Kind::User, &u.id).await;
    assert_eq!(got.version, 2, "version after one successful update");
    assert_eq!(got.doc, winners[0].doc, "the stored document is the winner's");
    assert_eq!(f.audit_len().await, 2, "one create and one update event");
}

pub async fn concurrent_member_adds(store: Arc<dyn Store>) {
    const N: usize = 64;
    let f = Arc::new(Fixture::new(&store, "race-members").await);
    let mut ids = Vec::new();
    for i in 0..N {
        ids.push(f.user(&format!("member{i}")).await.id);
    }
    let g = f.group("busy", &[]).await;
    let barrier = Arc::new(Barrier::new(N));
    let mut set = JoinSet::new();
    for id in ids.clone() {
        let (f, barrier, group) = (f.clone(), barrier.clone(), g.id.clone());
        set.spawn(async move {
            barrier.wait().await;
            f.add_members(&group, &[&id], Precondition::Any).await
        });
    }
    for r in join_all(set).await {
        ok(r, "a concurrent single-member add (Update { doc: None })");
    }
    assert_eq!(
        f.member_ids(&g.id).await,
        sorted(&ids),
        "members after {N} concurrent adds: some were lost"
    );
    let got = f.get_ok(Kind::Group, &g.id).await;
    assert_eq!(got.version, 1 + N as u64, "version after {N} concurrent adds");
    let updates: Vec<u64> = f
        .audit()
        .await
        .into_iter()
        .filter(|e| e.resource_id == g.id && e.op == AuditOp::Update)
        .map(|e| e.version)
        .collect();
    assert_eq!(
        sorted(updates.iter().map(u64::to_string)),
        sorted((2..=1 + N as u64).map(|v| v.to_string())),
        "each add recorded with its own version"
    );
}
