//! Properties of PATCH over generated input: `parse_path`, `parse_request`
//! and `apply` return Ok or an error for anything (never panic), errors are
//! client errors, and a successful result is a valid, normalised document.

use proptest::prelude::*;
use scim_core::members::{Member, MemberKind};
use scim_core::patch::{PATCH_OP_URN, PatchError, PatchOpKind, PatchOperation, apply, parse_path, parse_request};
use scim_core::schema::Registry;
use scim_core::validate::{Mode, validate};
use scim_core::{ScimError, ScimType};
use serde_json::{Map, Value, json};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 384,
        ..ProptestConfig::default()
    }
}

fn fixed_user() -> Value {
    json!({
        "schemas": [USER_URN, ENT],
        "id": "u1",
        "meta": {"resourceType": "User", "version": "W/\"1\""},
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "active": true,
        "emails": [{"value": "b@example.com", "type": "work", "primary": true}, {"value": "b@home.org", "type": "home"}],
        "addresses": [{"type": "work", "streetAddress": "100 Plaza", "country": "US"}],
        "roles": [{"value": "admin"}],
        ENT: {"employeeNumber": "7", "manager": {"value": "m1"}}
    })
}

fn fixed_group() -> Value {
    json!({"schemas": [GROUP_URN], "id": "g1", "meta": {"resourceType": "Group"}, "displayName": "Guides"})
}

fn fixed_members() -> Vec<Member> {
    vec![
        Member {
            value: "a".into(),
            kind: Some(MemberKind::User),
        },
        Member {
            value: "b".into(),
            kind: Some(MemberKind::Group),
        },
        Member::new("c"),
    ]
}

/// Real paths of both resource types, so generated operations reach the
/// engine's branches rather than stopping at invalidPath.
const REAL_PATHS: &[&str] = &[
    "userName",
    "name",
    "name.givenName",
    "name.familyName",
    "displayName",
    "nickName",
    "active",
    "title",
    "password",
    "emails",
    "emails.value",
    "emails[type eq \"work\"]",
    "emails[type eq \"work\"].value",
    "emails[type eq \"work\" and primary eq true].value",
    "emails[value co \"@\"]",
    "emails[primary eq true].primary",
    "emails[not (type eq \"home\")]",
    "addresses[type eq \"work\"].streetAddress",
    "addresses[type eq \"home\"]",
    "phoneNumbers[type eq \"mobile\"].value",
    "roles",
    "roles[value eq \"admin\"]",
    "x509Certificates",
    "groups",
    "id",
    "meta",
    "meta.version",
    "externalId",
    "manager",
    "manager.value",
    "manager.displayName",
    "employeeNumber",
    ENT,
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
    "members",
    "members.value",
    "members.display",
    "members[value eq \"a\"]",
    "members[value eq \"a\" or value eq \"z\"]",
    "members[type eq \"Group\"]",
    "members[value eq \"a\"].type",
    "members[value sw \"a\"].value",
    "members[display eq \"x\"]",
];

const GARBAGE: &[&str] = &[
    "[", "]", "\"", ".", ":", " ", "\\", "eq", " or ", "(", ")", "urn:", "$ref", "\u{e9}",
];

fn path_text() -> impl Strategy<Value = String> {
    let real = prop::sample::select(REAL_PATHS).prop_map(String::from);
    let mutated = (
        prop::sample::select(REAL_PATHS),
        any::<prop::sample::Index>(),
        prop::sample::select(GARBAGE),
    )
        .prop_map(|(p, at, junk)| {
            let chars: Vec<char> = p.chars().collect();
            let i = at.index(chars.len() + 1);
            let mut s: String = chars[..i].iter().collect();
            s.push_str(junk);
            s.extend(&chars[i..]);
            s
        });
    let truncated = (prop::sample::select(REAL_PATHS), any::<prop::sample::Index>()).prop_map(|(p, at)| {
        let chars: Vec<char> = p.chars().collect();
        chars[..at.index(chars.len() + 1)].iter().collect::<String>()
    });
    prop_oneof![
        10 => real,
        2 => mutated,
        1 => truncated,
        1 => ".{0,24}",
        1 => "[a-zA-Z]{1,8}(\\[[a-z]{1,5} (eq|co|pr|gt) (\"[a-z@]{0,4}\"|true|1|null)\\])?(\\.[a-zA-Z$]{1,6})?",
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1.0e6f64..1.0e6).prop_map(Value::from),
        prop::sample::select(vec![
            "True",
            "false",
            "work",
            "home",
            "User",
            "Group",
            "a",
            "b",
            "z",
            "",
            "2024-01-01T00:00:00Z",
            "TWFu"
        ])
        .prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "value",
            "type",
            "primary",
            "display",
            "displayName",
            "$ref",
            "givenName",
            "userName",
            "emails",
            "members",
            "name.givenName",
            "id",
            "meta",
            "schemas",
            "manager",
            "employeeNumber",
            ENT,
            "streetAddress",
            "nickName",
        ])
        .prop_map(String::from),
        "[a-zA-Z.\\[\\]\" ]{1,10}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn operation() -> impl Strategy<Value = PatchOperation> {
    let kind = prop::sample::select(vec![PatchOpKind::Add, PatchOpKind::Replace, PatchOpKind::Remove]);
    (
        kind,
        prop::option::weighted(0.85, path_text()),
        prop::option::weighted(0.9, json_value()),
    )
        .prop_map(|(op, path, value)| PatchOperation { op, path, value })
}

