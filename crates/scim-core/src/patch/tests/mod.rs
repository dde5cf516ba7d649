//! PATCH tables. Each case is a starting document, the `Operations` (or a
//! whole request body), and the expected normalised document, error
//! `scimType`, or member delta. The tables are in `user_cases.rs` and
//! `group_cases.rs`; this file has the fixtures, the runner and the tests of
//! the request types.
//!
//! Member deltas are written as a short text: `=` is replace_all, `+id` (or
//! `+id:User`) adds, `-id` removes; `""` is no membership change. Member
//! lists are `"a b:Group"`.

use super::*;
use crate::ScimType;
use crate::members::MemberKind;
use crate::schema::{ENTERPRISE_USER_URN, Registry, USER_URN};
use serde_json::json;
use std::collections::BTreeSet;

mod group_cases;
mod user_cases;

pub(super) const ENT: &str = ENTERPRISE_USER_URN;
pub(super) const ACME: &str = "urn:example:params:scim:schemas:extension:acme:1.0:User";
pub(super) const BABS: &str = "2819c223-7f76-453a-919d-413861904646";
pub(super) const JAMES: &str = "08e1d05d-121c-4561-8b96-473d93df9210";

#[derive(Debug, Clone, Copy)]
pub(super) enum Rt {
    User,
    Group,
    /// User with the test extension `ACME` (immutables, a required
    /// attribute, a multi-valued string).
    Acme,
}

pub(super) enum Expect {
    /// The resulting document, and no membership change. When it has no
    /// `schemas`, the result's `schemas` is not compared.
    Doc(Value),
    /// The resulting document and the member delta.
    Members(Value, String),
    Err(ScimType),
    NeedsMembers,
}

pub(super) struct Case {
    pub name: &'static str,
    pub rt: Rt,
    pub start: Value,
    pub members: Option<&'static str>,
    /// An array of operations, or (an object) a whole request body.
    pub ops: Value,
    pub expect: Expect,
}

impl Case {
    pub fn list(mut self, members: &'static str) -> Case {
        self.members = Some(members);
        self
    }
}

pub(super) fn case(name: &'static str, rt: Rt, start: Value, ops: Value, expect: Expect) -> Case {
    Case {
        name,
        rt,
        start,
        members: None,
        ops,
        expect,
    }
}

pub(super) fn doc(v: Value) -> Expect {
    Expect::Doc(v)
}
pub(super) fn err(t: ScimType) -> Expect {
    Expect::Err(t)
}
pub(super) fn delta(v: Value, d: &str) -> Expect {
    Expect::Members(v, d.to_string())
}

fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        for (k, v) in e {
            b.insert(k, v);
        }
    }
    base
}

/// A stored user: schemas, id, meta, userName, plus `extra`.
pub(super) fn user(extra: Value) -> Value {
    with(
        json!({
            "schemas": [USER_URN],
            "id": BABS,
            "meta": {"resourceType": "User", "created": "2011-08-01T18:29:49.793Z",
                     "lastModified": "2011-08-01T18:29:49.793Z",
                     "location": format!("https://example.com/v2/Users/{BABS}"), "version": "W/\"f250dd84f0671c3\""},
            "userName": "bjensen"
        }),
        extra,
    )
}

/// The expected user document: userName plus `extra` (no id/meta: the
/// server re-adds them).
pub(super) fn user_out(extra: Value) -> Value {
    with(json!({"userName": "bjensen"}), extra)
}

pub(super) const GROUP_ID: &str = "e9e30dba-f08f-4109-8486-d5c6a331660a";

pub(super) fn group(extra: Value) -> Value {
    with(
        json!({
            "schemas": [GROUP_URN],
            "id": GROUP_ID,
            "meta": {"resourceType": "Group", "version": "W/\"3\""},
            "displayName": "Tour Guides"
        }),
        extra,
    )
}

