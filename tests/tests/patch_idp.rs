//! Identity providers end to end, with the requests they really send: the
//! Microsoft Entra ID sequence (string booleans, `Replace`, value-path
//! PATCHes, `manager` as a bare id, member removal by value list, read-only
//! attributes echoed back, extra members in PATCH bodies) and the Okta
//! sequence (paged lookups, PUT to deactivate, member replace to empty,
//! paging through everything).

// Test code: a failed unwrap or assertion is a failed test (clippy.toml
// allows these in #[test] functions; the helpers here need it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use tokio::task::JoinSet;

const MS_GROUP_URN: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

/// Entra: the user lookup, create with the enterprise extension and string
/// booleans, attribute updates, deactivation, delete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_user_provisioning() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let user_name = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com";

    // 1. Does the user exist?
    let r = c
        .filter("Users", &format!("userName eq \"{user_name}\""))
        .await
        .expect(200);
    assert_eq!(r.total(), 0);
    assert_eq!(r.json["Resources"], json!([]));

    // 2. Create, with meta, an empty roles list, the enterprise extension
    //    and "True" as a string.
    let body = json!({
        "schemas": [USER_URN, ENTERPRISE_URN],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": user_name,
        "active": "True",
        "displayName": "Test User",
        "emails": [{"primary": true, "type": "work", "value": "test.user@contoso.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
        ENTERPRISE_URN: {"department": "Sales", "employeeNumber": "1234", "costCenter": "CC-1"}
    });
    let created = c.post("/Users", &body).await.expect(201);
    let id = created.id();
    let upath = format!("/Users/{id}");
    assert_eq!(created.json["active"], true, "\"True\" must become the boolean true");
    assert_eq!(created.json["externalId"], "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef");
    assert_eq!(created.json[ENTERPRISE_URN]["department"], "Sales");
    assert!(
        created.json["schemas"]
            .as_array()
            .unwrap()
            .contains(&json!(ENTERPRISE_URN))
    );

    // 3. Found by userName and by externalId.
    let r = c
        .filter("Users", &format!("userName eq \"{user_name}\""))
        .await
        .expect(200);
    assert_eq!(r.total(), 1);
    assert_eq!(r.resources()[0]["id"], json!(id));
    let r = c
        .filter("Users", r#"externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef""#)
        .await
        .expect(200);
    assert_eq!(r.total(), 1);

    // 4. Value-path and sub-attribute replaces, "Replace" capitalised.
    let r = c
        .patch(
            &upath,
            &patch(json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@contoso.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}
            ])),
        )
        .await
        .expect(200);
    assert_eq!(
        r.json["emails"],
        json!([{"primary": true, "type": "work", "value": "updatedEmail@contoso.com"}])
    );
    assert_eq!(r.json["name"]["familyName"], "updatedFamilyName");
    assert_eq!(r.json["name"]["givenName"], "givenName");

    // 5. Path-less Replace with dotted and URN-qualified keys.
    let r = c
        .patch(
            &upath,
            &patch(json!([{"op": "Replace", "value": {
                "displayName": "Updated Name",
                "name.givenName": "updatedGivenName",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Engineering",
                "active": "True"
            }}])),
        )
        .await
        .expect(200);
    assert_eq!(r.json["displayName"], "Updated Name");
    assert_eq!(r.json["name"]["givenName"], "updatedGivenName");
    assert_eq!(r.json["name"]["familyName"], "updatedFamilyName");
    assert_eq!(r.json[ENTERPRISE_URN]["department"], "Engineering");
    assert_eq!(r.json[ENTERPRISE_URN]["employeeNumber"], "1234");
    assert_eq!(r.json["active"], true);

    // 6. Deactivate with "False" as a string.
    let r = c
        .patch(
            &upath,
            &patch(json!([{"op": "Replace", "path": "active", "value": "False"}])),
        )
        .await
        .expect(200);
    assert_eq!(r.json["active"], false);
    let got = c.get(&upath).await.expect(200);
    assert_eq!(got.json["active"], false);
    let r = c.filter("Users", "active eq false").await.expect(200);
    assert_eq!(r.total(), 1);

    // 7. Delete.
    c.delete(&upath).await.expect(204);
    c.get(&upath).await.expect_error(404, None);
    let r = c
        .filter("Users", &format!("userName eq \"{user_name}\""))
        .await
        .expect(200);
    assert_eq!(r.total(), 0);
    srv.stop().await;
}