/// Every error `apply` returns is a 400 with a scimType, or NeedsMembers
/// when no member list was given.
fn check_outcome(
    result: &Result<scim_core::patch::Change, PatchError>,
    rt: &scim_core::schema::ResourceType,
    start: &Value,
    had_list: bool,
) {
    match result {
        Ok(change) => {
            assert!(
                change.doc.get("id").is_none() && change.doc.get("meta").is_none(),
                "{}",
                change.doc
            );
            assert!(change.doc.get("members").is_none(), "{}", change.doc);
            let again = validate(rt, &change.doc, Mode::Replace { current: start });
            assert_eq!(
                again.as_ref(),
                Ok(&change.doc),
                "the result is not a fixed point of validate"
            );
        }
        Err(PatchError::Scim(e)) => {
            assert_eq!(e.status, 400, "{e}");
            assert!(e.scim_type.is_some(), "{e}");
        }
        Err(PatchError::NeedsMembers) => {
            assert!(!had_list, "NeedsMembers although the list was given")
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parse_path_never_panics(text in ".{0,40}") {
        if let Err(e) = parse_path(&text) {
            prop_assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
        }
    }

    #[test]
    fn parse_path_on_near_paths_is_ok_or_invalid_path(text in path_text()) {
        let result: Result<_, ScimError> = parse_path(&text);
        if let Err(e) = result {
            prop_assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
            prop_assert!(!e.detail.is_empty());
        }
    }

    #[test]
    fn apply_to_user_never_panics(ops in prop::collection::vec(operation(), 0..5)) {
        let registry = Registry::builtin();
        let start = fixed_user();
        let result = apply(registry.user(), &start, None, &ops);
        check_outcome(&result, registry.user(), &start, false);
        if let Err(PatchError::NeedsMembers) = result {
            prop_assert!(false, "a user never needs members");
        }
    }

    #[test]
    fn apply_to_group_never_panics(ops in prop::collection::vec(operation(), 0..5), with_list in any::<bool>()) {
        let registry = Registry::builtin();
        let start = fixed_group();
        let list = fixed_members();
        let members = with_list.then_some(list.as_slice());
        let result = apply(registry.group(), &start, members, &ops);
        check_outcome(&result, registry.group(), &start, with_list);
        if let Ok(change) = &result {
            let mut after = list.clone();
            change.members.apply_to(&mut after);
            let mut ids: Vec<&str> = after.iter().map(|m| m.value.as_str()).collect();
            ids.sort_unstable();
            let n = ids.len();
            ids.dedup();
            prop_assert_eq!(ids.len(), n, "duplicate member after applying the delta");
            prop_assert!(after.iter().all(|m| !m.value.is_empty()));
        }
    }

    #[test]
    fn parse_request_never_panics(body in json_value(), ops in prop::collection::vec(json_value(), 0..4)) {
        let _ = parse_request(&body);
        let wrapped = json!({"schemas": [PATCH_OP_URN], "Operations": ops});
        if let Ok(parsed) = parse_request(&wrapped) {
            prop_assert_eq!(parsed.len(), ops.len());
            let registry = Registry::builtin();
            let start = fixed_user();
            let result = apply(registry.user(), &start, None, &parsed);
            check_outcome(&result, registry.user(), &start, false);
        }
    }
}
