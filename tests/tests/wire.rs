//! The wire rules: content types, and every error as SCIM error JSON with
//! `status` as a string: malformed JSON, oversized bodies, unknown paths,
//! resource types and ids, wrong methods, validation, uniqueness, and a
//! storage failure.

// Test code: a failed unwrap or assertion is a failed test (clippy.toml
// allows these in #[test] functions; the helpers here need it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_json_requests_are_accepted_and_answered_as_scim_json() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let created = c
        .req(Method::POST, "/Users")
        .raw("application/json", user("plain.json").to_string())
        .send()
        .await
        .expect(201);
    let id = created.id();
    let patched = c
        .req(Method::PATCH, &format!("/Users/{id}"))
        .raw(
            "application/json; charset=utf-8",
            patch(json!([{"op": "replace", "path": "displayName", "value": "Plain"}])).to_string(),
        )
        .send()
        .await
        .expect(200);
    assert_eq!(patched.json["displayName"], "Plain");
    let mut body = user("plain.json");
    body["nickName"] = json!("PJ");
    let put = c
        .req(Method::PUT, &format!("/Users/{id}"))
        .raw("application/json", body.to_string())
        .send()
        .await
        .expect(200);
    assert_eq!(put.json["nickName"], "PJ");
    let search = c
        .req(Method::POST, "/Users/.search")
        .raw("application/json", json!({"schemas": [SEARCH_URN]}).to_string())
        .send()
        .await
        .expect(200);
    assert_eq!(search.total(), 1);
    // Accept: application/json still gets a SCIM JSON answer (the client
    // checks the content type of every response).
    c.req(Method::GET, &format!("/Users/{id}"))
        .header("Accept", "application/json")
        .send()
        .await
        .expect(200);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_request_media_types_are_refused_as_scim_json() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    for ct in ["text/plain", "application/xml", "application/x-www-form-urlencoded"] {
        let r = c
            .req(Method::POST, "/Users")
            .raw(ct, user("media.type").to_string())
            .send()
            .await;
        assert!(r.status == 415 || r.status == 400, "{ct}: {} {}", r.status, r.text);
        assert_scim_error(&r, r.status, None);
    }
    assert_eq!(c.get("/Users").await.expect(200).total(), 0);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_400_invalid_syntax() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let id = c.create_user("syntax.user").await["id"].as_str().unwrap().to_string();
    for (method, path) in [
        (Method::POST, "/Users".to_string()),
        (Method::POST, "/Groups".to_string()),
        (Method::PUT, format!("/Users/{id}")),
        (Method::PATCH, format!("/Users/{id}")),
        (Method::POST, "/Users/.search".to_string()),
    ] {
        for body in [r#"{"userName": "#, "not json at all", r#"{"schemas": ["#] {
            c.req(method.clone(), &path)
                .raw("application/scim+json", body)
                .send()
                .await
                .expect_error(400, Some("invalidSyntax"));
        }
    }
    // A PATCH that is JSON but no PatchOp message.
    c.patch(&format!("/Users/{id}"), &json!({"Operations": []}))
        .await
        .expect_error(400, Some("invalidSyntax"));
    // Nothing changed.
    let got = c.get(&format!("/Users/{id}")).await.expect(200);
    assert_eq!(version_of(&got.etag()), 1);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_over_max_body_bytes_is_413() {
    let srv = TestServer::start_with(|c| c.server.max_body_bytes = 4096).await;
    let c = &srv.client;
    // Just under the limit works.
    let mut body = user("small.body");
    body["displayName"] = json!("x".repeat(3000));
    assert!(body.to_string().len() < 4096);
    c.post("/Users", &body).await.expect(201);
    // Over it: 413 as SCIM JSON, and nothing is created.
    let mut body = user("big.body");
    body["displayName"] = json!("x".repeat(8192));
    c.post("/Users", &body).await.expect_error(413, None);
    let r = c.filter("Users", r#"userName eq "big.body""#).await.expect(200);
    assert_eq!(r.total(), 0);
    // The same for PATCH and .search.
    let id = c.create_user("patch.target").await["id"].as_str().unwrap().to_string();
    let big_patch = patch(json!([{"op": "replace", "path": "displayName", "value": "y".repeat(8192)}]));
    c.patch(&format!("/Users/{id}"), &big_patch)
        .await
        .expect_error(413, None);
    let big_search = json!({"schemas": [SEARCH_URN], "filter": format!("userName eq \"{}\"", "z".repeat(8192))});
    c.post("/Users/.search", &big_search).await.expect_error(413, None);
    srv.stop().await;
}

/// A chunked request (no Content-Length) over raw TCP; returns the status
/// and the whole response text.
async fn chunked_post(srv: &TestServer, path: &str, body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    let mut request = format!(
        "POST /scim/v2{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/scim+json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        srv.addr, srv.token
    );
    for chunk in body.as_bytes().chunks(1000) {
        request.push_str(&format!("{:x}\r\n{}\r\n", chunk.len(), String::from_utf8_lossy(chunk)));
    }
    request.push_str("0\r\n\r\n");
    // The server may answer and close before reading everything.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    (status, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_bodies_are_limited_too() {
    let srv = TestServer::start_with(|c| c.server.max_body_bytes = 4096).await;
    let small = user("chunked.small").to_string();
    let (status, text) = chunked_post(&srv, "/Users", &small).await;
    assert_eq!(status, 201, "{text}");
    let mut big = user("chunked.big");
    big["displayName"] = json!("x".repeat(8192));
    let (status, text) = chunked_post(&srv, "/Users", &big.to_string()).await;
    assert_eq!(status, 413, "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("content-type: application/scim+json"),
        "{text}"
    );
    let json_body = match (text.find('{'), text.rfind('}')) {
        (Some(a), Some(b)) => serde_json::from_str::<serde_json::Value>(&text[a..=b]).ok(),
        _ => None,
    };
    let json_body = json_body.unwrap_or_else(|| panic!("no JSON body in {text}"));
    assert_eq!(json_body["status"], "413", "{text}");
    assert_eq!(json_body["schemas"], json!([ERROR_URN]), "{text}");
    let r = srv
        .client
        .filter("Users", r#"userName eq "chunked.big""#)
        .await
        .expect(200);
    assert_eq!(r.total(), 0);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_resource_types_paths_and_ids_are_404() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let uid = c.create_user("exists").await["id"].as_str().unwrap().to_string();

    // Unknown resource types.
    c.get("/Widgets").await.expect_error(404, None);
    c.post("/Widgets", &json!({"schemas": [USER_URN]}))
        .await
        .expect_error(404, None);
    c.get("/Widgets/123").await.expect_error(404, None);
    // Unknown paths, under the base and outside it.
    c.get(&format!("/Users/{uid}/extra")).await.expect_error(404, None);
    c.get(&format!("{}/no/such/path", srv.origin()))
        .await
        .expect_error(404, None);
    // Unknown ids, for every method on both kinds.
    let missing = uuid::Uuid::new_v4().to_string();
    for kind in ["Users", "Groups"] {
        let path = format!("/{kind}/{missing}");
        c.get(&path).await.expect_error(404, None);
        let body = if kind == "Users" {
            user("ghost")
        } else {
            group("ghost", &[])
        };
        c.put(&path, &body).await.expect_error(404, None);
        c.patch(
            &path,
            &patch(json!([{"op": "replace", "path": "displayName", "value": "x"}])),
        )
        .await
        .expect_error(404, None);
        c.delete(&path).await.expect_error(404, None);
    }
    // A user id is not a group id.
    c.get(&format!("/Groups/{uid}")).await.expect_error(404, None);
    c.delete(&format!("/Groups/{uid}")).await.expect_error(404, None);
    c.get(&format!("/Users/{uid}")).await.expect(200);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_methods_are_405() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let uid = c.create_user("method.user").await["id"].as_str().unwrap().to_string();
    let cases = [
        (Method::PUT, "/Users".to_string()),
        (Method::PATCH, "/Users".to_string()),
        (Method::DELETE, "/Users".to_string()),
        (Method::PUT, "/Groups".to_string()),
        (Method::DELETE, "/Groups".to_string()),
        (Method::POST, format!("/Users/{uid}")),
        (Method::GET, "/Users/.search".to_string()),
    ];
    for (method, path) in cases {
        let r = c.req(method.clone(), &path).json(&user("method.user")).send().await;
        assert_eq!(r.status, 405, "{method} {path}: {}", r.text);
        assert_scim_error(&r, 405, None);
    }
    c.get(&format!("/Users/{uid}")).await.expect(200);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_resources_are_400() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    // No userName.
    c.post("/Users", &json!({"schemas": [USER_URN], "displayName": "Nameless"}))
        .await
        .expect_error(400, Some("invalidValue"));
    // An attribute the User schema does not have.
    let mut body = user("typo.user");
    body["favouriteColour"] = json!("red");
    c.post("/Users", &body).await.expect_error(400, Some("invalidValue"));
    // A wrong type.
    let mut body = user("typed.user");
    body["active"] = json!("maybe");
    c.post("/Users", &body).await.expect_error(400, Some("invalidValue"));
    // A member that does not exist.
    let ghost = uuid::Uuid::new_v4().to_string();
    c.post("/Groups", &group("Ghosts", &[&ghost]))
        .await
        .expect_error(400, Some("invalidValue"));
    // Nothing was created.
    assert_eq!(c.get("/Users").await.expect(200).total(), 0);
    assert_eq!(c.get("/Groups").await.expect(200).total(), 0);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_name_uniqueness_is_409() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    c.create_user("taken@example.com").await;
    // userName is unique case-insensitively.
    c.post("/Users", &user("TAKEN@example.com"))
        .await
        .expect_error(409, Some("uniqueness"));
    let other = c.create_user("other@example.com").await;
    let oid = other["id"].as_str().unwrap();
    c.put(&format!("/Users/{oid}"), &user("Taken@Example.com"))
        .await
        .expect_error(409, Some("uniqueness"));
    c.patch(
        &format!("/Users/{oid}"),
        &patch(json!([{"op": "replace", "path": "userName", "value": "taken@example.com"}])),
    )
    .await
    .expect_error(409, Some("uniqueness"));
    let got = c.get(&format!("/Users/{oid}")).await.expect(200);
    assert_eq!(got.json["userName"], "other@example.com");
    assert_eq!(c.get("/Users").await.expect(200).total(), 2);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_failure_is_500_scim_json_without_internals() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let id = c.create_user("corrupted").await["id"].as_str().unwrap().to_string();
    // Damage the stored document behind the server's back.
    let db = srv.dir.path().join("scim.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    let changed = conn
        .execute("UPDATE resources SET doc = '{not json' WHERE id = ?1", [&id])
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);

    let r = c.get(&format!("/Users/{id}")).await.expect_error(500, None);
    let detail = r.json["detail"].as_str().unwrap_or("").to_lowercase();
    assert!(
        !detail.contains("sqlite") && !detail.contains("eof"),
        "internal details leak: {detail}"
    );
    // The server keeps serving.
    c.create_user("healthy").await;
    srv.stop().await;
}
