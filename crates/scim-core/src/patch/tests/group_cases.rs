//! Group PATCH cases (member deltas, the RFC 7644 §3.5.2 group examples,
//! NeedsMembers and its list-supplied variants), a custom extension with
//! immutable and required attributes, and request-level errors.

use super::Rt::{Acme as A, Group as G, User as U};
use super::*;
use crate::ScimType::{InvalidPath, InvalidSyntax, InvalidValue, Mutability as Mut, NoTarget};

const NEEDS: Expect = Expect::NeedsMembers;

fn babs() -> Value {
    json!({"display": "Babs Jensen", "$ref": format!("https://example.com/v2/Users/{BABS}"), "value": BABS})
}

fn james() -> Value {
    json!({"display": "James Smith", "$ref": format!("https://example.com/v2/Users/{JAMES}"), "value": JAMES})
}

fn acme(extra: Value) -> Value {
    let mut data = json!({"owner": "ops"});
    if let (Some(d), Value::Object(e)) = (data.as_object_mut(), extra) {
        d.extend(e);
    }
    user(json!({"schemas": [USER_URN, ACME], ACME: data}))
}

fn acme_out(extra: Value) -> Value {
    let mut data = json!({"owner": "ops"});
    if let (Some(d), Value::Object(e)) = (data.as_object_mut(), extra) {
        d.extend(e);
    }
    user_out(json!({ACME: data}))
}