/// Entra's PATCH dialects on users, one by one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_patch_dialects() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let manager = c.create_user("manager@contoso.com").await;
    let manager_id = manager["id"].as_str().unwrap().to_string();
    // A user without emails.
    let created = c
        .post(
            "/Users",
            &json!({"schemas": [USER_URN], "userName": "report@contoso.com", "active": true}),
        )
        .await
        .expect(201);
    let id = created.id();
    let upath = format!("/Users/{id}");

    // manager as a bare id string, with "Add".
    let manager_path = format!("{ENTERPRISE_URN}:manager");
    let r = c
        .patch(
            &upath,
            &patch(json!([{"op": "Add", "path": manager_path, "value": manager_id}])),
        )
        .await
        .expect(200);
    assert_eq!(
        r.json[ENTERPRISE_URN]["manager"]["value"],
        json!(manager_id),
        "{}",
        r.text
    );
    // ... and with "Replace".
    let r = c
        .patch(
            &upath,
            &patch(json!([{"op": "Replace", "path": manager_path, "value": manager_id}])),
        )
        .await
        .expect(200);
    assert_eq!(r.json[ENTERPRISE_URN]["manager"]["value"], json!(manager_id));

    // A value-path replace creates the missing work email.
    let r = c
        .patch(
            &upath,
            &patch(json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "report@contoso.com"}])),
        )
        .await
        .expect(200);
    let emails = r.json["emails"]
        .as_array()
        .unwrap_or_else(|| panic!("no emails: {}", r.text));
    assert_eq!(emails.len(), 1, "{}", r.text);
    assert_eq!(emails[0]["type"], "work");
    assert_eq!(emails[0]["value"], "report@contoso.com");
    let r = c
        .filter("Users", r#"emails[type eq "work"].value eq "report@contoso.com""#)
        .await
        .expect(200);
    assert_eq!(r.total(), 1, "Entra's valuePath.subAttr filter: {}", r.text);

    // Read-only id, meta and schemas echoed back in a path-less value, a
    // top-level id and a per-operation name: all ignored.
    let current = c.get(&upath).await.expect(200);
    let r = c
        .patch(
            &upath,
            &json!({
                "schemas": [PATCH_URN],
                "id": id,
                "Operations": [{
                    "op": "Replace",
                    "name": "replaceDisplayName",
                    "value": {
                        "id": id,
                        "schemas": [USER_URN],
                        "meta": {"resourceType": "User"},
                        "displayName": "Echoed"
                    }
                }]
            }),
        )
        .await
        .expect(200);
    assert_eq!(r.json["displayName"], "Echoed");
    assert_eq!(r.json["id"], json!(id));
    assert_eq!(r.json["meta"]["created"], current.json["meta"]["created"]);
    // But a different id is a modification of a readOnly attribute.
    c.patch(
        &upath,
        &patch(json!([{"op": "Replace", "value": {"id": "another-id", "displayName": "Nope"}}])),
    )
    .await
    .expect_error(400, Some("mutability"));

    // An Add of a single-valued attribute that is set replaces it.
    let r = c
        .patch(
            &upath,
            &patch(json!([{"op": "Add", "path": "displayName", "value": "Added"}])),
        )
        .await
        .expect(200);
    assert_eq!(r.json["displayName"], "Added");

    // Removing the manager.
    let r = c
        .patch(&upath, &patch(json!([{"op": "Remove", "path": manager_path}])))
        .await
        .expect(200);
    let mgr = r.json.get(ENTERPRISE_URN).and_then(|e| e.get("manager"));
    assert!(mgr.is_none(), "{}", r.text);
    srv.stop().await;
}

