//! Filters on strings, logic, value paths, extensions, meta and the shapes
//! identity providers send, over the [`People`] data set: each check names
//! the exact set of resources it must return.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test suite: a failed step must fail the test"
)]

use super::EXTENSION_URN;
use super::people::People;
use crate::{Store, rfc3339};
use std::sync::Arc;

const ALL: &[&str] = &["alice", "bob", "celik", "dora", "eve", "frank"];

pub async fn filter_string_operators(store: Arc<dyn Store>) {
    let p = People::new(&store, "filter-string").await;
    p.users("userName eq \"ALICE\"", &["alice"]).await;
    p.users("userName eq \"bob\"", &["bob"]).await;
    p.users("userName ne \"bob\"", &["alice", "celik", "dora", "eve", "frank"])
        .await;
    p.users("userName co \"O\"", &["bob", "dora"]).await;
    p.users("userName sw \"A\"", &["alice"]).await;
    p.users("userName ew \"E\"", &["alice", "eve"]).await;
    // Ordering compares the lower-cased text by code point: 'ç' > 'd'.
    p.users("userName gt \"d\"", &["celik", "dora", "eve", "frank"]).await;
    p.users("userName ge \"EVE\"", &["celik", "eve", "frank"]).await;
    p.users("userName lt \"bob\"", &["alice"]).await;
    p.users("userName le \"BOB\"", &["alice", "bob"]).await;
    p.users("userName pr", ALL).await;
    p.users("title eq \"ENGINEER\"", &["alice", "bob", "eve"]).await;
    p.users("title ne \"engineer\"", &["celik", "dora", "frank"]).await;
    p.users("displayName co \"BROWN\"", &["bob"]).await;
    p.users("nickCode eq \"ace\"", &["alice", "bob"]).await;
    p.users("nickCode sw \"ace\"", &["alice", "bob", "eve"]).await;
    p.users("userName eq \"nobody\"", &[]).await;
    // Characters a translator must not treat as patterns or quotes.
    p.users("userName co \"%\"", &[]).await;
    p.users("userName co \"_\"", &[]).await;
    p.users("displayName co \"'\"", &[]).await;
    p.users("department co \"&\"", &["alice"]).await;
}

pub async fn filter_case_exact_strings(store: Arc<dyn Store>) {
    let p = People::new(&store, "filter-exact").await;
    p.users("externalId eq \"EXT-1\"", &["alice"]).await;
    p.users("externalId eq \"ext-1\"", &["bob"]).await;
    p.users("externalId co \"EXT\"", &["alice", "celik"]).await;
    p.users("externalId sw \"ext\"", &["bob"]).await;
    // Byte order: "EXT-3" and "ext-1" sort after "EXT-2".
    p.users("externalId gt \"EXT-2\"", &["bob", "celik"]).await;
    p.users("externalId ne \"EXT-1\"", &["bob", "celik", "dora", "eve", "frank"])
        .await;
    p.users("externalId ge \"EXT-3\"", &["bob", "celik"]).await;
    p.users("externalId le \"EXT-1\"", &["alice"]).await;
    p.users("externalId lt \"ext\"", &["alice", "celik"]).await;
    p.users("site eq \"Lab-North\"", &["alice"]).await;
    p.users("site ew \"North\"", &["alice"]).await;
    p.users("site ew \"north\"", &["bob"]).await;
    p.users("site co \"-\"", &["alice", "bob", "celik", "eve"]).await;
    p.users("site lt \"Lab-South\"", &["alice", "eve"]).await;
    let alice = p.id("alice");
    p.users(&format!("id eq \"{alice}\""), &["alice"]).await;
    p.users(&format!("id eq \"{}\"", alice.to_uppercase()), &[]).await;
}

pub async fn filter_unicode_case_folding(store: Arc<dyn Store>) {
    let p = People::new(&store, "filter-unicode").await;
    p.users("userName eq \"çelik\"", &["celik"]).await;
    p.users("userName sw \"ç\"", &["celik"]).await;
    p.users("displayName co \"ÇAY\"", &["celik"]).await;
    p.users("displayName ew \"çay\"", &["celik"]).await;
    p.users("nickCode eq \"ÇELIK\"", &["celik"]).await;
    p.users("name.familyName eq \"çelik\"", &["celik"]).await;
    // No accent stripping: c is not ç.
    p.users("userName eq \"celik\"", &[]).await;
}

pub async fn filter_presence_and_null(store: Arc<dyn Store>) {
    let p = People::new(&store, "filter-presence").await;
    // An empty string is not a value (RFC 7644 `pr`).
    p.users("displayName pr", &["alice", "bob", "celik"]).await;
    p.users("displayName eq null", &["dora", "eve", "frank"]).await;
    p.users("displayName ne null", &["alice", "bob", "celik"]).await;
    p.users("emails pr", &["alice", "bob", "celik", "eve"]).await;
    p.users("name pr", &["alice", "bob", "celik"]).await;
    p.users("name.givenName pr", &["alice", "bob"]).await;
    p.users("emails.primary pr", &["alice", "celik", "eve"]).await;
    p.users("manager pr", &["alice", "bob"]).await;
    p.users("tags pr", &["alice", "bob", "eve"]).await;
    p.users("tags eq null", &["celik", "dora", "frank"]).await;
    p.users("externalId pr", &["alice", "bob", "celik"]).await;
}

