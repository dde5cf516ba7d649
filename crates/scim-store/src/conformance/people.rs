//! The small hand-made data set of the filter cases: six users whose every
//! attribute value was chosen to sit on an edge (equal instants in two
//! offsets, case variants, empty strings, missing attributes, an integer
//! beyond 2^53) and four groups, nested once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test suite: a failed step must fail the test"
)]

use super::EXTENSION_URN;
use super::support::*;
use crate::{Kind, Precondition, Store, Stored};
use scim_core::schema::{ENTERPRISE_USER_URN, USER_URN};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) struct People {
    pub f: Fixture,
    /// Name (`alice`, ..., `g_eng`) to resource.
    pub by_name: BTreeMap<&'static str, Stored>,
}

fn body(user_name: &str, extra: Value) -> Value {
    let mut b = json!({"schemas": [USER_URN, EXTENSION_URN, ENTERPRISE_USER_URN], "userName": user_name});
    if let (Some(o), Value::Object(extra)) = (b.as_object_mut(), extra) {
        o.extend(extra);
    }
    b
}

fn users() -> Vec<(&'static str, Value)> {
    vec![
        (
            "alice",
            body(
                "alice",
                json!({
                    "displayName": "Alice Anders", "externalId": "EXT-1", "title": "Engineer", "active": true,
                    "name": {"givenName": "Alice", "familyName": "Anders"},
                    "emails": [
                        {"value": "alice@work.example", "type": "work", "primary": true},
                        {"value": "Alice@Home.example", "type": "home"},
                    ],
                    EXTENSION_URN: {"level": 1, "score": 1.5, "hiredAt": "2020-01-01T00:00:00Z", "remote": true,
                        "badge": "QUJD", "site": "Lab-North", "nickCode": "Ace", "tags": ["red", "blue"]},
                    ENTERPRISE_USER_URN: {"employeeNumber": "100", "department": "R&D", "manager": {"value": "mgr-1"}},
                }),
            ),
        ),
        (
            "bob",
            body(
                "Bob",
                json!({
                    "displayName": "bob brown", "externalId": "ext-1", "title": "engineer", "active": false,
                    "name": {"givenName": "Bob", "familyName": "Brown"},
                    "emails": [{"value": "bob@work.example", "type": "work"}],
                    EXTENSION_URN: {"level": 10, "score": -2.25, "hiredAt": "2020-01-01T02:00:00+02:00", "remote": false,
                        "badge": "YWJj", "site": "lab-north", "nickCode": "ACE", "tags": ["Red"]},
                    ENTERPRISE_USER_URN: {"department": "Sales", "manager": "mgr-2"},
                }),
            ),
        ),
        (
            "celik",
            body(
                "ÇELIK",
                json!({
                    "displayName": "Çelik Çay", "externalId": "EXT-3", "active": "True",
                    "name": {"familyName": "Çelik"},
                    "emails": [{"value": "celik@home.example", "type": "home", "primary": true}],
                    EXTENSION_URN: {"level": -5, "score": 100.0, "hiredAt": "2021-06-15T12:30:00.500-05:30", "remote": true,
                        "site": "Lab-South", "nickCode": "çelik", "tags": []},
                }),
            ),
        ),
        ("dora", body("dora", json!({}))),
        (
            "eve",
            body(
                "eve",
                json!({
                    "displayName": "", "title": "Engineer", "active": false,
                    "emails": [
                        {"value": "eve@work.example", "type": "work"},
                        {"value": "eve@other.example", "type": "other", "primary": true},
                    ],
                    EXTENSION_URN: {"level": 1, "score": 1.50, "hiredAt": "2019-12-31T23:59:59.999Z", "remote": false,
                        "badge": "QUJD", "site": "LAB-NORTH", "nickCode": "ace ", "tags": ["green", "BLUE"]},
                }),
            ),
        ),
        (
            "frank",
            body("frank", json!({EXTENSION_URN: {"level": 9_007_199_254_740_993_i64}})),
        ),
    ]
}

impl People {
    /// Creates the users, then the groups (`g_eng` = alice + bob, `g_sales`
    /// = bob, `g_all` = g_eng + celik, `g_empty`), then updates bob once so
    /// he alone has version 2 and the latest lastModified.
    pub async fn new(store: &Arc<dyn Store>, label: &str) -> People {
        let f = Fixture::new(store, label).await;
        let mut by_name = BTreeMap::new();
        for (name, b) in users() {
            by_name.insert(name, f.user_from(b).await);
        }
        let id = |n: &str| by_name[n].id.clone();
        let eng = ok(
            f.try_create(
                Kind::Group,
                scim_core::validate::validate(
                    resource_type(Kind::Group),
                    &json!({"schemas": [scim_core::schema::GROUP_URN], "displayName": "Engineering", "externalId": "G-ENG"}),
                    scim_core::validate::Mode::Create,
                )
                .unwrap(),
                vec![scim_core::members::Member::new(id("alice")), scim_core::members::Member::new(id("bob"))],
            )
            .await,
            "create group Engineering",
        );
        let sales = f.group("sales", &[&id("bob")]).await;
        let all = f.group("All Staff", &[&eng.id, &id("celik")]).await;
        let empty = f.group("Empty", &[]).await;
        by_name.insert("g_eng", eng);
        by_name.insert("g_sales", sales);
        by_name.insert("g_all", all);
        by_name.insert("g_empty", empty);
        tick().await;
        let bob = by_name["bob"].clone();
        let updated = ok(
            f.put(Kind::User, &bob.id, Precondition::Any, bob.doc.clone()).await,
            "update bob",
        );
        by_name.insert("bob", updated);
        People { f, by_name }
    }

    pub fn id(&self, name: &str) -> String {
        self.by_name
            .get(name)
            .unwrap_or_else(|| panic!("case bug: no resource named {name}"))
            .id
            .clone()
    }

    /// Asserts that the filter matches exactly the named resources.
    pub async fn check(&self, kind: Kind, filter: &str, names: &[&str]) {
        let got = self.f.ids(kind, filter).await;
        let want = sorted(names.iter().map(|n| self.id(n)));
        if got != want {
            let name_of = |id: &String| {
                self.by_name
                    .iter()
                    .find(|(_, s)| &s.id == id)
                    .map_or_else(|| id.clone(), |(n, _)| n.to_string())
            };
            let got_names: Vec<String> = got.iter().map(name_of).collect();
            let missing: Vec<String> = want.iter().filter(|i| !got.contains(i)).map(name_of).collect();
            let extra: Vec<String> = got.iter().filter(|i| !want.contains(i)).map(name_of).collect();
            panic!(
                "filter `{filter}` on {kind:?}: expected {names:?}, got {got_names:?}\n  missing: {missing:?}\n  extra: {extra:?}"
            );
        }
    }

    pub async fn users(&self, filter: &str, names: &[&str]) {
        self.check(Kind::User, filter, names).await;
    }

    pub async fn groups(&self, filter: &str, names: &[&str]) {
        self.check(Kind::Group, filter, names).await;
    }
}
