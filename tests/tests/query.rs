//! Listing and searching: filter, sortBy/sortOrder, startIndex/count with the
//! advertised maxResults, attributes/excludedAttributes, POST /.search, and
//! the ListResponse shape (integers, an empty `Resources` for no match).

// Test code: a failed unwrap or assertion is a failed test (clippy.toml
// allows these in #[test] functions; the helpers here need it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Seven users with names, emails, titles and active flags to filter on.
async fn seed(c: &Scim) -> Vec<Value> {
    let people = [
        ("q-alice", "Alice", "Anders", "Engineer", true),
        ("q-bob", "Bob", "Brown", "Manager", true),
        ("q-carol", "Carol", "Clark", "Engineer", false),
        ("q-dave", "Dave", "Davis", "Designer", true),
        ("q-erin", "Erin", "Evans", "Engineer", true),
        ("q-frank", "Frank", "Foster", "Manager", false),
        ("q-grace", "Grace", "Green", "Designer", true),
    ];
    let mut out = Vec::new();
    for (user_name, given, family, title, active) in people {
        let body = json!({
            "schemas": [USER_URN],
            "userName": user_name,
            "name": {"givenName": given, "familyName": family},
            "displayName": format!("{given} {family}"),
            "title": title,
            "active": active,
            "emails": [
                {"value": format!("{user_name}@work.example"), "type": "work", "primary": true},
                {"value": format!("{user_name}@home.example"), "type": "home"}
            ]
        });
        out.push(c.post("/Users", &body).await.expect(201).json);
    }
    out
}

fn user_names(r: &Resp) -> Vec<String> {
    r.resources()
        .iter()
        .map(|u| {
            u["userName"]
                .as_str()
                .unwrap_or_else(|| panic!("no userName in {u}"))
                .to_string()
        })
        .collect()
}