pub(super) fn group_out(extra: Value) -> Value {
    with(json!({"displayName": "Tour Guides"}), extra)
}

fn registries() -> (Registry, Registry) {
    let builtin = Registry::builtin();
    let mut acme = Registry::builtin();
    let schema = json!({
        "id": ACME,
        "name": "AcmeUser",
        "attributes": [
            {"name": "owner", "type": "string", "required": true},
            {"name": "badge", "type": "string", "mutability": "immutable"},
            {"name": "site", "type": "complex", "subAttributes": [
                {"name": "code", "type": "string", "mutability": "immutable"},
                {"name": "label", "type": "string"}
            ]},
            {"name": "tags", "type": "string", "multiValued": true},
            {"name": "level", "type": "integer"}
        ]
    });
    acme.add_extension("User", &schema, false).unwrap();
    (builtin, acme)
}

fn member_list(text: &str) -> Vec<Member> {
    text.split_whitespace()
        .map(|t| match t.split_once(':') {
            Some((id, kind)) => Member {
                value: id.into(),
                kind: MemberKind::parse(kind),
            },
            None => Member::new(t),
        })
        .collect()
}

fn parse_delta(text: &str) -> MemberDelta {
    let mut d = MemberDelta::default();
    for token in text.split_whitespace() {
        if token == "=" {
            d.replace_all = true;
        } else if let Some(rest) = token.strip_prefix('+') {
            let m = member_list(rest).remove(0);
            d.add.insert(m.value.clone(), m);
        } else if let Some(id) = token.strip_prefix('-') {
            d.remove.insert(id.to_string());
        } else {
            panic!("bad delta token {token}");
        }
    }
    d
}

/// Runs one case; `Err` describes how it failed.
fn run(case: &Case, regs: &(Registry, Registry)) -> Result<(), String> {
    let rt = match case.rt {
        Rt::User => regs.0.user(),
        Rt::Group => regs.0.group(),
        Rt::Acme => regs.1.user(),
    };
    let body = if case.ops.is_array() {
        json!({"schemas": [PATCH_OP_URN], "Operations": case.ops})
    } else {
        case.ops.clone()
    };
    let list = case.members.map(member_list);
    let got = parse_request(&body)
        .map_err(PatchError::from)
        .and_then(|ops| apply(rt, &case.start, list.as_deref(), &ops));
    let same_doc = |want: &Value, got: &Value| -> Result<(), String> {
        let mut got = got.clone();
        if let (None, Some(o)) = (want.get("schemas"), got.as_object_mut()) {
            o.remove("schemas");
        }
        if &got == want {
            Ok(())
        } else {
            Err(format!("document\n  want {want}\n  got  {got}"))
        }
    };
    match (&case.expect, got) {
        (Expect::Doc(want), Ok(change)) => {
            same_doc(want, &change.doc)?;
            if !change.members.is_empty() {
                return Err(format!("unexpected member delta {:?}", change.members));
            }
            Ok(())
        }
        (Expect::Members(want, d), Ok(change)) => {
            same_doc(want, &change.doc)?;
            let want = parse_delta(d);
            if change.members != want {
                return Err(format!("member delta\n  want {want:?}\n  got  {:?}", change.members));
            }
            Ok(())
        }
        (Expect::Err(t), Err(PatchError::Scim(e)))
            if e.scim_type == Some(*t) && e.status == 400 && !e.detail.is_empty() =>
        {
            Ok(())
        }
        (Expect::NeedsMembers, Err(PatchError::NeedsMembers)) => Ok(()),
        (_, Ok(change)) => Err(format!("unexpected success {} / {:?}", change.doc, change.members)),
        (_, Err(e)) => Err(format!("unexpected error {e:?}")),
    }
}

