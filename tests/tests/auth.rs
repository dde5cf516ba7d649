//! Bearer tokens over HTTP: 401 with `WWW-Authenticate: Bearer`, tenant
//! isolation, revocation within the cache TTL, and failed-auth rate limiting.

// Test code: a failed unwrap or assertion is a failed test (clippy.toml
// allows these in #[test] functions; the helpers here need it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

#[track_caller]
fn assert_401(r: &Resp) {
    assert_eq!(r.status, 401, "{}", r.text);
    assert_scim_error(r, 401, None);
    let challenge = r
        .header("www-authenticate")
        .unwrap_or_else(|| panic!("401 without WWW-Authenticate"));
    assert!(
        challenge.to_ascii_lowercase().starts_with("bearer"),
        "WWW-Authenticate must name the Bearer scheme: {challenge}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_invalid_tokens_are_401_with_bearer_challenge() {
    // Many failures from one address here: not what this test is about.
    let srv = TestServer::start_with(|c| c.auth.failed_auth_limit_per_minute = 1000).await;
    let uid = srv.client.create_user("protected").await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let anonymous = srv.client_with(None);
    let wrong_secret = {
        // Same shape as the real token, last characters changed.
        let mut t = srv.token.clone();
        let last = t.pop().unwrap();
        t.push(if last == 'A' { 'B' } else { 'A' });
        srv.client_with(Some(&t))
    };
    let garbage = srv.client_with(Some("not-a-token"));
    for c in [&anonymous, &wrong_secret, &garbage] {
        assert_401(&c.get("/Users").await);
        assert_401(&c.get(&format!("/Users/{uid}")).await);
        assert_401(&c.post("/Users", &user("intruder")).await);
        assert_401(&c.put(&format!("/Users/{uid}"), &user("intruder")).await);
        assert_401(
            &c.patch(
                &format!("/Users/{uid}"),
                &patch(json!([{"op": "replace", "path": "active", "value": false}])),
            )
            .await,
        );
        assert_401(&c.delete(&format!("/Users/{uid}")).await);
        assert_401(&c.post("/Groups/.search", &json!({"schemas": [SEARCH_URN]})).await);
    }
    // Other schemes are not bearer tokens.
    let basic = srv
        .client_with(None)
        .req(Method::GET, "/Users")
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await;
    assert_401(&basic);
    // Nothing changed.
    let got = srv.client.get(&format!("/Users/{uid}")).await.expect(200);
    assert_eq!(version_of(&got.etag()), 1);
    assert_eq!(srv.client.get("/Users").await.expect(200).total(), 1);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_cannot_see_or_touch_each_other() {
    let srv = TestServer::start().await;
    let a = &srv.client;
    let (_tenant_b, _token_b, b) = srv.tenant("globex").await;

    let b_user = b.create_user("shared.name@example.com").await;
    let b_uid = b_user["id"].as_str().unwrap().to_string();
    let b_group = b.create_group("Globex Admins", &[&b_uid]).await;
    let b_gid = b_group["id"].as_str().unwrap().to_string();
    let b_user_before = b.get(&format!("/Users/{b_uid}")).await.expect(200);
    let b_group_before = b.get(&format!("/Groups/{b_gid}")).await.expect(200);

    // Tenant A sees nothing of B.
    a.get(&format!("/Users/{b_uid}")).await.expect_error(404, None);
    a.get(&format!("/Groups/{b_gid}")).await.expect_error(404, None);
    let list = a.get("/Users").await.expect(200);
    assert_eq!(list.total(), 0, "{}", list.text);
    assert_eq!(list.json["Resources"], json!([]));
    assert_eq!(a.get("/Groups").await.expect(200).total(), 0);
    let filtered = a
        .filter("Users", r#"userName eq "shared.name@example.com""#)
        .await
        .expect(200);
    assert_eq!(filtered.total(), 0);
    let by_id = a.filter("Users", &format!("id eq \"{b_uid}\"")).await.expect(200);
    assert_eq!(by_id.total(), 0);
    for kind in ["Users", "Groups"] {
        let searched = a
            .post(&format!("/{kind}/.search"), &json!({"schemas": [SEARCH_URN]}))
            .await
            .expect(200);
        assert_eq!(searched.total(), 0, "{kind}: {}", searched.text);
    }

    // Tenant A cannot change B's resources.
    a.put(&format!("/Users/{b_uid}"), &user("hijacked"))
        .await
        .expect_error(404, None);
    a.patch(
        &format!("/Users/{b_uid}"),
        &patch(json!([{"op": "replace", "path": "active", "value": false}])),
    )
    .await
    .expect_error(404, None);
    a.put(&format!("/Groups/{b_gid}"), &group("hijacked", &[]))
        .await
        .expect_error(404, None);
    a.patch(
        &format!("/Groups/{b_gid}"),
        &patch(json!([{"op": "replace", "path": "members", "value": []}])),
    )
    .await
    .expect_error(404, None);
    a.delete(&format!("/Users/{b_uid}")).await.expect_error(404, None);
    a.delete(&format!("/Groups/{b_gid}")).await.expect_error(404, None);
    // Nor use them as members of its own groups.
    a.post("/Groups", &group("A group", &[&b_uid]))
        .await
        .expect_error(400, Some("invalidValue"));

    // The same userName is free in tenant A.
    let a_user = a.create_user("shared.name@example.com").await;
    assert_ne!(a_user["id"], b_user["id"]);

    // B's data is unchanged.
    let b_user_after = b.get(&format!("/Users/{b_uid}")).await.expect(200);
    assert_eq!(b_user_after.json, b_user_before.json);
    let b_group_after = b.get(&format!("/Groups/{b_gid}")).await.expect(200);
    assert_eq!(b_group_after.json, b_group_before.json);
    assert_eq!(b.get("/Users").await.expect(200).total(), 1);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused_within_the_cache_ttl() {
    let srv = TestServer::start_with(|c| c.auth.cache_ttl_secs = 1).await;
    let (_record, other_token) = scim_server::admin::create_token(srv.store(), "acme", Some("second"), None)
        .await
        .unwrap();
    let other = srv.client_with(Some(&other_token));

    // Used, so it is in the cache.
    srv.client.get("/Users").await.expect(200);
    other.get("/Users").await.expect(200);
    scim_server::admin::revoke_token(srv.store(), &srv.token_id)
        .await
        .unwrap();
    let revoked_at = Instant::now();

    // TTL 1 s plus a margin.
    let refused = eventually(Duration::from_secs(3), || async {
        let r = srv.client.req(Method::GET, "/Users").send_raw().await;
        r.status == 401
    })
    .await;
    assert!(
        refused,
        "revoked token still accepted {:?} after revocation",
        revoked_at.elapsed()
    );
    for _ in 0..3 {
        assert_401(&srv.client.get("/Users").await);
    }
    assert_401(&srv.client.post("/Users", &user("after.revoke")).await);
    // The tenant's other token is unaffected.
    other.get("/Users").await.expect(200);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failed_auth_from_one_address_is_429() {
    const LIMIT: u32 = 5;
    let srv = TestServer::start_with(|c| c.auth.failed_auth_limit_per_minute = LIMIT).await;
    let bad = srv.client_with(Some("scim_0123456789abcdef_0123456789abcdef"));
    for i in 0..LIMIT {
        let r = bad.get("/Users").await;
        assert_401(&r);
        assert_eq!(r.status, 401, "failure {i} should still be a 401");
    }
    for _ in 0..3 {
        let limited = bad.get("/Users").await;
        assert_eq!(limited.status, 429, "{}", limited.text);
        assert_scim_error(&limited, 429, None);
    }
    let garbage = srv.client_with(Some("not-a-token")).get("/Users").await;
    assert_eq!(garbage.status, 429, "{}", garbage.text);
    assert_scim_error(&garbage, 429, None);
    // A forged X-Forwarded-For from an untrusted peer changes nothing.
    let spoofed = bad
        .req(Method::GET, "/Users")
        .header("X-Forwarded-For", "203.0.113.9")
        .send()
        .await;
    assert_eq!(spoofed.status, 429, "{}", spoofed.text);
    srv.stop().await;
}
