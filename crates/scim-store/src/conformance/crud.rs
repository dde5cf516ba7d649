//! Create, read, update, delete: ids, versions, timestamps, documents.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test suite: a failed step must fail the test"
)]

use super::support::*;
use crate::{Kind, Load, MemberCursor, Precondition, Query, Store, Stored, rfc3339};
use chrono::{SubsecRound, Utc};
use scim_core::members::MemberKind;
use scim_core::schema::USER_URN;
use serde_json::json;
use std::sync::Arc;

fn rich_user(user_name: &str) -> serde_json::Value {
    json!({
        "schemas": [USER_URN, super::EXTENSION_URN],
        "userName": user_name,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "displayName": "Ada Lovelace",
        "active": true,
        "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
        super::EXTENSION_URN: {"level": 3, "score": 1.5, "hiredAt": "2020-01-02T03:04:05Z", "remote": false,
            "badge": "QUJD", "site": "Lab", "nickCode": "Ada", "tags": ["a", "b"]},
    })
}

pub async fn crud_create_then_get(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "crud-get").await;
    let doc = user_doc(rich_user("ada"));
    let created = ok(f.try_create(Kind::User, doc.clone(), Vec::new()).await, "create user");
    assert_eq!(created.kind, Kind::User, "create returned the wrong kind");
    assert_eq!(created.doc, doc, "create returned a document other than the one stored");
    assert_eq!(created.members, None, "a user has no members");
    let got = f.get_ok(Kind::User, &created.id).await;
    assert_eq!(got.doc, doc, "get returned a document other than the one created");
    assert_eq!(got.id, created.id);
    assert_eq!(got.members, None, "get of a user returned members");

    let g = f.group("Admins", &[]).await;
    let got = f.get_ok(Kind::Group, &g.id).await;
    assert_eq!(
        got.doc,
        group_doc("Admins"),
        "get returned a group document other than the one created"
    );
    assert_eq!(got.kind, Kind::Group);
}

pub async fn crud_ids_are_unique_uuids(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "crud-ids").await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(f.user(&format!("user{i}")).await.id);
    }
    for i in 0..5 {
        ids.push(f.group(&format!("group{i}"), &[]).await.id);
    }
    for id in &ids {
        let parsed = uuid::Uuid::parse_str(id).unwrap_or_else(|e| panic!("id '{id}' is not a UUID: {e}"));
        assert_eq!(parsed.get_version_num(), 4, "id '{id}' is not a version 4 UUID");
    }
    let unique = sorted(&ids);
    let mut dedup = unique.clone();
    dedup.dedup();
    assert_eq!(dedup.len(), ids.len(), "ids repeat: {unique:?}");
}

pub async fn crud_create_sets_version_and_timestamps(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "crud-stamps").await;
    let before = Utc::now().trunc_subsecs(3);
    let u = f.user("stamped").await;
    let after = Utc::now();
    assert_eq!(u.version, 1, "a new resource has version 1");
    assert_eq!(u.created, u.modified, "created and modified differ on create");
    assert!(
        before <= u.created && u.created <= after,
        "created {} is not between {before} and {after}",
        u.created
    );
    let g = f.group("stamped", &[]).await;
    assert_eq!(g.version, 1, "a new group has version 1");
    assert_eq!(g.created, g.modified, "created and modified differ on group create");
}

pub async fn crud_to_resource_has_meta(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "crud-meta").await;
    let u = f.user_from(rich_user("meta")).await;
    let r = f.get_ok(Kind::User, &u.id).await.to_resource();
    assert_eq!(r["id"], json!(u.id), "to_resource id");
    assert_eq!(r["userName"], json!("meta"));
    assert_eq!(r["meta"]["version"], json!("W/\"1\""), "meta.version of a new resource");
    assert_eq!(r["meta"]["resourceType"], json!("User"));
    assert_eq!(r["meta"]["created"], json!(rfc3339(u.created)));
    assert_eq!(r["meta"]["lastModified"], json!(rfc3339(u.modified)));
    assert_eq!(r[super::EXTENSION_URN]["level"], json!(3));
    assert!(r.get("members").is_none(), "a user rendered with members");

    let g = f.group("meta group", &[&u.id]).await;
    let r = f.get_ok(Kind::Group, &g.id).await.to_resource();
    assert_eq!(r["meta"]["resourceType"], json!("Group"));
    assert_eq!(
        r["members"],
        json!([{"value": u.id, "type": "User"}]),
        "group members as rendered"
    );
}

