use super::*;
use crate::schema::{ENTERPRISE_USER_URN, Registry};
use serde_json::json;

fn users() -> Vec<Value> {
    vec![
        json!({"id": "1", "userName": "bob", "active": true, "emails": [{"value": "z@x"}, {"value": "a@x", "primary": true}],
               "meta": {"created": "2024-01-01T10:00:00+02:00"}, ENTERPRISE_USER_URN: {"department": "b"}}),
        json!({"id": "2", "userName": "Alice", "active": false, "emails": [{"value": "m@x"}],
               "meta": {"created": "2024-01-01T09:00:00Z"}}),
        json!({"id": "3", "userName": "carol", "externalId": "B", "meta": {"created": "2023-12-31T23:00:00Z"},
               ENTERPRISE_USER_URN: {"department": "A"}}),
        json!({"id": "4", "userName": "dave", "externalId": "a", "active": true}),
        json!({"id": "0", "userName": "erin", "externalId": "a"}),
    ]
}

fn order(by: &str, dir: SortOrder) -> Vec<String> {
    let reg = Registry::builtin();
    let rt = reg.user();
    let spec = SortSpec::new(by, dir, &[rt]).unwrap();
    let mut list = users();
    list.sort_by(|a, b| spec.compare(rt, a, b));
    list.iter().map(|u| u["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn sort_table() {
    use SortOrder::{Ascending as A, Descending as D};
    let cases: &[(&str, SortOrder, &[&str])] = &[
        // caseExact=false: Alice < bob < carol regardless of case.
        ("userName", A, &["2", "1", "3", "4", "0"]),
        ("userName", D, &["0", "4", "3", "1", "2"]),
        ("USERNAME", A, &["2", "1", "3", "4", "0"]),
        // caseExact=true: "B" < "a"; missing last ascending; ties by id.
        ("externalId", A, &["3", "0", "4", "1", "2"]),
        ("externalId", D, &["1", "2", "0", "4", "3"]),
        // boolean: false < true, missing last.
        ("active", A, &["2", "1", "4", "0", "3"]),
        // dateTime as instants: 08:00Z (id 1) is before 09:00Z (id 2).
        ("meta.created", A, &["3", "1", "2", "0", "4"]),
        // multi-valued: by the primary value (a@x), else the first (m@x).
        ("emails", A, &["1", "2", "0", "3", "4"]),
        ("emails.value", A, &["1", "2", "0", "3", "4"]),
        // extension attribute by short name and by URN.
        ("department", A, &["3", "1", "0", "2", "4"]),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            D,
            &["0", "2", "4", "1", "3"],
        ),
    ];
    for (by, dir, want) in cases {
        assert_eq!(order(by, *dir), *want, "sortBy={by} {dir:?}");
    }
}

#[test]
fn unknown_or_unsortable_attributes_are_rejected() {
    let reg = Registry::builtin();
    for bad in ["nosuch", "name", "na me", "addresses"] {
        let err = SortSpec::new(bad, SortOrder::Ascending, &[reg.user()]).unwrap_err();
        assert_eq!(err.scim_type, Some(crate::ScimType::InvalidValue), "{bad}");
    }
    assert!(SortOrder::parse(Some("DESCENDING")).is_ok());
    assert!(SortOrder::parse(Some("down")).is_err());
}

#[test]
fn compare_across_keys_each_resource_by_its_own_type() {
    let reg = Registry::builtin();
    let (user, group) = (reg.user(), reg.group());
    let spec = SortSpec::new("displayName", SortOrder::Ascending, &[user, group]).unwrap();
    let u = json!({"id": "2", "displayName": "b"});
    let g = json!({"id": "1", "displayName": "C"});
    // Both types have displayName: compared case-insensitively across them.
    assert_eq!(spec.compare_across((user, &u), (group, &g)), Ordering::Less);
    // userName only exists for users: a group has no value, so sorts last.
    let spec = SortSpec::new("userName", SortOrder::Ascending, &[user, group]).unwrap();
    let u = json!({"id": "9", "userName": "z"});
    assert_eq!(spec.compare_across((user, &u), (group, &g)), Ordering::Less);
    assert_eq!(spec.compare_across((group, &g), (user, &u)), Ordering::Greater);
}
