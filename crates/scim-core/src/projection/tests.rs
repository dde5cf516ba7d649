//! Projection table: (attributes, excludedAttributes, expected document).

use super::*;
use crate::schema::{ENTERPRISE_USER_URN, GROUP_URN, Registry, USER_URN};
use serde_json::json;

fn stored_user() -> Value {
    json!({
        "schemas": [USER_URN, ENTERPRISE_USER_URN],
        "id": "u1",
        "externalId": "e1",
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "displayName": "Babs",
        "password": "hash-never-returned",
        "emails": [{"value": "b@x", "type": "work", "primary": true}, {"value": "b@y", "type": "home"}],
        "meta": {"resourceType": "User", "version": "W/\"1\""},
        ENTERPRISE_USER_URN: {"employeeNumber": "7", "department": "R&D", "manager": {"value": "m1", "displayName": "Boss"}}
    })
}

#[test]
fn projection_table() {
    let reg = Registry::builtin();
    let u = reg.user();
    let cases: Vec<(Option<&str>, Option<&str>, Value)> = vec![
        (
            None,
            None,
            json!({
                "schemas": [USER_URN, ENTERPRISE_USER_URN], "id": "u1", "externalId": "e1", "userName": "bjensen",
                "name": {"givenName": "Barbara", "familyName": "Jensen"}, "displayName": "Babs",
                "emails": [{"value": "b@x", "type": "work", "primary": true}, {"value": "b@y", "type": "home"}],
                "meta": {"resourceType": "User", "version": "W/\"1\""},
                ENTERPRISE_USER_URN: {"employeeNumber": "7", "department": "R&D", "manager": {"value": "m1", "displayName": "Boss"}}
            }),
        ),
        (
            Some("userName"),
            None,
            json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "id": "u1", "userName": "bjensen"}),
        ),
        (
            Some("USERNAME,displayname"),
            None,
            json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "id": "u1", "userName": "bjensen", "displayName": "Babs"}),
        ),
        (
            Some("name.familyName"),
            None,
            json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "id": "u1", "name": {"familyName": "Jensen"}}),
        ),
        (
            Some("emails.value"),
            None,
            json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "id": "u1", "emails": [{"value": "b@x"}, {"value": "b@y"}]}),
        ),
        (
            Some("emails"),
            None,
            json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "id": "u1",
            "emails": [{"value": "b@x", "type": "work", "primary": true}, {"value": "b@y", "type": "home"}]}),
        ),
        (
            Some("password"),
            None,
            json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "id": "u1"}),
        ),
        (
            Some("department"),
            None,
            json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "id": "u1", ENTERPRISE_USER_URN: {"department": "R&D"}}),
        ),
        (
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"),
            None,
            json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "id": "u1", ENTERPRISE_USER_URN: {"manager": {"value": "m1"}}}),
        ),
        (
            Some(ENTERPRISE_USER_URN),
            None,
            json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "id": "u1",
            ENTERPRISE_USER_URN: {"employeeNumber": "7", "department": "R&D", "manager": {"value": "m1", "displayName": "Boss"}}}),
        ),
        (
            Some("nosuchattribute"),
            None,
            json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "id": "u1"}),
        ),
        (
            Some("id"),
            None,
            json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "id": "u1"}),
        ),
        (
            None,
            Some("emails,name,meta,externalId,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
            json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "id": "u1", "userName": "bjensen", "displayName": "Babs"}),
        ),
        (
            None,
            Some("id,emails.type,name.givenName,department,manager,meta,emails.primary,externalId,displayName"),
            json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "id": "u1", "userName": "bjensen",
                "name": {"familyName": "Jensen"}, "emails": [{"value": "b@x"}, {"value": "b@y"}],
                ENTERPRISE_USER_URN: {"employeeNumber": "7"}}),
        ),
    ];
    for (attrs, excluded, want) in cases {
        let p = Projection::parse(attrs, excluded).unwrap();
        assert_eq!(
            p.apply(u, &stored_user()),
            want,
            "attributes={attrs:?} excludedAttributes={excluded:?}"
        );
    }
}

