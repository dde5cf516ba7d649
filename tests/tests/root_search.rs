//! Searching every resource type at once (RFC 7644 §3.4.3): `GET /` and
//! `POST /.search` with a filter, sort, index and cursor paging and
//! projection, on every backend. Each resource says its resourceType.

// Test code: a failed unwrap or assertion is a failed test (clippy.toml
// allows these in #[test] functions; the helpers here need it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Five users and four groups whose displayNames interleave, plus noise.
async fn seed(c: &Scim) -> Vec<Value> {
    let mut out = Vec::new();
    for (name, display) in [
        ("rs-u1", "rs Alpha"),
        ("rs-u2", "rs charlie"),
        ("rs-u3", "rs Echo"),
        ("rs-u4", "rs golf"),
        ("rs-u5", "rs India"),
    ] {
        let mut u = user(name);
        u["displayName"] = json!(display);
        out.push(c.post("/Users", &u).await.expect(201).json);
    }
    for display in ["rs Bravo", "rs delta", "rs Foxtrot", "rs hotel"] {
        out.push(c.create_group(display, &[]).await);
    }
    c.create_user("noise-user").await;
    c.create_group("noise group", &[]).await;
    out
}

fn displays(r: &Resp) -> Vec<String> {
    r.resources()
        .iter()
        .map(|x| x["displayName"].as_str().unwrap_or("").to_string())
        .collect()
}

const SORTED: [&str; 9] = [
    "rs Alpha",
    "rs Bravo",
    "rs charlie",
    "rs delta",
    "rs Echo",
    "rs Foxtrot",
    "rs golf",
    "rs hotel",
    "rs India",
];

