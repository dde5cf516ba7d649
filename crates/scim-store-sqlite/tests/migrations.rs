//! Migrations on files written by earlier builds: each is rebuilt here in
//! its old shape from a current store's data, then opened again.
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
    let dir = TempDir::new("clustered-migration");
    let registry = Arc::new(Registry::builtin());
    let (ctx, users, group) = {
        let store = common::open(&dir, registry.clone());
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
    // Back to version 2: the same rows in a rowid table, with the indexes
    // and triggers migrations 1 and 2 made.
    {
        let conn = rusqlite::Connection::open(dir.db()).unwrap();
        conn.execute_batch(
            "BEGIN;
             CREATE TABLE old AS SELECT * FROM resources;
             DROP TABLE resources;
             CREATE TABLE resources (
                 tenant TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('User', 'Group')), id TEXT NOT NULL,
                 version INTEGER NOT NULL, created TEXT NOT NULL, modified TEXT NOT NULL, user_name_key TEXT,
                 external_id TEXT, display_name_key TEXT, doc TEXT NOT NULL, created_seq INTEGER NOT NULL,
                 PRIMARY KEY (tenant, kind, id));
             INSERT INTO resources SELECT * FROM old;
             DROP TABLE old;
             CREATE UNIQUE INDEX resources_user_name ON resources (tenant, kind, user_name_key);
             CREATE INDEX resources_external_id ON resources (tenant, kind, external_id);
             CREATE INDEX resources_display_name ON resources (tenant, kind, display_name_key);
             CREATE TRIGGER resource_counts_insert AFTER INSERT ON resources BEGIN
                 INSERT OR IGNORE INTO resource_counts (tenant, kind, n, gen) VALUES (NEW.tenant, NEW.kind, 0, 0);
                 UPDATE resource_counts SET n = n + 1, gen = gen + 1 WHERE tenant = NEW.tenant AND kind = NEW.kind;
             END;
             CREATE TRIGGER resource_counts_delete AFTER DELETE ON resources BEGIN
                 UPDATE resource_counts SET n = n - 1, gen = gen + 1 WHERE tenant = OLD.tenant AND kind = OLD.kind;
             END;
             PRAGMA user_version = 2;
             COMMIT;",
        )
        .unwrap();
        let without_rowid: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'resources' AND sql LIKE '%WITHOUT ROWID%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(without_rowid, 0, "the rebuilt version-2 table must be a rowid table");
    }

    let store = common::open(&dir, registry);
    assert_eq!(store.schema_version().await.unwrap(), 3);
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
}
