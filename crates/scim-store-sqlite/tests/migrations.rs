//! Migrations on files written by earlier builds: each is built here by the
//! real migration files of its version, filled with a current store's
//! rows, then opened again.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed step must fail the test"
)]

mod common;

use common::TempDir;
use scim_core::filter::{FilterLimits, parse};
use scim_core::members::Member;
use scim_core::projection::UnchangedByDefault;
use scim_core::schema::{Registry, USER_URN};
use scim_store::{Ctx, Kind, Load, NewResource, Precondition, Query, Store, StoreError};
use serde_json::json;
use std::sync::Arc;

fn user(name: &str) -> NewResource {
    NewResource {
        doc: json!({"schemas": [USER_URN], "userName": name, "externalId": format!("ext-{name}")}),
        members: Vec::new(),
    }
}

/// A file of schema version 2 holds `resources` as a rowid table; opening it
/// with this build makes it a WITHOUT ROWID table (migration 3) and keeps
/// every row, the unique userName index, the other indexes and the counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_2_file_keeps_everything_when_resources_are_clustered() {
    let current = TempDir::new("clustered-migration-source");
    let dir = TempDir::new("clustered-migration");
    let registry = Arc::new(Registry::builtin());
    let (ctx, users, group) = {
        let store = common::open(&current, registry.clone());
        let ctx = Ctx::new(store.create_tenant("t").await.unwrap().id, None, "r");
        let mut users = Vec::new();
        for i in 0..300 {
            users.push(
                store
                    .create(&ctx, Kind::User, user(&format!("u{i:03}")))
                    .await
                    .unwrap()
                    .id,
            );
        }
        let group = store
            .create(
                &ctx,
                Kind::Group,
                NewResource {
                    doc: json!({"displayName": "Staff"}),
                    members: vec![Member::new(&users[7])],
                },
            )
            .await
            .unwrap()
            .id;
        (ctx, users, group)
    };
    // A version-2 file: migrations 1 and 2 as shipped, then the current
    // store's rows (`resource_counts` follows from the triggers).
    {
        let conn = rusqlite::Connection::open(dir.db()).unwrap();
        conn.execute_batch(include_str!("../migrations/0001_initial.sql"))
            .unwrap();
        conn.execute_batch(include_str!("../migrations/0002_resource_counts.sql"))
            .unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.execute("ATTACH DATABASE ?1 AS cur", [current.db().to_string_lossy()])
            .unwrap();
        for table in ["tenants", "tokens", "resource_emails", "memberships", "audit"] {
            conn.execute_batch(&format!("INSERT INTO main.{table} SELECT * FROM cur.{table}"))
                .unwrap();
        }
        // The columns of version 2 (migration 4 added `verdict`).
        let columns = "tenant, kind, id, version, created, modified, user_name_key, external_id, \
                       display_name_key, doc, created_seq";
        conn.execute_batch(&format!(
            "INSERT INTO main.resources ({columns}) SELECT {columns} FROM cur.resources"
        ))
        .unwrap();
        conn.execute_batch("DETACH DATABASE cur").unwrap();
        let without_rowid: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'resources' AND sql LIKE '%WITHOUT ROWID%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(without_rowid, 0, "the rebuilt version-2 table must be a rowid table");
    }

    let store = common::open(&dir, registry.clone());
    assert_eq!(store.schema_version().await.unwrap(), 5);
    {
        let conn = rusqlite::Connection::open(dir.db()).unwrap();
        let sql: String = conn
            .query_row("SELECT sql FROM sqlite_schema WHERE name = 'resources'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(sql.contains("WITHOUT ROWID"), "resources is still a rowid table: {sql}");
    }
    // Every row, readable by id, in id order, by userName and externalId.
    for id in &users {
        store.get(&ctx, Kind::User, id, Load::default()).await.unwrap();
    }
    let page = store.query(&ctx, Kind::User, &Query::all(1000)).await.unwrap();
    assert_eq!(page.total, 300);
    let mut sorted = users.clone();
    sorted.sort();
    assert_eq!(page.items.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), sorted);
    let by = |f: &str| Query {
        filter: Some(parse(f, &FilterLimits::default()).unwrap()),
        ..Query::all(10)
    };
    let hit = store
        .query(&ctx, Kind::User, &by("userName eq \"U123\""))
        .await
        .unwrap();
    assert_eq!(hit.items.len(), 1);
    let hit = store
        .query(&ctx, Kind::User, &by("externalId eq \"ext-u200\""))
        .await
        .unwrap();
    assert_eq!(hit.items.len(), 1);
    let g = store.get(&ctx, Kind::Group, &group, Load::WITH_MEMBERS).await.unwrap();
    let members: Vec<String> = g.members.unwrap().into_iter().map(|m| m.value).collect();
    assert_eq!(members, vec![users[7].clone()]);
    assert_eq!(store.groups_of(&ctx, &users[7]).await.unwrap().len(), 1);
    // The unique index and the count triggers came back.
    assert_eq!(
        store.create(&ctx, Kind::User, user("U005")).await.unwrap_err(),
        StoreError::Conflict {
            attribute: "userName".into()
        }
    );
    store.create(&ctx, Kind::User, user("new")).await.unwrap();
    store
        .delete(&ctx, Kind::User, &users[0], Precondition::Any)
        .await
        .unwrap();
    let page = store.query(&ctx, Kind::User, &Query::all(1)).await.unwrap();
    assert_eq!(page.total, 300);
    // Rows from before migration 4 got their verdicts at the first open,
    // as did the user written since.
    let check = UnchangedByDefault::for_rendering(registry.user());
    let texts = store.query_text(&ctx, Kind::User, &Query::all(1000)).await.unwrap();
    assert_eq!(texts.items.len(), 300);
    for item in &texts.items {
        assert_eq!(item.verdict, Some(check.verdict(&item.doc)), "{}", item.doc);
        assert!(
            check.members_given(&item.doc, item.verdict.as_ref()).is_some(),
            "{}",
            item.doc
        );
    }
}

/// A file of schema version 4 (each user's verdict column, written by the
/// builds before migration 5, without a seal) opens at version 5 and has
/// every user's verdict found, whatever it held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_4_file_gets_its_seal_and_every_verdict() {
    let dir = TempDir::new("seal-migration");
    let registry = Arc::new(Registry::builtin());
    let ctx = {
        let store = common::open(&dir, registry.clone());
        let ctx = Ctx::new(store.create_tenant("t").await.unwrap().id, None, "r");
        for i in 0..20 {
            store.create(&ctx, Kind::User, user(&format!("u{i:02}"))).await.unwrap();
        }
        ctx
    };
    {
        let conn = rusqlite::Connection::open(dir.db()).unwrap();
        conn.execute_batch("DROP TABLE verdict_seal; UPDATE resources SET verdict = NULL WHERE id < '8';")
            .unwrap();
        conn.pragma_update(None, "user_version", 4).unwrap();
    }
    let store = common::open(&dir, registry.clone());
    assert_eq!(store.schema_version().await.unwrap(), 5);
    let check = UnchangedByDefault::for_rendering(registry.user());
    let texts = store.query_text(&ctx, Kind::User, &Query::all(100)).await.unwrap();
    assert_eq!(texts.items.len(), 20);
    for item in &texts.items {
        assert_eq!(item.verdict, Some(check.verdict(&item.doc)), "{}", item.doc);
    }
}