/// Entra group push: lookup, create (with Microsoft's own schema URN),
/// member add, membership check, removal by value list and by filter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_group_push() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let u1 = c.create_user("u1@contoso.com").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let u2 = c.create_user("u2@contoso.com").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let u3 = c.create_user("u3@contoso.com").await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let lookup = format!(
        "/Groups?excludedAttributes=members&filter={}",
        enc(r#"displayName eq "Entra Group""#)
    );
    let r = c.get(&lookup).await.expect(200);
    assert_eq!(r.total(), 0);

    let created = c
        .post(
            "/Groups",
            &json!({
                "schemas": [GROUP_URN, MS_GROUP_URN],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "Entra Group",
                "meta": {"resourceType": "Group"}
            }),
        )
        .await
        .expect(201);
    let gid = created.id();
    let gpath = format!("/Groups/{gid}");
    assert_eq!(created.json["displayName"], "Entra Group");
    assert!(
        !created.json["schemas"]
            .as_array()
            .unwrap()
            .contains(&json!(MS_GROUP_URN)),
        "unknown schema URNs are ignored, not stored: {}",
        created.text
    );
    let r = c.get(&lookup).await.expect(200);
    assert_eq!(r.total(), 1);
    assert!(r.resources()[0].get("members").is_none());

    // Add members with "$ref": null, a per-operation name and a top-level id.
    let r = c
        .patch(
            &gpath,
            &json!({
                "schemas": [PATCH_URN],
                "id": gid,
                "Operations": [{"name": "addMember", "op": "Add", "path": "members",
                                "value": [{"$ref": null, "value": u1}, {"$ref": null, "value": u2}]}]
            }),
        )
        .await
        .expect(200);
    let mut expected = vec![u1.clone(), u2.clone()];
    expected.sort();
    assert_eq!(member_ids(&r.json), expected);
    c.patch(
        &gpath,
        &patch(json!([{"op": "Add", "path": "members", "value": [{"value": u3}]}])),
    )
    .await
    .expect(200);

    // The membership check Entra runs.
    let is_member = |uid: String| {
        let c = c.clone();
        let gid = gid.clone();
        async move {
            let f = format!("id eq \"{gid}\" and members[value eq \"{uid}\"]");
            let r = c
                .get(&format!("/Groups?excludedAttributes=members&filter={}", enc(&f)))
                .await
                .expect(200);
            r.total() == 1
        }
    };
    assert!(is_member(u1.clone()).await);

    // Removal with a value list removes only those.
    let r = c
        .patch(
            &gpath,
            &patch(json!([{"name": "removeMember", "op": "Remove", "path": "members",
                           "value": [{"$ref": null, "value": u1}]}])),
        )
        .await
        .expect(200);
    let mut expected = vec![u2.clone(), u3.clone()];
    expected.sort();
    assert_eq!(member_ids(&r.json), expected);
    assert!(!is_member(u1.clone()).await);
    assert!(is_member(u2.clone()).await);

    // Removal by value filter.
    let r = c
        .patch(
            &gpath,
            &patch(json!([{"op": "Remove", "path": format!("members[value eq \"{u2}\"]")}])),
        )
        .await
        .expect(200);
    assert_eq!(member_ids(&r.json), vec![u3.clone()]);
    // The same again is no error (IdPs retry).
    c.patch(
        &gpath,
        &patch(json!([{"op": "Remove", "path": format!("members[value eq \"{u2}\"]")}])),
    )
    .await
    .expect(200);

    // The users see it.
    let got = c.get(&format!("/Users/{u3}")).await.expect(200);
    assert_eq!(got.json["groups"][0]["value"], json!(gid));
    let got = c.get(&format!("/Users/{u1}")).await.expect(200);
    assert_eq!(
        got.json
            .get("groups")
            .and_then(Value::as_array)
            .map(Vec::len)
            .unwrap_or(0),
        0
    );

    // Rename with a path-less Replace, then delete.
    let r = c
        .patch(
            &gpath,
            &patch(json!([{"op": "Replace", "value": {"id": gid, "displayName": "Renamed"}}])),
        )
        .await
        .expect(200);
    assert_eq!(r.json["displayName"], "Renamed");
    assert_eq!(member_ids(&r.json), vec![u3.clone()]);
    c.delete(&gpath).await.expect(204);
    c.get(&gpath).await.expect_error(404, None);
    srv.stop().await;
}

