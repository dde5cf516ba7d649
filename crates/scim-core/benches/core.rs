//! Criterion benchmarks of the hot paths an IdP request goes through:
//! parsing a typical filter, evaluating it against a user, and applying a
//! three-operation PATCH. Targets (issue 2): parse under 5 us, PATCH under
//! 50 us. Run with `just bench`; figures are in docs/performance.md.

#![allow(
    clippy::expect_used,
    reason = "a benchmark whose fixed inputs fail must stop, not report nothing"
)]

use criterion::{Criterion, criterion_group, criterion_main};
use scim_core::filter::{self, FilterLimits};
use scim_core::patch;
use scim_core::schema::{ENTERPRISE_USER_URN, Registry, USER_URN};
use serde_json::json;
use std::hint::black_box;

/// What Entra ID sends to find a user before creating it.
const ENTRA_FILTER: &str = r#"userName eq "bjensen@example.com""#;
/// A richer IdP-style filter: value path, the Entra form, and a boolean.
const RICH_FILTER: &str =
    r#"emails[type eq "work"].value eq "bjensen@example.com" and active eq true and (title pr or department eq "R&D")"#;

fn user() -> serde_json::Value {
    json!({
        "schemas": [USER_URN, ENTERPRISE_USER_URN],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "bjensen",
        "userName": "bjensen@example.com",
        "name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara"},
        "displayName": "Babs Jensen",
        "active": true,
        "title": "Tour Guide",
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
        "meta": {"resourceType": "User", "created": "2024-01-23T04:56:22Z", "lastModified": "2024-05-13T04:42:34Z",
                 "version": "W/\"3\""},
        ENTERPRISE_USER_URN: {"employeeNumber": "701984", "department": "Tour Operations",
                              "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}
    })
}

fn benches(c: &mut Criterion) {
    let registry = Registry::builtin();
    let limits = FilterLimits::default();
    let doc = user();

    c.bench_function("filter_parse_entra_userName_eq", |b| {
        b.iter(|| filter::parse(black_box(ENTRA_FILTER), &limits))
    });
    c.bench_function("filter_parse_rich", |b| {
        b.iter(|| filter::parse(black_box(RICH_FILTER), &limits))
    });

    let simple = filter::parse(ENTRA_FILTER, &limits).expect("fixture filter parses");
    let rich = filter::parse(RICH_FILTER, &limits).expect("fixture filter parses");
    assert!(filter::matches(&simple, registry.user(), &doc) && filter::matches(&rich, registry.user(), &doc));
    c.bench_function("filter_eval_entra_userName_eq", |b| {
        b.iter(|| filter::matches(black_box(&simple), registry.user(), black_box(&doc)))
    });
    c.bench_function("filter_eval_rich", |b| {
        b.iter(|| filter::matches(black_box(&rich), registry.user(), black_box(&doc)))
    });

    // The three operations Entra sends when a user changes department and is
    // deactivated: a path-less replace, a value-path replace, a boolean string.
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "barbara@example.com"},
            {"op": "Add", "value": {"title": "Senior Guide",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Sales"}}
        ]
    });
    let ops = patch::parse_request(&body).expect("fixture PATCH parses");
    assert!(
        patch::apply(registry.user(), &doc, None, &ops).is_ok(),
        "fixture PATCH applies"
    );
    c.bench_function("patch_apply_3_ops", |b| {
        b.iter(|| patch::apply(registry.user(), black_box(&doc), None, black_box(&ops)))
    });
    c.bench_function("patch_parse_and_apply_3_ops", |b| {
        b.iter(|| {
            patch::parse_request(black_box(&body)).map(|ops| patch::apply(registry.user(), &doc, None, &ops).is_ok())
        })
    });
}

criterion_group!(core, benches);
criterion_main!(core);