pub async fn filter_ne_includes_missing(store: Arc<dyn Store>) {
    let p = People::new(&store, "filter-ne").await;
    p.users("title ne \"x\"", ALL).await;
    p.users("emails.type ne \"work\"", &["celik", "dora", "frank"]).await;
    p.users("not (emails.type eq \"work\")", &["celik", "dora", "frank"])
        .await;
    p.users("not (title eq \"engineer\")", &["celik", "dora", "frank"])
        .await;
    p.users("active ne true", &["bob", "dora", "eve", "frank"]).await;
    p.users("level ne 1", &["bob", "celik", "dora", "frank"]).await;
}

pub async fn filter_logical_operators(store: Arc<dyn Store>) {
    let p = People::new(&store, "filter-logic").await;
    p.users("title eq \"engineer\" and active eq true", &["alice"]).await;
    p.users("title eq \"engineer\" or level lt 0", &["alice", "bob", "celik", "eve"])
        .await;
    p.users(
        "not (userName sw \"a\" or userName sw \"b\")",
        &["celik", "dora", "eve", "frank"],
    )
    .await;
    p.users(
        "(userName eq \"alice\" or userName eq \"bob\") and active eq false",
        &["bob"],
    )
    .await;
    // `and` binds tighter than `or`.
    p.users(
        "userName eq \"alice\" or userName eq \"celik\" and active eq false",
        &["alice"],
    )
    .await;
    p.users(
        "(userName eq \"alice\" or userName eq \"celik\") and active eq false",
        &[],
    )
    .await;
    p.users("not (not (userName eq \"dora\"))", &["dora"]).await;
    p.users("title pr and not (emails[type eq \"home\"])", &["bob", "eve"])
        .await;
    p.users("userName eq \"alice\" and userName eq \"bob\"", &[]).await;
    p.users(
        "userName eq \"alice\" or userName eq \"bob\" or userName eq \"dora\" or userName eq \"zed\"",
        &["alice", "bob", "dora"],
    )
    .await;
    p.users("not (level gt 0) and not (level lt 0)", &["dora"]).await;
}

pub async fn filter_value_paths(store: Arc<dyn Store>) {
    let p = People::new(&store, "filter-valuepath").await;
    p.users(
        "emails[type eq \"work\" and value co \"example\"]",
        &["alice", "bob", "eve"],
    )
    .await;
    p.users("emails[type eq \"home\" and primary eq true]", &["celik"])
        .await;
    p.users("emails[type eq \"work\" and primary eq true]", &["alice"])
        .await;
    p.users("emails[value ew \"HOME.EXAMPLE\"]", &["alice", "celik"]).await;
    p.users("emails[not (type eq \"work\")]", &["alice", "celik", "eve"])
        .await;
    p.users("emails[primary eq true]", &["alice", "celik", "eve"]).await;
    p.users(
        "emails[type eq \"work\" or type eq \"other\"]",
        &["alice", "bob", "eve"],
    )
    .await;
    p.users("name[givenName eq \"alice\"]", &["alice"]).await;
    p.users("emails[type eq \"home\"] and emails[type eq \"work\"]", &["alice"])
        .await;
    // Both conditions must hold for one element, not for two different ones.
    p.users("emails[type eq \"home\" and value sw \"alice@work\"]", &[])
        .await;
    p.users("emails.type eq \"home\" and emails.value sw \"alice@work\"", &["alice"])
        .await;
    p.users("emails[type eq \"work\"].value eq \"BOB@work.example\"", &["bob"])
        .await;
}

pub async fn filter_complex_without_sub_attribute(store: Arc<dyn Store>) {
    let p = People::new(&store, "filter-complex").await;
    p.users("emails co \"@WORK\"", &["alice", "bob", "eve"]).await;
    p.users("emails eq \"eve@other.example\"", &["eve"]).await;
    p.users("emails.value sw \"celik\"", &["celik"]).await;
    p.users("emails.type eq \"other\"", &["eve"]).await;
    p.users("name.familyName eq \"brown\"", &["bob"]).await;
    p.users("manager eq \"mgr-1\"", &["alice"]).await;
    p.users("manager.value eq \"MGR-2\"", &["bob"]).await;
}

