//! /Users and /Groups over HTTP: create, read, replace, patch, delete, the
//! headers that go with them (Location, ETag, If-Match, If-None-Match),
//! projections on writes, and `User.groups` derived from memberships.

// Test code: a failed unwrap or assertion is a failed test (clippy.toml
// allows these in #[test] functions; the helpers here need it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

/// What every resource response carries: ETag equal to meta.version, a
/// meta block, and the id.
#[track_caller]
fn assert_resource_headers(r: &Resp, resource_type: &str) {
    let etag = r.etag();
    assert_eq!(r.json["meta"]["version"], Value::String(etag.clone()), "{}", r.text);
    assert!(etag.starts_with("W/\""), "weak ETag expected, got {etag}");
    assert_eq!(r.json["meta"]["resourceType"], resource_type, "{}", r.text);
    assert!(r.json["meta"]["created"].is_string(), "{}", r.text);
    assert!(r.json["meta"]["lastModified"].is_string(), "{}", r.text);
    assert!(!r.id().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_lifecycle_over_http() {
    let srv = TestServer::start().await;
    let c = &srv.client;

    let created = c.post("/Users", &user("bjensen")).await.expect(201);
    assert_resource_headers(&created, "User");
    let id = created.id();
    let location = created.header("location").expect("Location header on 201").to_string();
    assert_eq!(created.json["meta"]["location"], Value::String(location.clone()));
    assert_eq!(location, format!("{}/Users/{id}", srv.base_url));
    assert_eq!(created.json["userName"], "bjensen");
    assert_eq!(created.json["active"], true);
    assert!(created.json["schemas"].as_array().unwrap().contains(&json!(USER_URN)));
    assert_eq!(version_of(&created.etag()), 1);

    // A read returns what the create returned.
    let got = c.get(&format!("/Users/{id}")).await.expect(200);
    assert_resource_headers(&got, "User");
    assert_eq!(got.etag(), created.etag());
    assert_eq!(got.json, created.json);
    // The Location is where the resource is.
    let by_location = c.get(&location).await.expect(200);
    assert_eq!(by_location.id(), id);

    // PUT replaces the whole resource: what it leaves out is gone.
    let replacement = json!({
        "schemas": [USER_URN],
        "userName": "bjensen",
        "displayName": "Babs Jensen",
        "nickName": "Babs",
        "active": false
    });
    let put = c.put(&format!("/Users/{id}"), &replacement).await.expect(200);
    assert_resource_headers(&put, "User");
    assert_eq!(put.id(), id);
    assert_eq!(put.json["displayName"], "Babs Jensen");
    assert_eq!(put.json["active"], false);
    assert!(
        put.json.get("name").is_none(),
        "PUT must drop omitted attributes: {}",
        put.text
    );
    assert!(
        put.json.get("emails").is_none(),
        "PUT must drop omitted attributes: {}",
        put.text
    );
    assert_eq!(version_of(&put.etag()), 2);
    assert_eq!(put.json["meta"]["created"], created.json["meta"]["created"]);

    // PATCH returns 200 with the resource.
    let patched = c
        .patch(
            &format!("/Users/{id}"),
            &patch(json!([{"op": "replace", "path": "title", "value": "Tour Guide"}])),
        )
        .await
        .expect(200);
    assert_resource_headers(&patched, "User");
    assert_eq!(patched.json["title"], "Tour Guide");
    assert_eq!(patched.json["nickName"], "Babs");
    assert_eq!(version_of(&patched.etag()), 3);
    let got = c.get(&format!("/Users/{id}")).await.expect(200);
    assert_eq!(got.json, patched.json);

    // DELETE: 204 with an empty body (checked by the client), then 404.
    let deleted = c.delete(&format!("/Users/{id}")).await.expect(204);
    assert!(deleted.text.is_empty());
    c.get(&format!("/Users/{id}")).await.expect_error(404, None);
    c.delete(&format!("/Users/{id}")).await.expect_error(404, None);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_lifecycle_over_http() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let alice = c.create_user("alice").await["id"].as_str().unwrap().to_string();
    let bob = c.create_user("bob").await["id"].as_str().unwrap().to_string();

    let created = c.post("/Groups", &group("Admins", &[&alice])).await.expect(201);
    assert_resource_headers(&created, "Group");
    let gid = created.id();
    let location = created.header("location").expect("Location header").to_string();
    assert_eq!(created.json["meta"]["location"], Value::String(location.clone()));
    assert_eq!(location, format!("{}/Groups/{gid}", srv.base_url));
    assert_eq!(created.json["displayName"], "Admins");
    assert_eq!(member_ids(&created.json), vec![alice.clone()]);
    assert_eq!(created.json["members"][0]["type"], "User");

    let got = c.get(&format!("/Groups/{gid}")).await.expect(200);
    assert_eq!(got.json, created.json);
    assert_eq!(got.etag(), created.etag());

    // PUT replaces members too.
    let put = c
        .put(&format!("/Groups/{gid}"), &group("Administrators", &[&bob]))
        .await
        .expect(200);
    assert_resource_headers(&put, "Group");
    assert_eq!(put.json["displayName"], "Administrators");
    assert_eq!(member_ids(&put.json), vec![bob.clone()]);

    let patched = c
        .patch(
            &format!("/Groups/{gid}"),
            &patch(json!([{"op": "add", "path": "members", "value": [{"value": alice}]}])),
        )
        .await
        .expect(200);
    assert_resource_headers(&patched, "Group");
    let mut both = vec![alice.clone(), bob.clone()];
    both.sort();
    assert_eq!(member_ids(&patched.json), both);
    assert!(version_of(&patched.etag()) > version_of(&put.etag()));

    // excludedAttributes=members leaves the members out of a read.
    let slim = c
        .get(&format!("/Groups/{gid}?excludedAttributes=members"))
        .await
        .expect(200);
    assert!(slim.json.get("members").is_none(), "{}", slim.text);
    assert_eq!(slim.json["displayName"], "Administrators");

    c.delete(&format!("/Groups/{gid}")).await.expect(204);
    c.get(&format!("/Groups/{gid}")).await.expect_error(404, None);
    // The members themselves are untouched.
    c.get(&format!("/Users/{alice}")).await.expect(200);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_match_and_if_none_match() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let created = c.post("/Users", &user("etag.user")).await.expect(201);
    let id = created.id();
    let v1 = created.etag();
    let path = format!("/Users/{id}");

    // If-None-Match with the current version: 304, no body.
    let not_modified = c.req(Method::GET, &path).header("If-None-Match", &v1).send().await;
    assert_eq!(not_modified.status, 304, "{}", not_modified.text);
    assert_eq!(
        not_modified.header("etag"),
        Some(v1.as_str()),
        "a 304 names the current version"
    );

    // A PATCH with the current version succeeds and moves the version on.
    let ops = patch(json!([{"op": "replace", "path": "displayName", "value": "One"}]));
    let p = c
        .req(Method::PATCH, &path)
        .header("If-Match", &v1)
        .json(&ops)
        .send()
        .await
        .expect(200);
    let v2 = p.etag();
    assert_ne!(v1, v2);

    // If-None-Match with the old version: the resource changed, 200.
    let fresh = c
        .req(Method::GET, &path)
        .header("If-None-Match", &v1)
        .send()
        .await
        .expect(200);
    assert_eq!(fresh.etag(), v2);
    assert_eq!(fresh.json["displayName"], "One");

    // Stale If-Match on PUT, PATCH and DELETE: 412, nothing changes.
    let put_body = json!({"schemas": [USER_URN], "userName": "etag.user", "displayName": "Two"});
    c.req(Method::PUT, &path)
        .header("If-Match", &v1)
        .json(&put_body)
        .send()
        .await
        .expect_error(412, None);
    let ops2 = patch(json!([{"op": "replace", "path": "displayName", "value": "Three"}]));
    c.req(Method::PATCH, &path)
        .header("If-Match", &v1)
        .json(&ops2)
        .send()
        .await
        .expect_error(412, None);
    c.req(Method::DELETE, &path)
        .header("If-Match", &v1)
        .send()
        .await
        .expect_error(412, None);
    let after = c.get(&path).await.expect(200);
    assert_eq!(after.etag(), v2);
    assert_eq!(after.json["displayName"], "One");
    // `*` matches any current version.
    let star = patch(json!([{"op": "replace", "path": "nickName", "value": "Star"}]));
    let p = c
        .req(Method::PATCH, &path)
        .header("If-Match", "*")
        .json(&star)
        .send()
        .await
        .expect(200);
    let v2 = p.etag();

    // With the current version each works.
    let put = c
        .req(Method::PUT, &path)
        .header("If-Match", &v2)
        .json(&put_body)
        .send()
        .await
        .expect(200);
    assert_eq!(put.json["displayName"], "Two");
    let v3 = put.etag();
    c.req(Method::DELETE, &path)
        .header("If-Match", &v3)
        .send()
        .await
        .expect(204);
    c.get(&path).await.expect_error(404, None);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_and_reads_honour_attributes_and_excluded_attributes() {
    let srv = TestServer::start().await;
    let c = &srv.client;

    // POST ?attributes=userName: only id, schemas and userName come back.
    let created = c
        .post("/Users?attributes=userName", &user("proj.user"))
        .await
        .expect(201);
    let id = created.id();
    assert_eq!(created.json["userName"], "proj.user");
    assert!(created.json.get("emails").is_none(), "{}", created.text);
    assert!(created.json.get("name").is_none(), "{}", created.text);
    assert!(created.header("location").is_some());
    created.etag();

    // GET with excludedAttributes.
    let got = c
        .get(&format!("/Users/{id}?excludedAttributes=emails,name"))
        .await
        .expect(200);
    assert!(got.json.get("emails").is_none(), "{}", got.text);
    assert!(got.json.get("name").is_none(), "{}", got.text);
    assert_eq!(got.json["userName"], "proj.user");
    assert_eq!(got.json["active"], true);

    // GET with a sub-attribute.
    let got = c
        .get(&format!("/Users/{id}?attributes=name.givenName"))
        .await
        .expect(200);
    assert_eq!(got.json["name"], json!({"givenName": "Given"}));
    assert!(got.json.get("userName").is_none(), "{}", got.text);
    assert_eq!(got.json["id"], Value::String(id.clone()));

    // PUT ?excludedAttributes=emails.
    let mut body = user("proj.user");
    body["displayName"] = json!("Projected");
    let put = c
        .put(&format!("/Users/{id}?excludedAttributes=emails"), &body)
        .await
        .expect(200);
    assert!(put.json.get("emails").is_none(), "{}", put.text);
    assert_eq!(put.json["displayName"], "Projected");
    put.etag();

    // PATCH ?attributes=displayName.
    let patched = c
        .patch(
            &format!("/Users/{id}?attributes=displayName"),
            &patch(json!([{"op": "replace", "path": "displayName", "value": "Patched"}])),
        )
        .await
        .expect(200);
    assert_eq!(patched.json["displayName"], "Patched");
    assert!(patched.json.get("userName").is_none(), "{}", patched.text);
    assert!(patched.json.get("emails").is_none(), "{}", patched.text);
    assert_eq!(patched.json["id"], Value::String(id.clone()));
    patched.etag();

    // PATCH ?excludedAttributes=name.
    let patched = c
        .patch(
            &format!("/Users/{id}?excludedAttributes=name"),
            &patch(json!([{"op": "replace", "path": "nickName", "value": "Nick"}])),
        )
        .await
        .expect(200);
    assert!(patched.json.get("name").is_none(), "{}", patched.text);
    assert_eq!(patched.json["nickName"], "Nick");
    assert_eq!(patched.json["userName"], "proj.user");

    // Nothing was lost by projecting the responses.
    let full = c.get(&format!("/Users/{id}")).await.expect(200);
    assert_eq!(full.json["name"]["givenName"], "Given");
    assert_eq!(full.json["emails"][0]["value"], "proj.user@example.com");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_patch_returns_204_above_patch_response_max_members() {
    let srv = TestServer::start_with(|c| c.scim.patch_response_max_members = 3).await;
    let c = &srv.client;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(
            c.create_user(&format!("member{i}")).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }

    // A small group: 200 with the resource and its members.
    let small = c.create_group("small", &[&ids[0]]).await;
    let small_id = small["id"].as_str().unwrap();
    let r = c
        .patch(
            &format!("/Groups/{small_id}"),
            &patch(json!([{"op": "add", "path": "members", "value": [{"value": ids[1]}]}])),
        )
        .await
        .expect(200);
    assert_eq!(r.json["id"], small["id"]);
    assert_eq!(r.json["members"].as_array().map(Vec::len), Some(2), "{}", r.text);

    // A group above the limit: 204, no body, and the change is made.
    let refs: Vec<&str> = ids[..5].iter().map(String::as_str).collect();
    let big = c.create_group("big", &refs).await;
    let big_id = big["id"].as_str().unwrap();
    let r = c
        .patch(
            &format!("/Groups/{big_id}"),
            &patch(json!([{"op": "add", "path": "members", "value": [{"value": ids[5]}]}])),
        )
        .await
        .expect(204);
    assert!(r.text.is_empty());
    let got = c.get(&format!("/Groups/{big_id}")).await.expect(200);
    assert_eq!(got.json["members"].as_array().map(Vec::len), Some(6), "{}", got.text);
    assert!(member_ids(&got.json).contains(&ids[5]));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_groups_are_derived_from_memberships() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let uid = c.create_user("nested.user").await["id"].as_str().unwrap().to_string();
    let inner = c.create_group("inner", &[&uid]).await;
    let inner_id = inner["id"].as_str().unwrap().to_string();
    let outer = c.create_group("outer", &[&inner_id]).await;
    let outer_id = outer["id"].as_str().unwrap().to_string();
    assert_eq!(outer["members"][0]["type"], "Group");

    let got = c.get(&format!("/Users/{uid}")).await.expect(200);
    let groups = got.json["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("no groups: {}", got.text));
    let find = |gid: &str| {
        groups
            .iter()
            .find(|g| g["value"] == gid)
            .unwrap_or_else(|| panic!("group {gid} missing from {groups:?}"))
            .clone()
    };
    assert_eq!(groups.len(), 2, "{groups:?}");
    let direct = find(&inner_id);
    assert_eq!(direct["type"], "direct");
    assert_eq!(direct["display"], "inner");
    let indirect = find(&outer_id);
    assert_eq!(indirect["type"], "indirect");
    assert_eq!(indirect["display"], "outer");

    // groups is readOnly: a client cannot write it.
    let mut body = user("nested.user");
    body["groups"] = json!([]);
    let put = c.put(&format!("/Users/{uid}"), &body).await.expect(200);
    assert_eq!(put.json["groups"].as_array().map(Vec::len), Some(2), "{}", put.text);

    // Leaving the inner group leaves both.
    c.patch(
        &format!("/Groups/{inner_id}"),
        &patch(json!([{"op": "remove", "path": format!("members[value eq \"{uid}\"]")}])),
    )
    .await
    .expect(200);
    let got = c.get(&format!("/Users/{uid}")).await.expect(200);
    let left = got
        .json
        .get("groups")
        .and_then(Value::as_array)
        .map(Vec::len)
        .unwrap_or(0);
    assert_eq!(left, 0, "{}", got.text);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_user_removes_its_memberships() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let a = c.create_user("gone.user").await["id"].as_str().unwrap().to_string();
    let b = c.create_user("kept.user").await["id"].as_str().unwrap().to_string();
    let g = c.create_group("team", &[&a, &b]).await;
    let gid = g["id"].as_str().unwrap();
    c.delete(&format!("/Users/{a}")).await.expect(204);
    let got = c.get(&format!("/Groups/{gid}")).await.expect(200);
    assert_eq!(member_ids(&got.json), vec![b]);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_match_guards_group_membership_changes() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let a = c.create_user("guard.a").await["id"].as_str().unwrap().to_string();
    let b = c.create_user("guard.b").await["id"].as_str().unwrap().to_string();
    let created = c.post("/Groups", &group("guarded", &[])).await.expect(201);
    let gpath = format!("/Groups/{}", created.id());
    let v1 = created.etag();

    let add_a = patch(json!([{"op": "add", "path": "members", "value": [{"value": a}]}]));
    let r = c
        .req(Method::PATCH, &gpath)
        .header("If-Match", &v1)
        .json(&add_a)
        .send()
        .await
        .expect(200);
    let v2 = r.etag();
    assert_ne!(v1, v2, "a membership change is a new version");

    // Stale: refused, and b is not added.
    let add_b = patch(json!([{"op": "add", "path": "members", "value": [{"value": b}]}]));
    c.req(Method::PATCH, &gpath)
        .header("If-Match", &v1)
        .json(&add_b)
        .send()
        .await
        .expect_error(412, None);
    let got = c.get(&gpath).await.expect(200);
    assert_eq!(member_ids(&got.json), vec![a.clone()]);
    assert_eq!(got.etag(), v2);
    // If-None-Match sees the membership change too.
    let r = c
        .req(Method::GET, &gpath)
        .header("If-None-Match", &v1)
        .send()
        .await
        .expect(200);
    assert_eq!(r.etag(), v2);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_and_tokens_survive_a_restart() {
    let srv = TestServer::start().await;
    let uid = srv.client.create_user("durable").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let g = srv.client.create_group("durable group", &[&uid]).await;
    let gid = g["id"].as_str().unwrap().to_string();
    let before = srv.client.get(&format!("/Users/{uid}")).await.expect(200);

    let srv = srv.restart().await;
    let after = srv.client.get(&format!("/Users/{uid}")).await.expect(200);
    assert_eq!(after.json["userName"], "durable");
    assert_eq!(after.etag(), before.etag());
    assert_eq!(after.json["groups"][0]["value"], json!(gid));
    let got = srv.client.get(&format!("/Groups/{gid}")).await.expect(200);
    assert_eq!(member_ids(&got.json), vec![uid]);
    srv.stop().await;
}
