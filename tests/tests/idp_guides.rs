//! The request shapes each guide in `docs/idp/` describes, replayed on
//! every backend: Entra ID with and without the `aadOptscim062020` flag,
//! Okta's OIN PATCH flow and its GET-then-PUT flow, OneLogin, JumpCloud's
//! test connection (create and delete a user and a group), and Google
//! Workspace's `GET /Users?count=1` probe.

// Test code: a failed unwrap or assertion is a failed test (clippy.toml
// allows these in #[test] functions; the helpers here need it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{Value, json};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// Entra's connection test and its lookups before a create.
async fn entra_probe(c: &Scim) {
    let probe = format!("userName eq \"{}\"", uuid::Uuid::new_v4());
    let r = c.filter("Users", &probe).await.expect(200);
    assert_eq!((r.total(), r.resources().len()), (0, 0));
    let r = c
        .get(&format!(
            "/Groups?excludedAttributes=members&filter={}",
            enc(r#"displayName eq "nobody""#)
        ))
        .await
        .expect(200);
    assert_eq!(r.total(), 0);
}

fn entra_user(upn: &str) -> Value {
    json!({
        "schemas": [USER_URN, ENTERPRISE_URN],
        "externalId": format!("ext-{upn}"),
        "userName": upn,
        "active": true,
        "displayName": "Entra User",
        "emails": [{"primary": true, "type": "work", "value": upn}],
        "name": {"formatted": "Entra User", "familyName": "User", "givenName": "Entra"},
        ENTERPRISE_URN: {"department": "Sales", "employeeNumber": "42"}
    })
}

/// Entra without `aadOptscim062020` (the default for older apps): `Replace`
/// and `Add` capitalised, booleans as strings, member removal as a value
/// list under `path: members`.
async fn entra_without_flag(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let c = &srv.client;
    entra_probe(c).await;
    let u = c.post("/Users", &entra_user("legacy@contoso.com")).await.expect(201);
    let uid = id(&u.json);
    let r = c
        .patch(
            &format!("/Users/{uid}"),
            &patch(json!([
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "moved@contoso.com"},
                {"op": "Add", "path": format!("{ENTERPRISE_URN}:manager"), "value": "not-checked-manager-id"},
                {"op": "Replace", "value": {"displayName": "Renamed", "name.givenName": "Ren"}}
            ])),
        )
        .await
        .expect(200);
    assert_eq!(r.json["active"], false);
    assert_eq!(r.json["emails"][0]["value"], "moved@contoso.com");
    assert_eq!(r.json[ENTERPRISE_URN]["manager"]["value"], "not-checked-manager-id");
    assert_eq!(
        (r.json["displayName"].clone(), r.json["name"]["givenName"].clone()),
        (json!("Renamed"), json!("Ren"))
    );
    let g = c.create_group("Entra legacy group", &[]).await;
    let gid = id(&g);
    c.patch(
        &format!("/Groups/{gid}"),
        &patch(json!([{"op": "Add", "path": "members", "value": [{"value": uid}]}])),
    )
    .await
    .expect(200);
    let r = c
        .get(&format!(
            "/Groups?filter={}&excludedAttributes=members",
            enc(&format!("id eq \"{gid}\" and members[value eq \"{uid}\"]"))
        ))
        .await
        .expect(200);
    assert_eq!(r.total(), 1, "Entra's membership check");
    let r = c
        .patch(
            &format!("/Groups/{gid}"),
            &patch(json!([{"op": "Remove", "path": "members", "value": [{"value": uid}]}])),
        )
        .await
        .expect(200);
    assert!(r.json.get("members").is_none(), "{}", r.text);
    c.delete(&format!("/Users/{uid}")).await.expect(204);
    srv.stop().await;
}

