//! Discovery: /ServiceProviderConfig, /Schemas, /ResourceTypes, consistent
//! with each other and with what the server does, read-only (405), and
//! served without a token.

// Test code: a failed unwrap or assertion is a failed test (clippy.toml
// allows these in #[test] functions; the helpers here need it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const SPC_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RT_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_provider_config_describes_the_server() {
    let srv = TestServer::start_with(|c| c.scim.max_results = 50).await;
    let anonymous = srv.client_with(None);
    let spc = anonymous.get("/ServiceProviderConfig").await.expect(200);
    let v = &spc.json;
    assert_eq!(v["schemas"], json!([SPC_URN]), "{}", spc.text);
    assert_eq!(v["patch"]["supported"], true);
    assert_eq!(v["filter"]["supported"], true);
    assert_eq!(v["filter"]["maxResults"], json!(50));
    assert_eq!(v["etag"]["supported"], true);
    assert_eq!(v["sort"]["supported"], true);
    assert!(v["changePassword"]["supported"].is_boolean());
    assert_eq!(v["bulk"]["supported"], true);
    assert!(v["bulk"]["maxOperations"].is_u64(), "{}", spc.text);
    assert!(v["bulk"]["maxPayloadSize"].is_u64(), "{}", spc.text);
    let schemes = v["authenticationSchemes"].as_array().unwrap();
    assert!(
        schemes.iter().any(|s| s["type"] == "oauthbearertoken"),
        "bearer tokens must be advertised: {schemes:?}"
    );
    // The same with a token.
    let authed = srv.client.get("/ServiceProviderConfig").await.expect(200);
    assert_eq!(authed.json, spc.json);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_and_resource_types_agree() {
    let srv = TestServer::start().await;
    let c = srv.client_with(None);

    let schemas = c.get("/Schemas").await.expect(200);
    assert_eq!(schemas.json["schemas"], json!([LIST_URN]));
    let list = schemas.resources().clone();
    assert_eq!(schemas.total(), list.len() as u64);
    let ids: BTreeSet<String> = list.iter().map(|s| s["id"].as_str().unwrap().to_string()).collect();
    for urn in [USER_URN, GROUP_URN, ENTERPRISE_URN] {
        assert!(ids.contains(urn), "{urn} missing from /Schemas: {ids:?}");
    }
    for s in &list {
        let id = s["id"].as_str().unwrap();
        assert!(s["attributes"].is_array(), "{id} has no attributes");
        assert_eq!(s["meta"]["resourceType"], "Schema", "{s}");
        // Each schema is also served on its own, identical to the list entry.
        let one = c.get(&format!("/Schemas/{id}")).await.expect(200);
        assert_eq!(&one.json, s, "/Schemas/{id} differs from its list entry");
        let location = one.json["meta"]["location"].as_str().unwrap_or("");
        assert!(
            location.ends_with(&format!("/Schemas/{id}")),
            "{id}: meta.location {location:?}"
        );
    }
    // The User schema describes what the server enforces.
    let user_schema = list.iter().find(|s| s["id"] == USER_URN).unwrap();
    let attr = |name: &str| -> Value {
        user_schema["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("User schema has no {name}"))
            .clone()
    };
    assert_eq!(attr("userName")["uniqueness"], "server");
    assert_eq!(attr("userName")["required"], true);
    assert_eq!(attr("password")["returned"], "never");
    assert_eq!(attr("password")["mutability"], "writeOnly");
    assert_eq!(attr("groups")["mutability"], "readOnly");
    c.get("/Schemas/urn:example:no:such:schema")
        .await
        .expect_error(404, None);

    let types = c.get("/ResourceTypes").await.expect(200);
    assert_eq!(types.json["schemas"], json!([LIST_URN]));
    let rts = types.resources().clone();
    assert_eq!(types.total(), rts.len() as u64);
    let names: BTreeSet<&str> = rts.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, BTreeSet::from(["Group", "User"]));
    for rt in &rts {
        let name = rt["name"].as_str().unwrap();
        assert!(rt["schemas"].as_array().unwrap().contains(&json!(RT_URN)), "{rt}");
        assert_eq!(rt["meta"]["resourceType"], "ResourceType", "{rt}");
        // Every schema a resource type names is served.
        let core = rt["schema"].as_str().unwrap();
        assert!(ids.contains(core), "{name}: schema {core} not in /Schemas");
        for ext in rt["schemaExtensions"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let urn = ext["schema"].as_str().unwrap();
            assert!(ids.contains(urn), "{name}: extension {urn} not in /Schemas");
            assert!(ext["required"].is_boolean(), "{ext}");
        }
        let one = c.get(&format!("/ResourceTypes/{name}")).await.expect(200);
        assert_eq!(&one.json, rt, "/ResourceTypes/{name} differs from its list entry");
        // The endpoint it names is where the resources are.
        let endpoint = rt["endpoint"].as_str().unwrap();
        let listed = srv.client.get(endpoint).await.expect(200);
        assert_eq!(listed.json["schemas"], json!([LIST_URN]), "{endpoint}");
    }
    let user_rt = rts.iter().find(|r| r["name"] == "User").unwrap();
    assert_eq!(user_rt["endpoint"], "/Users");
    assert_eq!(user_rt["schema"], USER_URN);
    let exts: Vec<&Value> = user_rt["schemaExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["schema"])
        .collect();
    assert!(exts.contains(&&json!(ENTERPRISE_URN)), "{user_rt}");
    let group_rt = rts.iter().find(|r| r["name"] == "Group").unwrap();
    assert_eq!(group_rt["endpoint"], "/Groups");
    assert_eq!(group_rt["schema"], GROUP_URN);
    c.get("/ResourceTypes/Widget").await.expect_error(404, None);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_endpoints_are_read_only() {
    let srv = TestServer::start().await;
    // With and without a token: a write is never allowed.
    for c in [srv.client_with(None), srv.client.clone()] {
        for path in [
            "/ServiceProviderConfig".to_string(),
            "/Schemas".to_string(),
            format!("/Schemas/{USER_URN}"),
            "/ResourceTypes".to_string(),
            "/ResourceTypes/User".to_string(),
        ] {
            for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
                let r = c
                    .req(method.clone(), &path)
                    .json(&json!({"schemas": [USER_URN]}))
                    .send()
                    .await;
                assert_eq!(r.status, 405, "{method} {path}: {}", r.text);
                assert_scim_error(&r, 405, None);
            }
        }
    }
    // Still intact.
    let spc = srv.client_with(None).get("/ServiceProviderConfig").await.expect(200);
    assert_eq!(spc.json["patch"]["supported"], true);
    srv.stop().await;
}

/// Each claim of /ServiceProviderConfig, checked by doing it.
async fn every_claim_holds(b: Backend) {
    for password in [
        scim_server::config::PasswordMode::Discard,
        scim_server::config::PasswordMode::Hash,
    ] {
        let srv = TestServer::start_on_with(b, |c| {
            c.scim.password = password;
            c.scim.max_results = 5;
            c.scim.bulk.max_operations = 2;
        })
        .await;
        let c = &srv.client;
        let spc = c.get("/ServiceProviderConfig").await.expect(200).json;
        for feature in ["patch", "filter", "sort", "etag", "bulk"] {
            assert_eq!(spc[feature]["supported"], true, "{feature}: {spc}");
        }
        assert_eq!(spc["pagination"]["cursor"], srv.store().capabilities().cursor);
        assert_eq!(spc["pagination"]["index"], true);
        assert_eq!(spc["pagination"]["defaultPaginationMethod"], "index");
        assert_eq!(spc["pagination"]["maxPageSize"], 5);
        assert_eq!(spc["pagination"]["cursorTimeout"], 600);
        // filter, sort, paging up to maxResults / maxPageSize.
        for i in 0..7 {
            c.create_user(&format!("spc-{i}")).await;
        }
        let r = c
            .get("/Users?filter=userName%20sw%20%22spc-%22&sortBy=userName&sortOrder=descending&count=50")
            .await
            .expect(200);
        assert_eq!(r.total(), 7);
        assert_eq!(r.resources().len(), 5, "count is capped at maxResults");
        assert_eq!(r.resources()[0]["userName"], "spc-6");
        let r = c.get("/Users?cursor=&count=50").await.expect(200);
        assert_eq!(r.resources().len(), 5);
        assert!(r.json["nextCursor"].is_string());
        // patch and etag.
        let u = c.create_user("spc-etag").await;
        let path = format!("/Users/{}", u["id"].as_str().unwrap());
        c.patch(&path, &patch(json!([{"op": "replace", "path": "title", "value": "x"}])))
            .await
            .expect(200);
        c.req(Method::PUT, &path)
            .header("If-Match", u["meta"]["version"].as_str().unwrap())
            .json(&user("spc-etag"))
            .send()
            .await
            .expect_error(412, None);
        // bulk, up to maxOperations.
        let op = |n: &str| json!({"method": "POST", "path": "/Users", "bulkId": n, "data": user(n)});
        let bulk =
            |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops});
        assert_eq!(spc["bulk"]["maxOperations"], 2);
        c.post("/Bulk", &bulk(json!([op("spc-b1"), op("spc-b2")])))
            .await
            .expect(200);
        c.post("/Bulk", &bulk(json!([op("spc-b3"), op("spc-b4"), op("spc-b5")])))
            .await
            .expect_error(413, None);
        // changePassword: true only when a new password is really kept.
        let hashing = password == scim_server::config::PasswordMode::Hash;
        assert_eq!(spc["changePassword"]["supported"], hashing);
        c.patch(
            &path,
            &patch(json!([{"op": "replace", "path": "password", "value": "n3w-Secret!"}])),
        )
        .await
        .expect(200);
        let stored = srv
            .store()
            .get(
                &srv.ctx(),
                scim_store::Kind::User,
                u["id"].as_str().unwrap(),
                scim_store::Load::WITHOUT_MEMBERS,
            )
            .await
            .unwrap();
        let kept = stored.doc["password"]
            .as_str()
            .is_some_and(|h| h.starts_with("$argon2id$"));
        assert_eq!(kept, hashing, "changePassword says {hashing}: {}", stored.doc);
        srv.stop().await;
    }
}

backend_tests!(every_claim_holds);
