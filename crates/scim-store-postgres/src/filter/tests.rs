//! The translator on its own: what reaches the SQL text, which terms are
//! indexed, and when a filter is left to the evaluator.

use super::*;
use scim_core::filter::{FilterLimits, parse};
use scim_core::schema::Registry;

fn sql_for(text: &str) -> (Translation, Sql) {
    let registry = Registry::builtin();
    let f = parse(text, &FilterLimits::default()).unwrap();
    let mut sql = Sql::new();
    let tenant = sql.bind(Uuid::nil());
    let t = translate(&f, registry.user(), Kind::User, &tenant, &mut sql);
    (t.translation, sql)
}

#[test]
fn values_never_reach_the_text() {
    let evil = "x'); DROP TABLE resources; --";
    for filter in [
        format!("userName eq \"{evil}\""),
        format!("title co \"{evil}\""),
        format!("emails[type eq \"{evil}\"]"),
        format!("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department sw \"{evil}\""),
    ] {
        let (t, sql) = sql_for(&filter);
        let Translation::Exact(text) = t else {
            panic!("{filter} did not translate")
        };
        assert!(!text.contains("DROP"), "{text}");
        assert!(!text.contains("department"), "attribute names are bound too: {text}");
        assert!(sql.bound() > 1);
    }
}

#[test]
fn idp_lookups_get_an_indexed_term() {
    for (filter, term) in [
        ("userName eq \"A\"", "r.user_name_key = "),
        ("externalId eq \"x\"", "r.external_id = "),
        ("displayName eq \"x\"", "r.display_name_key = "),
        ("emails.value eq \"x\"", "r.email_keys @> "),
        ("emails[type eq \"work\" and value eq \"x\"]", "r.email_keys @> "),
        ("id eq \"2b0d2c7e-6d1c-4c3a-9d55-0d7e0b6b9c11\"", "r.id = "),
    ] {
        let (Translation::Exact(text), _) = sql_for(filter) else {
            panic!("{filter}")
        };
        assert!(text.starts_with(&format!("({term}")), "{filter}: {text}");
    }
    let (Translation::Exact(text), _) = sql_for("id eq \"not-a-uuid\"") else {
        panic!()
    };
    assert!(text.starts_with("(false AND "), "{text}");
}

#[test]
fn huge_conjuncts_are_left_to_the_evaluator() {
    let registry = Registry::builtin();
    let ors = vec!["title eq \"x\""; 800].join(" or ");
    let text = format!("userName eq \"a\" and ({ors})");
    let limits = FilterLimits {
        max_length: 1 << 20,
        max_depth: 64,
    };
    let f = parse(&text, &limits).unwrap();
    let mut sql = Sql::new();
    let tenant = sql.bind(Uuid::nil());
    match translate(&f, registry.user(), Kind::User, &tenant, &mut sql).translation {
        Translation::Partial(Some(pre)) => assert!(pre.contains("r.user_name_key"), "{pre}"),
        other => panic!("{other:?}"),
    }
    assert!(sql.bound() < 10, "the dropped conjunct's values are unbound too");
}

#[test]
fn time_keys_order_like_instants() {
    let k = |s: &str| DateTime::parse_from_rfc3339(s).map(|t| time_key(&t)).unwrap();
    assert_eq!(k("2024-01-01T12:00:00+02:00"), k("2024-01-01T10:00:00Z"));
    assert!(k("0000-01-01T00:00:00+23:59") < k("1969-12-31T23:59:59.999Z"));
    assert!(k("1969-12-31T23:59:59.999Z") < k("1970-01-01T00:00:00Z"));
    assert!(k("2016-12-31T23:59:59.999Z") < k("2016-12-31T23:59:60.5Z"));
    assert!(k("2016-12-31T23:59:60.5Z") < k("2017-01-01T00:00:00Z"));
    assert_eq!(k("2024-01-01T10:00:00Z").len(), 22);
}

#[test]
fn only_top_level_lookups_count_as_indexed() {
    let registry = Registry::builtin();
    let indexed = |text: &str| {
        let f = parse(text, &FilterLimits::default()).unwrap();
        let mut sql = Sql::new();
        let tenant = sql.bind(Uuid::nil());
        translate(&f, registry.user(), Kind::User, &tenant, &mut sql).indexed
    };
    assert!(indexed("userName eq \"a\""));
    assert!(indexed(
        "title co \"x\" and emails[type eq \"work\" and value eq \"a@b\"]"
    ));
    assert!(!indexed("userName eq \"a\" or title eq \"b\""));
    assert!(!indexed("not (userName eq \"a\")"));
    assert!(!indexed("title eq \"a\""));
}