pub async fn crud_update_replaces_document(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "crud-put").await;
    let u = f
        .user_from(json!({"schemas": [USER_URN], "userName": "put", "title": "Boss", "nickName": "P"}))
        .await;
    let new_doc = user_doc(json!({"schemas": [USER_URN], "userName": "put", "displayName": "Put Person"}));
    let updated = ok(
        f.put(Kind::User, &u.id, Precondition::Any, new_doc.clone()).await,
        "PUT user",
    );
    assert_eq!(
        updated.doc, new_doc,
        "update returned a document other than the new one"
    );
    assert_eq!(updated.version, 2, "the first update makes version 2");
    assert_eq!(updated.id, u.id);
    let got = f.get_ok(Kind::User, &u.id).await;
    assert_eq!(
        got.doc, new_doc,
        "after PUT the stored document must be exactly the new one (title and nickName gone)"
    );

    let g = f.group("before", &[&u.id]).await;
    let updated = ok(
        f.put(Kind::Group, &g.id, Precondition::Any, group_doc("after")).await,
        "PUT group",
    );
    assert_eq!(updated.members, None, "update returns the resource without members");
    let got = f.get_ok(Kind::Group, &g.id).await;
    assert_eq!(got.doc, group_doc("after"));
    assert_eq!(
        f.member_ids(&g.id).await,
        vec![u.id.clone()],
        "a document-only update changed the members"
    );
}

pub async fn crud_update_advances_modified_keeps_created(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "crud-modified").await;
    let u = f.user("mod").await;
    tick().await;
    let u2 = ok(
        f.put(Kind::User, &u.id, Precondition::Any, user_named("mod2")).await,
        "first update",
    );
    assert_eq!(u2.created, u.created, "update changed created");
    assert!(
        u2.modified > u.modified,
        "modified did not advance: {} then {}",
        u.modified,
        u2.modified
    );
    tick().await;
    let u3 = ok(
        f.put(Kind::User, &u.id, Precondition::Any, user_named("mod3")).await,
        "second update",
    );
    assert_eq!(u3.created, u.created, "update changed created");
    assert!(
        u3.modified > u2.modified,
        "modified did not advance: {} then {}",
        u2.modified,
        u3.modified
    );
    let got = f.get_ok(Kind::User, &u.id).await;
    assert_eq!(
        (got.created, got.modified),
        (u.created, u3.modified),
        "get after updates"
    );
}

pub async fn crud_read_back_equals_returned(store: Arc<dyn Store>) {
    // Timestamps have millisecond precision: what `create`/`update` return is
    // what a later `get` reads, so the POST response and a GET agree on
    // meta.lastModified (and ETag-like uses of it).
    let f = Fixture::new(&store, "crud-readback").await;
    let u = f.user_from(rich_user("readback")).await;
    let got = f.get_ok(Kind::User, &u.id).await;
    assert_same_state(
        &u,
        &got,
        "get after create must equal what create returned (timestamps to the millisecond)",
    );
    let up = ok(
        f.put(Kind::User, &u.id, Precondition::Any, user_doc(rich_user("readback2")))
            .await,
        "update",
    );
    let got = f.get_ok(Kind::User, &u.id).await;
    assert_same_state(
        &up,
        &got,
        "get after update must equal what update returned (timestamps to the millisecond)",
    );
}

