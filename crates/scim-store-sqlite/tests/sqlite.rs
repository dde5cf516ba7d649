//! What the shared conformance suite cannot see: durability across a
//! reopen, group commit, migrations, bound parameters, the evaluator
//! fallback and its scan limit, and this store's own audit index.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed step must fail the test"
)]

mod common;

use common::TempDir;
use scim_core::filter::{FilterLimits, parse};
use scim_core::members::{Member, MemberDelta};
use scim_core::projection::UnchangedByDefault;
use scim_core::schema::{Registry, USER_URN};
use scim_store::{AuditOp, AuditQuery, Ctx, Kind, Load, NewResource, Precondition, Query, Store, StoreError, Update};
use scim_store_sqlite::{SqliteConfig, SqliteStore, Synchronous};
use serde_json::{Value, json};
use std::sync::Arc;

fn registry() -> Arc<Registry> {
    Arc::new(Registry::builtin())
}

fn user(name: &str) -> NewResource {
    NewResource {
        doc: json!({"schemas": [USER_URN], "userName": name}),
        members: Vec::new(),
    }
}

async fn tenant(store: &SqliteStore, name: &str) -> Ctx {
    let t = store.create_tenant(name).await.unwrap();
    Ctx::new(t.id, Some("token-1".into()), "request-1")
}