#[test]
fn patch_table() {
    let regs = registries();
    let mut cases = user_cases::cases();
    cases.extend(group_cases::cases());
    let mut names = BTreeSet::new();
    let mut failures = Vec::new();
    for case in &cases {
        assert!(names.insert(case.name), "duplicate case name '{}'", case.name);
        if let Err(why) = run(case, &regs) {
            failures.push(format!("case '{}': {why}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(cases.len() >= 130, "only {} cases", cases.len());
}

#[test]
fn parse_request_reads_every_field() {
    let body = json!({
        "schemas": [PATCH_OP_URN],
        "id": "ignored",
        "operations": [
            {"op": "ADD", "path": "nickName", "value": "Babs", "name": "ignored"},
            {"Op": "Replace", "Value": {"active": false}},
            {"op": "remove", "path": "emails", "value": null},
            {"op": "replace", "path": "title", "value": null},
            {"op": "add", "path": "", "value": {"title": "x"}}
        ]
    });
    let ops = parse_request(&body).unwrap();
    assert_eq!(
        ops,
        vec![
            PatchOperation::add(Some("nickName"), json!("Babs")),
            PatchOperation::replace(None, json!({"active": false})),
            PatchOperation {
                op: PatchOpKind::Remove,
                path: Some("emails".into()),
                value: Some(Value::Null)
            },
            PatchOperation::replace(Some("title"), Value::Null),
            PatchOperation::add(None, json!({"title": "x"})),
        ]
    );
}

#[test]
fn patch_request_serde_round_trips() {
    let req = PatchRequest::new(vec![
        PatchOperation::add(Some("members"), json!([{"value": BABS}])),
        PatchOperation::remove("nickName"),
    ]);
    let v = serde_json::to_value(&req).unwrap();
    assert_eq!(
        v,
        json!({"schemas": [PATCH_OP_URN], "Operations": [
            {"op": "add", "path": "members", "value": [{"value": BABS}]},
            {"op": "remove", "path": "nickName"}
        ]})
    );
    assert_eq!(serde_json::from_value::<PatchRequest>(v.clone()).unwrap(), req);
    assert_eq!(parse_request(&v).unwrap(), req.operations);
}

#[test]
fn apply_checks_operations_built_in_code() {
    let regs = registries();
    let rt = regs.0.user();
    let start = user(json!({}));
    let no_path = PatchOperation {
        op: PatchOpKind::Remove,
        path: None,
        value: None,
    };
    let e = apply(rt, &start, None, &[no_path]).unwrap_err();
    assert!(
        matches!(e, PatchError::Scim(ref s) if s.scim_type == Some(ScimType::NoTarget)),
        "{e}"
    );
    let no_value = PatchOperation {
        op: PatchOpKind::Add,
        path: Some("title".into()),
        value: None,
    };
    let e = apply(rt, &start, None, &[no_value]).unwrap_err();
    assert!(
        matches!(e, PatchError::Scim(ref s) if s.scim_type == Some(ScimType::InvalidSyntax)),
        "{e}"
    );
    let e = apply(rt, &json!("not an object"), None, &[]).unwrap_err();
    assert!(matches!(e, PatchError::Scim(ref s) if s.status == 500), "{e}");
    // No operations: the document normalised, unchanged.
    let change = apply(rt, &start, None, &[]).unwrap();
    assert_eq!(change.doc, json!({"schemas": [USER_URN], "userName": "bjensen"}));
}

#[test]
fn patch_error_converts_and_displays() {
    let e: PatchError = ScimError::no_target("x").into();
    assert_eq!(e.to_string(), "400 noTarget: x");
    assert!(PatchError::NeedsMembers.to_string().contains("member list"));
}

#[test]
fn op_kind_parses_any_case() {
    for (text, kind) in [
        ("add", PatchOpKind::Add),
        ("Replace", PatchOpKind::Replace),
        ("REMOVE", PatchOpKind::Remove),
    ] {
        assert_eq!(PatchOpKind::parse(text), Some(kind));
    }
    assert_eq!(PatchOpKind::parse("copy"), None);
    assert_eq!(PatchOpKind::parse(""), None);
}
