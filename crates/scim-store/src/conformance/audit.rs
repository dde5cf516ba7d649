//! The audit log: exactly one event per successful mutation, with the
//! change `audit_change` defines; none for a failed one; queries by
//! sequence, time, resource and limit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test suite: a failed step must fail the test"
)]

use super::support::*;
use crate::{AuditEvent, AuditOp, AuditQuery, Kind, Precondition, Store, audit_change};
use chrono::{DateTime, SubsecRound, Utc};
use scim_core::members::{Member, MemberDelta};
use scim_core::schema::USER_URN;
use serde_json::{Value, json};
use std::sync::Arc;

/// What an event must say, apart from `seq` and `time`.
struct Want<'a> {
    request: &'a str,
    op: AuditOp,
    kind: Kind,
    id: &'a str,
    version: u64,
    change: Value,
}

fn check_event(f: &Fixture, e: &AuditEvent, want: &Want<'_>, window: (DateTime<Utc>, DateTime<Utc>)) {
    let step = format!(
        "audit event of request '{}' ({:?} {:?})",
        want.request, want.op, want.kind
    );
    assert_eq!(e.tenant, f.tenant(), "{step}: tenant");
    assert_eq!(e.actor, f.ctx.actor, "{step}: actor");
    assert_eq!(e.request_id, want.request, "{step}: request id");
    assert_eq!(e.op, want.op, "{step}: op");
    assert_eq!(e.kind, want.kind, "{step}: kind");
    assert_eq!(e.resource_id, want.id, "{step}: resource id");
    assert_eq!(e.version, want.version, "{step}: version");
    assert_eq!(
        e.change, want.change,
        "{step}: change (left: stored, right: audit_change)"
    );
    assert!(
        window.0 <= e.time && e.time <= window.1,
        "{step}: time {} outside {} ..= {}",
        e.time,
        window.0,
        window.1
    );
}

fn assert_seq_increases(events: &[AuditEvent]) {
    for w in events.windows(2) {
        assert!(
            w[0].seq < w[1].seq,
            "audit seq does not increase: {} then {}",
            w[0].seq,
            w[1].seq
        );
    }
}

pub async fn audit_one_event_per_mutation(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "audit-each").await;
    let start = Utc::now().trunc_subsecs(3);
    let doc = user_doc(json!({"schemas": [USER_URN], "userName": "audited", "title": "T"}));
    let u = ok(
        f.with_request("r1")
            .try_create(Kind::User, doc.clone(), Vec::new())
            .await,
        "create",
    );
    let g = ok(
        f.with_request("r2")
            .try_create(Kind::Group, group_doc("audited"), vec![Member::new(u.id.clone())])
            .await,
        "create group",
    );
    let new_doc = user_named("audited2");
    ok(
        f.with_request("r3")
            .put(Kind::User, &u.id, Precondition::IfMatch(1), new_doc.clone())
            .await,
        "update",
    );
    ok(
        f.with_request("r4").delete(Kind::User, &u.id, Precondition::Any).await,
        "delete",
    );
    let end = Utc::now();
    let events = f.audit().await;
    assert_eq!(
        events.len(),
        4,
        "4 mutations must give exactly 4 events, got {events:#?}"
    );
    let mut group_members = MemberDelta::default();
    group_members.add([Member::new(u.id.clone())]);
    let none = MemberDelta::default();
    let wants = [
        Want {
            request: "r1",
            op: AuditOp::Create,
            kind: Kind::User,
            id: &u.id,
            version: 1,
            change: change_of(AuditOp::Create, Some(&doc), &none),
        },
        Want {
            request: "r2",
            op: AuditOp::Create,
            kind: Kind::Group,
            id: &g.id,
            version: 1,
            change: change_of(AuditOp::Create, Some(&group_doc("audited")), &group_members),
        },
        Want {
            request: "r3",
            op: AuditOp::Update,
            kind: Kind::User,
            id: &u.id,
            version: 2,
            change: change_of(AuditOp::Update, Some(&new_doc), &none),
        },
        Want {
            request: "r4",
            op: AuditOp::Delete,
            kind: Kind::User,
            id: &u.id,
            version: 0,
            change: json!({}),
        },
    ];
    for (e, want) in events.iter().zip(&wants) {
        check_event(&f, e, want, (start, end));
    }
    assert_seq_increases(&events);
}