/// Okta: the paged lookup, create with `groups: []` and a password, PUT as a
/// full replacement to deactivate, PATCH to reactivate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_user_lifecycle() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let lookup = format!(
        "/Users?filter={}&startIndex=1&count=100",
        enc(r#"userName eq "test.user@okta.local""#)
    );
    let r = c.get(&lookup).await.expect(200);
    assert_eq!(r.total(), 0);
    assert_eq!(r.json["Resources"], json!([]));

    let created = c
        .post(
            "/Users",
            &json!({
                "schemas": [USER_URN],
                "userName": "test.user@okta.local",
                "name": {"givenName": "Test", "familyName": "User"},
                "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
                "displayName": "Test User",
                "locale": "en-US",
                "externalId": "00ujl29u0le5T6Aj10h7",
                "groups": [],
                "password": "1mz050nq",
                "active": true
            }),
        )
        .await
        .expect(201);
    let id = created.id();
    let upath = format!("/Users/{id}");
    assert!(!created.text.contains("1mz050nq"));
    assert_eq!(created.json["locale"], "en-US");

    let r = c.get(&lookup).await.expect(200);
    assert_eq!(r.total(), 1);
    assert_eq!(r.resources()[0]["id"], json!(id));

    // PUT: the whole user, as Okta sends it, deactivated and without locale.
    let mut full = c.get(&upath).await.expect(200).json;
    full["name"]["givenName"] = json!("Another");
    full["displayName"] = json!("Another User");
    full["active"] = json!(false);
    full["password"] = json!("1mz050nq");
    full.as_object_mut().unwrap().remove("locale");
    let put = c.put(&upath, &full).await.expect(200);
    assert_eq!(put.json["active"], false);
    assert_eq!(put.json["name"]["givenName"], "Another");
    assert!(put.json.get("locale").is_none(), "PUT replaces: {}", put.text);
    assert!(!put.text.contains("1mz050nq"));
    let got = c.get(&upath).await.expect(200);
    assert_eq!(got.json, put.json);

    // Reactivate the newer Okta way.
    let r = c
        .patch(&upath, &patch(json!([{"op": "replace", "value": {"active": true}}])))
        .await
        .expect(200);
    assert_eq!(r.json["active"], true);
    assert_eq!(r.json["displayName"], "Another User");
    srv.stop().await;
}

