//! Validation table: each case is an input body and the expected normalised
//! document or the expected error.

use super::*;
use crate::ScimType;
use crate::schema::{ENTERPRISE_USER_URN, GROUP_URN, Registry, USER_URN};
use serde_json::json;

enum Expect {
    Doc(Value),
    Err(ScimType, &'static str),
}

fn user(extra: Value) -> Value {
    let mut base = json!({"schemas": [USER_URN], "userName": "bjensen"});
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    base
}

fn run(name: &str, rt: &ResourceType, input: Value, mode: Mode<'_>, expect: Expect) {
    let got = validate(rt, &input, mode);
    match (expect, got) {
        (Expect::Doc(want), Ok(doc)) => assert_eq!(doc, want, "case {name}"),
        (Expect::Err(t, needle), Err(e)) => {
            assert_eq!(e.scim_type, Some(t), "case {name}: {e}");
            assert_eq!(e.status, 400, "case {name}");
            assert!(
                e.detail.contains(needle),
                "case {name}: detail {:?} lacks {needle:?}",
                e.detail
            );
        }
        (Expect::Doc(want), Err(e)) => panic!("case {name}: expected {want}, got error {e}"),
        (Expect::Err(t, _), Ok(doc)) => panic!("case {name}: expected {t:?}, got {doc}"),
    }
}

#[test]
fn create_table() {
    let reg = Registry::builtin();
    let u = reg.user();
    use Expect::{Doc, Err as E};
    let cases: Vec<(&str, Value, Expect)> = vec![
        (
            "minimal",
            user(json!({})),
            Doc(json!({"schemas": [USER_URN], "userName": "bjensen"})),
        ),
        (
            "canonical case of names",
            json!({"SCHEMAS": [USER_URN], "USERNAME": "a", "Name": {"GIVENNAME": "B"}}),
            Doc(json!({"schemas": [USER_URN], "userName": "a", "name": {"givenName": "B"}})),
        ),
        (
            "boolean strings",
            user(json!({"active": "False"})),
            Doc(json!({"schemas": [USER_URN], "userName": "bjensen", "active": false})),
        ),
        (
            "boolean strings any case",
            user(json!({"active": "TRUE"})),
            Doc(json!({"schemas": [USER_URN], "userName": "bjensen", "active": true})),
        ),
        (
            "primary as string",
            user(json!({"emails": [{"value": "a@x", "primary": "True"}]})),
            Doc(json!({"schemas": [USER_URN], "userName": "bjensen", "emails": [{"value": "a@x", "primary": true}]})),
        ),
        (
            "null is unassigned",
            user(json!({"displayName": null, "emails": []})),
            Doc(json!({"schemas": [USER_URN], "userName": "bjensen"})),
        ),
        (
            "readOnly ignored",
            user(json!({"id": "x", "meta": {"created": "2020-01-01T00:00:00Z"}, "groups": [{"value": "g"}]})),
            Doc(json!({"schemas": [USER_URN], "userName": "bjensen"})),
        ),
        (
            "unknown schema urn tolerated",
            json!({"schemas": [USER_URN, "urn:ietf:params:scim:schemas:extension:CustomExtension"], "userName": "a"}),
            Doc(json!({"schemas": [USER_URN], "userName": "a"})),
        ),
        (
            "enterprise extension",
            user(
                json!({ENTERPRISE_USER_URN: {"employeeNumber": "7", "Manager": {"value": "m1", "displayName": "ignored"}}}),
            ),
            Doc(
                json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "userName": "bjensen", ENTERPRISE_USER_URN: {"employeeNumber": "7", "manager": {"value": "m1"}}}),
            ),
        ),
        (
            "extension object echoing its schemas",
            user(json!({ENTERPRISE_USER_URN: {"schemas": [ENTERPRISE_USER_URN], "department": "R&D"}})),
            Doc(
                json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "userName": "bjensen", ENTERPRISE_USER_URN: {"department": "R&D"}}),
            ),
        ),
        (
            "extension object with foreign schemas",
            user(json!({ENTERPRISE_USER_URN: {"schemas": ["urn:x:y"]}})),
            E(ScimType::InvalidValue, "schemas"),
        ),
        (
            "manager as bare string",
            user(json!({ENTERPRISE_USER_URN: {"manager": "m1"}})),
            Doc(
                json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "userName": "bjensen", ENTERPRISE_USER_URN: {"manager": {"value": "m1"}}}),
            ),
        ),
        (
            "empty extension dropped",
            user(json!({ENTERPRISE_USER_URN: {}})),
            Doc(json!({"schemas": [USER_URN], "userName": "bjensen"})),
        ),
        (
            "single value for multi-valued wrapped",
            user(json!({"emails": {"value": "a@x"}})),
            Doc(json!({"schemas": [USER_URN], "userName": "bjensen", "emails": [{"value": "a@x"}]})),
        ),
        (
            "one-element array for single-valued",
            user(json!({"displayName": ["Babs"]})),
            Doc(json!({"schemas": [USER_URN], "userName": "bjensen", "displayName": "Babs"})),
        ),
        (
            "password kept for the server to hash",
            user(json!({"password": "s3cret"})),
            Doc(json!({"schemas": [USER_URN], "userName": "bjensen", "password": "s3cret"})),
        ),
        (
            "canonicalValues advisory",
            user(json!({"emails": [{"value": "a@x", "type": "Pager"}]})),
            Doc(json!({"schemas": [USER_URN], "userName": "bjensen", "emails": [{"value": "a@x", "type": "Pager"}]})),
        ),
        (
            "binary as base64",
            user(json!({"x509Certificates": [{"value": "aGVsbG8="}]})),
            Doc(json!({"schemas": [USER_URN], "userName": "bjensen", "x509Certificates": [{"value": "aGVsbG8="}]})),
        ),
        (
            "externalId common attribute",
            user(json!({"externalId": "E1"})),
            Doc(json!({"schemas": [USER_URN], "userName": "bjensen", "externalId": "E1"})),
        ),
        (
            "missing userName",
            json!({"schemas": [USER_URN]}),
            E(ScimType::InvalidValue, "userName"),
        ),
        (
            "null userName",
            user(json!({"userName": null})),
            E(ScimType::InvalidValue, "userName"),
        ),
        (
            "missing schemas",
            json!({"userName": "a"}),
            E(ScimType::InvalidSyntax, "schemas"),
        ),
        (
            "schemas not an array",
            json!({"schemas": USER_URN, "userName": "a"}),
            E(ScimType::InvalidSyntax, "schemas"),
        ),
        (
            "wrong core schema",
            json!({"schemas": [GROUP_URN], "userName": "a"}),
            E(ScimType::InvalidSyntax, USER_URN),
        ),
        ("body not an object", json!([1]), E(ScimType::InvalidSyntax, "object")),
        (
            "unknown attribute",
            user(json!({"shoeSize": 9})),
            E(ScimType::InvalidValue, "shoeSize"),
        ),
        (
            "unknown sub-attribute",
            user(json!({"name": {"middle": "x"}})),
            E(ScimType::InvalidValue, "name.middle"),
        ),
        (
            "unknown urn object",
            user(json!({"urn:acme:ext:1.0:User": {"a": 1}})),
            E(ScimType::InvalidValue, "urn:acme:ext:1.0:User"),
        ),
        (
            "unknown extension attribute",
            user(json!({ENTERPRISE_USER_URN: {"shoe": 1}})),
            E(ScimType::InvalidValue, "shoe"),
        ),
        (
            "extension not an object",
            user(json!({ENTERPRISE_USER_URN: "x"})),
            E(ScimType::InvalidValue, ENTERPRISE_USER_URN),
        ),
        (
            "string expected",
            user(json!({"displayName": 5})),
            E(ScimType::InvalidValue, "displayName"),
        ),
        (
            "boolean expected",
            user(json!({"active": "yes"})),
            E(ScimType::InvalidValue, "active"),
        ),
        (
            "boolean not number",
            user(json!({"active": 1})),
            E(ScimType::InvalidValue, "active"),
        ),
        (
            "complex expected",
            user(json!({"name": [1, 2]})),
            E(ScimType::InvalidValue, "name"),
        ),
        (
            "array for single-valued",
            user(json!({"displayName": ["a", "b"]})),
            E(ScimType::InvalidValue, "displayName"),
        ),
        (
            "two primaries",
            user(json!({"emails": [{"value": "a", "primary": true}, {"value": "b", "primary": "true"}]})),
            E(ScimType::InvalidValue, "primary"),
        ),
        (
            "binary must be base64",
            user(json!({"x509Certificates": [{"value": "not base64!"}]})),
            E(ScimType::InvalidValue, "x509Certificates[0].value"),
        ),
        (
            "reference must be string",
            user(json!({"profileUrl": 3})),
            E(ScimType::InvalidValue, "profileUrl"),
        ),
    ];
    assert!(cases.len() >= 30);
    for (name, input, expect) in cases {
        run(name, u, input, Mode::Create, expect);
    }
}

