//! Nested groups on every backend: groups in groups, cycles refused with a
//! clear 400, `User.groups` with direct and indirect memberships, and
//! deletion updating both sides.

// Test code: a failed unwrap or assertion is a failed test (clippy.toml
// allows these in #[test] functions; the helpers here need it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// `User.groups` as (group id -> type).
async fn groups_of(c: &Scim, user: &str) -> BTreeMap<String, String> {
    let r = c.get(&format!("/Users/{user}")).await.expect(200);
    r.json["groups"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|g| {
                    assert!(
                        g["$ref"]
                            .as_str()
                            .unwrap()
                            .ends_with(&format!("/Groups/{}", g["value"].as_str().unwrap()))
                    );
                    (
                        g["value"].as_str().unwrap().to_string(),
                        g["type"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(g, t)| (g.to_string(), t.to_string())).collect()
}

async fn groups_nest_and_users_see_it(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let c = &srv.client;
    let u = id(&c.create_user("nest-u").await);
    let inner = id(&c.create_group("Inner", &[&u]).await);
    let middle = id(&c.create_group("Middle", &[&inner]).await);
    let outer = c
        .post(
            "/Groups",
            &json!({"schemas": [GROUP_URN], "displayName": "Outer", "members": [{"value": middle, "type": "Group"}]}),
        )
        .await
        .expect(201);
    let outer_id = id(&outer.json);
    let m = &outer.json["members"][0];
    assert_eq!(m["type"], "Group");
    assert_eq!(m["$ref"], format!("{}/Groups/{middle}", srv.base_url));
    assert_eq!(
        groups_of(c, &u).await,
        expect(&[(&inner, "direct"), (&middle, "indirect"), (&outer_id, "indirect")])
    );
    // Display names come along.
    let r = c.get(&format!("/Users/{u}")).await.expect(200);
    let displays: Vec<&str> = r.json["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["display"].as_str().unwrap())
        .collect();
    assert_eq!(displays.len(), 3);
    assert!(displays.contains(&"Outer"), "{displays:?}");
    // Direct and indirect at once: listed once, as direct.
    c.patch(
        &format!("/Groups/{outer_id}"),
        &patch(json!([{"op": "add", "path": "members", "value": [{"value": u}]}])),
    )
    .await
    .expect(200);
    assert_eq!(
        groups_of(c, &u).await,
        expect(&[(&inner, "direct"), (&middle, "indirect"), (&outer_id, "direct")])
    );
    // Removing the middle group from outer: outer stays (direct), middle too.
    c.patch(
        &format!("/Groups/{outer_id}"),
        &patch(json!([{"op": "remove", "path": format!("members[value eq \"{middle}\"]")}])),
    )
    .await
    .expect(200);
    assert_eq!(
        groups_of(c, &u).await,
        expect(&[(&inner, "direct"), (&middle, "indirect"), (&outer_id, "direct")])
    );
    // Deleting the inner group: the user loses it and what came through it.
    c.delete(&format!("/Groups/{inner}")).await.expect(204);
    assert_eq!(groups_of(c, &u).await, expect(&[(&outer_id, "direct")]));
    let m = c.get(&format!("/Groups/{middle}")).await.expect(200);
    assert!(
        m.json.get("members").is_none(),
        "the deleted group left middle: {}",
        m.text
    );
    // Deleting the user empties outer.
    c.delete(&format!("/Users/{u}")).await.expect(204);
    let o = c.get(&format!("/Groups/{outer_id}")).await.expect(200);
    assert!(o.json.get("members").is_none(), "{}", o.text);
    srv.stop().await;
}

async fn cycles_are_refused(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let c = &srv.client;
    let a = id(&c.create_group("Cycle A", &[]).await);
    let bb = id(&c.create_group("Cycle B", &[&a]).await);
    let cc = id(&c.create_group("Cycle C", &[&bb]).await);
    let add = |m: &str| patch(json!([{"op": "add", "path": "members", "value": [{"value": m, "type": "Group"}]}]));
    for (group, member) in [(&a, &cc), (&a, &bb), (&a, &a)] {
        let r = c
            .patch(&format!("/Groups/{group}"), &add(member))
            .await
            .expect_error(400, Some("invalidValue"));
        let detail = r.json["detail"].as_str().unwrap();
        assert!(detail.contains("cycle") && detail.contains(member.as_str()), "{detail}");
    }
    // By PUT too, and nothing changed.
    let r = c
        .put(&format!("/Groups/{a}"), &group("Cycle A", &[&cc]))
        .await
        .expect_error(400, Some("invalidValue"));
    assert!(r.json["detail"].as_str().unwrap().contains("cycle"));
    let a_now = c.get(&format!("/Groups/{a}")).await.expect(200);
    assert!(a_now.json.get("members").is_none(), "{}", a_now.text);
    assert_eq!(a_now.json["meta"]["version"], "W/\"1\"");
    srv.stop().await;
}

/// A membership change to a large group answers without rendering the
/// group (204 past `patch_response_max_members`), and the user sees it.
async fn large_groups_take_deltas(b: Backend) {
    let srv = TestServer::start_on_with(b, |c| c.scim.patch_response_max_members = 50).await;
    let c = &srv.client;
    let mut ids = Vec::new();
    for i in 0..60 {
        ids.push(id(&c.create_user(&format!("big-{i:02}")).await));
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let big = id(&c.create_group("Big", &refs[..59]).await);
    let parent = id(&c.create_group("Parent of big", &[&big]).await);
    let r = c
        .patch(
            &format!("/Groups/{big}"),
            &patch(json!([{"op": "add", "path": "members", "value": [{"value": ids[59]}]}])),
        )
        .await
        .expect(204);
    assert_eq!(version_of(&r.etag()), 2);
    assert_eq!(
        groups_of(c, &ids[59]).await,
        expect(&[(&big, "direct"), (&parent, "indirect")])
    );
    srv.stop().await;
}

backend_tests!(
    groups_nest_and_users_see_it,
    cycles_are_refused,
    large_groups_take_deltas
);
