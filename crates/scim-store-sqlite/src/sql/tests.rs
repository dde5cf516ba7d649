//! The SQL the translator writes: values only as parameters, and index
//! lookups (no full scans) for the filters identity providers send.

use super::*;
use crate::config::SqliteConfig;
use crate::db::{self, Location};
use rusqlite::{Connection, params_from_iter};
use scim_core::filter::{FilterLimits, parse};
use scim_core::schema::Registry;
use std::sync::Arc;

fn conn(registry: &Arc<Registry>) -> Connection {
    let config = SqliteConfig::new(":memory:");
    db::open_writer(&Location::new(&config), &config, registry).unwrap()
}

/// The translated WHERE clause and its parameters.
fn where_clause(registry: &Registry, kind: Kind, text: &str) -> (String, Params) {
    let rt = match kind {
        Kind::User => registry.user(),
        Kind::Group => registry.group(),
    };
    let f = parse(text, &FilterLimits::default()).unwrap();
    let mut params = Params::default();
    let tenant = params.bind("t".to_string());
    let kind_p = params.bind(kind.as_str().to_string());
    match translate(&f, rt, kind, &tenant, &mut params) {
        Translation::Exact(sql) => (format!("r.tenant = {tenant} AND r.kind = {kind_p} AND {sql}"), params),
        other => panic!("`{text}` did not translate: {other:?}"),
    }
}

fn plan(conn: &Connection, registry: &Registry, kind: Kind, text: &str) -> String {
    let (sql, params) = where_clause(registry, kind, text);
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN SELECT r.id FROM resources r WHERE {sql}"))
        .unwrap();
    let rows: Vec<String> = stmt
        .query_map(params_from_iter(params.values()), |r| r.get::<_, String>(3))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows.join("\n")
}

#[test]
fn idp_lookups_use_indexes() {
    let registry = Arc::new(Registry::builtin());
    let conn = conn(&registry);
    let cases = [
        (Kind::User, "userName eq \"Bjensen@example.com\"", "resources_user_name"),
        (Kind::User, "externalId eq \"e-1\"", "resources_external_id"),
        (Kind::User, "displayName eq \"Babs\"", "resources_display_name"),
        (Kind::User, "id eq \"2819c223-7f76-453a-919d-413861904646\"", "id=?)"),
        (Kind::User, "emails.value eq \"b@example.com\"", "resource_emails"),
        (Kind::User, "emails eq \"b@example.com\"", "resource_emails"),
        (
            Kind::User,
            "emails[type eq \"work\"].value eq \"b@example.com\"",
            "resource_emails",
        ),
        (Kind::Group, "displayName eq \"Admins\"", "resources_display_name"),
        (Kind::Group, "externalId eq \"g-1\"", "resources_external_id"),
        (
            Kind::User,
            "userName eq \"a\" or userName eq \"b\"",
            "resources_user_name",
        ),
    ];
    for (kind, text, index) in cases {
        let plan = plan(&conn, &registry, kind, text);
        assert!(plan.contains(index), "`{text}` should use {index}:\n{plan}");
        assert!(
            !plan.lines().any(|l| l.starts_with("SCAN r")),
            "`{text}` scans every resource:\n{plan}"
        );
    }
    // Entra's membership check reads one membership row, not the group.
    let plan = plan(&conn, &registry, Kind::Group, "id eq \"g\" and members[value eq \"u\"]");
    assert!(plan.contains("memberships"), "{plan}");
    assert!(
        !plan.lines().any(|l| l.contains("SCAN m")),
        "members[value eq] scans the group's members:\n{plan}"
    );
}

#[test]
fn values_are_bound_never_spliced() {
    let registry = Registry::builtin();
    let evil = "x'; DROP TABLE resources; --\\\" OR 1=1";
    for text in [
        format!("userName eq {}", serde_json::to_string(evil).unwrap()),
        format!("title co {}", serde_json::to_string(evil).unwrap()),
        format!("emails[type eq {}]", serde_json::to_string(evil).unwrap()),
        format!("name.givenName sw {}", serde_json::to_string(evil).unwrap()),
    ] {
        let (sql, params) = where_clause(&registry, Kind::User, &text);
        assert!(!sql.contains("DROP"), "a value reached the SQL text of `{text}`: {sql}");
        assert!(!sql.contains("1=1"), "a value reached the SQL text of `{text}`: {sql}");
        let bound = |v: &SqlValue| matches!(v, SqlValue::Text(t) if t.to_uppercase().contains("DROP TABLE"));
        assert!(params.values().iter().any(bound), "the value of `{text}` is not bound");
    }
}

#[test]
fn unquotable_paths_fall_back_to_the_evaluator() {
    let mut registry = Registry::builtin();
    let ext = serde_json::json!({
        "id": "urn:example:\"odd\":User",
        "attributes": [{"name": "oddity", "type": "string"}],
    });
    registry.add_extension("User", &ext, false).unwrap();
    let rt = registry.user();
    let mut params = Params::default();
    let tenant = params.bind("t".to_string());
    let f = parse("userName eq \"a\" and oddity eq \"x\"", &FilterLimits::default()).unwrap();
    match translate(&f, rt, Kind::User, &tenant, &mut params) {
        Translation::Partial(Some(sql)) => {
            assert!(sql.contains("user_name_key"), "{sql}");
            // Only what the kept conjunct uses stays bound.
            let max = (1..=params.len())
                .rev()
                .find(|n| sql.contains(&format!("?{n}")))
                .unwrap_or(1);
            assert_eq!(
                max,
                params.len(),
                "a parameter of the dropped conjunct is still bound: {sql}"
            );
        }
        other => panic!("expected a partial translation, got {other:?}"),
    }
    let f = parse("oddity eq \"x\"", &FilterLimits::default()).unwrap();
    assert_eq!(
        translate(&f, rt, Kind::User, &tenant, &mut params),
        Translation::Partial(None)
    );
}