async fn filter_sort_and_resource_types(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let c = &srv.client;
    seed(c).await;
    let filter = r#"displayName sw "rs ""#;
    for (path, body) in [
        (format!("/?filter={}&sortBy=displayName", enc(filter)), None),
        (
            "/.search".to_string(),
            Some(json!({"schemas": [SEARCH_URN], "filter": filter, "sortBy": "displayName"})),
        ),
    ] {
        let r = match &body {
            None => c.get(&path).await,
            Some(b) => c.post(&path, b).await,
        }
        .expect(200);
        assert_eq!(r.json["schemas"], json!([LIST_URN]));
        assert_eq!(r.total(), 9, "{}", r.text);
        assert_eq!(displays(&r), SORTED, "{path}");
        for res in r.resources() {
            let rt = res["meta"]["resourceType"].as_str().unwrap();
            let schema = if rt == "User" { USER_URN } else { GROUP_URN };
            assert!(res["schemas"].as_array().unwrap().iter().any(|s| s == schema), "{res}");
            let endpoint = if rt == "User" { "Users" } else { "Groups" };
            let id = res["id"].as_str().unwrap();
            assert_eq!(res["meta"]["location"], format!("{}/{endpoint}/{id}", srv.base_url));
        }
    }
    // Descending is the exact reverse here (no ties).
    let r = c
        .get(&format!(
            "/?filter={}&sortBy=displayName&sortOrder=descending",
            enc(filter)
        ))
        .await
        .expect(200);
    let mut reversed = SORTED.to_vec();
    reversed.reverse();
    assert_eq!(displays(&r), reversed);
    // An attribute only users have: groups never match it.
    let r = c.filter("", r#"userName sw "rs-u""#).await.expect(200);
    assert_eq!(r.total(), 5);
    assert!(r.resources().iter().all(|x| x["meta"]["resourceType"] == "User"));
    // Without a base path slash too.
    let bare = format!("{}?filter={}", srv.base_url, enc(r#"displayName eq "rs delta""#));
    let r = c.get(&bare).await.expect(200);
    assert_eq!(r.total(), 1);
    assert_eq!(r.resources()[0]["meta"]["resourceType"], "Group");
    // Unknown attributes and bad filters are errors, not "match all".
    c.filter("", r#"nosuch eq "x""#)
        .await
        .expect_error(400, Some("invalidFilter"));
    c.post("/.search", &json!({"schemas": [SEARCH_URN], "sortBy": "nosuch"}))
        .await
        .expect_error(400, Some("invalidValue"));
    srv.stop().await;
}

async fn index_paging_and_projection(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let c = &srv.client;
    seed(c).await;
    let filter = r#"displayName sw "rs ""#;
    let mut seen = Vec::new();
    for start in [1, 4, 7] {
        let r = c
            .post(
                "/.search",
                &json!({"schemas": [SEARCH_URN], "filter": filter, "sortBy": "displayName",
                        "startIndex": start, "count": 3, "attributes": ["displayName"]}),
            )
            .await
            .expect(200);
        assert_eq!(r.json["startIndex"], start);
        assert_eq!(r.json["itemsPerPage"], 3);
        assert_eq!(r.total(), 9);
        for res in r.resources() {
            let keys: BTreeSet<&str> = res.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                BTreeSet::from(["schemas", "id", "displayName", "meta"]),
                "projection keeps only displayName, id, schemas and the resource type: {res}"
            );
            assert_eq!(res["meta"].as_object().unwrap().len(), 1, "{res}");
        }
        seen.extend(displays(&r));
    }
    assert_eq!(seen, SORTED);
    // Past the end, and count=0.
    let r = c
        .get(&format!("/?filter={}&startIndex=20&count=5", enc(filter)))
        .await
        .expect(200);
    assert_eq!((r.total(), r.resources().len()), (9, 0));
    let r = c.get(&format!("/?filter={}&count=0", enc(filter))).await.expect(200);
    assert_eq!((r.total(), r.resources().len()), (9, 0));
    // Without a filter: everything of both kinds, in id order.
    let r = c.get("/?excludedAttributes=members,emails").await.expect(200);
    assert_eq!(r.total(), 11);
    let ids: Vec<&str> = r.resources().iter().map(|x| x["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    assert!(r.resources().iter().all(|x| x.get("emails").is_none()));
    srv.stop().await;
}

async fn cursor_paging_across_kinds(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let c = &srv.client;
    seed(c).await;
    let filter = r#"displayName sw "rs ""#;
    // Sorted: forward only.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = c
            .post(
                "/.search",
                &json!({"schemas": [SEARCH_URN], "filter": filter, "sortBy": "displayName",
                        "cursor": cursor, "count": 2}),
            )
            .await
            .expect(200);
        assert_eq!(r.total(), 9);
        assert!(r.json.get("startIndex").is_none(), "{}", r.text);
        assert!(
            r.json.get("previousCursor").is_none(),
            "sorted listings have no previousCursor"
        );
        seen.extend(displays(&r));
        match r.json["nextCursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, SORTED);
    // Id order: forward, then back with previousCursor.
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut prevs: Vec<Option<String>> = Vec::new();
    let mut url = format!("/?filter={}&count=4&cursor=", enc(filter));
    loop {
        let r = c.get(&url).await.expect(200);
        let ids: Vec<String> = r
            .resources()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect();
        pages.push(ids);
        prevs.push(r.json["previousCursor"].as_str().map(str::to_string));
        match r.json["nextCursor"].as_str() {
            Some(next) => url = format!("/?filter={}&count=4&cursor={}", enc(filter), enc(next)),
            None => break,
        }
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 1]);
    let all: Vec<String> = pages.concat();
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "id order across both kinds");
    assert!(prevs[0].is_none());
    for (i, prev) in prevs.iter().enumerate().skip(1) {
        let prev = prev.as_ref().unwrap();
        let r = c
            .get(&format!("/?filter={}&count=4&cursor={}", enc(filter), enc(prev)))
            .await
            .expect(200);
        let ids: Vec<String> = r
            .resources()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, pages[i - 1], "previousCursor of page {}", i + 1);
    }
    // A cursor of /Users is not one of the root.
    let users = c.get("/Users?cursor=&count=1").await.expect(200);
    let user_cursor = users.json["nextCursor"].as_str().unwrap();
    c.get(&format!("/?count=1&cursor={}", enc(user_cursor)))
        .await
        .expect_error(400, Some("invalidCursor"));
    srv.stop().await;
}

backend_tests!(
    filter_sort_and_resource_types,
    index_paging_and_projection,
    cursor_paging_across_kinds,
);