pub async fn audit_none_for_failed_mutations(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "audit-failed").await;
    let u = f.user("u").await;
    let g = f.group("g", &[]).await;
    let parent = f.group("parent", &[&g.id]).await;
    let before = f.audit().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    expect_conflict(
        f.try_create(Kind::User, user_named("U"), Vec::new()).await,
        "userName",
        "duplicate create",
    );
    expect_invalid(
        f.try_create(Kind::Group, group_doc("x"), vec![Member::new(unknown.clone())])
            .await,
        "create with unknown member",
    );
    expect_mismatch(
        f.put(Kind::User, &u.id, Precondition::IfMatch(9), user_named("v"))
            .await,
        1,
        "stale update",
    );
    expect_not_found(
        f.put(Kind::User, &unknown, Precondition::Any, user_named("v")).await,
        "update of unknown id",
    );
    expect_invalid(
        f.add_members(&g.id, &[&unknown], Precondition::Any).await,
        "unknown member",
    );
    expect_invalid(f.add_members(&g.id, &[&parent.id], Precondition::Any).await, "cycle");
    expect_mismatch(
        f.delete(Kind::Group, &g.id, Precondition::IfMatch(3)).await,
        1,
        "stale delete",
    );
    expect_not_found(
        f.delete(Kind::User, &unknown, Precondition::Any).await,
        "delete of unknown id",
    );
    let after = f.audit().await;
    assert_eq!(before, after, "failed mutations changed the audit log");
}

pub async fn audit_password_never_recorded(store: Arc<dyn Store>) {
    const SECRET: &str = "s3cr3t-Pa55word";
    let f = Fixture::new(&store, "audit-password").await;
    let u = f
        .user_from(json!({"schemas": [USER_URN], "userName": "pw", "password": SECRET}))
        .await;
    let doc = user_doc(json!({"schemas": [USER_URN], "userName": "pw", "password": format!("{SECRET}-2")}));
    ok(
        f.put(Kind::User, &u.id, Precondition::Any, doc).await,
        "update with password",
    );
    let events = f.audit().await;
    assert_eq!(events.len(), 2);
    for e in &events {
        let text = serde_json::to_string(e).expect("an event serializes");
        assert!(!text.contains(SECRET), "the password reached the audit log: {text}");
        assert!(
            e.change["doc"].get("password").is_none(),
            "the audit change has a password member: {}",
            e.change
        );
        assert_eq!(
            e.change["doc"]["userName"],
            json!("pw"),
            "the rest of the document is recorded"
        );
    }
}

pub async fn audit_member_changes_recorded(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "audit-members").await;
    let (a, b) = (f.user("a").await, f.user("b").await);
    let g = f.group("g", &[&a.id]).await;
    let start = Utc::now().trunc_subsecs(3);
    let mut add = MemberDelta::default();
    add.add([Member::new(b.id.clone())]);
    ok(
        f.with_request("add")
            .update(Kind::Group, &g.id, Precondition::Any, None, add.clone())
            .await,
        "add b",
    );
    let mut remove = MemberDelta::default();
    remove.remove([a.id.clone()]);
    ok(
        f.with_request("remove")
            .update(Kind::Group, &g.id, Precondition::Any, None, remove.clone())
            .await,
        "remove a",
    );
    let mut replace = MemberDelta::default();
    replace.replace_all([Member::new(a.id.clone())]);
    ok(
        f.with_request("replace")
            .update(
                Kind::Group,
                &g.id,
                Precondition::Any,
                Some(group_doc("g2")),
                replace.clone(),
            )
            .await,
        "replace",
    );
    let end = Utc::now();
    let events = f.audit().await;
    assert_eq!(events.len(), 6, "3 creates and 3 updates: {events:#?}");
    let wants = [
        Want {
            request: "add",
            op: AuditOp::Update,
            kind: Kind::Group,
            id: &g.id,
            version: 2,
            change: change_of(AuditOp::Update, None, &add),
        },
        Want {
            request: "remove",
            op: AuditOp::Update,
            kind: Kind::Group,
            id: &g.id,
            version: 3,
            change: change_of(AuditOp::Update, None, &remove),
        },
        Want {
            request: "replace",
            op: AuditOp::Update,
            kind: Kind::Group,
            id: &g.id,
            version: 4,
            change: change_of(AuditOp::Update, Some(&group_doc("g2")), &replace),
        },
    ];
    for (e, want) in events[3..].iter().zip(&wants) {
        check_event(&f, e, want, (start, end));
    }
}

