//! Paging: 1-based `start_index`, `count`, `total`, and keyset positions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test suite: a failed step must fail the test"
)]

use super::sorting::sort_spec;
use super::support::*;
use crate::{Kind, Load, Page, Position, Query, Store};
use scim_core::sort::{SortOrder, SortSpec};
use serde_json::json;
use std::sync::Arc;

const N: usize = 25;

/// A tenant with `N` users `p00`..`p24` whose levels repeat (ties) and whose
/// every third user has no level (missing values). Returns their ids sorted.
async fn paged_users(store: &Arc<dyn Store>, label: &str) -> (Fixture, Vec<String>) {
    let f = Fixture::new(store, label).await;
    let mut ids = Vec::new();
    for i in 0..N {
        let mut body =
            json!({"schemas": [scim_core::schema::USER_URN, super::EXTENSION_URN], "userName": format!("p{i:02}")});
        if i % 3 != 0 {
            body[super::EXTENSION_URN] = json!({"level": i % 4});
        }
        ids.push(f.user_from(body).await.id);
    }
    (f, sorted(ids))
}

async fn page(f: &Fixture, sort: Option<&SortSpec>, start_index: u64, count: u64) -> Page {
    let q = Query {
        filter: None,
        sort: sort.cloned(),
        start_index,
        count,
        after: None,
        load: Load::WITHOUT_MEMBERS,
    };
    ok(
        f.store.query(&f.ctx, Kind::User, &q).await,
        &format!("query startIndex={start_index} count={count}"),
    )
}

fn ids(p: &Page) -> Vec<String> {
    p.items.iter().map(|s| s.id.clone()).collect()
}

pub async fn paging_default_id_order(store: Arc<dyn Store>) {
    let (f, all) = paged_users(&store, "paging-default").await;
    let p = page(&f, None, 1, N as u64).await;
    assert_eq!(p.total, N as u64, "total");
    assert_eq!(
        ids(&p),
        all,
        "without a sort, a query returns resources in ascending id order"
    );
}

pub async fn paging_start_index_below_one(store: Arc<dyn Store>) {
    let (f, all) = paged_users(&store, "paging-low").await;
    let p = page(&f, None, 0, 5).await;
    assert_eq!(ids(&p), all[..5].to_vec(), "startIndex=0 must act as 1");
    assert_eq!(p.total, N as u64);
    let p = page(&f, None, 1, 5).await;
    assert_eq!(ids(&p), all[..5].to_vec(), "startIndex=1 is the first item");
    let p = page(&f, None, 2, 5).await;
    assert_eq!(ids(&p), all[1..6].to_vec(), "startIndex=2 skips one item");
}

pub async fn paging_beyond_the_end(store: Arc<dyn Store>) {
    let (f, all) = paged_users(&store, "paging-end").await;
    for start in [N as u64 + 1, 100, u64::from(u32::MAX) + 7] {
        let p = page(&f, None, start, 10).await;
        assert!(
            p.items.is_empty(),
            "startIndex={start} is past the end but returned {} items",
            p.items.len()
        );
        assert_eq!(
            p.total, N as u64,
            "startIndex={start}: total must still count every match"
        );
    }
    let p = page(&f, None, N as u64, 10).await;
    assert_eq!(ids(&p), vec![all[N - 1].clone()], "startIndex={N} is the last item");
    let p = page(&f, None, N as u64 - 2, 10).await;
    assert_eq!(ids(&p), all[N - 3..].to_vec(), "a page cut short by the end");
}

pub async fn paging_count_zero_gives_total(store: Arc<dyn Store>) {
    let (f, _) = paged_users(&store, "paging-zero").await;
    let p = page(&f, None, 1, 0).await;
    assert!(p.items.is_empty(), "count=0 returned items");
    assert_eq!(p.total, N as u64, "count=0 must still give the total");
    let q = Query {
        filter: Some(parse_filter(Kind::User, "level eq 1")),
        ..Query::all(0)
    };
    let p = ok(f.store.query(&f.ctx, Kind::User, &q).await, "count=0 with a filter");
    // i % 3 != 0 and i % 4 == 1 for i < 25: 1, 5, 13, 17.
    assert_eq!((p.total, p.items.len()), (4, 0), "count=0 with filter `level eq 1`");
}

pub async fn paging_pages_concatenate(store: Arc<dyn Store>) {
    let (f, all) = paged_users(&store, "paging-concat").await;
    let sorts: Vec<Option<SortSpec>> = if store.capabilities().sort {
        vec![
            None,
            Some(sort_spec(Kind::User, "userName", SortOrder::Descending)),
            Some(sort_spec(Kind::User, "level", SortOrder::Ascending)),
            Some(sort_spec(Kind::User, "level", SortOrder::Descending)),
        ]
    } else {
        vec![None]
    };
    for sort in &sorts {
        let (_, everything) = f.query_all(Kind::User, None, sort.clone()).await;
        let full: Vec<String> = everything.into_iter().map(|s| s.id).collect();
        assert_eq!(sorted(&full), all, "the full list is every user once");
        for size in [1_u64, 3, 7, 24, 25, 30] {
            let mut got = Vec::new();
            let mut start = 1;
            while start <= N as u64 {
                let p = page(&f, sort.as_ref(), start, size).await;
                assert_eq!(p.total, N as u64, "total on page at {start}");
                assert!(!p.items.is_empty(), "empty page at startIndex={start} before the end");
                got.extend(ids(&p));
                start += size;
            }
            let what = sort
                .as_ref()
                .map_or_else(|| "id order".to_string(), |s| format!("sortBy={} {:?}", s.by, s.order));
            assert_eq!(
                got, full,
                "pages of {size} ({what}) do not concatenate to the full list"
            );
        }
    }
}

