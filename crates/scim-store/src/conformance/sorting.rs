//! Sorting: every attribute type in both orders, missing values last in
//! ascending order, ties broken by id, as `SortSpec::compare` defines.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test suite: a failed step must fail the test"
)]

use super::people::People;
use super::support::*;
use crate::{Kind, Store, Stored};
use scim_core::filter::Filter;
use scim_core::sort::{SortOrder, SortSpec};
use std::sync::Arc;

pub(crate) fn sort_spec(kind: Kind, by: &str, order: SortOrder) -> SortSpec {
    SortSpec::new(by, order, &[resource_type(kind)]).unwrap_or_else(|e| panic!("case bug: sortBy {by}: {e:?}"))
}

fn order_name(order: SortOrder) -> &'static str {
    match order {
        SortOrder::Ascending => "ascending",
        SortOrder::Descending => "descending",
    }
}

/// The ids the store returns for a sorted query, in order.
pub(crate) async fn sorted_ids(f: &Fixture, kind: Kind, filter: Option<Filter>, sort: &SortSpec) -> Vec<String> {
    let (_, items) = f.query_all(kind, filter, Some(sort.clone())).await;
    items.into_iter().map(|s| s.id).collect()
}

/// The order the reference comparator gives `resources` (read with members).
pub(crate) fn reference_order(kind: Kind, sort: &SortSpec, resources: &[Stored]) -> Vec<String> {
    let docs: Vec<serde_json::Value> = resources.iter().map(Stored::to_resource).collect();
    reference_order_of(kind, sort, docs.iter())
}