/// `get_text` answers what `get` answers, the document as serde_json's
/// compact text of it, byte for byte (the server copies it into responses
/// as it is), after a create and after an update; never a group's members;
/// `NotFound` for an absent id and for an id of the other kind.
pub async fn crud_get_text_is_get_as_text(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "crud-get-text").await;
    let u = f.user_from(rich_user("text")).await;
    let member = f.user("text member").await;
    let g = f.group("text group", &[&member.id]).await;
    let assert_text = |what: &str, t: &crate::StoredText, s: &Stored| {
        assert_eq!(
            (t.kind, &t.id, t.version, t.created, t.modified),
            (s.kind, &s.id, s.version, s.created, s.modified),
            "{what}: the same resource"
        );
        assert_eq!(
            t.doc,
            serde_json::to_string(&s.doc).unwrap(),
            "{what}: the text is serde_json's compact form of the document, byte for byte"
        );
    };
    // Compared with `get`, not with what `create` returned: a store may
    // keep a document's members in an order of its own (PostgreSQL's jsonb).
    assert_text(
        "user",
        &ok(f.store.get_text(&f.ctx, Kind::User, &u.id).await, "get_text"),
        &f.get_ok(Kind::User, &u.id).await,
    );
    ok(
        f.put(Kind::User, &u.id, Precondition::Any, user_doc(rich_user("text2")))
            .await,
        "update",
    );
    let up = f.get_ok(Kind::User, &u.id).await;
    assert_eq!(up.version, u.version + 1, "the update is read back");
    assert_text(
        "user after update",
        &ok(f.store.get_text(&f.ctx, Kind::User, &u.id).await, "get_text"),
        &up,
    );
    let group = ok(
        f.store.get_text(&f.ctx, Kind::Group, &g.id).await,
        "get_text of a group",
    );
    assert_text("group", &group, &f.get_ok(Kind::Group, &g.id).await);
    assert!(
        !group.doc.contains("members"),
        "no members in a group's text: {}",
        group.doc
    );
    expect_not_found(
        f.store
            .get_text(&f.ctx, Kind::User, "00000000-0000-4000-8000-000000000000")
            .await,
        "get_text of an absent id",
    );
    expect_not_found(
        f.store.get_text(&f.ctx, Kind::Group, &u.id).await,
        "get_text of a user id as a Group",
    );
}

pub async fn crud_delete_then_get_is_not_found(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "crud-delete").await;
    let keep = f.user("keep").await;
    let u = f.user("gone").await;
    let g = f.group("gone", &[]).await;
    ok(f.delete(Kind::User, &u.id, Precondition::Any).await, "delete user");
    ok(f.delete(Kind::Group, &g.id, Precondition::Any).await, "delete group");
    expect_not_found(f.get(Kind::User, &u.id).await, "get of a deleted user");
    expect_not_found(f.get(Kind::Group, &g.id).await, "get of a deleted group");
    let (_, users) = f.query_all(Kind::User, None, None).await;
    assert_eq!(
        users.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        vec![keep.id],
        "query after delete"
    );
    let (total, _) = f.query_all(Kind::Group, None, None).await;
    assert_eq!(total, 0, "a deleted group is still listed");
}

pub async fn crud_delete_twice_is_not_found(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "crud-delete2").await;
    let u = f.user("twice").await;
    ok(f.delete(Kind::User, &u.id, Precondition::Any).await, "first delete");
    expect_not_found(f.delete(Kind::User, &u.id, Precondition::Any).await, "second delete");
    expect_not_found(
        f.put(Kind::User, &u.id, Precondition::Any, user_named("twice")).await,
        "update after delete",
    );
}

pub async fn crud_update_missing_is_not_found(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "crud-missing").await;
    let missing = uuid::Uuid::new_v4().to_string();
    expect_not_found(f.get(Kind::User, &missing).await, "get of an unknown id");
    expect_not_found(
        f.put(Kind::User, &missing, Precondition::Any, user_named("x")).await,
        "update of an unknown id",
    );
    expect_not_found(
        f.add_members(&missing, &[], Precondition::Any).await,
        "member update of an unknown group",
    );
    expect_not_found(
        f.delete(Kind::Group, &missing, Precondition::Any).await,
        "delete of an unknown id",
    );
    expect_not_found(f.get(Kind::User, "not-a-uuid").await, "get of a malformed id");
    assert_eq!(f.audit_len().await, 0, "failed calls appended audit events");
}