pub async fn paging_cursor_after(store: Arc<dyn Store>) {
    if !store.capabilities().cursor {
        println!("skipped: the backend does not support keyset paging (Capabilities::cursor is false)");
        return;
    }
    let (f, all) = paged_users(&store, "paging-cursor").await;
    let mut sorts = vec![None];
    if store.capabilities().sort {
        sorts.push(Some(sort_spec(Kind::User, "userName", SortOrder::Ascending)));
        sorts.push(Some(sort_spec(Kind::User, "level", SortOrder::Ascending)));
        sorts.push(Some(sort_spec(Kind::User, "level", SortOrder::Descending)));
    }
    let rt = resource_type(Kind::User);
    for sort in &sorts {
        let (_, everything) = f.query_all(Kind::User, None, sort.clone()).await;
        let full: Vec<String> = everything.into_iter().map(|s| s.id).collect();
        for size in [1_u64, 4, 10] {
            let mut got: Vec<String> = Vec::new();
            let mut after = None;
            loop {
                let q = Query {
                    filter: None,
                    sort: sort.clone(),
                    start_index: 1,
                    count: size,
                    after: after.clone(),
                    load: Load::WITHOUT_MEMBERS,
                };
                let what = format!("cursor page after {after:?} sort {sort:?} size {size}");
                let p = ok(f.store.query(&f.ctx, Kind::User, &q).await, &what);
                assert_eq!(
                    p.total, N as u64,
                    "{what}: total counts every match, not just those after the cursor"
                );
                let Some(last) = p.items.last() else { break };
                after = Some(Position::of(rt, sort.as_ref(), last));
                got.extend(ids(&p));
                assert!(
                    got.len() <= N,
                    "{what}: cursor paging returned more than {N} items: {got:?}"
                );
            }
            assert_eq!(
                got, full,
                "keyset pages of {size} (sort {sort:?}) do not concatenate to the full list"
            );
        }
    }
    assert_eq!(full_ids_sorted(&f).await, all, "cursor paging changed the data");
}

async fn full_ids_sorted(f: &Fixture) -> Vec<String> {
    sorted(f.query_all(Kind::User, None, None).await.1.into_iter().map(|s| s.id))
}

/// `query_text` answers what `query` answers, each document as JSON text
/// that parses to the same value: in id order, sorted, filtered (a filter
/// most stores answer in their query language, and one with a
/// `co` on a multi-valued sub-attribute), a point query, past the end, and
/// groups (whose members `query_text` never loads).
pub async fn paging_query_text_matches_query(store: Arc<dyn Store>) {
    let (f, _) = paged_users(&store, "paging-text").await;
    let member = f.user("paging-text member").await;
    let g = f.group("paging-text group", &[&member.id]).await;
    let mut queries = vec![
        ("id order", Kind::User, Query::all(N as u64)),
        (
            "page 2 of 7",
            Kind::User,
            Query {
                start_index: 8,
                ..Query::all(7)
            },
        ),
        (
            "level eq 1",
            Kind::User,
            Query {
                filter: Some(parse_filter(Kind::User, "level eq 1")),
                ..Query::all(N as u64)
            },
        ),
        (
            "userName eq p07",
            Kind::User,
            Query {
                filter: Some(parse_filter(Kind::User, "userName eq \"p07\"")),
                ..Query::all(N as u64)
            },
        ),
        (
            "emails.value co x (no user has one)",
            Kind::User,
            Query {
                filter: Some(parse_filter(Kind::User, "emails.value co \"x\" or userName sw \"p1\"")),
                ..Query::all(N as u64)
            },
        ),
        (
            "past the end",
            Kind::User,
            Query {
                start_index: 100,
                ..Query::all(5)
            },
        ),
        ("groups with members asked for", Kind::Group, Query::all(10)),
    ];
    if store.capabilities().sort {
        queries.push((
            "sortBy level descending",
            Kind::User,
            Query {
                sort: Some(sort_spec(Kind::User, "level", SortOrder::Descending)),
                ..Query::all(N as u64)
            },
        ));
    }
    for (what, kind, mut q) in queries {
        if kind == Kind::Group {
            q.load = Load { members: true };
        }
        let want = ok(f.store.query(&f.ctx, kind, &q).await, what);
        let got = ok(f.store.query_text(&f.ctx, kind, &q).await, what);
        assert_eq!(got.total, want.total, "{what}: total");
        assert_eq!(got.items.len(), want.items.len(), "{what}: page length");
        for (t, s) in got.items.iter().zip(&want.items) {
            assert_eq!(
                (t.kind, &t.id, t.version, t.created, t.modified),
                (s.kind, &s.id, s.version, s.created, s.modified),
                "{what}: the same resource in the same place"
            );
            let doc: serde_json::Value =
                serde_json::from_str(&t.doc).unwrap_or_else(|e| panic!("{what}: {} is not JSON: {e}", t.doc));
            assert_eq!(doc, s.doc, "{what}: the text is the stored document");
            assert_eq!(
                t.doc,
                serde_json::to_string(&s.doc).unwrap(),
                "{what}: the text is serde_json's compact form of the document, byte for byte"
            );
            assert!(!t.doc.contains("members"), "{what}: no members in the text");
        }
        if kind == Kind::Group {
            let listed = want.items.iter().find(|s| s.id == g.id);
            assert!(
                listed.is_some_and(|s| s.members.as_ref().is_some_and(|m| m.len() == 1)),
                "{what}: the group is listed with its member by query"
            );
        }
    }
}