#[track_caller]
fn assert_list_response(r: &Resp) {
    assert_eq!(r.json["schemas"], json!([LIST_URN]), "{}", r.text);
    r.total();
    assert!(
        r.json["startIndex"].is_u64(),
        "startIndex must be a JSON integer: {}",
        r.text
    );
    assert!(
        r.json["itemsPerPage"].is_u64(),
        "itemsPerPage must be a JSON integer: {}",
        r.text
    );
    assert_eq!(
        r.json["itemsPerPage"].as_u64(),
        Some(r.resources().len() as u64),
        "{}",
        r.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_select_what_they_say() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    seed(c).await;

    let cases: &[(&str, &[&str])] = &[
        (r#"userName eq "q-bob""#, &["q-bob"]),
        // userName is not caseExact.
        (r#"userName eq "Q-BOB""#, &["q-bob"]),
        (r#"title eq "Engineer" and active eq true"#, &["q-alice", "q-erin"]),
        (r#"active eq false"#, &["q-carol", "q-frank"]),
        (r#"name.familyName sw "D""#, &["q-dave"]),
        (r#"emails[type eq "home" and value co "grace"]"#, &["q-grace"]),
        (r#"emails.value eq "q-erin@work.example""#, &["q-erin"]),
        (
            r#"title eq "Manager" or displayName ew "Green""#,
            &["q-bob", "q-frank", "q-grace"],
        ),
        (
            r#"not (title eq "Engineer") and active eq true"#,
            &["q-bob", "q-dave", "q-grace"],
        ),
        (
            r#"userName sw "q-" and displayName pr"#,
            &["q-alice", "q-bob", "q-carol", "q-dave", "q-erin", "q-frank", "q-grace"],
        ),
        // dateTime compares as time.
        (
            r#"meta.created gt "2000-01-01T00:00:00Z" and title eq "Designer""#,
            &["q-dave", "q-grace"],
        ),
        (r#"meta.lastModified lt "2000-01-01T00:00:00+01:00""#, &[]),
    ];
    for (filter, expected) in cases {
        let r = c
            .get(&format!("/Users?filter={}&sortBy=userName", enc(filter)))
            .await
            .expect(200);
        assert_list_response(&r);
        assert_eq!(user_names(&r), *expected, "filter {filter}");
        assert_eq!(r.total(), expected.len() as u64, "filter {filter}");
        // Listed resources are whole resources: versioned and located.
        for u in r.resources() {
            let id = u["id"].as_str().unwrap();
            assert!(
                u["meta"]["version"].as_str().is_some_and(|v| v.starts_with("W/")),
                "{u}"
            );
            assert_eq!(
                u["meta"]["location"],
                json!(format!("{}/Users/{id}", srv.base_url)),
                "{u}"
            );
        }
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_user_filter_is_an_empty_list() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    c.create_user("someone").await;
    for path in [
        format!("/Users?filter={}", enc(r#"userName eq "nobody@example.com""#)),
        format!(
            "/Users?filter={}&startIndex=1&count=100",
            enc(r#"userName eq "nobody""#)
        ),
        format!("/Groups?filter={}", enc(r#"displayName eq "No Such Group""#)),
    ] {
        let r = c.get(&path).await.expect(200);
        assert_list_response(&r);
        assert_eq!(r.json["totalResults"], json!(0), "{path}: {}", r.text);
        assert_eq!(
            r.json["Resources"],
            json!([]),
            "{path}: Resources must be an empty array: {}",
            r.text
        );
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_by_and_sort_order() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    seed(c).await;
    let all = ["q-alice", "q-bob", "q-carol", "q-dave", "q-erin", "q-frank", "q-grace"];

    let asc = c.get("/Users?sortBy=userName").await.expect(200);
    assert_eq!(user_names(&asc), all);
    let asc = c.get("/Users?sortBy=userName&sortOrder=ascending").await.expect(200);
    assert_eq!(user_names(&asc), all);
    let desc = c.get("/Users?sortBy=userName&sortOrder=descending").await.expect(200);
    let mut reversed = all.to_vec();
    reversed.reverse();
    assert_eq!(user_names(&desc), reversed);
    // By a sub-attribute, descending.
    let by_family = c
        .get("/Users?sortBy=name.familyName&sortOrder=descending")
        .await
        .expect(200);
    assert_eq!(user_names(&by_family), reversed);
    // Sort and filter together.
    let filtered = c
        .get(&format!(
            "/Users?filter={}&sortBy=displayName&sortOrder=descending",
            enc(r#"title eq "Engineer""#)
        ))
        .await
        .expect(200);
    assert_eq!(user_names(&filtered), ["q-erin", "q-carol", "q-alice"]);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_with_start_index_and_count() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let seeded = seed(c).await;

    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let r = c
            .get(&format!("/Users?sortBy=userName&startIndex={start}&count=3"))
            .await
            .expect(200);
        assert_list_response(&r);
        assert_eq!(r.total(), 7);
        assert_eq!(r.json["startIndex"], json!(start), "{}", r.text);
        let page = user_names(&r);
        assert!(page.len() <= 3);
        if page.is_empty() {
            break;
        }
        start += page.len() as u64;
        seen.extend(page);
    }
    assert_eq!(start, 8, "paged past the end");
    let expected: Vec<String> = {
        let mut v: Vec<String> = seeded
            .iter()
            .map(|u| u["userName"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(seen, expected);

    // count=0: only the total.
    let r = c.get("/Users?count=0").await.expect(200);
    assert_eq!(r.total(), 7);
    assert_eq!(
        r.json["Resources"].as_array().map(Vec::len).unwrap_or(0),
        0,
        "{}",
        r.text
    );
    // startIndex below 1 means 1.
    let r = c.get("/Users?startIndex=0&count=2&sortBy=userName").await.expect(200);
    assert_eq!(user_names(&r), ["q-alice", "q-bob"]);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_is_capped_at_the_advertised_max_results() {
    let srv = TestServer::start_with(|c| c.scim.max_results = 4).await;
    let c = &srv.client;
    seed(c).await;

    let spc = c.get("/ServiceProviderConfig").await.expect(200);
    assert_eq!(spc.json["filter"]["maxResults"], json!(4), "{}", spc.text);

    let r = c.get("/Users?count=1000").await.expect(200);
    assert_list_response(&r);
    assert_eq!(r.resources().len(), 4, "{}", r.text);
    assert_eq!(r.total(), 7);
    // Without count, the page is capped too.
    let r = c.get("/Users").await.expect(200);
    assert!(r.resources().len() <= 4, "{}", r.text);
    // The same through .search.
    let r = c
        .post("/Users/.search", &json!({"schemas": [SEARCH_URN], "count": 1000}))
        .await
        .expect(200);
    assert_eq!(r.resources().len(), 4, "{}", r.text);
    assert_eq!(r.total(), 7);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_and_search_honour_attributes_and_excluded_attributes() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    seed(c).await;

    let r = c.get("/Users?attributes=userName&count=3").await.expect(200);
    for u in r.resources() {
        let keys: BTreeSet<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["id", "schemas", "userName"]), "{u}");
    }
    let r = c.get("/Users?excludedAttributes=emails,name").await.expect(200);
    assert_eq!(r.resources().len(), 7);
    for u in r.resources() {
        assert!(u.get("emails").is_none() && u.get("name").is_none(), "{u}");
        assert!(u["userName"].is_string() && u["id"].is_string(), "{u}");
    }

    let search = json!({
        "schemas": [SEARCH_URN],
        "filter": "title eq \"Designer\"",
        "attributes": ["displayName", "emails.value"],
        "sortBy": "userName",
        "sortOrder": "descending",
        "startIndex": 1,
        "count": 10
    });
    let r = c.post("/Users/.search", &search).await.expect(200);
    assert_list_response(&r);
    assert_eq!(r.total(), 2);
    let names: Vec<&Value> = r.resources().iter().map(|u| &u["displayName"]).collect();
    assert_eq!(names, [&json!("Grace Green"), &json!("Dave Davis")]);
    for u in r.resources() {
        assert!(u.get("userName").is_none() && u.get("title").is_none(), "{u}");
        let emails = u["emails"].as_array().unwrap_or_else(|| panic!("no emails in {u}"));
        assert!(
            emails.iter().all(|e| e.get("type").is_none() && e["value"].is_string()),
            "{u}"
        );
    }

    let r = c
        .post(
            "/Users/.search",
            &json!({"schemas": [SEARCH_URN], "filter": "userName eq \"q-dave\"", "excludedAttributes": ["emails"]}),
        )
        .await
        .expect(200);
    assert_eq!(r.total(), 1);
    assert!(r.resources()[0].get("emails").is_none(), "{}", r.text);
    assert_eq!(r.resources()[0]["title"], "Designer");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_list_filter_and_search() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let u = c.create_user("grp.member").await;
    let uid = u["id"].as_str().unwrap();
    c.create_group("Engineering", &[uid]).await;
    c.create_group("Sales", &[]).await;
    c.create_group("Support", &[uid]).await;

    let r = c.filter("Groups", r#"displayName eq "Sales""#).await.expect(200);
    assert_list_response(&r);
    assert_eq!(r.total(), 1);
    assert_eq!(r.resources()[0]["displayName"], "Sales");

    let r = c
        .get("/Groups?sortBy=displayName&sortOrder=descending")
        .await
        .expect(200);
    let names: Vec<&Value> = r.resources().iter().map(|g| &g["displayName"]).collect();
    assert_eq!(names, [&json!("Support"), &json!("Sales"), &json!("Engineering")]);
    let support = &r.resources()[0];
    assert_eq!(
        member_ids(support),
        vec![uid.to_string()],
        "members are listed by default"
    );

    // Users listed or searched carry their derived groups.
    let r = c.filter("Users", r#"userName eq "grp.member""#).await.expect(200);
    let groups = r.resources()[0]["groups"].as_array().cloned().unwrap_or_default();
    assert_eq!(groups.len(), 2, "{}", r.text);
    let r = c
        .post(
            "/Users/.search",
            &json!({"schemas": [SEARCH_URN], "attributes": ["groups"]}),
        )
        .await
        .expect(200);
    let names: BTreeSet<&str> = r.resources()[0]["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("no groups in {}", r.text))
        .iter()
        .filter_map(|g| g["display"].as_str())
        .collect();
    assert_eq!(names, BTreeSet::from(["Engineering", "Support"]));

    let r = c.get("/Groups?excludedAttributes=members").await.expect(200);
    assert_eq!(r.total(), 3);
    assert!(r.resources().iter().all(|g| g.get("members").is_none()), "{}", r.text);

    let r = c
        .post(
            "/Groups/.search",
            &json!({"schemas": [SEARCH_URN], "filter": format!("members.value eq \"{uid}\""), "sortBy": "displayName", "attributes": ["displayName"]}),
        )
        .await
        .expect(200);
    assert_list_response(&r);
    let names: Vec<&Value> = r.resources().iter().map(|g| &g["displayName"]).collect();
    assert_eq!(names, [&json!("Engineering"), &json!("Support")]);
    assert!(r.resources().iter().all(|g| g.get("members").is_none()), "{}", r.text);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_filters_are_400_invalid_filter() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    c.create_user("filter.victim").await;
    for bad in [
        r#"userName eq"#,
        r#"userName zz "x""#,
        r#"(userName eq "x""#,
        r#"emails[type eq "work""#,
        r#"userName eq "unterminated"#,
    ] {
        c.filter("Users", bad).await.expect_error(400, Some("invalidFilter"));
        c.filter("Groups", bad).await.expect_error(400, Some("invalidFilter"));
        c.post("/Users/.search", &json!({"schemas": [SEARCH_URN], "filter": bad}))
            .await
            .expect_error(400, Some("invalidFilter"));
    }
    // Past the configured length and nesting limits.
    let long = format!("userName eq \"{}\"", "a".repeat(5000));
    c.filter("Users", &long).await.expect_error(400, Some("invalidFilter"));
    let deep = format!("{}userName eq \"x\"{}", "(".repeat(100), ")".repeat(100));
    c.filter("Users", &deep).await.expect_error(400, Some("invalidFilter"));
    // A malformed SearchRequest is a 400, never a silent match-all.
    c.post(
        "/Users/.search",
        &json!({"schemas": [SEARCH_URN], "filtr": "userName eq \"x\""}),
    )
    .await
    .expect_error(400, None);
    srv.stop().await;
}

/// A listed user is what GET returns for it, member for member and in the
/// same order: a page renders users from their stored text (on SQLite
/// with the verdict the store kept with it), GET through `Value`. Two are
/// in a group whose name needs escaping, one was changed by a PATCH.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_user_is_what_get_returns() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let users = seed(c).await;
    let id = |i: usize| users[i]["id"].as_str().unwrap().to_string();
    c.post("/Groups", &group("Team \"A\" \\ é", &[&id(0), &id(1)]))
        .await
        .expect(201);
    c.patch(
        &format!("/Users/{}", id(1)),
        &json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "title", "value": "Lead\n"}]}),
    )
    .await
    .expect(200);
    let page = c.get("/Users?count=100").await.expect(200);
    assert_eq!(page.resources().len(), users.len(), "{}", page.text);
    for listed in page.resources() {
        let one = c
            .get(&format!("/Users/{}", listed["id"].as_str().unwrap()))
            .await
            .expect(200);
        assert_eq!(listed, &one.json);
        assert_eq!(
            listed.to_string(),
            one.json.to_string(),
            "the same members in the same order"
        );
    }
    let grouped = page
        .resources()
        .iter()
        .filter(|u| u["groups"][0]["display"] == json!("Team \"A\" \\ é"));
    assert_eq!(grouped.count(), 2, "{}", page.text);
    srv.stop().await;
}
