//! Cursor paging (RFC 9865) on every backend: cursor and count on GET and
//! POST .search, nextCursor and previousCursor, the cursor errors, and the
//! keyset guarantee: paging through 100,000 users while others are created
//! and deleted returns every user that existed throughout exactly once.

// Test code: a failed unwrap or assertion is a failed test (clippy.toml
// allows these in #[test] functions; the helpers here need it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use scim_store::{Ctx, Kind, NewResource, Precondition};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn ids(r: &Resp) -> Vec<String> {
    r.resources()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect()
}

async fn seed(c: &Scim, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..n {
        out.push(
            c.create_user(&format!("cur-{i:02}")).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    out.sort();
    out
}

/// Forward with nextCursor to the end, back with previousCursor to the
/// start, on GET and on POST .search.
async fn next_and_previous_cursors(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let c = &srv.client;
    let all = seed(c, 25).await;
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut prevs = Vec::new();
    let mut r = c.get("/Users?cursor&count=10").await.expect(200);
    loop {
        assert_eq!(r.total(), 25);
        assert!(r.json.get("startIndex").is_none(), "{}", r.text);
        assert_eq!(r.json["itemsPerPage"].as_u64(), Some(r.resources().len() as u64));
        pages.push(ids(&r));
        prevs.push(r.json["previousCursor"].as_str().map(str::to_string));
        let Some(next) = r.json["nextCursor"].as_str().map(str::to_string) else {
            break;
        };
        // POST .search takes the GET's cursor: same endpoint, no filter.
        r = c
            .post(
                "/Users/.search",
                &json!({"schemas": [SEARCH_URN], "cursor": next, "count": 10}),
            )
            .await
            .expect(200);
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 5]);
    assert_eq!(pages.concat(), all);
    assert!(prevs[0].is_none(), "the first page has no previous page");
    for i in 1..pages.len() {
        let prev = prevs[i].as_ref().unwrap();
        let back = c
            .get(&format!("/Users?count=10&cursor={}", enc(prev)))
            .await
            .expect(200);
        assert_eq!(ids(&back), pages[i - 1]);
        // And forward again from there.
        let next = back.json["nextCursor"].as_str().unwrap();
        let again = c
            .get(&format!("/Users?count=10&cursor={}", enc(next)))
            .await
            .expect(200);
        assert_eq!(ids(&again), pages[i]);
    }
    // count=0: only the total; the cursor stays where it was.
    let r = c.get("/Users?cursor=&count=0").await.expect(200);
    assert_eq!((r.total(), r.resources().len()), (25, 0));
    let next = r.json["nextCursor"].as_str().unwrap();
    let r = c.get(&format!("/Users?count=3&cursor={}", enc(next))).await.expect(200);
    assert_eq!(ids(&r), all[..3]);
    srv.stop().await;
}

/// With a filter and a sort: every page follows the sort, the filter and
/// sort must come with the cursor, and there is no previousCursor.
async fn sorted_and_filtered(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let c = &srv.client;
    seed(c, 12).await;
    let q = format!(
        "filter={}&sortBy=userName&sortOrder=descending&count=5",
        enc(r#"userName sw "cur-0""#)
    );
    let mut names = Vec::new();
    let mut r = c.get(&format!("/Users?{q}&cursor=")).await.expect(200);
    loop {
        assert!(r.json.get("previousCursor").is_none());
        names.extend(
            r.resources()
                .iter()
                .map(|u| u["userName"].as_str().unwrap().to_string()),
        );
        let Some(next) = r.json["nextCursor"].as_str().map(str::to_string) else {
            break;
        };
        // The same query with another filter, sort or endpoint refuses it.
        for other in [
            format!(
                "/Users?filter={}&count=5&cursor={}",
                enc(r#"userName sw "cur""#),
                enc(&next)
            ),
            format!(
                "/Users?filter={}&count=5&cursor={}",
                enc(r#"userName sw "cur-0""#),
                enc(&next)
            ),
            format!("/Groups?count=5&cursor={}", enc(&next)),
        ] {
            c.get(&other).await.expect_error(400, Some("invalidCursor"));
        }
        r = c.get(&format!("/Users?{q}&cursor={}", enc(&next))).await.expect(200);
    }
    let expected: Vec<String> = (0..10).rev().map(|i| format!("cur-{i:02}")).collect();
    assert_eq!(names, expected);
    srv.stop().await;
}

async fn bad_cursors_are_400(b: Backend) {
    let srv = TestServer::start_on_with(b, |c| c.scim.cursor_timeout_secs = 1).await;
    let c = &srv.client;
    seed(c, 3).await;
    let next = c.get("/Users?cursor=&count=1").await.expect(200).json["nextCursor"]
        .as_str()
        .unwrap()
        .to_string();
    // Modified: any one character.
    let mut bytes = next.clone().into_bytes();
    bytes[5] = if bytes[5] == b'a' { b'b' } else { b'a' };
    let tampered = String::from_utf8(bytes).unwrap();
    for bad in [tampered.as_str(), "garbage", "a.b", &next[..next.len() - 2]] {
        let r = c
            .get(&format!("/Users?count=1&cursor={}", enc(bad)))
            .await
            .expect_error(400, Some("invalidCursor"));
        assert!(r.json["detail"].as_str().unwrap().contains("cursor"), "{}", r.text);
    }
    // Another tenant's token cannot use it.
    let (_, _, other) = srv.tenant("other-tenant").await;
    other
        .get(&format!("/Users?count=1&cursor={}", enc(&next)))
        .await
        .expect_error(400, Some("invalidCursor"));
    // Cursor and startIndex together.
    c.get(&format!("/Users?startIndex=2&cursor={}", enc(&next)))
        .await
        .expect_error(400, Some("invalidValue"));
    // Expired.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = c
        .get(&format!("/Users?count=1&cursor={}", enc(&next)))
        .await
        .expect_error(400, Some("expiredCursor"));
    assert!(r.json["detail"].as_str().unwrap().contains("expired"), "{}", r.text);
    srv.stop().await;
}

/// The keyset guarantee under churn, at 100,000 users: every user that
/// existed from before the first page to after the last is returned exactly
/// once; nobody is returned twice.
async fn a_hundred_thousand_users_under_churn(b: Backend) {
    const USERS: usize = 100_000;
    let srv = TestServer::start_on_with(b, |c| {
        // Durability is not what is tested; preloading is faster without it.
        c.storage.sqlite.synchronous = scim_server::config::Synchronous::Off;
    })
    .await;
    let ctx = srv.ctx();
    let preload = preload(srv.store_arc(), ctx.clone(), "churn-base", USERS).await;
    let originals: BTreeSet<String> = preload.into_iter().collect();
    assert_eq!(originals.len(), USERS);

    // Churn while paging: create users, delete some of the new ones and
    // some originals.
    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let (store, ctx, stop) = (srv.store_arc(), ctx.clone(), stop.clone());
        let victims: Vec<String> = originals.iter().step_by(997).cloned().collect();
        tokio::spawn(async move {
            let mut deleted = BTreeSet::new();
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let doc = json!({"schemas": [USER_URN], "userName": format!("churn-new-{i}")});
                let created = store
                    .create(&ctx, Kind::User, NewResource { doc, members: vec![] })
                    .await
                    .unwrap();
                if i.is_multiple_of(2) {
                    store
                        .delete(&ctx, Kind::User, &created.id, Precondition::Any)
                        .await
                        .unwrap();
                }
                if let Some(v) = victims.get(i) {
                    store.delete(&ctx, Kind::User, v, Precondition::Any).await.unwrap();
                    deleted.insert(v.clone());
                }
                i += 1;
                tokio::task::yield_now().await;
            }
            deleted
        })
    };
    let c = &srv.client;
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut url = "/Users?cursor=&count=1000&attributes=userName".to_string();
    let mut pages = 0;
    loop {
        let r = c.get(&url).await.expect(200);
        for id in ids(&r) {
            *seen.entry(id).or_default() += 1;
        }
        pages += 1;
        match r.json["nextCursor"].as_str() {
            Some(next) => url = format!("/Users?count=1000&attributes=userName&cursor={}", enc(next)),
            None => break,
        }
    }
    stop.store(true, Ordering::Relaxed);
    let deleted = churn.await.unwrap();
    assert!(pages >= USERS / 1000, "{pages} pages");
    assert!(!deleted.is_empty(), "the churn deleted originals while paging");
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "returned more than once: {twice:?}");
    let missing: Vec<_> = originals
        .iter()
        .filter(|id| !deleted.contains(*id) && !seen.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} users that existed throughout were skipped",
        missing.len()
    );
    srv.stop().await;
}

