//! /Me (RFC 7644 §3.11) on every backend: a token bound to a user
//! (`token create --user`) reads, replaces, patches and deletes that user
//! through /Me; a token without one gets 501 saying why.

// Test code: a failed unwrap or assertion is a failed test (clippy.toml
// allows these in #[test] functions; the helpers here need it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::json;

async fn me_is_the_bound_user(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let admin = &srv.client;
    let me = admin.create_user("me-alice").await;
    let id = me["id"].as_str().unwrap().to_string();
    admin.create_user("me-bob").await;
    let (record, token) = scim_server::admin::create_token(srv.store(), "acme", Some("alice's"), Some(&id))
        .await
        .unwrap();
    assert_eq!(record.user.as_deref(), Some(id.as_str()));
    let c = srv.client_with(Some(&token));
    let location = format!("{}/Users/{id}", srv.base_url);

    let r = c.get("/Me").await.expect(200);
    assert_eq!(r.json["id"], id);
    assert_eq!(r.json["userName"], "me-alice");
    assert_eq!(r.json["meta"]["location"], location, "the permanent location");
    assert_eq!(r.header("content-location"), Some(location.as_str()));
    let etag = r.etag();
    c.req(reqwest::Method::GET, "/Me")
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect(304);
    let r = c.get("/Me?attributes=userName").await.expect(200);
    assert!(r.json.get("emails").is_none(), "{}", r.text);

    let r = c
        .patch(
            "/Me",
            &patch(json!([{"op": "replace", "path": "title", "value": "Self-titled"}])),
        )
        .await
        .expect(200);
    assert_eq!(r.json["title"], "Self-titled");
    let mut replacement = user("me-alice");
    replacement["nickName"] = json!("Al");
    let r = c
        .req(reqwest::Method::PUT, "/Me")
        .header("If-Match", "W/\"1\"")
        .json(&replacement)
        .send()
        .await;
    r.expect_error(412, None);
    let r = c.put("/Me", &replacement).await.expect(200);
    assert_eq!(r.json["nickName"], "Al");
    assert!(r.json.get("title").is_none(), "PUT replaced the title away");
    // Through /Users the same user changed.
    let via_users = admin.get(&format!("/Users/{id}")).await.expect(200);
    assert_eq!(via_users.json["nickName"], "Al");
    // Creating through /Me is not offered.
    c.post("/Me", &user("me-new")).await.expect_error(501, None);

    c.delete("/Me").await.expect(204);
    admin.get(&format!("/Users/{id}")).await.expect_error(404, None);
    c.get("/Me").await.expect_error(404, None);
    // The other user is untouched.
    assert_eq!(admin.filter("Users", r#"userName eq "me-bob""#).await.total(), 1);
    srv.stop().await;
}

async fn an_unbound_token_gets_501_with_the_reason(b: Backend) {
    let srv = TestServer::start_on(b).await;
    for r in [
        srv.client.get("/Me").await,
        srv.client.delete("/Me").await,
        srv.client.patch("/Me", &patch(json!([]))).await,
    ] {
        let r = r.expect_error(501, None);
        let detail = r.json["detail"].as_str().unwrap();
        assert!(
            detail.contains("not bound to a user") && detail.contains("--user"),
            "{detail}"
        );
    }
    // Without a token: 401, as everywhere.
    srv.client_with(None).get("/Me").await.expect_error(401, None);
    // A token cannot be bound to a user of another tenant, or to nobody.
    let (_, _, other) = srv.tenant("other").await;
    let foreign = other.create_user("me-foreign").await;
    let e = scim_server::admin::create_token(srv.store(), "acme", None, foreign["id"].as_str())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no user"), "{e}");
    srv.stop().await;
}

backend_tests!(me_is_the_bound_user, an_unbound_token_gets_501_with_the_reason);