/// Entra with `aadOptscim062020`: lower-case ops, real booleans, member
/// removal by value filter, and the enterprise manager as an object.
async fn entra_with_flag(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let c = &srv.client;
    entra_probe(c).await;
    let uid = id(&c
        .post("/Users", &entra_user("flagged@contoso.com"))
        .await
        .expect(201)
        .json);
    let r = c
        .patch(
            &format!("/Users/{uid}"),
            &patch(json!([
                {"op": "replace", "path": "active", "value": false},
                {"op": "add", "path": format!("{ENTERPRISE_URN}:manager"), "value": {"value": "mgr-1"}},
                {"op": "replace", "path": "title", "value": "Lead"}
            ])),
        )
        .await
        .expect(200);
    assert_eq!(
        (r.json["active"].clone(), r.json["title"].clone()),
        (json!(false), json!("Lead"))
    );
    assert_eq!(r.json[ENTERPRISE_URN]["manager"]["value"], "mgr-1");
    let g = c.create_group("Entra flagged group", &[&uid]).await;
    let r = c
        .patch(
            &format!("/Groups/{}", id(&g)),
            &patch(json!([{"op": "remove", "path": format!("members[value eq \"{uid}\"]")}])),
        )
        .await
        .expect(200);
    assert!(r.json.get("members").is_none(), "{}", r.text);
    srv.stop().await;
}