/// Creates `n` users straight in the store, 32 at a time (group commit on
/// SQLite); returns their ids.
async fn preload(store: Arc<dyn scim_store::Store>, ctx: Ctx, prefix: &str, n: usize) -> Vec<String> {
    const WORKERS: usize = 32;
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..WORKERS {
        let (store, ctx, prefix) = (store.clone(), ctx.clone(), prefix.to_string());
        tasks.spawn(async move {
            let mut ids = Vec::new();
            for i in (w..n).step_by(WORKERS) {
                let doc: Value = json!({"schemas": [USER_URN], "userName": format!("{prefix}-{i:06}")});
                let s = store
                    .create(&ctx, Kind::User, NewResource { doc, members: vec![] })
                    .await
                    .unwrap();
                ids.push(s.id);
            }
            ids
        });
    }
    let mut all = Vec::with_capacity(n);
    while let Some(ids) = tasks.join_next().await {
        all.extend(ids.unwrap());
    }
    all
}

backend_tests!(
    next_and_previous_cursors,
    sorted_and_filtered,
    bad_cursors_are_400,
    a_hundred_thousand_users_under_churn,
);

/// Instances sharing `[scim] cursor_secret` continue each other's cursors;
/// without it, each instance signs with its own key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_work_across_instances_that_share_the_secret() {
    let secret = "a shared secret of the whole deployment";
    let first = TestServer::start_with(|c| c.scim.cursor_secret = Some(secret.into())).await;
    seed(&first.client, 4).await;
    let next = first.client.get("/Users?cursor=&count=2").await.expect(200).json["nextCursor"]
        .as_str()
        .unwrap()
        .to_string();
    for (shared, expected) in [(true, 200), (false, 400)] {
        let mut config = first.config().clone();
        config.scim.cursor_secret = shared.then(|| secret.to_string());
        let second = scim_server::start(config).await.unwrap();
        let c = Scim::new(&second.base_url, Some(&first.token));
        let r = c.get(&format!("/Users?count=2&cursor={}", enc(&next))).await;
        if expected == 200 {
            assert_eq!(r.expect(200).resources().len(), 2);
        } else {
            r.expect_error(400, Some("invalidCursor"));
        }
        second.stop().await;
    }
    first.stop().await;
}