async fn ids(store: &SqliteStore, ctx: &Ctx, filter: &str) -> Result<Vec<String>, StoreError> {
    let f = parse(filter, &FilterLimits::default()).unwrap();
    let page = store
        .query(
            ctx,
            Kind::User,
            &Query {
                filter: Some(f),
                ..Query::all(1000)
            },
        )
        .await?;
    let mut ids: Vec<String> = page.items.into_iter().map(|s| s.id).collect();
    ids.sort();
    Ok(ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_closing_and_reopening() {
    let dir = TempDir::new("durable");
    let (ctx, id, group) = {
        let store = common::open(&dir, registry());
        let ctx = tenant(&store, "durable").await;
        let u = store.create(&ctx, Kind::User, user("kept")).await.unwrap();
        let g = store
            .create(
                &ctx,
                Kind::Group,
                NewResource {
                    doc: json!({"displayName": "g"}),
                    members: vec![Member::new(&u.id)],
                },
            )
            .await
            .unwrap();
        (ctx, u.id, g.id)
        // The store is dropped here: the writer finishes and the files close.
    };
    let store = common::open(&dir, registry());
    let got = store.get(&ctx, Kind::User, &id, Load::default()).await.unwrap();
    assert_eq!(got.doc["userName"], json!("kept"));
    let g = store.get(&ctx, Kind::Group, &group, Load::WITH_MEMBERS).await.unwrap();
    assert_eq!(g.members.unwrap().len(), 1);
    assert_eq!(
        store
            .audit(
                &ctx.tenant,
                &AuditQuery {
                    limit: 10,
                    ..AuditQuery::default()
                }
            )
            .await
            .unwrap()
            .len(),
        2
    );
    // The unique index came back too.
    let again = store.create(&ctx, Kind::User, user("KEPT")).await;
    assert_eq!(
        again.unwrap_err(),
        StoreError::Conflict {
            attribute: "userName".into()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_once_and_reopening_is_a_no_op() {
    let dir = TempDir::new("migrate");
    {
        let store = common::open(&dir, registry());
        assert_eq!(store.schema_version().await.unwrap(), 5);
        tenant(&store, "t").await;
    }
    for _ in 0..2 {
        let store = common::open(&dir, registry());
        assert_eq!(store.schema_version().await.unwrap(), 5);
        assert_eq!(
            store.tenants().await.unwrap().len(),
            1,
            "reopening lost or duplicated data"
        );
    }
    // A file from a newer build is refused, not silently used.
    {
        let conn = rusqlite::Connection::open(dir.db()).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    match SqliteStore::open(SqliteConfig::new(dir.db()), registry()) {
        Err(StoreError::Backend(message)) => assert!(message.contains("99"), "{message}"),
        other => panic!("expected a refusal of schema version 99, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_commits() {
    let dir = TempDir::new("group-commit");
    let store = Arc::new(common::open(&dir, registry()));
    let ctx = tenant(&store, "gc").await;
    let before = store.stats();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..64 {
        let (store, ctx) = (store.clone(), ctx.clone());
        tasks.spawn(async move { store.create(&ctx, Kind::User, user(&format!("u{i}"))).await });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    let after = store.stats();
    let (requests, commits) = (after.requests - before.requests, after.commits - before.commits);
    assert_eq!(requests, 64);
    assert!(
        commits < requests,
        "64 concurrent creates took {commits} commits: no group commit"
    );
    assert!(after.largest_batch > 1);
    assert_eq!(store.query(&ctx, Kind::User, &Query::all(0)).await.unwrap().total, 64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_request_does_not_fail_its_batch() {
    let dir = TempDir::new("savepoints");
    let store = Arc::new(common::open(&dir, registry()));
    let ctx = tenant(&store, "sp").await;
    // Many creates at once, every fourth one a duplicate userName: whatever
    // batches they land in, exactly the duplicates fail.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..80 {
        let (store, ctx) = (store.clone(), ctx.clone());
        let name = if i % 4 == 3 {
            format!("u{}", i - 1)
        } else {
            format!("u{i}")
        };
        tasks.spawn(async move { (i, store.create(&ctx, Kind::User, user(&name)).await) });
    }
    let mut ok = 0;
    let mut conflicts = 0;
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            (_, Ok(_)) => ok += 1,
            (_, Err(StoreError::Conflict { attribute })) if attribute == "userName" => conflicts += 1,
            (i, Err(e)) => panic!("create {i}: {e:?}"),
        }
    }
    assert_eq!((ok, conflicts), (60, 20));
    assert_eq!(store.query(&ctx, Kind::User, &Query::all(0)).await.unwrap().total, 60);
    let events = store
        .audit(
            &ctx.tenant,
            &AuditQuery {
                limit: 1000,
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 60, "failed creates left audit events");
    assert!(store.stats().commits < 80, "{:?}", store.stats());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_values_are_matched_literally() {
    let dir = TempDir::new("injection");
    let store = common::open(&dir, registry());
    let ctx = tenant(&store, "inj").await;
    let evil = "o'brien\"; DROP TABLE resources; --";
    let odd = store.create(&ctx, Kind::User, user(evil)).await.unwrap();
    let plain = store.create(&ctx, Kind::User, user("obrien")).await.unwrap();
    let quoted = serde_json::to_string(evil).unwrap();
    assert_eq!(
        ids(&store, &ctx, &format!("userName eq {quoted}")).await.unwrap(),
        vec![odd.id.clone()]
    );
    assert_eq!(
        ids(&store, &ctx, "userName co \"'\"").await.unwrap(),
        vec![odd.id.clone()]
    );
    assert_eq!(
        ids(&store, &ctx, "userName co \"%\"").await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&store, &ctx, "userName sw \"o_\"").await.unwrap(),
        Vec::<String>::new()
    );
    // Still there, both of them.
    assert_eq!(store.query(&ctx, Kind::User, &Query::all(0)).await.unwrap().total, 2);
    store.get(&ctx, Kind::User, &plain.id, Load::default()).await.unwrap();
}

/// A registry whose extension URN cannot be written as a JSON path (it has
/// a quote), so filters on its attribute fall back to the evaluator.
fn odd_registry() -> Arc<Registry> {
    let mut r = Registry::builtin();
    let ext = json!({"id": "urn:example:\"odd\":User", "attributes": [{"name": "oddity", "type": "string"}]});
    r.add_extension("User", &ext, false).unwrap();
    Arc::new(r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untranslatable_filters_use_the_evaluator_within_max_scan() {
    let dir = TempDir::new("fallback");
    let config = SqliteConfig {
        max_scan: 3,
        ..SqliteConfig::new(dir.db())
    };
    let store = SqliteStore::open(config, odd_registry()).unwrap();
    let ctx = tenant(&store, "fb").await;
    let urn = "urn:example:\"odd\":User";
    let mut made = Vec::new();
    for (name, oddity) in [("a", "X"), ("b", "y"), ("c", "x"), ("d", "z")] {
        let doc = json!({"schemas": [USER_URN, urn], "userName": name, urn: {"oddity": oddity}});
        made.push(
            store
                .create(
                    &ctx,
                    Kind::User,
                    NewResource {
                        doc,
                        members: Vec::new(),
                    },
                )
                .await
                .unwrap()
                .id,
        );
    }
    // Four candidates, max_scan 3: refused, with a way out in the message.
    match ids(&store, &ctx, "oddity eq \"x\"").await {
        Err(StoreError::TooMany(message)) => {
            assert!(
                message.contains("oddity eq \"x\"") && message.contains("userName eq"),
                "{message}"
            )
        }
        other => panic!("expected TooMany, got {other:?}"),
    }
    // An indexed conjunct narrows the scan: the evaluator sees two rows.
    let got = ids(
        &store,
        &ctx,
        "(userName eq \"a\" or userName eq \"c\") and oddity eq \"x\"",
    )
    .await
    .unwrap();
    let mut want = vec![made[0].clone(), made[2].clone()];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(
        ids(&store, &ctx, "userName eq \"b\" and oddity eq \"x\"")
            .await
            .unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(store.capabilities().max_scan, Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_resource_keeps_its_whole_history() {
    let dir = TempDir::new("history");
    let store = common::open(&dir, registry());
    let ctx = tenant(&store, "h").await;
    let other = store.create(&ctx, Kind::User, user("other")).await.unwrap();
    let u = store.create(&ctx, Kind::User, user("h")).await.unwrap();
    let g = store
        .create(
            &ctx,
            Kind::Group,
            NewResource {
                doc: json!({"displayName": "g"}),
                members: vec![],
            },
        )
        .await
        .unwrap();
    let mut delta = MemberDelta::default();
    delta.add([Member::new(&u.id)]);
    store
        .update(
            &ctx,
            Kind::Group,
            &g.id,
            Precondition::Any,
            Update {
                doc: None,
                members: delta,
            },
        )
        .await
        .unwrap();
    store
        .update(
            &ctx,
            Kind::User,
            &u.id,
            Precondition::IfMatch(1),
            Update {
                doc: Some(user("h2").doc),
                ..Update::default()
            },
        )
        .await
        .unwrap();
    let of = |id: &str| AuditQuery {
        resource_id: Some(id.to_string()),
        limit: 100,
        ..AuditQuery::default()
    };
    let ops = |events: Vec<scim_store::AuditEvent>| events.into_iter().map(|e| (e.op, e.version)).collect::<Vec<_>>();
    assert_eq!(
        ops(store.audit(&ctx.tenant, &of(&u.id)).await.unwrap()),
        vec![(AuditOp::Create, 1), (AuditOp::Update, 2)]
    );
    store.delete(&ctx, Kind::User, &u.id, Precondition::Any).await.unwrap();
    let history = ops(store.audit(&ctx.tenant, &of(&u.id)).await.unwrap());
    assert_eq!(
        history,
        vec![(AuditOp::Create, 1), (AuditOp::Update, 2), (AuditOp::Delete, 0)]
    );
    let q = AuditQuery {
        after_seq: Some(1),
        limit: 1,
        ..of(&u.id)
    };
    let first_after = store.audit(&ctx.tenant, &q).await.unwrap();
    assert_eq!(
        ops(first_after.clone()),
        vec![(AuditOp::Create, 1)],
        "after_seq and limit apply to the create event too"
    );
    assert_eq!(
        ops(store.audit(&ctx.tenant, &of(&other.id)).await.unwrap()),
        vec![(AuditOp::Create, 1)]
    );
    assert_eq!(
        ops(store.audit(&ctx.tenant, &of(&g.id)).await.unwrap()),
        vec![(AuditOp::Create, 1), (AuditOp::Update, 2)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_many_is_all_or_nothing() {
    let dir = TempDir::new("bulk");
    let store = common::open(&dir, registry());
    let ctx = tenant(&store, "bulk").await;
    let docs = vec![user("a"), user("b"), user("A")];
    assert_eq!(
        store.create_many(&ctx, Kind::User, docs).await.unwrap_err(),
        StoreError::Conflict {
            attribute: "userName".into()
        }
    );
    assert_eq!(store.query(&ctx, Kind::User, &Query::all(0)).await.unwrap().total, 0);
    let made = store
        .create_many(&ctx, Kind::User, vec![user("a"), user("b")])
        .await
        .unwrap();
    assert_eq!(made.len(), 2);
    assert_eq!(store.query(&ctx, Kind::User, &Query::all(0)).await.unwrap().total, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_databases_work_for_tests() {
    let config = SqliteConfig {
        synchronous: Synchronous::Off,
        ..SqliteConfig::new(":memory:")
    };
    let store = SqliteStore::open(config, registry()).unwrap();
    let ctx = tenant(&store, "mem").await;
    let u = store.create(&ctx, Kind::User, user("m")).await.unwrap();
    assert_eq!(
        store.get(&ctx, Kind::User, &u.id, Load::default()).await.unwrap().doc["userName"],
        json!("m")
    );
    assert_eq!(ids(&store, &ctx, "userName eq \"M\"").await.unwrap(), vec![u.id]);
    let v: Value = json!(store.stats().commits);
    assert!(v.as_u64().unwrap() >= 2);
}

/// A page's groups are read by one range scan of the memberships between
/// its first and last member, stopped past 32 index rows per member asked
/// about (then one probe per member). Right at that limit and one row past
/// it, every membership must still be found: two members asked about, 64
/// and then 65 memberships in their range.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_groups_at_the_range_limit_and_past_it_loses_no_membership() {
    let dir = TempDir::new("groups-range-limit");
    let store = common::open(&dir, registry());
    let ctx = tenant(&store, "groups-range-limit").await;
    let mut users = Vec::new();
    for i in 0..64 {
        users.push(
            store
                .create(&ctx, Kind::User, user(&format!("r{i:02}")))
                .await
                .unwrap()
                .id,
        );
    }
    users.sort();
    let group = |name: &str, members: &[String]| NewResource {
        doc: json!({"displayName": name}),
        members: members.iter().map(Member::new).collect(),
    };
    let all = store.create(&ctx, Kind::Group, group("all", &users)).await.unwrap();
    let ends = vec![users[0].clone(), users[63].clone()];
    let each = store.groups_of_each(&ctx, &ends).await.unwrap();
    let ids = |refs: &[scim_store::GroupRef]| refs.iter().map(|g| g.id.clone()).collect::<Vec<_>>();
    assert_eq!(
        each.iter().map(|r| ids(r)).collect::<Vec<_>>(),
        [vec![all.id.clone()], vec![all.id.clone()]],
        "64 memberships in range: at the limit"
    );
    let first = store
        .create(&ctx, Kind::Group, group("first", &users[..1]))
        .await
        .unwrap();
    let each = store.groups_of_each(&ctx, &ends).await.unwrap();
    let mut both = vec![all.id.clone(), first.id.clone()];
    both.sort();
    assert_eq!(
        each.iter().map(|r| ids(r)).collect::<Vec<_>>(),
        [both, vec![all.id.clone()]],
        "65 memberships in range: past the limit"
    );
}

/// A stored time this crate cannot read back is a backend error naming
/// the row's fault, on every read that meets it, never a panic or a made-up
/// time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_stored_time_is_an_error_on_every_read() {
    let dir = TempDir::new("corrupt-time");
    let (ctx, id) = {
        let store = common::open(&dir, registry());
        let ctx = tenant(&store, "corrupt-time").await;
        let id = store.create(&ctx, Kind::User, user("late")).await.unwrap().id;
        (ctx, id)
    };
    let conn = rusqlite::Connection::open(dir.db()).unwrap();
    conn.execute("UPDATE resources SET modified = 'yesterday' WHERE id = ?1", [&id])
        .unwrap();
    drop(conn);
    let store = common::open(&dir, registry());
    let corrupt = |e: StoreError| matches!(&e, StoreError::Backend(m) if m.contains("bad timestamp 'yesterday'"));
    let got = store.get(&ctx, Kind::User, &id, Load::default()).await.unwrap_err();
    assert!(corrupt(got.clone()), "{got:?}");
    let listed = store.query(&ctx, Kind::User, &Query::all(10)).await.unwrap_err();
    assert!(corrupt(listed.clone()), "{listed:?}");
    let text = store.query_text(&ctx, Kind::User, &Query::all(10)).await.unwrap_err();
    assert!(corrupt(text.clone()), "{text:?}");
    drop(store);
    // A time that is not even text says which column and what it holds.
    let conn = rusqlite::Connection::open(dir.db()).unwrap();
    conn.execute("UPDATE resources SET created = x'00' WHERE id = ?1", [&id])
        .unwrap();
    drop(conn);
    let store = common::open(&dir, registry());
    let got = store.get(&ctx, Kind::User, &id, Load::default()).await.unwrap_err();
    assert!(
        matches!(&got, StoreError::Backend(m) if m.contains("created is Blob, not a time")),
        "{got:?}"
    );
}

/// The user's document replaced through the store.
async fn replace(store: &SqliteStore, ctx: &Ctx, id: &str, doc: Value) {
    let update = Update {
        doc: Some(doc),
        ..Default::default()
    };
    store
        .update(ctx, Kind::User, id, Precondition::Any, update)
        .await
        .unwrap();
}

/// Each user is written with the verdict of `for_rendering` on its text,
/// found again when the text changes; a group has none. A verdict left
/// behind by a change the store did not make (the text rewritten in the
/// database) does not fit the new text and is not taken: the reader reads
/// the text, and a password written that way is not listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_verdict_is_found_of_its_text_and_not_taken_for_another() {
    let dir = TempDir::new("verdicts");
    let registry = registry();
    let check = UnchangedByDefault::for_rendering(registry.user());
    let (ctx, id) = {
        let store = common::open(&dir, registry.clone());
        let ctx = tenant(&store, "verdicts").await;
        let id = store.create(&ctx, Kind::User, user("plain")).await.unwrap().id;
        store
            .create(
                &ctx,
                Kind::Group,
                NewResource {
                    doc: json!({"displayName": "Staff"}),
                    members: vec![Member::new(&id)],
                },
            )
            .await
            .unwrap();
        let listed = store.query_text(&ctx, Kind::User, &Query::all(10)).await.unwrap();
        let item = &listed.items[0];
        assert_eq!(item.verdict, Some(check.verdict(&item.doc)));
        assert!(check.members_given(&item.doc, item.verdict.as_ref()).is_some());
        let groups = store.query_text(&ctx, Kind::Group, &Query::all(10)).await.unwrap();
        assert_eq!(groups.items[0].verdict, None);
        // Replaced through the store with a password: found again.
        let doc = json!({"schemas": [USER_URN], "userName": "plain", "password": "p"});
        replace(&store, &ctx, &id, doc).await;
        let listed = store.query_text(&ctx, Kind::User, &Query::all(10)).await.unwrap();
        let item = &listed.items[0];
        assert_eq!(item.verdict, Some(check.verdict(&item.doc)));
        assert_eq!(check.members_given(&item.doc, item.verdict.as_ref()), None);
        // Back to a plain document, then rewritten behind the store's back.
        replace(&store, &ctx, &id, json!({"schemas": [USER_URN], "userName": "plain"})).await;
        (ctx, id)
    };
    let conn = rusqlite::Connection::open(dir.db()).unwrap();
    let secret = json!({"schemas": [USER_URN], "userName": "plain", "password": "p"}).to_string();
    conn.execute("UPDATE resources SET doc = ?1 WHERE id = ?2", [&secret, &id])
        .unwrap();
    drop(conn);
    let store = common::open(&dir, registry);
    let listed = store.query_text(&ctx, Kind::User, &Query::all(10)).await.unwrap();
    let item = &listed.items[0];
    assert_eq!(item.doc, secret);
    assert!(item.verdict.is_some(), "the old verdict is still in the row");
    assert_ne!(item.verdict, Some(check.verdict(&item.doc)));
    assert_eq!(check.members_given(&item.doc, item.verdict.as_ref()), None);
}

/// The store finds every user's verdict again when it opens with another
/// check than the one that found the stored verdicts (rows from before
/// migration 4 have none; a schema changed between runs has another), and
/// leaves them alone when it opens with the same one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts_are_found_again_when_the_store_opens_with_another_check() {
    let dir = TempDir::new("verdict-seal");
    let builtin = registry();
    let ctx = {
        let store = common::open(&dir, builtin.clone());
        let ctx = tenant(&store, "verdict-seal").await;
        for name in ["a", "b", "c"] {
            store.create(&ctx, Kind::User, user(name)).await.unwrap();
        }
        ctx
    };
    let verdicts = |registry: &Registry| {
        let (dir, ctx, registry) = (&dir, &ctx, Arc::new(registry.clone()));
        async move {
            let store = common::open(dir, registry);
            let page = store.query_text(ctx, Kind::User, &Query::all(10)).await.unwrap();
            page.items.into_iter().map(|i| (i.doc, i.verdict)).collect::<Vec<_>>()
        }
    };
    let check = UnchangedByDefault::for_rendering(builtin.user());
    let sql = |statement: &str| {
        let conn = rusqlite::Connection::open(dir.db()).unwrap();
        conn.execute_batch(statement).unwrap();
    };
    // As a file from before migration 4 would be: no verdicts, no seal.
    sql("UPDATE resources SET verdict = NULL; DELETE FROM verdict_seal;");
    for (doc, verdict) in verdicts(&builtin).await {
        assert_eq!(verdict, Some(check.verdict(&doc)), "{doc}");
    }
    // Found once: verdicts changed behind the store's back stay as they
    // are when it opens with the same check.
    sql("UPDATE resources SET verdict = x'00'");
    assert!(verdicts(&builtin).await.iter().all(|(_, v)| v.is_none()));
    // Another schema: every verdict found again by its check.
    let mut extended = Registry::builtin();
    let schema = json!({"id": "urn:example:scim:schemas:extension:seal:1.0:User", "attributes": [
        {"name": "badge", "type": "string", "multiValued": false, "returned": "request"}
    ]});
    extended.add_extension("User", &schema, false).unwrap();
    let other = UnchangedByDefault::for_rendering(extended.user());
    assert_ne!(other.seal(), check.seal());
    for (doc, verdict) in verdicts(&extended).await {
        assert_eq!(verdict, Some(other.verdict(&doc)), "{doc}");
    }
}
