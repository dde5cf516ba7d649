//! /Bulk (RFC 7644 §3.7) on every backend: create, replace, patch and
//! delete of users and groups; bulkId references in paths, values and
//! member values, resolved in dependency order whatever the request order;
//! circular references; failOnErrors; maxOperations and maxPayloadSize
//! advertised and enforced with 413; one audit event per operation.

// Test code: a failed unwrap or assertion is a failed test (clippy.toml
// allows these in #[test] functions; the helpers here need it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use scim_store::{AuditOp, AuditQuery, Kind};
use serde_json::{Value, json};

const BULK_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const BULK_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

fn bulk(ops: Value) -> Value {
    json!({"schemas": [BULK_REQUEST_URN], "Operations": ops})
}

/// The result of the operation with this bulkId (or at this index).
fn result<'a>(resp: &'a Resp, bulk_id: &str) -> &'a Value {
    resp.json["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["bulkId"] == bulk_id)
        .unwrap_or_else(|| panic!("no result for bulkId {bulk_id}: {}", resp.text))
}

fn id_of(result: &Value) -> String {
    result["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string()
}

/// Every operation kind, on users and groups, with references in a path, a
/// member value and a PATCH filter, listed before the POSTs they need.
async fn every_operation_and_reference_kind(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let c = &srv.client;
    let old = c.create_user("bulk-old").await;
    let old_id = old["id"].as_str().unwrap();
    let doomed = c.create_user("bulk-doomed").await;
    let doomed_id = doomed["id"].as_str().unwrap();

    let req = bulk(json!([
        // Needs "team" and "alice", defined further down.
        {"method": "PATCH", "path": "/Groups/bulkId:team", "bulkId": "patch-team", "data": {
            "schemas": [PATCH_URN],
            "Operations": [
                {"op": "add", "path": "members", "value": [{"value": "bulkId:bob"}]},
                {"op": "remove", "path": "members[value eq \"bulkId:alice\"]"}
            ]}},
        {"method": "POST", "path": "/Groups", "bulkId": "team", "data": {
            "schemas": [GROUP_URN], "displayName": "Bulk Team",
            "members": [{"value": "bulkId:alice", "type": "User"}, {"value": old_id}]}},
        {"method": "POST", "path": "/Users", "bulkId": "alice", "data": user("bulk-alice")},
        {"method": "POST", "path": "/Users", "bulkId": "bob", "data": user("bulk-bob")},
        {"method": "PUT", "path": format!("/Users/{old_id}"), "bulkId": "put-old", "version": old["meta"]["version"],
         "data": {"schemas": [USER_URN, ENTERPRISE_URN], "userName": "bulk-old", "title": "Replaced",
                  ENTERPRISE_URN: {"manager": {"value": "bulkId:alice"}}}},
        {"method": "DELETE", "path": format!("/Users/{doomed_id}"), "bulkId": "delete-doomed"}
    ]));
    let r = c.post("/Bulk", &req).await.expect(200);
    assert_eq!(r.json["schemas"], json!([BULK_RESPONSE_URN]), "{}", r.text);
    let ops = r.json["Operations"].as_array().unwrap();
    assert_eq!(ops.len(), 6, "{}", r.text);
    // Results come in request order.
    let order: Vec<&str> = ops.iter().map(|o| o["bulkId"].as_str().unwrap()).collect();
    assert_eq!(
        order,
        ["patch-team", "team", "alice", "bob", "put-old", "delete-doomed"]
    );
    for (bulk_id, status) in [
        ("patch-team", "200"),
        ("team", "201"),
        ("alice", "201"),
        ("bob", "201"),
        ("put-old", "200"),
        ("delete-doomed", "204"),
    ] {
        let o = result(&r, bulk_id);
        assert_eq!(o["status"], status, "{bulk_id}: {}", r.text);
        assert!(o["location"].as_str().unwrap().starts_with(&srv.base_url), "{o}");
    }
    for bulk_id in ["team", "alice", "bob", "put-old", "patch-team"] {
        assert!(
            result(&r, bulk_id)["version"].as_str().unwrap().starts_with("W/\""),
            "{}",
            r.text
        );
    }
    let (team, alice, bob) = (
        id_of(result(&r, "team")),
        id_of(result(&r, "alice")),
        id_of(result(&r, "bob")),
    );
    let group = c.get(&format!("/Groups/{team}")).await.expect(200);
    let mut expected = vec![old_id.to_string(), bob.clone()];
    expected.sort();
    assert_eq!(
        member_ids(&group.json),
        expected,
        "alice removed, bob added by the PATCH"
    );
    let replaced = c.get(&format!("/Users/{old_id}")).await.expect(200);
    assert_eq!(replaced.json["title"], "Replaced");
    assert_eq!(
        replaced.json[ENTERPRISE_URN]["manager"]["value"], alice,
        "the bare bulkId manager is resolved: {}",
        replaced.text
    );
    c.get(&format!("/Users/{doomed_id}")).await.expect_error(404, None);
    c.get(&format!("/Users/{alice}")).await.expect(200);

    // One audit event per operation, each with the request's token.
    let events = srv
        .store()
        .audit(
            &srv.tenant.id,
            &AuditQuery {
                limit: 100,
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    let bulk_events: Vec<_> = events.iter().skip(2).collect();
    assert_eq!(bulk_events.len(), 6, "{bulk_events:?}");
    assert!(
        bulk_events
            .iter()
            .all(|e| e.actor.as_deref() == Some(srv.token_id.as_str()))
    );
    let creates = bulk_events.iter().filter(|e| e.op == AuditOp::Create).count();
    assert_eq!(creates, 3);
    assert!(
        bulk_events
            .iter()
            .any(|e| e.op == AuditOp::Delete && e.resource_id == doomed_id)
    );
    assert!(
        bulk_events
            .iter()
            .any(|e| e.op == AuditOp::Update && e.kind == Kind::Group && e.resource_id == team)
    );
    srv.stop().await;
}

/// Circular references fail each operation on the circle with a detail
/// naming it; what depends on them fails too; the rest runs.
async fn circular_references_fail_clearly(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let c = &srv.client;
    let with_manager = |name: &str, manager: &str| {
        let mut u = user(name);
        u["schemas"] = json!([USER_URN, ENTERPRISE_URN]);
        u[ENTERPRISE_URN] = json!({"manager": {"value": manager}});
        u
    };
    let a = with_manager("bulk-circle-a", "bulkId:b");
    let bb = with_manager("bulk-circle-b", "bulkId:a");
    let req = bulk(json!([
        {"method": "POST", "path": "/Users", "bulkId": "a", "data": a},
        {"method": "POST", "path": "/Users", "bulkId": "b", "data": bb},
        {"method": "POST", "path": "/Groups", "bulkId": "g",
         "data": group("Circle fans", &["bulkId:a"])},
        {"method": "POST", "path": "/Users", "bulkId": "free", "data": user("bulk-free")},
        {"method": "POST", "path": "/Groups", "bulkId": "lost",
         "data": group("Lost", &["bulkId:nobody"])}
    ]));
    let r = c.post("/Bulk", &req).await.expect(200);
    for id in ["a", "b"] {
        let o = result(&r, id);
        assert_eq!(o["status"], "409", "{}", r.text);
        assert_scim_error_json(&o["response"], "409");
        let detail = o["response"]["detail"].as_str().unwrap();
        assert!(detail.contains("circular"), "{detail}");
        assert!(detail.contains("a -> b") || detail.contains("b -> a"), "{detail}");
    }
    let g = result(&r, "g");
    assert_eq!(g["status"], "409");
    assert!(g["response"]["detail"].as_str().unwrap().contains("circular"), "{g}");
    assert_eq!(result(&r, "free")["status"], "201");
    let lost = result(&r, "lost");
    assert_eq!(lost["status"], "400");
    assert!(
        lost["response"]["detail"].as_str().unwrap().contains("nobody"),
        "{lost}"
    );
    // Nothing of the circle was created.
    let r = c.filter("Users", r#"userName sw "bulk-circle""#).await.expect(200);
    assert_eq!(r.total(), 0, "{}", r.text);
    srv.stop().await;
}

fn assert_scim_error_json(v: &Value, status: &str) {
    assert_eq!(v["schemas"], json!([ERROR_URN]), "{v}");
    assert_eq!(v["status"], status, "{v}");
}

/// failOnErrors stops after that many failures and reports only what ran;
/// a reference to a failed POST fails too.
async fn fail_on_errors_stops_processing(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let c = &srv.client;
    c.create_user("bulk-taken").await;
    let ops = json!([
        {"method": "POST", "path": "/Users", "bulkId": "dup", "data": user("bulk-taken")},
        {"method": "POST", "path": "/Groups", "bulkId": "g", "data": group("Needs dup", &["bulkId:dup"])},
        {"method": "POST", "path": "/Users", "bulkId": "never", "data": user("bulk-never")}
    ]);
    let mut req = bulk(ops.clone());
    req["failOnErrors"] = json!(2);
    let r = c.post("/Bulk", &req).await.expect(200);
    let results = r.json["Operations"].as_array().unwrap();
    assert_eq!(results.len(), 2, "stopped after two errors: {}", r.text);
    let dup = result(&r, "dup");
    assert_eq!(dup["status"], "409");
    assert_eq!(dup["response"]["scimType"], "uniqueness");
    assert_eq!(result(&r, "g")["status"], "409");
    assert!(result(&r, "g")["response"]["detail"].as_str().unwrap().contains("dup"));
    let never = c.filter("Users", r#"userName eq "bulk-never""#).await.expect(200);
    assert_eq!(never.total(), 0, "the third operation must not have run");
    // Without failOnErrors everything runs.
    let r = c.post("/Bulk", &bulk(ops)).await.expect(200);
    assert_eq!(r.json["Operations"].as_array().unwrap().len(), 3);
    assert_eq!(result(&r, "never")["status"], "201");
    srv.stop().await;
}

/// maxOperations and maxPayloadSize: advertised, and past them 413 with
/// SCIM JSON, checked before anything runs; at the limit, everything runs.
async fn limits_are_advertised_and_enforced(b: Backend) {
    let srv = TestServer::start_on_with(b, |c| {
        c.scim.bulk.max_operations = 3;
        c.scim.bulk.max_payload_size = 4096;
    })
    .await;
    let c = &srv.client;
    let spc = c.get("/ServiceProviderConfig").await.expect(200);
    assert_eq!(
        spc.json["bulk"],
        json!({"supported": true, "maxOperations": 3, "maxPayloadSize": 4096})
    );
    let op = |i: usize| json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"), "data": user(&format!("bulk-limit-{i}"))});
    let four = bulk(json!([op(1), op(2), op(3), op(4)]));
    let r = c.post("/Bulk", &four).await.expect_error(413, None);
    assert!(
        r.json["detail"].as_str().unwrap().contains("maxOperations"),
        "{}",
        r.text
    );
    assert_eq!(c.filter("Users", r#"userName sw "bulk-limit""#).await.total(), 0);
    let three = bulk(json!([op(1), op(2), op(3)]));
    c.post("/Bulk", &three).await.expect(200);
    assert_eq!(c.filter("Users", r#"userName sw "bulk-limit""#).await.total(), 3);
    // A body over maxPayloadSize, even when it is not JSON: 413 before
    // parsing.
    let big = "x".repeat(5000);
    let r = c
        .req(reqwest::Method::POST, "/Bulk")
        .raw("application/scim+json", big)
        .send()
        .await
        .expect_error(413, None);
    assert!(
        r.json["detail"].as_str().unwrap().contains("maxPayloadSize (4096)"),
        "{}",
        r.text
    );
    // The bulk limit replaces server.max_body_bytes on /Bulk only.
    let mut long = user("bulk-long-title");
    long["title"] = json!("t".repeat(5000));
    c.post("/Users", &long).await.expect(201);
    srv.stop().await;
}

/// A body that is not a BulkRequest, and operations that are malformed.
async fn malformed_requests_and_operations(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let c = &srv.client;
    c.post("/Bulk", &json!({"Operations": []}))
        .await
        .expect_error(400, Some("invalidSyntax"));
    c.post("/Bulk", &json!({"schemas": ["urn:nope"], "Operations": []}))
        .await
        .expect_error(400, Some("invalidSyntax"));
    let dup = bulk(json!([
        {"method": "POST", "path": "/Users", "bulkId": "x", "data": user("bulk-x1")},
        {"method": "POST", "path": "/Users", "bulkId": "x", "data": user("bulk-x2")}
    ]));
    c.post("/Bulk", &dup).await.expect_error(400, Some("invalidValue"));
    let r = c
        .post(
            "/Bulk",
            &bulk(json!([
                {"method": "GET", "path": "/Users", "bulkId": "get"},
                {"method": "POST", "path": "/Widgets", "bulkId": "w", "data": {}},
                {"method": "POST", "path": "/Users", "data": user("bulk-no-id")},
                {"method": "PUT", "path": "/Users", "bulkId": "put", "data": user("bulk-put")},
                {"method": "DELETE", "path": "/Users/00000000-0000-4000-8000-000000000000", "bulkId": "gone"}
            ])),
        )
        .await
        .expect(200);
    let statuses: Vec<&str> = r.json["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["400", "400", "400", "400", "404"], "{}", r.text);
    srv.stop().await;
}

backend_tests!(
    every_operation_and_reference_kind,
    circular_references_fail_clearly,
    fail_on_errors_stops_processing,
    limits_are_advertised_and_enforced,
    malformed_requests_and_operations,
);