pub async fn crud_wrong_kind_is_not_found(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "crud-kind").await;
    let u = f.user("kind").await;
    let g = f.group("kind", &[]).await;
    expect_not_found(f.get(Kind::Group, &u.id).await, "get of a user id as a Group");
    expect_not_found(f.get(Kind::User, &g.id).await, "get of a group id as a User");
    expect_not_found(
        f.put(Kind::Group, &u.id, Precondition::Any, group_doc("x")).await,
        "update of a user id as a Group",
    );
    expect_not_found(
        f.delete(Kind::Group, &u.id, Precondition::Any).await,
        "delete of a user id as a Group",
    );
    expect_not_found(
        f.store
            .members(&f.ctx, &u.id, MemberCursor { after: None, limit: 10 })
            .await,
        "members of a user id",
    );
    assert_same_state(&u, &f.get_ok(Kind::User, &u.id).await, "wrong-kind calls");
}

pub async fn crud_group_with_members(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "crud-group").await;
    let a = f.user("a").await;
    let b = f.user("b").await;
    let g = f.group("two", &[&b.id, &a.id]).await;
    let got = f.get_ok(Kind::Group, &g.id).await;
    let members = got
        .members
        .clone()
        .expect("get with Load::WITH_MEMBERS must return Some(members)");
    let want = sorted([&a.id, &b.id]);
    assert_eq!(
        sorted(members.iter().map(|m| &m.value)),
        want,
        "members of the new group"
    );
    for m in &members {
        assert_eq!(
            m.kind,
            Some(MemberKind::User),
            "member {} has no kind filled in",
            m.value
        );
    }
    assert_eq!(f.member_ids(&g.id).await, want, "members() of the new group");
}

pub async fn crud_members_loaded_only_on_request(store: Arc<dyn Store>) {
    let f = Fixture::new(&store, "crud-load").await;
    let u = f.user("loaded").await;
    let g = f.group("loaded", &[&u.id]).await;
    let empty = f.group("empty", &[]).await;
    let without = ok(
        f.store.get(&f.ctx, Kind::Group, &g.id, Load::WITHOUT_MEMBERS).await,
        "get without members",
    );
    assert_eq!(without.members, None, "get with Load::WITHOUT_MEMBERS returned members");
    let with = f.get_ok(Kind::Group, &empty.id).await;
    assert_eq!(
        with.members,
        Some(Vec::new()),
        "an empty group read with members must have Some(empty)"
    );
    let user = f.get_ok(Kind::User, &u.id).await;
    assert_eq!(user.members, None, "a user read with Load::WITH_MEMBERS must have None");

    let mut q = Query::all(100);
    let page = ok(
        f.store.query(&f.ctx, Kind::Group, &q).await,
        "query groups without members",
    );
    assert!(
        page.items.iter().all(|s| s.members.is_none()),
        "query without load returned members"
    );
    q.load = Load::WITH_MEMBERS;
    let page = ok(
        f.store.query(&f.ctx, Kind::Group, &q).await,
        "query groups with members",
    );
    let by_id = |id: &str| -> Option<&Stored> { page.items.iter().find(|s| s.id == id) };
    let loaded = by_id(&g.id)
        .and_then(|s| s.members.clone())
        .expect("query with load returned no members");
    assert_eq!(sorted(loaded.iter().map(|m| &m.value)), vec![u.id.clone()]);
}

/// `ping` (what `/readyz` asks) answers on a working store, before and
/// after writes, and concurrently with them.
pub async fn ready_ping_answers(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
    let f = Fixture::new(&store, "ready-ping").await;
    let (pinged, created) = tokio::join!(store.ping(), f.user("pinged"));
    pinged.unwrap();
    store.ping().await.unwrap();
    assert_eq!(created.version, 1);
}