#[test]
fn includes_tells_stores_whether_members_are_needed() {
    let reg = Registry::builtin();
    let g = reg.group();
    assert!(Projection::default().includes(g, "members"));
    assert!(!Projection::parse(None, Some("members")).unwrap().includes(g, "members"));
    assert!(
        !Projection::parse(Some("displayName"), None)
            .unwrap()
            .includes(g, "members")
    );
    assert!(
        Projection::parse(Some("members.value"), None)
            .unwrap()
            .includes(g, "members")
    );
    let doc =
        json!({"schemas": [GROUP_URN], "id": "g", "displayName": "Eng", "members": [{"value": "u1", "display": "B"}]});
    assert_eq!(
        Projection::parse(Some("members.value"), None).unwrap().apply(g, &doc),
        json!({"schemas": [GROUP_URN], "id": "g", "members": [{"value": "u1"}]})
    );
}

#[test]
fn malformed_names_are_invalid_value() {
    let err = Projection::parse(Some("userName,na me"), None).unwrap_err();
    assert_eq!(err.scim_type, Some(crate::ScimType::InvalidValue));
    assert!(err.detail.contains("na me"));
    assert!(Projection::parse(Some(" userName , ,"), None).is_ok());
}

/// The default projection hands back a complex value as it is only when
/// every sub-attribute in it is kept: an unknown sub-attribute (say, from
/// a schema changed since the write) or an item that is not an object
/// still goes, as it always did.
#[test]
fn default_projection_still_drops_what_it_does_not_return() {
    let reg = Registry::builtin();
    let doc = json!({
        "schemas": [USER_URN], "id": "u1",
        "emails": [{"value": "a@x", "bogus": 1}, {"value": "b@x"}, "stray"],
        "name": {"givenName": "B", "bogus": 2},
        "phoneNumbers": [{"value": "1"}],
    });
    let got = Projection::default().apply(reg.user(), &doc);
    assert_eq!(
        got,
        json!({
            "schemas": [USER_URN], "id": "u1",
            "emails": [{"value": "a@x"}, {"value": "b@x"}],
            "name": {"givenName": "B"},
            "phoneNumbers": [{"value": "1"}],
        })
    );
}

/// A stored document is filtered in place, in its own order; a document
/// with a name spelled otherwise than the schema spells it is rebuilt with
/// the schema's spelling. Both give the same members.
#[test]
fn canonical_documents_keep_their_order_and_others_are_respelled() {
    let reg = Registry::builtin();
    let canonical = json!({
        "schemas": [USER_URN], "displayName": "Babs", "password": "x", "userName": "bjensen", "id": "u1",
    });
    let got = Projection::default().apply(reg.user(), &canonical);
    let keys: Vec<&str> = got
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(keys, ["schemas", "displayName", "userName", "id"]);

    let respelled = json!({
        "schemas": [USER_URN], "DisplayName": "Babs", "password": "x", "USERNAME": "bjensen", "Bogus": 1, "id": "u1",
    });
    let rebuilt = Projection::default().apply(reg.user(), &respelled);
    let keys: Vec<&str> = rebuilt
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(keys, ["schemas", "displayName", "userName", "id"]);
    assert_eq!(rebuilt, got, "the in-place and the rebuilt results differ");
}