#[test]
fn typed_custom_extension_values() {
    let mut reg = Registry::builtin();
    let urn = "urn:example:scim:schemas:extension:typed:1.0:User";
    reg.add_extension(
        "User",
        &json!({"id": urn, "attributes": [
            {"name": "level", "type": "integer"},
            {"name": "score", "type": "decimal"},
            {"name": "hiredAt", "type": "dateTime"},
            {"name": "badge", "type": "string", "mutability": "immutable"},
            {"name": "tier", "type": "string", "required": true}
        ]}),
        false,
    )
    .unwrap();
    let u = reg.user();
    let good = user(json!({urn: {"level": 3.0, "score": 2.5, "hiredAt": "2024-01-01T10:00:00+02:00", "tier": "gold"}}));
    let doc = validate(u, &good, Mode::Create).unwrap();
    assert_eq!(doc[urn]["level"], json!(3));
    assert_eq!(doc[urn]["score"], json!(2.5));
    for (bad, needle) in [
        (json!({"level": 3.5, "tier": "g"}), "level"),
        (json!({"level": "3", "tier": "g"}), "level"),
        (json!({"score": "2.5", "tier": "g"}), "score"),
        (json!({"hiredAt": "yesterday", "tier": "g"}), "hiredAt"),
        (json!({"hiredAt": "2024-13-01T00:00:00Z", "tier": "g"}), "hiredAt"),
        (json!({"level": 1}), "tier"),
    ] {
        let err = validate(u, &user(json!({urn: bad})), Mode::Create).unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::InvalidValue));
        assert!(err.detail.contains(needle), "{}", err.detail);
    }
}