/// Okta, OIN integrations: lookups with startIndex/count, create with a
/// password and `groups: []`, deactivation by path-less replace, group push
/// with `display` in members, rename, removal by filter.
async fn okta_oin_patch_flow(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let c = &srv.client;
    let r = c
        .get(&format!(
            "/Users?filter={}&startIndex=1&count=100",
            enc(r#"userName eq "okta@example.com""#)
        ))
        .await
        .expect(200);
    assert_eq!(r.total(), 0);
    let body = json!({
        "schemas": [USER_URN], "userName": "okta@example.com",
        "name": {"givenName": "Okta", "familyName": "User"},
        "emails": [{"primary": true, "value": "okta@example.com", "type": "work"}],
        "displayName": "Okta User", "locale": "en-US", "externalId": "00u1", "groups": [],
        "password": "1mP@ssw0rd", "active": true
    });
    let uid = id(&c.post("/Users", &body).await.expect(201).json);
    let r = c
        .patch(
            &format!("/Users/{uid}"),
            &patch(json!([{"op": "replace", "value": {"active": false}}])),
        )
        .await
        .expect(200);
    assert_eq!(r.json["active"], false);
    assert!(r.json.get("password").is_none());
    let g = c
        .post(
            "/Groups",
            &json!({"schemas": [GROUP_URN], "displayName": "Okta Group", "members": []}),
        )
        .await
        .expect(201);
    let gid = id(&g.json);
    c.patch(
        &format!("/Groups/{gid}"),
        &patch(json!([{"op": "add", "path": "members", "value": [{"value": uid, "display": "okta@example.com"}]}])),
    )
    .await
    .expect(200);
    let r = c
        .patch(
            &format!("/Groups/{gid}"),
            &patch(json!([{"op": "replace", "value": {"id": gid, "displayName": "Okta Group 2"}}])),
        )
        .await
        .expect(200);
    assert_eq!(r.json["displayName"], "Okta Group 2");
    assert_eq!(member_ids(&r.json), std::slice::from_ref(&uid));
    let r = c
        .patch(
            &format!("/Groups/{gid}"),
            &patch(json!([{"op": "remove", "path": format!("members[value eq \"{uid}\"]")}])),
        )
        .await
        .expect(200);
    assert!(r.json.get("members").is_none());
    c.delete(&format!("/Groups/{gid}")).await.expect(204);
    srv.stop().await;
}

/// Okta, custom (non-OIN) apps: every update is a GET of the current
/// resource and a PUT of the whole of it, deactivation included.
async fn okta_get_then_put_flow(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let c = &srv.client;
    let uid = c.create_user("okta-put@example.com").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut current = c.get(&format!("/Users/{uid}")).await.expect(200).json;
    current["name"]["familyName"] = json!("Changed");
    current["active"] = json!(false);
    let r = c.put(&format!("/Users/{uid}"), &current).await.expect(200);
    assert_eq!(
        (r.json["name"]["familyName"].clone(), r.json["active"].clone()),
        (json!("Changed"), json!(false))
    );
    assert_eq!(r.json["meta"]["version"], "W/\"2\"");
    let other = c.create_user("okta-put-2@example.com").await;
    let gid = id(&c.create_group("Okta PUT group", &[&uid]).await);
    let mut g = c.get(&format!("/Groups/{gid}")).await.expect(200).json;
    g["members"] = json!([{"value": uid, "display": "okta-put@example.com"}, {"value": other["id"], "display": "x"}]);
    let r = c.put(&format!("/Groups/{gid}"), &g).await.expect(200);
    assert_eq!(r.json["members"].as_array().unwrap().len(), 2);
    srv.stop().await;
}

/// OneLogin: its SCIM JSON template on create, PUT on every update,
/// membership by PATCH, DELETE on removal.
async fn onelogin_flow(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let c = &srv.client;
    let body = json!({
        "schemas": [USER_URN, ENTERPRISE_URN],
        "userName": "ol.user@example.com",
        "name": {"givenName": "One", "familyName": "Login"},
        "emails": [{"value": "ol.user@example.com", "type": "work", "primary": true}],
        "externalId": "12345678",
        ENTERPRISE_URN: {"department": "IT"}
    });
    let created = c.post("/Users", &body).await.expect(201);
    let uid = id(&created.json);
    let mut update = body.clone();
    update["title"] = json!("Admin");
    c.put(&format!("/Users/{uid}"), &update).await.expect(200);
    let gid = id(&c.create_group("OneLogin role", &[]).await);
    c.patch(
        &format!("/Groups/{gid}"),
        &patch(json!([{"op": "add", "path": "members", "value": [{"value": uid}]}])),
    )
    .await
    .expect(200);
    c.patch(
        &format!("/Groups/{gid}"),
        &patch(json!([{"op": "remove", "path": "members", "value": [{"value": uid}]}])),
    )
    .await
    .expect(200);
    c.delete(&format!("/Users/{uid}")).await.expect(204);
    srv.stop().await;
}

/// JumpCloud's "Test Connection": creates a user and a group with random
/// names, reads them, deletes both.
async fn jumpcloud_test_connection(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let c = &srv.client;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let body = json!({
        "schemas": [USER_URN, ENTERPRISE_URN],
        "userName": format!("jctest-{tag}@jumpcloud.com"),
        "externalId": tag,
        "name": {"givenName": "JumpCloud", "familyName": "Test"},
        "displayName": "JumpCloud Test",
        "emails": [{"value": format!("jctest-{tag}@jumpcloud.com"), "type": "work", "primary": true}],
        "active": true
    });
    let u = c.post("/Users", &body).await.expect(201);
    let uid = id(&u.json);
    c.get(&format!("/Users/{uid}")).await.expect(200);
    let g = c
        .post(
            "/Groups",
            &json!({"schemas": [GROUP_URN], "displayName": format!("jctest-{tag}")}),
        )
        .await
        .expect(201);
    let gid = id(&g.json);
    c.get(&format!("/Groups/{gid}")).await.expect(200);
    c.delete(&format!("/Users/{uid}")).await.expect(204);
    c.delete(&format!("/Groups/{gid}")).await.expect(204);
    c.get(&format!("/Users/{uid}")).await.expect_error(404, None);
    c.get(&format!("/Groups/{gid}")).await.expect_error(404, None);
    srv.stop().await;
}

/// Google Workspace: the connection probe `GET /Users?count=1`, then
/// create, PUT update, and deactivation.
async fn google_workspace_probe(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let c = &srv.client;
    let r = c.get("/Users?count=1").await.expect(200);
    assert_eq!(r.json["schemas"], json!([LIST_URN]));
    assert_eq!((r.total(), r.json["itemsPerPage"].as_u64()), (0, Some(0)));
    c.create_user("g1@example.com").await;
    c.create_user("g2@example.com").await;
    let r = c.get("/Users?count=1").await.expect(200);
    assert_eq!(
        (r.total(), r.resources().len(), r.json["startIndex"].as_u64()),
        (2, 1, Some(1))
    );
    let mut u = r.resources()[0].clone();
    let uid = id(&u);
    u["active"] = json!(false);
    let r = c.put(&format!("/Users/{uid}"), &u).await.expect(200);
    assert_eq!(r.json["active"], false);
    srv.stop().await;
}

backend_tests!(
    entra_without_flag,
    entra_with_flag,
    okta_oin_patch_flow,
    okta_get_then_put_flow,
    onelogin_flow,
    jumpcloud_test_connection,
    google_workspace_probe,
);