/// `UnchangedByDefault` says a document is kept as it is only when the
/// default projection returns exactly that document, and says so for the
/// documents stores hold; documents the projection changes are refused.
#[test]
fn unchanged_by_default_agrees_with_the_default_projection() {
    let reg = Registry::builtin();
    let u = reg.user();
    let check = UnchangedByDefault::new(u);
    let kept = [
        json!({"schemas": [USER_URN], "userName": "a", "name": {"givenName": "A"}, "active": true,
               "emails": [{"value": "a@x", "type": "work", "primary": true}]}),
        json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "userName": "b",
               ENTERPRISE_USER_URN: {"department": "R&D", "manager": {"value": "m1"}}}),
        json!({"userName": "c", "schemas": [USER_URN], "emails": [{"VALUE": "c@x"}]}),
    ];
    let changed = [
        stored_user(),
        json!({"schemas": [USER_URN], "USERNAME": "d"}),
        json!({"schemas": [USER_URN], "userName": "e", "unknown": 1}),
        json!({"schemas": [USER_URN], "userName": "f", "emails": [{"value": "x", "colour": "red"}]}),
        json!({"schemas": [USER_URN], "userName": "g", "emails": []}),
        json!({"schemas": [USER_URN], "userName": "h", "name": "scalar"}),
        json!({"schemas": [USER_URN], "userName": "i", ENTERPRISE_USER_URN: {}}),
    ];
    let default = Projection::default();
    for doc in kept.iter().chain(&changed) {
        let text = doc.to_string();
        let projected = default.apply(u, doc).to_string();
        match check.members(&text) {
            Some(members) => {
                assert_eq!(projected, text, "said unchanged, but the projection changes {text}");
                assert_eq!(rejoin(members), text, "the parts are the document");
                let schemas = doc.get("schemas").map(|v| format!("\"schemas\":{v}"));
                assert_eq!(members.schemas, schemas.as_deref(), "{text}");
            }
            None => assert_ne!(projected, text, "refused, but the projection keeps {text}"),
        }
    }
    for doc in &kept {
        assert!(check.members(&doc.to_string()).is_some(), "{doc}");
    }
    for text in [
        "[1]",
        "{\"userName\":",
        "{\"user\\u004eame\":\"x\"}",
        "{\"userName\":\"a\",\"userName\":\"b\"}",
        // Space around a top-level colon or comma, which serde_json
        // never writes, would end up inside a member's text.
        "{ \"userName\":\"a\"}",
        "{\"userName\":\"a\", \"active\":true}",
        "{\"userName\":\"a\" ,\"active\":true}",
        "{\"userName\" :\"a\"}",
        "{\"userName\": \"a\"}",
        "{\"userName\":\"a\" }",
        // A name twice in an inner object, which a `Value` keeps once.
        "{\"emails\":[{\"value\":\"a\",\"value\":\"b\"}]}",
        "{\"name\":{\"givenName\":\"a\",\"GIVENNAME\":\"b\"}}",
        "{\"displayName\":[{\"a\":1,\"a\":2}]}",
    ] {
        assert!(check.members(text).is_none(), "{text}");
    }
    let ent = format!("{{\"{ENTERPRISE_USER_URN}\":{{\"department\":\"a\",\"department\":\"b\"}}}}");
    assert!(check.members(&ent).is_none(), "{ent}");
    let ent = format!("{{\"{ENTERPRISE_USER_URN}\":{{\"department\":\"a\",\"division\":\"b\"}}}}");
    assert!(check.members(&ent).is_some(), "{ent}");
    // Space after the document is not part of any member.
    let members = check.members("{\"userName\":\"a\",\"active\":true}\n").unwrap();
    let (user_name, active, schemas) = ("\"userName\":\"a\"", "\"active\":true", "\"schemas\":[\"x\"]");
    assert_eq!(
        members,
        Members {
            schemas: None,
            others: ["\"userName\":\"a\",\"active\":true", ""]
        }
    );
    // `schemas` first, between others, last, alone.
    for (text, others) in [
        (
            format!("{{{schemas},{user_name},{active}}}"),
            ["", "\"userName\":\"a\",\"active\":true"],
        ),
        (format!("{{{user_name},{schemas},{active}}}"), [user_name, active]),
        (
            format!("{{{user_name},{active},{schemas}}}"),
            ["\"userName\":\"a\",\"active\":true", ""],
        ),
        (format!("{{{schemas}}}"), ["", ""]),
    ] {
        let want = Members {
            schemas: Some(schemas),
            others,
        };
        assert_eq!(check.members(&text), Some(want), "{text}");
    }
    assert_eq!(
        check.members("{}"),
        Some(Members {
            schemas: None,
            others: ["", ""]
        })
    );
    // Names a renderer writes itself are refused, and only those.
    let without = UnchangedByDefault::new(u).without(&["id", "meta"]);
    for text in [
        "{\"id\":\"a\"}",
        "{\"userName\":\"a\",\"meta\":{\"resourceType\":\"User\"}}",
    ] {
        assert!(check.members(text).is_some(), "{text}");
        assert!(without.members(text).is_none(), "{text}");
    }
    assert!(without.members(&format!("{{{user_name},{schemas}}}")).is_some());
}

/// The document again from its parts.
fn rejoin(members: Members) -> String {
    let parts = [members.others[0], members.schemas.unwrap_or(""), members.others[1]];
    let parts: Vec<&str> = parts.into_iter().filter(|part| !part.is_empty()).collect();
    format!("{{{}}}", parts.join(","))
}

