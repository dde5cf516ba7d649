//! Concurrent requests, as IdPs send them: parallel member adds to one group
//! never lose a member, parallel attribute PATCHes never fail or lose a
//! version, and parallel creates of one userName make exactly one user.

// Test code: a failed unwrap or assertion is a failed test (clippy.toml
// allows these in #[test] functions; the helpers here need it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::json;
use std::collections::BTreeSet;
use tokio::task::JoinSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_member_adds_to_one_group_are_all_kept() {
    const N: usize = 32;
    let srv = TestServer::start().await;
    let c = &srv.client;
    let mut users = Vec::new();
    for i in 0..N {
        users.push(
            c.create_user(&format!("member{i:02}")).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let g = c.create_group("crowd", &[]).await;
    let gid = g["id"].as_str().unwrap().to_string();

    let mut tasks = JoinSet::new();
    for uid in users.clone() {
        let c = c.clone();
        let path = format!("/Groups/{gid}");
        tasks.spawn(async move {
            let ops = patch(json!([{"op": "Add", "path": "members", "value": [{"value": uid}]}]));
            c.patch(&path, &ops).await
        });
    }
    while let Some(r) = tasks.join_next().await {
        let r = r.unwrap();
        assert!(r.status == 200 || r.status == 204, "{}: {}", r.status, r.text);
    }

    let got = c.get(&format!("/Groups/{gid}")).await.expect(200);
    let mut expected = users.clone();
    expected.sort();
    assert_eq!(member_ids(&got.json), expected, "a concurrent member add was lost");
    // Every membership change bumped the version once.
    assert_eq!(version_of(&got.etag()), 1 + N as u64);
    // And every user knows its group.
    let sample = c.get(&format!("/Users/{}", users[N - 1])).await.expect(200);
    assert_eq!(sample.json["groups"][0]["value"], json!(gid));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_replaces_of_one_attribute_all_apply() {
    const N: usize = 16;
    let srv = TestServer::start().await;
    let c = &srv.client;
    let uid = c.create_user("contended").await["id"].as_str().unwrap().to_string();

    let mut tasks = JoinSet::new();
    for i in 0..N {
        let c = c.clone();
        let path = format!("/Users/{uid}");
        tasks.spawn(async move {
            let ops = patch(json!([{"op": "Replace", "path": "displayName", "value": format!("writer {i}")}]));
            c.patch(&path, &ops).await
        });
    }
    let mut written = BTreeSet::new();
    while let Some(r) = tasks.join_next().await {
        let r = r.unwrap();
        assert_eq!(r.status, 200, "{}", r.text);
        written.insert(r.json["displayName"].as_str().unwrap().to_string());
    }
    // Each PATCH answered with its own write.
    assert_eq!(written.len(), N);

    let got = c.get(&format!("/Users/{uid}")).await.expect(200);
    let last = got.json["displayName"].as_str().unwrap().to_string();
    assert!(
        written.contains(&last),
        "final displayName {last} was written by nobody"
    );
    assert_eq!(
        version_of(&got.etag()),
        1 + N as u64,
        "every PATCH must bump the version once"
    );
    // The rest of the user is intact.
    assert_eq!(got.json["userName"], "contended");
    assert_eq!(got.json["emails"][0]["value"], "contended@example.com");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_patches_of_different_attributes_are_all_kept() {
    let paths = [
        "displayName",
        "nickName",
        "title",
        "userType",
        "preferredLanguage",
        "locale",
        "timezone",
        "profileUrl",
        "name.givenName",
        "name.familyName",
        "name.middleName",
        "name.honorificPrefix",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization",
    ];
    let srv = TestServer::start().await;
    let c = &srv.client;
    let uid = c.create_user("many.writers").await["id"].as_str().unwrap().to_string();
    let value = |path: &str| match path {
        "profileUrl" => "https://example.com/many".to_string(),
        "locale" => "en-US".to_string(),
        "preferredLanguage" => "en".to_string(),
        "timezone" => "Europe/Paris".to_string(),
        other => format!("set {other}"),
    };

    let mut tasks = JoinSet::new();
    for path in paths {
        let c = c.clone();
        let upath = format!("/Users/{uid}");
        let v = value(path);
        tasks.spawn(async move {
            let ops = patch(json!([{"op": "Replace", "path": path, "value": v}]));
            c.patch(&upath, &ops).await
        });
    }
    while let Some(r) = tasks.join_next().await {
        let r = r.unwrap();
        assert_eq!(r.status, 200, "{}", r.text);
    }

    let got = c.get(&format!("/Users/{uid}")).await.expect(200);
    let u = &got.json;
    let read = |path: &str| -> serde_json::Value {
        match path.rsplit_once(':') {
            Some((urn, attr)) => u[urn][attr].clone(),
            None => match path.split_once('.') {
                Some((a, b)) => u[a][b].clone(),
                None => u[path].clone(),
            },
        }
    };
    for path in paths {
        assert_eq!(
            read(path),
            json!(value(path)),
            "the PATCH of {path} was lost: {}",
            got.text
        );
    }
    assert_eq!(version_of(&got.etag()), 1 + paths.len() as u64);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_user_name_make_one_user() {
    const N: usize = 8;
    let srv = TestServer::start().await;
    let c = &srv.client;
    let mut tasks = JoinSet::new();
    for i in 0..N {
        let c = c.clone();
        // The same userName in different cases.
        let name = if i % 2 == 0 {
            "Race@Example.com"
        } else {
            "race@example.com"
        };
        tasks.spawn(async move { c.post("/Users", &user(name)).await });
    }
    let mut created = 0;
    let mut conflicts = 0;
    while let Some(r) = tasks.join_next().await {
        let r = r.unwrap();
        match r.status {
            201 => created += 1,
            409 => {
                assert_scim_error(&r, 409, Some("uniqueness"));
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!((created, conflicts), (1, N - 1));
    let r = c.filter("Users", r#"userName eq "race@example.com""#).await.expect(200);
    assert_eq!(r.total(), 1);
    srv.stop().await;
}