pub async fn filter_extension_attributes(store: Arc<dyn Store>) {
    let p = People::new(&store, "filter-ext").await;
    p.users(&format!("{EXTENSION_URN}:site eq \"Lab-North\""), &["alice"])
        .await;
    // URNs and attribute names are case-insensitive.
    p.users(
        "urn:example:params:scim:schemas:extension:CONFORMANCE:2.0:User:Level eq 10",
        &["bob"],
    )
    .await;
    p.users(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"r&d\"",
        &["alice"],
    )
    .await;
    p.users("department eq \"sales\"", &["bob"]).await;
    p.users("employeeNumber pr", &["alice"]).await;
    p.users(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"mgr-2\"",
        &["bob"],
    )
    .await;
    p.users(
        "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"eve\"",
        &["eve"],
    )
    .await;
    p.users("USERNAME eq \"EVE\"", &["eve"]).await;
    p.users("Emails[TYPE eq \"work\"].VALUE eq \"eve@work.example\"", &["eve"])
        .await;
    p.users(
        &format!("{EXTENSION_URN}:tags eq \"green\" and {EXTENSION_URN}:remote eq false"),
        &["eve"],
    )
    .await;
}

pub async fn filter_idp_shapes(store: Arc<dyn Store>) {
    let p = People::new(&store, "filter-idp").await;
    p.users("userName eq \"alice\"", &["alice"]).await;
    p.users("externalId eq \"EXT-3\"", &["celik"]).await;
    p.groups("displayName eq \"engineering\"", &["g_eng"]).await;
    p.groups("externalId eq \"G-ENG\"", &["g_eng"]).await;
    p.users("emails[type eq \"work\"].value eq \"alice@work.example\"", &["alice"])
        .await;
    let (alice, bob) = (p.id("alice"), p.id("bob"));
    p.users(&format!("id eq \"{alice}\" and manager eq \"mgr-1\""), &["alice"])
        .await;
    p.users(&format!("id eq \"{bob}\" and manager eq \"mgr-1\""), &[]).await;
    // Only bob was modified after everyone else's last change.
    let latest_other = p
        .by_name
        .iter()
        .filter(|(n, _)| **n != "bob")
        .map(|(_, s)| s.modified)
        .max()
        .expect("resources exist");
    p.users(&format!("meta.lastModified gt \"{}\"", rfc3339(latest_other)), &["bob"])
        .await;
}

pub async fn filter_meta_attributes(store: Arc<dyn Store>) {
    let p = People::new(&store, "filter-meta").await;
    let bob = p.by_name["bob"].clone();
    p.users(&format!("meta.lastModified ge \"{}\"", rfc3339(bob.modified)), &["bob"])
        .await;
    p.users(
        &format!("meta.lastModified lt \"{}\"", rfc3339(bob.modified)),
        &["alice", "celik", "dora", "eve", "frank"],
    )
    .await;
    let first = p.by_name["alice"].created;
    p.users(&format!("meta.created ge \"{}\"", rfc3339(first)), ALL).await;
    // The same instant written with an offset.
    let shifted = first.with_timezone(&chrono::FixedOffset::east_opt(3600).expect("valid offset"));
    let shifted = shifted.to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
    p.users(&format!("meta.created lt \"{shifted}\""), &[]).await;
    p.users("meta.resourceType eq \"User\"", ALL).await;
    p.users("meta.resourceType eq \"Group\"", &[]).await;
    p.users("meta.version eq \"W/\\\"2\\\"\"", &["bob"]).await;
    p.users(
        "meta.version eq \"W/\\\"1\\\"\"",
        &["alice", "celik", "dora", "eve", "frank"],
    )
    .await;
    let alice = p.id("alice");
    p.users(&format!("id sw \"{}\"", &alice[..13]), &["alice"]).await;
    p.users(
        &format!("id eq \"{alice}\" or id eq \"{}\"", p.id("eve")),
        &["alice", "eve"],
    )
    .await;
    p.users("id pr", ALL).await;
}

pub async fn filter_group_members(store: Arc<dyn Store>) {
    let p = People::new(&store, "filter-groups").await;
    let (bob, celik, alice, eng) = (p.id("bob"), p.id("celik"), p.id("alice"), p.id("g_eng"));
    p.groups(&format!("members.value eq \"{bob}\""), &["g_eng", "g_sales"])
        .await;
    p.groups(&format!("members eq \"{celik}\""), &["g_all"]).await;
    p.groups(&format!("members.value eq \"{eng}\""), &["g_all"]).await;
    p.groups("members.type eq \"Group\"", &["g_all"]).await;
    p.groups("members.type eq \"user\"", &["g_eng", "g_sales", "g_all"])
        .await;
    p.groups("members pr", &["g_eng", "g_sales", "g_all"]).await;
    p.groups("not (members pr)", &["g_empty"]).await;
    p.groups(
        &format!("members[value eq \"{alice}\" and type eq \"User\"]"),
        &["g_eng"],
    )
    .await;
    p.groups(&format!("members[value eq \"{eng}\" and type eq \"User\"]"), &[])
        .await;
    p.groups("displayName sw \"e\"", &["g_eng", "g_empty"]).await;
    p.groups(
        "displayName eq \"SALES\" or displayName eq \"all staff\"",
        &["g_sales", "g_all"],
    )
    .await;
}