#[rustfmt::skip]
pub(super) fn cases() -> Vec<Case> {
    let g0 = || group(json!({}));
    let out = || group_out(json!({}));
    vec![
        // ---- RFC 7644 §3.5.2 group examples ----------------------------
        case("rfc 3.5.2.1 add a member", G, g0(),
            json!([{"op": "add", "path": "members", "value": [babs()]}]),
            delta(out(), &format!("+{BABS}"))),
        case("rfc 3.5.2.2 remove a single member", G, g0(),
            json!([{"op": "remove", "path": format!("members[value eq \"{BABS}\"]")}]),
            delta(out(), &format!("-{BABS}"))),
        case("rfc 3.5.2.2 remove all members", G, g0(),
            json!([{"op": "remove", "path": "members"}]), delta(out(), "=")),
        case("rfc 3.5.2.2 remove and add a member", G, g0(),
            json!([{"op": "remove", "path": format!("members[value eq \"{BABS}\"]")}, {"op": "add", "path": "members", "value": [james()]}]),
            delta(out(), &format!("-{BABS} +{JAMES}"))),
        case("rfc 3.5.2.2 replace all members by remove then add", G, g0(),
            json!([{"op": "remove", "path": "members"}, {"op": "add", "path": "members", "value": [babs(), james()]}]),
            delta(out(), &format!("= +{BABS} +{JAMES}"))),
        case("rfc 3.5.2.3 replace members in a single operation", G, g0(),
            json!([{"op": "replace", "path": "members", "value": [babs(), james()]}]),
            delta(out(), &format!("= +{BABS} +{JAMES}"))),

        // ---- members without the member list ---------------------------
        case("add members as bare ids", G, g0(),
            json!([{"op": "add", "path": "members", "value": ["a", "b"]}]), delta(out(), "+a +b")),
        case("add one member object", G, g0(),
            json!([{"op": "add", "path": "members", "value": {"value": "a"}}]), delta(out(), "+a")),
        case("add member with type in any case", G, g0(),
            json!([{"op": "add", "path": "members", "value": [{"value": "a", "type": "user"}, {"value": "b", "type": "GROUP"}]}]),
            delta(out(), "+a:User +b:Group")),
        case("add member with displayName instead of display (dialect)", G, g0(),
            json!([{"op": "add", "path": "members", "value": [{"value": "a", "displayName": "Babs"}]}]), delta(out(), "+a")),
        case("add member without value", G, g0(),
            json!([{"op": "add", "path": "members", "value": [{"display": "Babs"}]}]), err(InvalidValue)),
        case("add member with empty value", G, g0(),
            json!([{"op": "add", "path": "members", "value": [{"value": ""}]}]), err(InvalidValue)),
        case("add member of unknown type", G, g0(),
            json!([{"op": "add", "path": "members", "value": [{"value": "a", "type": "Robot"}]}]), err(InvalidValue)),
        case("add member with unknown sub-attribute", G, g0(),
            json!([{"op": "add", "path": "members", "value": [{"value": "a", "role": "owner"}]}]), err(InvalidValue)),
        case("add member with non-string value", G, g0(),
            json!([{"op": "add", "path": "members", "value": [{"value": 7}]}]), err(InvalidValue)),
        case("add no members is no change", G, g0(),
            json!([{"op": "add", "path": "members", "value": []}]), delta(out(), "")),
        case("remove members listed in value (Entra dialect)", G, g0(),
            json!([{"op": "Remove", "path": "members", "value": [{"value": "a"}, {"value": "b"}]}]), delta(out(), "-a -b")),
        case("remove members with empty value list is no change", G, g0(),
            json!([{"op": "remove", "path": "members", "value": []}]), delta(out(), "")),
        case("remove members by or of value eq", G, g0(),
            json!([{"op": "remove", "path": "members[value eq \"a\" or value eq \"b\"]"}]), delta(out(), "-a -b")),
        case("remove of a non-member is still a remove", G, g0(),
            json!([{"op": "remove", "path": "members[value eq \"stranger\"]"}]), delta(out(), "-stranger")),
        case("remove member by value eq does not need the list even when given", G, g0(),
            json!([{"op": "remove", "path": "members[value eq \"a\"]"}]), delta(out(), "-a")).list("b"),
        case("replace members with [] empties the group", G, g0(),
            json!([{"op": "replace", "path": "members", "value": []}]), delta(out(), "=")),
        case("replace members with null empties the group", G, g0(),
            json!([{"op": "replace", "path": "members", "value": null}]), delta(out(), "=")),
        case("replace members with an invalid member", G, g0(),
            json!([{"op": "replace", "path": "members", "value": [{"value": "a", "foo": 1}]}]), err(InvalidValue)),
        case("path-less replace with members and displayName", G, g0(),
            json!([{"op": "replace", "value": {"displayName": "Guides", "members": [{"value": "a"}]}}]),
            delta(group_out(json!({"displayName": "Guides"})), "= +a")),
        case("path-less add with members", G, g0(),
            json!([{"op": "add", "value": {"members": [{"value": "a"}]}}]), delta(out(), "+a")),
        case("op names in any case", G, g0(),
            json!([{"op": "ADD", "path": "members", "value": [{"value": "a"}]}, {"op": "Remove", "path": "members[value eq \"b\"]"},
                   {"op": "REPLACE", "path": "displayName", "value": "Guides"}]),
            delta(group_out(json!({"displayName": "Guides"})), "+a -b")),
        case("Entra remove then add members", G, g0(),
            json!([{"op": "Remove", "path": "members", "value": [{"value": "a"}]}, {"op": "Add", "path": "members", "value": [{"value": "b"}]}]),
            delta(out(), "-a +b")),
        case("add then remove the same member cancels", G, g0(),
            json!([{"op": "add", "path": "members", "value": ["a"]}, {"op": "remove", "path": "members[value eq \"a\"]"}]),
            delta(out(), "-a")),
        case("member display is readOnly", G, g0(),
            json!([{"op": "replace", "path": "members[value eq \"a\"].display", "value": "x"}]), err(Mut)),
        case("member displayName path (RFC Figure 8) is display, readOnly", G, g0(),
            json!([{"op": "replace", "path": format!("members[value eq \"{BABS}\"].displayName"), "value": "x"}]), err(Mut)),
        case("member filter with unknown sub-attribute", G, g0(),
            json!([{"op": "remove", "path": "members[role eq \"owner\"]"}]), err(InvalidPath)),

        // ---- members that need the list ---------------------------------
        case("remove members by type needs the list", G, g0(),
            json!([{"op": "remove", "path": "members[type eq \"Group\"]"}]), NEEDS),
        case("remove members by type with the list", G, g0(),
            json!([{"op": "remove", "path": "members[type eq \"Group\"]"}]), delta(out(), "-b -c")).list("a:User b:Group c:Group"),
        case("remove members by type with no such member", G, g0(),
            json!([{"op": "remove", "path": "members[type eq \"Group\"]"}]), err(NoTarget)).list("a:User"),
        case("remove members by sw needs the list", G, g0(),
            json!([{"op": "remove", "path": "members[value sw \"a\"]"}]), NEEDS),
        case("remove members by sw with the list", G, g0(),
            json!([{"op": "remove", "path": "members[value sw \"a\"]"}]), delta(out(), "-a1 -a2")).list("a1 a2 b"),
        case("replace member type needs the list", G, g0(),
            json!([{"op": "replace", "path": "members[value eq \"a\"].type", "value": "User"}]), NEEDS),
        case("replace member type to the same type", G, g0(),
            json!([{"op": "replace", "path": "members[value eq \"a\"].type", "value": "User"}]), delta(out(), "")).list("a:User"),
        case("replace member type to another type is mutability", G, g0(),
            json!([{"op": "replace", "path": "members[value eq \"a\"].type", "value": "Group"}]), err(Mut)).list("a:User"),
        case("replace member value is mutability", G, g0(),
            json!([{"op": "replace", "path": "members[value eq \"a\"].value", "value": "z"}]), err(Mut)).list("a"),
        case("replace member selecting nothing", G, g0(),
            json!([{"op": "replace", "path": "members[value eq \"zz\"].type", "value": "User"}]), err(NoTarget)).list("a"),
        case("remove members.value needs the list", G, g0(),
            json!([{"op": "remove", "path": "members.value"}]), NEEDS),
        case("remove members.value with the list is mutability", G, g0(),
            json!([{"op": "remove", "path": "members.value"}]), err(Mut)).list("a"),
        case("list-needing operation sees earlier operations", G, g0(),
            json!([{"op": "add", "path": "members", "value": ["n"]}, {"op": "remove", "path": "members[type eq \"User\"]"}]),
            delta(out(), "+n -u1")).list("u1:User g1:Group"),
        case("list-needing operation after replace_all", G, g0(),
            json!([{"op": "replace", "path": "members", "value": [{"value": "x", "type": "User"}, {"value": "y", "type": "Group"}]},
                   {"op": "remove", "path": "members[type eq \"Group\"]"}]),
            delta(out(), "= +x:User")).list("old"),
        case("list-needing operation sets type on a member without one", G, g0(),
            json!([{"op": "add", "path": "members", "value": ["n"]}, {"op": "replace", "path": "members[value eq \"n\"].type", "value": "User"}]),
            delta(out(), "+n")).list(""),
        case("NeedsMembers only when a list-needing operation comes", G, g0(),
            json!([{"op": "add", "path": "members", "value": ["n"]}, {"op": "remove", "path": "members[type eq \"Group\"]"}]), NEEDS),

        // ---- group document ---------------------------------------------
        case("replace group displayName", G, g0(),
            json!([{"op": "replace", "path": "displayName", "value": "Guides"}]), doc(group_out(json!({"displayName": "Guides"})))),
        case("remove group displayName", G, g0(),
            json!([{"op": "remove", "path": "displayName"}]), doc(json!({}))),
        case("add externalId to a group", G, g0(),
            json!([{"op": "add", "path": "externalId", "value": "ext-1"}]), doc(group_out(json!({"externalId": "ext-1"})))),
        case("group path-less id equal is ignored", G, g0(),
            json!([{"op": "replace", "value": {"id": GROUP_ID, "displayName": "Guides"}}]), doc(group_out(json!({"displayName": "Guides"})))),
        case("group path-less schemas of this type is ignored", G, g0(),
            json!([{"op": "replace", "value": {"schemas": [GROUP_URN], "displayName": "Guides"}}]), doc(group_out(json!({"displayName": "Guides"})))),
        case("user attribute on a group", G, g0(),
            json!([{"op": "add", "path": "userName", "value": "x"}]), err(InvalidPath)),
        case("members on a user", U, user(json!({})),
            json!([{"op": "add", "path": "members", "value": [{"value": "a"}]}]), err(InvalidPath)),
        case("group meta is readOnly", G, g0(),
            json!([{"op": "replace", "path": "meta.version", "value": "W/\"9\""}]), err(Mut)),

        // ---- custom extension: immutable, required, multi-valued simple ---
        case("immutable attribute may be set when unassigned", A, acme(json!({})),
            json!([{"op": "add", "path": "badge", "value": "b1"}]), doc(acme_out(json!({"badge": "b1"})))),
        case("immutable attribute cannot change", A, acme(json!({"badge": "b1"})),
            json!([{"op": "replace", "path": "badge", "value": "b2"}]), err(Mut)),
        case("immutable attribute set to its value is no change", A, acme(json!({"badge": "b1"})),
            json!([{"op": "replace", "path": "badge", "value": "b1"}]), doc(acme_out(json!({"badge": "b1"})))),
        case("immutable attribute cannot be removed", A, acme(json!({"badge": "b1"})),
            json!([{"op": "remove", "path": "badge"}]), err(Mut)),
        case("immutable sub-attribute may be set when unassigned", A, acme(json!({})),
            json!([{"op": "add", "path": "site.code", "value": "HQ"}]), doc(acme_out(json!({"site": {"code": "HQ"}})))),
        case("immutable sub-attribute cannot change", A, acme(json!({"site": {"code": "HQ"}})),
            json!([{"op": "replace", "path": "site.code", "value": "B2"}]), err(Mut)),
        case("immutable sub-attribute cannot change through a complex value", A, acme(json!({"site": {"code": "HQ"}})),
            json!([{"op": "replace", "path": "site", "value": {"code": "B2"}}]), err(Mut)),
        case("complex replace keeps the immutable sub-attribute", A, acme(json!({"site": {"code": "HQ"}})),
            json!([{"op": "replace", "path": "site", "value": {"label": "Head office"}}]),
            doc(acme_out(json!({"site": {"code": "HQ", "label": "Head office"}})))),
        case("immutable sub-attribute cannot be removed", A, acme(json!({"site": {"code": "HQ", "label": "x"}})),
            json!([{"op": "remove", "path": "site.code"}]), err(Mut)),
        case("required extension attribute cannot be removed", A, acme(json!({"level": 3})),
            json!([{"op": "remove", "path": "owner"}]), err(Mut)),
        case("extension holding an immutable value cannot be removed", A, acme(json!({"badge": "b1"})),
            json!([{"op": "remove", "path": ACME}]), err(Mut)),
        case("extension holding an immutable value cannot be replaced by null", A, acme(json!({"badge": "b1"})),
            json!([{"op": "replace", "path": ACME, "value": null}]), err(Mut)),
        case("required extension attribute can be replaced", A, acme(json!({})),
            json!([{"op": "replace", "path": "owner", "value": "sec"}]), doc(user_out(json!({ACME: {"owner": "sec"}})))),
        case("multi-valued string add appends and skips duplicates", A, acme(json!({"tags": ["a", "b"]})),
            json!([{"op": "add", "path": "tags", "value": ["b", "c"]}]), doc(acme_out(json!({"tags": ["a", "b", "c"]})))),
        case("multi-valued string remove by value filter", A, acme(json!({"tags": ["a", "b"]})),
            json!([{"op": "remove", "path": "tags[value eq \"A\"]"}]), doc(acme_out(json!({"tags": ["b"]})))),
        case("multi-valued string remove by filter selecting nothing", A, acme(json!({"tags": ["a"]})),
            json!([{"op": "remove", "path": "tags[value eq \"zz\"]"}]), err(NoTarget)),
        case("multi-valued string replace selected value", A, acme(json!({"tags": ["a", "c"]})),
            json!([{"op": "replace", "path": "tags[value eq \"a\"]", "value": "b"}]), doc(acme_out(json!({"tags": ["b", "c"]})))),
        case("multi-valued string remove listed values (dialect)", A, acme(json!({"tags": ["a", "b", "c"]})),
            json!([{"op": "remove", "path": "tags", "value": ["a", "c"]}]), doc(acme_out(json!({"tags": ["b"]})))),
        case("multi-valued string filter on unknown name", A, acme(json!({"tags": ["a"]})),
            json!([{"op": "remove", "path": "tags[label eq \"a\"]"}]), err(InvalidPath)),
        case("integer from a string is invalidValue", A, acme(json!({})),
            json!([{"op": "replace", "path": "level", "value": "7"}]), err(InvalidValue)),
        case("integer from 7.0", A, acme(json!({})),
            json!([{"op": "replace", "path": "level", "value": 7.0}]), doc(acme_out(json!({"level": 7})))),

        // ---- request-level errors (whole bodies) ------------------------
        case("body without schemas", U, user(json!({})),
            json!({"Operations": [{"op": "add", "path": "title", "value": "x"}]}), err(InvalidSyntax)),
        case("body with the wrong schema", U, user(json!({})),
            json!({"schemas": [USER_URN], "Operations": [{"op": "add", "path": "title", "value": "x"}]}), err(InvalidSyntax)),
        case("body without Operations", U, user(json!({})),
            json!({"schemas": [PATCH_OP_URN]}), err(InvalidSyntax)),
        case("body with empty Operations", U, user(json!({})),
            json!({"schemas": [PATCH_OP_URN], "Operations": []}), err(InvalidSyntax)),
        case("body with Operations not an array", U, user(json!({})),
            json!({"schemas": [PATCH_OP_URN], "Operations": {"op": "add"}}), err(InvalidSyntax)),
        case("body that is not an object", U, user(json!({})),
            json!("add title"), err(InvalidSyntax)),
        case("body with lower-case operations key, id and op name (Entra)", U, user(json!({})),
            json!({"schemas": [PATCH_OP_URN], "id": BABS, "operations": [{"op": "Add", "name": "addTitle", "path": "title", "value": "x"}]}),
            doc(user_out(json!({"title": "x"})))),
        case("unknown op", U, user(json!({})),
            json!([{"op": "copy", "path": "title", "value": "x"}]), err(InvalidSyntax)),
        case("missing op", U, user(json!({})),
            json!([{"path": "title", "value": "x"}]), err(InvalidSyntax)),
        case("op that is not a string", U, user(json!({})),
            json!([{"op": 1, "path": "title", "value": "x"}]), err(InvalidSyntax)),
        case("operation that is not an object", U, user(json!({})),
            json!(["add"]), err(InvalidSyntax)),
        case("add without value", U, user(json!({})),
            json!([{"op": "add", "path": "title"}]), err(InvalidSyntax)),
        case("replace without value", U, user(json!({})),
            json!([{"op": "replace", "path": "title"}]), err(InvalidSyntax)),
        case("path that is not a string", U, user(json!({})),
            json!([{"op": "add", "path": 5, "value": "x"}]), err(InvalidSyntax)),
        case("null path counts as absent", U, user(json!({})),
            json!([{"op": "add", "path": null, "value": {"title": "x"}}]), doc(user_out(json!({"title": "x"})))),
    ]
}
