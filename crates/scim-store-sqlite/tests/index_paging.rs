//! Index paging without a filter reads its total from the counts table and
//! starts deep pages from in-memory rank checkpoints (`ranks.rs`). Both must
//! agree exactly with a plain count and OFFSET, at every depth, before and
//! after creates and deletes change the ranks, and per tenant.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed step must fail the test"
)]

mod common;

use common::TempDir;
use scim_core::schema::{Registry, USER_URN};
use scim_store::{Ctx, Kind, NewResource, Precondition, Query, Store};
use scim_store_sqlite::SqliteStore;
use serde_json::json;
use std::sync::Arc;

fn docs(prefix: &str, n: usize) -> Vec<NewResource> {
    (0..n)
        .map(|i| NewResource {
            doc: json!({"schemas": [USER_URN], "userName": format!("{prefix}{i}")}),
            members: Vec::new(),
        })
        .collect()
}

/// Every id of the tenant in id order, through one big page per 1,000.
async fn all_ids(store: &SqliteStore, ctx: &Ctx) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let mut q = Query::all(1000);
        q.start_index = out.len() as u64 + 1;
        let page = store.query(ctx, Kind::User, &q).await.unwrap();
        if page.items.is_empty() {
            return out;
        }
        out.extend(page.items.into_iter().map(|s| s.id));
    }
}

/// Pages of `count` at many start indexes, each compared with `expected`.
async fn check_pages(store: &SqliteStore, ctx: &Ctx, expected: &[String], count: u64) {
    let n = expected.len() as u64;
    let starts = [
        1,
        2,
        15,
        16,
        17,
        18,
        33,
        255,
        256,
        257,
        258,
        511,
        512,
        513,
        700,
        1000,
        n - 1,
        n,
        n + 1,
        n + 50,
    ];
    for start in starts.into_iter().chain((1..n).step_by(97)) {
        let mut q = Query::all(count);
        q.start_index = start;
        let page = store.query(ctx, Kind::User, &q).await.unwrap();
        assert_eq!(page.total, n, "total at startIndex {start}");
        let from = usize::try_from(start - 1).unwrap().min(expected.len());
        let to = (from + count as usize).min(expected.len());
        let got: Vec<&str> = page.items.iter().map(|s| s.id.as_str()).collect();
        let want: Vec<&str> = expected[from..to].iter().map(String::as_str).collect();
        assert_eq!(got, want, "page at startIndex {start}, count {count}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_index_pages_match_a_plain_offset_through_creates_and_deletes() {
    let dir = TempDir::new("index-paging");
    let store = common::open(&dir, Arc::new(Registry::builtin()));
    let a = Ctx::new(store.create_tenant("a").await.unwrap().id, None, "r");
    let b = Ctx::new(store.create_tenant("b").await.unwrap().id, None, "r");
    store.create_many(&a, Kind::User, docs("a", 1500)).await.unwrap();
    store.create_many(&b, Kind::User, docs("b", 300)).await.unwrap();

    let mut expected: Vec<String> = all_ids(&store, &a).await;
    expected.sort();
    assert_eq!(expected.len(), 1500);
    check_pages(&store, &a, &expected, 100).await;
    check_pages(&store, &a, &expected, 1).await;
    // The other tenant has its own count and checkpoints.
    let mut b_ids = all_ids(&store, &b).await;
    b_ids.sort();
    assert_eq!(b_ids.len(), 300);
    check_pages(&store, &b, &b_ids, 100).await;

    // Creates and deletes shift every rank after them: the checkpoints of
    // the previous generation must not be used.
    for created in store.create_many(&a, Kind::User, docs("c", 40)).await.unwrap() {
        expected.push(created.id);
    }
    for id in expected.iter().step_by(7).take(60).cloned().collect::<Vec<_>>() {
        store.delete(&a, Kind::User, &id, Precondition::Any).await.unwrap();
        expected.retain(|e| e != &id);
    }
    expected.sort();
    check_pages(&store, &a, &expected, 100).await;

    // A page asking only for the total, and a tenant with nothing.
    let mut q = Query::all(0);
    q.start_index = 900;
    assert_eq!(
        store.query(&a, Kind::User, &q).await.unwrap().total,
        expected.len() as u64
    );
    let empty = Ctx::new(store.create_tenant("empty").await.unwrap().id, None, "r");
    let page = store.query(&empty, Kind::User, &Query::all(10)).await.unwrap();
    assert_eq!((page.total, page.items.len()), (0, 0));
    assert_eq!(store.query(&a, Kind::Group, &Query::all(10)).await.unwrap().total, 0);

    // Deleting the tenant takes its counts with it.
    store.delete_tenant(&b.tenant).await.unwrap();
    let page = store.query(&b, Kind::User, &Query::all(10)).await.unwrap();
    assert_eq!((page.total, page.items.len()), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_database_gets_its_counts_when_migrated() {
    let dir = TempDir::new("counts-migration");
    let (tenant, n) = {
        let store = common::open(&dir, Arc::new(Registry::builtin()));
        let ctx = Ctx::new(store.create_tenant("t").await.unwrap().id, None, "r");
        store.create_many(&ctx, Kind::User, docs("u", 600)).await.unwrap();
        (ctx.tenant, 600u64)
    };
    // Back to schema version 1: the counts table and triggers gone, as in a
    // file written before migration 2 existed (and the verdicts' seal, of
    // migration 5; migration 3 rebuilds `resources` without its verdicts).
    {
        let conn = rusqlite::Connection::open(dir.db()).unwrap();
        conn.execute_batch(
            "DROP TRIGGER resource_counts_insert; DROP TRIGGER resource_counts_delete;
             DROP TABLE resource_counts; DROP TABLE verdict_seal; PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let store = common::open(&dir, Arc::new(Registry::builtin()));
    let ctx = Ctx::new(tenant, None, "r");
    let mut q = Query::all(10);
    q.start_index = 590;
    let page = store.query(&ctx, Kind::User, &q).await.unwrap();
    assert_eq!((page.total, page.items.len()), (n, 10));
}

/// A burst of deep pages before any checkpoint exists: one read builds
/// them while the others wait for it (`ranks.rs`); every page is still the
/// plain OFFSET's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_deep_pages_on_new_checkpoints_match_a_plain_offset() {
    let dir = TempDir::new("index-paging-burst");
    let store = Arc::new(common::open(&dir, Arc::new(Registry::builtin())));
    let ctx = Ctx::new(store.create_tenant("t").await.unwrap().id, None, "r");
    store.create_many(&ctx, Kind::User, docs("u", 3000)).await.unwrap();
    let mut expected = all_ids(&store, &ctx).await;
    expected.sort();
    // A new store: the checkpoints live in memory, so it has none yet.
    drop(store);
    let store = Arc::new(common::open(&dir, Arc::new(Registry::builtin())));
    let expected = Arc::new(expected);
    let reads: Vec<_> = (0..16u64)
        .map(|i| {
            let (store, ctx, expected) = (store.clone(), ctx.clone(), expected.clone());
            tokio::spawn(async move {
                let start = 1000 + i * 113;
                let mut q = Query::all(50);
                q.start_index = start;
                let page = store.query(&ctx, Kind::User, &q).await.unwrap();
                let got: Vec<String> = page.items.into_iter().map(|s| s.id).collect();
                let from = usize::try_from(start - 1).unwrap();
                assert_eq!(got, expected[from..from + 50], "page at startIndex {start}");
            })
        })
        .collect();
    for read in reads {
        read.await.unwrap();
    }
}