/// Documents `UnchangedByDefault` keeps, with what a mutation can turn
/// into each kind of JSON value: escapes, non-ASCII text, integers at the
/// ends of their range, fractions and exponents, nested arrays and objects (a simple attribute's
/// value is kept as it is, whatever it holds).
fn documents_to_mutate() -> Vec<String> {
    vec![
        json!({"schemas": [USER_URN], "userName": "a\"b\\c\nd\te\u{8}\u{c}\r/\u{1}\u{1f}",
               "nickName": "ü€𝄞", "active": true, "title": -42, "locale": 18446744073709551615u64,
               "displayName": [1, {"a": null, "b": false}, [], {}, -9223372036854775808i64, 0],
               "timezone": [0.30000000000000004, -1.5e-7, 1e20, 2.5, -0.0]})
        .to_string(),
        json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "userName": "b", "name": {"givenName": "B"},
               "emails": [{"value": "b@x", "type": "work", "primary": true}, {"value": "b@y"}],
               ENTERPRISE_USER_URN: {"department": "R&D", "manager": {"value": "m1"}}})
        .to_string(),
    ]
}

/// Whatever `UnchangedByDefault` accepts, the `Value` path writes byte
/// for byte: each document above is mutated at every byte (a byte replaced
/// by, or preceded by, one of JSON's structural bytes, digits, letters,
/// space or a control character; or dropped), and every mutation accepted
/// must parse, be kept by the default projection as written, and rejoin
/// from its parts.
#[test]
fn unchanged_by_default_accepts_only_what_the_value_path_writes_the_same() {
    let reg = Registry::builtin();
    let u = reg.user();
    let check = UnchangedByDefault::new(u);
    let default = Projection::default();
    let bytes: &[u8] = b"\"\\/{}[],: \n\x01019-+.eEtnulfa";
    let (mut accepted, mut tried) = (0, 0);
    for doc in documents_to_mutate() {
        assert!(check.members(&doc).is_some(), "{doc}");
        let doc = doc.as_bytes();
        for at in 0..doc.len() {
            let mut mutations: Vec<Vec<u8>> = vec![[&doc[..at], &doc[at + 1..]].concat()];
            for b in bytes {
                mutations.push([&doc[..at], &[*b], &doc[at + 1..]].concat());
                mutations.push([&doc[..at], &[*b], &doc[at..]].concat());
            }
            for mutation in mutations {
                // Bytes replaced inside a non-ASCII character.
                let Ok(text) = String::from_utf8(mutation) else {
                    continue;
                };
                tried += 1;
                let Some(members) = check.members(&text) else { continue };
                accepted += 1;
                let value: Value =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("accepted {text:?}, which is not JSON: {e}"));
                assert_eq!(
                    default.apply(u, &value).to_string(),
                    text,
                    "accepted, but the Value path writes otherwise"
                );
                assert_eq!(rejoin(members), text, "the parts of {text:?}");
            }
        }
    }
    // Most mutations break the document or change it; many do not (a
    // letter for a letter in a value) and must still be accepted.
    assert!(accepted > 1000, "only {accepted} of {tried} mutations accepted");
}

/// Nesting: accepted exactly as deep as serde_json parses.
#[test]
fn unchanged_by_default_nests_as_deep_as_serde_json() {
    let reg = Registry::builtin();
    let u = reg.user();
    let check = UnchangedByDefault::new(u);
    let mut answers = Vec::new();
    for levels in [126, 127, 128, 129] {
        let arrays = levels - 1;
        let text = format!(
            "{{\"userName\":\"a\",\"displayName\":{}{}}}",
            "[".repeat(arrays),
            "]".repeat(arrays)
        );
        let parsed = serde_json::from_str::<Value>(&text).is_ok();
        assert_eq!(check.members(&text).is_some(), parsed, "{levels} levels");
        answers.push(parsed);
    }
    assert_eq!(answers, [true, true, false, false]);
}

