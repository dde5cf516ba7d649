//! What is recorded: one audit event per mutation made over HTTP, naming the
//! token and the client's X-Request-Id; and passwords, which are accepted
//! but never returned, never audited, and by default not stored.

// Test code: a failed unwrap or assertion is a failed test (clippy.toml
// allows these in #[test] functions; the helpers here need it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::Method;
use scim_store::{AuditOp, AuditQuery, Kind, Load};
use serde_json::json;

async fn audit_log(srv: &TestServer) -> Vec<scim_store::AuditEvent> {
    srv.store()
        .audit(
            &srv.tenant.id,
            &AuditQuery {
                limit: 1000,
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_mutation_is_one_audit_event_with_token_and_request_id() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let with_id = |method: Method, path: &str, rid: &str| c.req(method, path).header("X-Request-Id", rid);

    let created = with_id(Method::POST, "/Users", "req-create-user")
        .json(&user("audited"))
        .send()
        .await
        .expect(201);
    let uid = created.id();
    let upath = format!("/Users/{uid}");
    with_id(Method::PUT, &upath, "req-put-user")
        .json(&user("audited"))
        .send()
        .await
        .expect(200);
    with_id(Method::PATCH, &upath, "req-patch-user")
        .json(&patch(
            json!([{"op": "replace", "path": "displayName", "value": "Audited"}]),
        ))
        .send()
        .await
        .expect(200);
    let g = with_id(Method::POST, "/Groups", "req-create-group")
        .json(&group("Audited group", &[]))
        .send()
        .await
        .expect(201);
    let gid = g.id();
    let gpath = format!("/Groups/{gid}");
    with_id(Method::PATCH, &gpath, "req-add-member")
        .json(&patch(
            json!([{"op": "add", "path": "members", "value": [{"value": uid}]}]),
        ))
        .send()
        .await
        .expect(200);

    // Reads and failed mutations record nothing.
    with_id(Method::GET, &upath, "req-read").send().await.expect(200);
    with_id(Method::GET, "/Users", "req-list").send().await.expect(200);
    with_id(Method::POST, "/Users", "req-conflict")
        .json(&user("AUDITED"))
        .send()
        .await
        .expect_error(409, None);
    with_id(Method::PATCH, &upath, "req-stale")
        .header("If-Match", "W/\"1\"")
        .json(&patch(
            json!([{"op": "replace", "path": "displayName", "value": "Stale"}]),
        ))
        .send()
        .await
        .expect_error(412, None);
    with_id(Method::DELETE, &gpath, "req-delete-group")
        .send()
        .await
        .expect(204);
    with_id(Method::DELETE, &upath, "req-delete-user")
        .send()
        .await
        .expect(204);

    let events = audit_log(&srv).await;
    let seen: Vec<(&str, AuditOp, Kind, &str)> = events
        .iter()
        .map(|e| (e.request_id.as_str(), e.op, e.kind, e.resource_id.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("req-create-user", AuditOp::Create, Kind::User, uid.as_str()),
            ("req-put-user", AuditOp::Update, Kind::User, uid.as_str()),
            ("req-patch-user", AuditOp::Update, Kind::User, uid.as_str()),
            ("req-create-group", AuditOp::Create, Kind::Group, gid.as_str()),
            ("req-add-member", AuditOp::Update, Kind::Group, gid.as_str()),
            ("req-delete-group", AuditOp::Delete, Kind::Group, gid.as_str()),
            ("req-delete-user", AuditOp::Delete, Kind::User, uid.as_str()),
        ]
    );
    for e in &events {
        assert_eq!(
            e.actor.as_deref(),
            Some(srv.token_id.as_str()),
            "actor of {}",
            e.request_id
        );
        assert_eq!(e.tenant, srv.tenant.id);
    }
    assert_eq!(events[0].version, 1);
    assert_eq!(events[2].version, 3);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_request_id_is_the_one_audited() {
    let srv = TestServer::start().await;
    let r = srv.client.post("/Users", &user("no.request.id")).await.expect(201);
    let rid = r
        .header("x-request-id")
        .expect("X-Request-Id is generated when absent")
        .to_string();
    assert!(!rid.is_empty());
    let events = audit_log(&srv).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].request_id, rid);
    srv.stop().await;
}

/// Everything a password could leak through.
async fn assert_no_secret_anywhere(srv: &TestServer, uid: &str, secrets: &[&str]) {
    let c = &srv.client;
    let check = |what: &str, text: &str| {
        for s in secrets {
            assert!(!text.contains(s), "{what} contains the password {s}: {text}");
        }
    };
    let got = c.get(&format!("/Users/{uid}")).await.expect(200);
    assert!(got.json.get("password").is_none(), "{}", got.text);
    check("GET", &got.text);
    let asked = c
        .get(&format!("/Users/{uid}?attributes=password,userName"))
        .await
        .expect(200);
    assert!(asked.json.get("password").is_none(), "{}", asked.text);
    let list = c.get("/Users?attributes=password").await.expect(200);
    check("list", &list.text);
    let searched = c
        .post(
            "/Users/.search",
            &json!({"schemas": [SEARCH_URN], "attributes": ["password"]}),
        )
        .await
        .expect(200);
    check("search", &searched.text);
    for e in audit_log(srv).await {
        check("audit event", &e.change.to_string());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_are_accepted_never_returned_audited_or_stored() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let mut body = user("pw.user");
    body["password"] = json!("Create-Secret-1");
    let created = c.post("/Users", &body).await.expect(201);
    assert!(created.json.get("password").is_none(), "{}", created.text);
    assert!(!created.text.contains("Create-Secret-1"));
    let uid = created.id();

    body["password"] = json!("Put-Secret-2");
    let put = c.put(&format!("/Users/{uid}"), &body).await.expect(200);
    assert!(!put.text.contains("Put-Secret-2"), "{}", put.text);
    let patched = c
        .patch(
            &format!("/Users/{uid}"),
            &patch(json!([{"op": "replace", "path": "password", "value": "Patch-Secret-3"}])),
        )
        .await
        .expect(200);
    assert!(!patched.text.contains("Patch-Secret-3"), "{}", patched.text);
    let pathless = c
        .patch(
            &format!("/Users/{uid}"),
            &patch(json!([{"op": "replace", "value": {"password": "Patch-Secret-4", "nickName": "pw"}}])),
        )
        .await
        .expect(200);
    assert!(!pathless.text.contains("Patch-Secret-4"), "{}", pathless.text);

    let secrets = ["Create-Secret-1", "Put-Secret-2", "Patch-Secret-3", "Patch-Secret-4"];
    assert_no_secret_anywhere(&srv, &uid, &secrets).await;
    assert_eq!(audit_log(&srv).await.len(), 4, "one event per mutation");

    // The default is not to store passwords at all.
    let stored = srv
        .store()
        .get(&srv.ctx(), Kind::User, &uid, Load::default())
        .await
        .unwrap();
    assert!(stored.doc.get("password").is_none(), "stored: {}", stored.doc);
    assert_eq!(stored.doc["nickName"], "pw");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashed_passwords_are_stored_only_as_argon2() {
    let srv = TestServer::start_with(|c| c.scim.password = scim_server::config::PasswordMode::Hash).await;
    let c = &srv.client;
    let mut body = user("hashed.user");
    body["password"] = json!("Hash-Me-Secret");
    let created = c.post("/Users", &body).await.expect(201);
    let uid = created.id();
    assert_no_secret_anywhere(&srv, &uid, &["Hash-Me-Secret"]).await;
    let stored = srv
        .store()
        .get(&srv.ctx(), Kind::User, &uid, Load::default())
        .await
        .unwrap();
    let hash = stored.doc["password"]
        .as_str()
        .unwrap_or_else(|| panic!("no hash stored: {}", stored.doc));
    assert!(hash.starts_with("$argon2"), "not an argon2 PHC string: {hash}");
    assert!(!stored.doc.to_string().contains("Hash-Me-Secret"));
    // A hash is never served either.
    let got = c.get(&format!("/Users/{uid}")).await.expect(200);
    assert!(!got.text.contains("argon2"), "{}", got.text);
    let events = audit_log(&srv).await;
    assert!(events.iter().all(|e| !e.change.to_string().contains("argon2")));
    // Nor can it be read out through filters, one character at a time.
    for filter in [
        r#"password sw "$argon2""#,
        r#"password co "$""#,
        "PassWord pr",
        r#"urn:ietf:params:scim:schemas:core:2.0:User:password sw "$""#,
        r#"userName pr and not (password eq "x")"#,
    ] {
        let r = c.filter("Users", filter).await;
        if r.status == 200 {
            assert_eq!(
                r.total(),
                0,
                "the filter {filter} tells the stored hash apart: {}",
                r.text
            );
        } else {
            assert_scim_error(&r, 400, None);
        }
    }
    srv.stop().await;
}