#[test]
fn replace_keeps_and_protects_immutable_attributes() {
    let mut reg = Registry::builtin();
    let urn = "urn:example:scim:schemas:extension:imm:1.0:User";
    reg.add_extension(
        "User",
        &json!({"id": urn, "attributes": [{"name": "badge", "mutability": "immutable"}]}),
        false,
    )
    .unwrap();
    let u = reg.user();
    let current = json!({"schemas": [USER_URN, urn], "id": "1", "userName": "a", urn: {"badge": "B1"}});
    // Omitted: kept.
    let doc = validate(u, &user(json!({})), Mode::Replace { current: &current }).unwrap();
    assert_eq!(doc[urn]["badge"], "B1");
    // Same value: fine.
    assert!(
        validate(
            u,
            &user(json!({urn: {"badge": "B1"}})),
            Mode::Replace { current: &current }
        )
        .is_ok()
    );
    // Changed: mutability.
    let err = validate(
        u,
        &user(json!({urn: {"badge": "B2"}})),
        Mode::Replace { current: &current },
    )
    .unwrap_err();
    assert_eq!(err.scim_type, Some(ScimType::Mutability));
    // Not yet set: may be set on replace.
    let unset = json!({"schemas": [USER_URN], "id": "1", "userName": "a"});
    assert!(
        validate(
            u,
            &user(json!({urn: {"badge": "B2"}})),
            Mode::Replace { current: &unset }
        )
        .is_ok()
    );
}

#[test]
fn group_members_are_validated_and_display_name_maps_to_display() {
    let reg = Registry::builtin();
    let g = reg.group();
    let doc = validate(
        g,
        &json!({"schemas": [GROUP_URN], "displayName": "Eng", "members": [{"value": "u1", "type": "User", "displayName": "x"}]}),
        Mode::Create,
    )
    .unwrap();
    // display is readOnly (derived by the server), so it is dropped on input.
    assert_eq!(doc["members"], json!([{"value": "u1", "type": "User"}]));
    let err = validate(
        g,
        &json!({"schemas": [GROUP_URN], "displayName": "Eng", "members": [{"value": 5}]}),
        Mode::Create,
    )
    .unwrap_err();
    assert_eq!(err.scim_type, Some(ScimType::InvalidValue));
}

#[test]
fn replace_of_a_user_without_an_optional_extension_ignores_its_required_attributes() {
    let mut reg = Registry::builtin();
    let urn = "urn:example:scim:schemas:extension:owned:1.0:User";
    reg.add_extension(
        "User",
        &json!({"id": urn, "attributes": [{"name": "owner", "required": true}]}),
        false,
    )
    .unwrap();
    let current = json!({"schemas": [USER_URN], "id": "1", "userName": "a"});
    let doc = validate(
        reg.user(),
        &user(json!({"title": "x"})),
        Mode::Replace { current: &current },
    )
    .unwrap();
    assert_eq!(doc, json!({"schemas": [USER_URN], "userName": "bjensen", "title": "x"}));
    // Present but without the required attribute: rejected.
    let err = validate(
        reg.user(),
        &user(json!({urn: {"owner": null}, "title": "x"})),
        Mode::Create,
    );
    assert!(err.is_ok(), "an extension object with only nulls is absent");
    let mut reg2 = Registry::builtin();
    reg2.add_extension(
        "User",
        &json!({"id": urn, "attributes": [{"name": "owner", "required": true}, {"name": "team"}]}),
        false,
    )
    .unwrap();
    let err = validate(reg2.user(), &user(json!({urn: {"team": "t"}})), Mode::Create).unwrap_err();
    assert!(err.detail.contains("owner"), "{}", err.detail);
}