pub async fn audit_query_filters(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "audit-query").await;
    let u = f.user("u").await;
    let v = f.user("v").await;
    tick().await;
    for i in 0..3 {
        ok(
            f.put(Kind::User, &u.id, Precondition::Any, user_named(&format!("u{i}")))
                .await,
            "update u",
        );
        ok(
            f.put(Kind::User, &v.id, Precondition::Any, user_named(&format!("v{i}")))
                .await,
            "update v",
        );
        tick().await;
    }
    let all = f.audit().await;
    assert_eq!(all.len(), 8);
    let query = |q: AuditQuery| {
        let store = f.store.clone();
        let tenant = f.tenant().to_string();
        async move { ok(store.audit(&tenant, &q).await, &format!("audit {q:?}")) }
    };
    let expect = |q: &AuditQuery| -> Vec<AuditEvent> {
        all.iter()
            .filter(|e| q.after_seq.is_none_or(|s| e.seq > s))
            .filter(|e| q.since.is_none_or(|s| e.time >= s))
            .filter(|e| q.resource_id.as_ref().is_none_or(|r| &e.resource_id == r))
            .take(q.limit as usize)
            .cloned()
            .collect()
    };
    let cases = [
        AuditQuery {
            after_seq: Some(all[2].seq),
            limit: 100,
            ..AuditQuery::default()
        },
        AuditQuery {
            after_seq: Some(all[7].seq),
            limit: 100,
            ..AuditQuery::default()
        },
        AuditQuery {
            since: Some(all[4].time),
            limit: 100,
            ..AuditQuery::default()
        },
        AuditQuery {
            resource_id: Some(v.id.clone()),
            limit: 100,
            ..AuditQuery::default()
        },
        AuditQuery {
            limit: 3,
            ..AuditQuery::default()
        },
        AuditQuery {
            after_seq: Some(all[1].seq),
            limit: 2,
            ..AuditQuery::default()
        },
        AuditQuery {
            after_seq: Some(all[3].seq),
            resource_id: Some(u.id.clone()),
            limit: 100,
            ..AuditQuery::default()
        },
        AuditQuery {
            since: Some(all[2].time),
            resource_id: Some(v.id.clone()),
            limit: 1,
            ..AuditQuery::default()
        },
        AuditQuery {
            resource_id: Some(uuid::Uuid::new_v4().to_string()),
            limit: 100,
            ..AuditQuery::default()
        },
    ];
    for q in cases {
        let want = expect(&q);
        let got = query(q.clone()).await;
        let seqs = |v: &[AuditEvent]| v.iter().map(|e| e.seq).collect::<Vec<_>>();
        assert_eq!(
            seqs(&got),
            seqs(&want),
            "audit query {q:?}: seqs (left: store, right: expected)"
        );
    }
    // The events after the third update of u belong to the later updates.
    let later = query(AuditQuery {
        after_seq: Some(all[2].seq),
        limit: 100,
        ..AuditQuery::default()
    })
    .await;
    assert_eq!(later.len(), 5);
}

pub async fn audit_seq_increases(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "audit-seq").await;
    let u = f.user("u").await;
    let g = f.group("g", &[]).await;
    for i in 0..5 {
        ok(
            f.add_members(&g.id, &[&u.id], Precondition::Any).await,
            &format!("add {i}"),
        );
        ok(
            f.remove_members(&g.id, &[&u.id], Precondition::Any).await,
            &format!("remove {i}"),
        );
    }
    ok(f.delete(Kind::Group, &g.id, Precondition::Any).await, "delete");
    let events = f.audit().await;
    assert_eq!(events.len(), 13, "2 creates, 10 updates, 1 delete");
    assert_seq_increases(&events);
    let versions: Vec<u64> = events
        .iter()
        .filter(|e| e.resource_id == g.id)
        .map(|e| e.version)
        .collect();
    assert_eq!(
        versions,
        vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0],
        "versions recorded for the group"
    );
    let last = events.last().map(|e| e.seq).unwrap_or(0);
    let none = ok(
        f.store
            .audit(
                f.tenant(),
                &AuditQuery {
                    after_seq: Some(last),
                    limit: 10,
                    ..AuditQuery::default()
                },
            )
            .await,
        "after the last",
    );
    assert!(none.is_empty(), "events after the last seq: {none:?}");
}

/// What `audit_change` says an event's change is, as a stored event holds it.
fn change_of(op: AuditOp, doc: Option<&Value>, members: &MemberDelta) -> Value {
    audit_change(op, doc, members)
        .to_value()
        .expect("an audit change serialises")
}