/// Okta group push: lookup, create, add members with `display`, rename,
/// remove one, replace all members with none, delete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_group_push() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let u1 = c.create_user("one@okta.local").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let u2 = c.create_user("two@okta.local").await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let lookup = format!(
        "/Groups?filter={}&startIndex=1&count=100",
        enc(r#"displayName eq "Test SCIMv2""#)
    );
    assert_eq!(c.get(&lookup).await.expect(200).total(), 0);
    let created = c
        .post(
            "/Groups",
            &json!({"schemas": [GROUP_URN], "displayName": "Test SCIMv2", "members": []}),
        )
        .await
        .expect(201);
    let gid = created.id();
    let gpath = format!("/Groups/{gid}");
    assert_eq!(c.get(&lookup).await.expect(200).total(), 1);

    let r = c
        .patch(
            &gpath,
            &patch(json!([{"op": "add", "path": "members", "value": [
                {"value": u1, "display": "one@okta.local"},
                {"value": u2, "display": "two@okta.local"}
            ]}])),
        )
        .await
        .expect(200);
    let mut both = vec![u1.clone(), u2.clone()];
    both.sort();
    assert_eq!(member_ids(&r.json), both);

    let r = c
        .patch(
            &gpath,
            &patch(json!([{"op": "replace", "value": {"id": gid, "displayName": "Test SCIMv2 renamed"}}])),
        )
        .await
        .expect(200);
    assert_eq!(r.json["displayName"], "Test SCIMv2 renamed");
    assert_eq!(member_ids(&r.json), both);

    let r = c
        .patch(
            &gpath,
            &patch(json!([{"op": "remove", "path": format!("members[value eq \"{u1}\"]")}])),
        )
        .await
        .expect(200);
    assert_eq!(member_ids(&r.json), vec![u2.clone()]);

    // Replace members with an empty list: the group is emptied.
    let r = c
        .patch(
            &gpath,
            &patch(json!([{"op": "replace", "path": "members", "value": []}])),
        )
        .await
        .expect(200);
    assert!(member_ids(&r.json).is_empty(), "{}", r.text);
    let got = c.get(&gpath).await.expect(200);
    assert!(member_ids(&got.json).is_empty(), "{}", got.text);
    let got = c.get(&format!("/Users/{u2}")).await.expect(200);
    assert_eq!(
        got.json
            .get("groups")
            .and_then(Value::as_array)
            .map(Vec::len)
            .unwrap_or(0),
        0
    );

    c.delete(&gpath).await.expect(204);
    assert_eq!(c.get(&lookup).await.expect(200).total(), 0);
    srv.stop().await;
}

/// Okta's import: every user and group, 100 at a time, by startIndex.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_pages_through_everything() {
    const USERS: usize = 205;
    let srv = TestServer::start().await;
    let c = &srv.client;
    let mut tasks = JoinSet::new();
    let mut created = BTreeSet::new();
    for i in 0..USERS {
        let c = c.clone();
        tasks.spawn(async move { c.create_user(&format!("import{i:03}@okta.local")).await });
        if tasks.len() >= 8
            && let Some(u) = tasks.join_next().await
        {
            created.insert(u.unwrap()["id"].as_str().unwrap().to_string());
        }
    }
    while let Some(u) = tasks.join_next().await {
        created.insert(u.unwrap()["id"].as_str().unwrap().to_string());
    }
    let first = created.iter().next().unwrap().clone();
    c.create_group("import group", &[&first]).await;
    assert_eq!(created.len(), USERS);

    let max_results = c.get("/ServiceProviderConfig").await.expect(200).json["filter"]["maxResults"]
        .as_u64()
        .unwrap();
    let page_size = max_results.min(100);
    let mut seen = Vec::new();
    let mut start = 1u64;
    let mut pages = 0;
    loop {
        let r = c.get(&format!("/Users?startIndex={start}&count=100")).await.expect(200);
        assert_eq!(r.total(), USERS as u64);
        assert_eq!(r.json["startIndex"], json!(start));
        let got = r.resources().len() as u64;
        assert_eq!(r.json["itemsPerPage"], json!(got));
        let remaining = USERS as u64 - (start - 1);
        assert_eq!(got, remaining.min(page_size), "page at {start}");
        seen.extend(r.resources().iter().map(|u| u["id"].as_str().unwrap().to_string()));
        start += got;
        pages += 1;
        if start > r.total() || got == 0 {
            break;
        }
    }
    assert_eq!(pages, USERS.div_ceil(page_size as usize));
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a user appeared on two pages");
    assert_eq!(unique, created);

    let groups = c.get("/Groups?startIndex=1&count=100").await.expect(200);
    assert_eq!(groups.total(), 1);
    assert_eq!(member_ids(&groups.resources()[0]), vec![first]);
    srv.stop().await;
}