/// Names are matched as the projection matches them, the first of a
/// schema's spellings that differ only in case, even where a later one is
/// spelled exactly as the document spells it.
#[test]
fn unchanged_by_default_takes_the_first_sub_attribute_alike_in_case() {
    let mut reg = Registry::builtin();
    let ext = "urn:example:scim:schemas:extension:cases:1.0:User";
    let sub = |name: &str, returned: &str| json!({"name": name, "type": "string", "multiValued": false, "returned": returned});
    let schema = json!({
        "id": ext,
        "attributes": [
            {"name": "badge", "type": "complex", "multiValued": false,
             "subAttributes": [sub("Code", "never"), sub("code", "default"), sub("Site", "default"), sub("site", "never")]}
        ]
    });
    reg.add_extension("User", &schema, false).unwrap();
    let u = reg.user();
    let check = UnchangedByDefault::new(u);
    for (badge, kept) in [
        ("{\"code\":\"c\"}", false),
        ("{\"site\":\"s\"}", true),
        ("{\"Site\":\"s\"}", true),
    ] {
        let text = format!("{{\"userName\":\"a\",\"{ext}\":{{\"badge\":{badge}}}}}");
        let value: Value = serde_json::from_str(&text).unwrap();
        let projected = Projection::default().apply(u, &value).to_string();
        assert_eq!(projected == text, kept, "the Value path on {text}: {projected}");
        assert_eq!(check.members(&text).is_some(), kept, "{text}");
    }
}

/// A verdict is taken only from the same check about the same text: for
/// every mutation of the documents above (accepted or not), the verdict on
/// it answers what reading it answers, and the verdict on the document it
/// was mutated from is not taken for it; nor is a verdict of another check
/// (here one that refuses `id`), nor one that is not 16 bytes.
#[test]
fn a_verdict_is_taken_only_from_the_same_check_about_the_same_text() {
    let reg = Registry::builtin();
    let u = reg.user();
    let check = UnchangedByDefault::new(u);
    let (mut kept, mut changed) = (0, 0);
    for doc in documents_to_mutate() {
        let original = check.verdict(&doc);
        assert_eq!(Verdict::from_bytes(&original.to_bytes()), Some(original));
        assert_eq!(Verdict::from_bytes(&original.to_bytes()[1..]), None);
        let bytes = doc.as_bytes();
        for at in 0..bytes.len() {
            for mutation in [
                [&bytes[..at], &bytes[at + 1..]].concat(),
                [&bytes[..at], b"x", &bytes[at + 1..]].concat(),
                [&bytes[..at], b"\"", &bytes[at..]].concat(),
            ] {
                let Ok(text) = String::from_utf8(mutation) else {
                    continue;
                };
                let read = check.members(&text);
                let own = check.verdict(&text);
                assert_eq!(check.members_given(&text, Some(&own)), read, "{text}");
                assert_eq!(check.members_given(&text, Some(&original)), read, "{text}");
                assert_eq!(check.members_given(&text, None), read, "{text}");
                if read.is_some() { kept += 1 } else { changed += 1 }
            }
        }
    }
    assert!(kept > 300 && changed > 1000, "{kept} kept, {changed} changed");
    // Space after the document: kept, but not placed by offsets.
    let spaced = "{\"userName\":\"a\"} \n";
    assert!(check.members(spaced).is_some());
    assert_eq!(
        check.members_given(spaced, Some(&check.verdict(spaced))),
        check.members(spaced)
    );
    // Another check's verdict: `id` is refused by one and not the other.
    let with_id = json!({"schemas": [USER_URN], "id": "x", "userName": "a"}).to_string();
    let without_id = UnchangedByDefault::new(u).without(&["id"]);
    assert!(check.members(&with_id).is_some());
    assert_eq!(without_id.members_given(&with_id, Some(&check.verdict(&with_id))), None);
    assert_eq!(
        UnchangedByDefault::for_rendering(u).members(&with_id),
        None,
        "for_rendering refuses what a renderer derives"
    );
    // The same names, one attribute `returned: request` instead of
    // `default` (a schema changed between runs): not taken.
    let ext = "urn:example:scim:schemas:extension:seal:1.0:User";
    let with = |returned: &str| {
        let mut reg = Registry::builtin();
        let schema = json!({"id": ext, "attributes": [
            {"name": "badge", "type": "string", "multiValued": false, "returned": returned}
        ]});
        reg.add_extension("User", &schema, false).unwrap();
        UnchangedByDefault::new(reg.user())
    };
    let (shown, hidden) = (with("default"), with("request"));
    let doc = json!({"schemas": [USER_URN, ext], "userName": "a", ext: {"badge": "b"}}).to_string();
    assert!(shown.members(&doc).is_some());
    assert_eq!(hidden.members(&doc), None);
    assert_eq!(hidden.members_given(&doc, Some(&shown.verdict(&doc))), None);
}