/// The order the reference comparator gives already rendered resources.
pub(crate) fn reference_order_of<'a>(
    kind: Kind,
    sort: &SortSpec,
    docs: impl Iterator<Item = &'a serde_json::Value>,
) -> Vec<String> {
    let rt = resource_type(kind);
    let mut docs: Vec<&serde_json::Value> = docs.collect();
    docs.sort_by(|a, b| sort.compare(rt, a, b));
    docs.into_iter()
        .map(|d| {
            d.get("id")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

impl People {
    async fn check_order(&self, by: &str, order: SortOrder, names: &[&str]) {
        let sort = sort_spec(Kind::User, by, order);
        let got = sorted_ids(&self.f, Kind::User, None, &sort).await;
        let want: Vec<String> = names.iter().map(|n| self.id(n)).collect();
        if got != want {
            let name_of = |id: &String| {
                self.by_name
                    .iter()
                    .find(|(_, s)| &s.id == id)
                    .map_or_else(|| id.clone(), |(n, _)| n.to_string())
            };
            panic!(
                "sortBy={by} sortOrder={}: expected {names:?}, got {:?}",
                order_name(order),
                got.iter().map(name_of).collect::<Vec<_>>()
            );
        }
    }

    /// Names in id order, to spell out where ties land.
    fn by_id(&self, names: &[&'static str]) -> Vec<&'static str> {
        let mut v = names.to_vec();
        v.sort_by_key(|n| self.id(n));
        v
    }
}

pub async fn sort_every_type_both_orders(store: Arc<dyn Store>) {
    if !store.capabilities().sort {
        println!("skipped: the backend does not support sorting (Capabilities::sort is false)");
        return;
    }
    let p = People::new(&store, "sort-types").await;
    // Spelled out for two types, then every type against the reference.
    let tie = p.by_id(&["alice", "eve"]);
    let mut asc = vec!["celik"];
    asc.extend(&tie);
    asc.extend(["bob", "frank", "dora"]);
    p.check_order("level", SortOrder::Ascending, &asc).await;
    let mut desc = vec!["dora", "frank", "bob"];
    desc.extend(&tie);
    desc.push("celik");
    p.check_order("level", SortOrder::Descending, &desc).await;
    // The same instant in two offsets ties; eve is the earliest.
    let mut asc = vec!["eve"];
    asc.extend(p.by_id(&["alice", "bob"]));
    asc.push("celik");
    asc.extend(p.by_id(&["dora", "frank"]));
    p.check_order("hiredAt", SortOrder::Ascending, &asc).await;

    let (_, users) = p.f.query_all(Kind::User, None, None).await;
    let by = [
        "userName",
        "displayName",
        "title",
        "externalId",
        "active",
        "name.familyName",
        "name.givenName",
        "emails",
        "emails.value",
        "emails.type",
        "level",
        "score",
        "hiredAt",
        "remote",
        "badge",
        "site",
        "nickCode",
        "tags",
        "manager",
        "department",
        "meta.created",
        "meta.lastModified",
        "id",
    ];
    for by in by {
        for order in [SortOrder::Ascending, SortOrder::Descending] {
            let sort = sort_spec(Kind::User, by, order);
            let got = sorted_ids(&p.f, Kind::User, None, &sort).await;
            let want = reference_order(Kind::User, &sort, &users);
            assert_eq!(
                got,
                want,
                "sortBy={by} sortOrder={}: store order (left) differs from SortSpec::compare (right)",
                order_name(order)
            );
        }
    }
    let groups: Vec<Stored> = {
        let mut v = Vec::new();
        for n in ["g_eng", "g_sales", "g_all", "g_empty"] {
            v.push(p.f.get_ok(Kind::Group, &p.id(n)).await);
        }
        v
    };
    for by in ["displayName", "externalId", "meta.created", "members", "members.value"] {
        for order in [SortOrder::Ascending, SortOrder::Descending] {
            let sort = sort_spec(Kind::Group, by, order);
            let got = sorted_ids(&p.f, Kind::Group, None, &sort).await;
            let want = reference_order(Kind::Group, &sort, &groups);
            assert_eq!(
                got,
                want,
                "groups sortBy={by} sortOrder={}: store order (left) differs from SortSpec::compare (right)",
                order_name(order)
            );
        }
    }
}

pub async fn sort_ties_broken_by_id(store: Arc<dyn Store>) {
    if !store.capabilities().sort {
        println!("skipped: the backend does not support sorting (Capabilities::sort is false)");
        return;
    }
    let f = Fixture::new(&store, "sort-ties").await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let title = if i % 2 == 0 { "Same" } else { "SAME" };
        ids.push(f.user_from(serde_json::json!({"schemas": [scim_core::schema::USER_URN], "userName": format!("tie{i}"), "title": title})).await.id);
    }
    let ids = sorted(ids);
    for order in [SortOrder::Ascending, SortOrder::Descending] {
        for by in ["title", "nickName"] {
            let got = sorted_ids(&f, Kind::User, None, &sort_spec(Kind::User, by, order)).await;
            assert_eq!(
                got,
                ids,
                "sortBy={by} sortOrder={} over equal (or missing) values must be id order",
                order_name(order)
            );
        }
    }
}

pub async fn sort_missing_values_last(store: Arc<dyn Store>) {
    if !store.capabilities().sort {
        println!("skipped: the backend does not support sorting (Capabilities::sort is false)");
        return;
    }
    let p = People::new(&store, "sort-missing").await;
    // eve's displayName is "", which counts as missing.
    let missing = p.by_id(&["dora", "eve", "frank"]);
    let mut asc = vec!["alice", "bob", "celik"];
    asc.extend(&missing);
    p.check_order("displayName", SortOrder::Ascending, &asc).await;
    let mut desc = missing.clone();
    desc.extend(["celik", "bob", "alice"]);
    p.check_order("displayName", SortOrder::Descending, &desc).await;
    // Multi-valued: the primary email, else the first.
    let mut asc = vec!["alice", "bob", "celik", "eve"];
    asc.extend(p.by_id(&["dora", "frank"]));
    p.check_order("emails", SortOrder::Ascending, &asc).await;
}

pub async fn sort_with_filter(store: Arc<dyn Store>) {
    if !store.capabilities().sort {
        println!("skipped: the backend does not support sorting (Capabilities::sort is false)");
        return;
    }
    let p = People::new(&store, "sort-filter").await;
    let filter = parse_filter(Kind::User, "title pr");
    let got = sorted_ids(
        &p.f,
        Kind::User,
        Some(filter),
        &sort_spec(Kind::User, "userName", SortOrder::Descending),
    )
    .await;
    let want: Vec<String> = ["eve", "bob", "alice"].iter().map(|n| p.id(n)).collect();
    assert_eq!(got, want, "filter `title pr` sortBy=userName descending");
    let filter = parse_filter(Kind::User, "level pr");
    let got = sorted_ids(
        &p.f,
        Kind::User,
        Some(filter),
        &sort_spec(Kind::User, "score", SortOrder::Ascending),
    )
    .await;
    let mut want: Vec<String> = vec![p.id("bob")];
    want.extend(p.by_id(&["alice", "eve"]).iter().map(|n| p.id(n)));
    want.push(p.id("celik"));
    want.push(p.id("frank"));
    assert_eq!(
        got, want,
        "filter `level pr` sortBy=score ascending (frank has no score: last)"
    );
}
