use super::*;
use crate::path::AttrPath;

fn path(s: &str) -> AttrPath {
    AttrPath::parse(s).unwrap()
}

#[test]
fn builtin_schemas_have_rfc_characteristics() {
    let reg = Registry::builtin();
    let user = reg.schema(USER_URN).unwrap();
    let user_name = user.attribute("username").unwrap();
    assert_eq!(user_name.name, "userName");
    assert!(user_name.required);
    assert_eq!(user_name.uniqueness, Uniqueness::Server);
    assert!(!user_name.case_exact);
    let password = user.attribute("password").unwrap();
    assert_eq!(password.mutability, Mutability::WriteOnly);
    assert_eq!(password.returned, Returned::Never);
    let groups = user.attribute("groups").unwrap();
    assert_eq!(groups.mutability, Mutability::ReadOnly);
    assert!(groups.multi_valued);
    let emails = user.attribute("emails").unwrap();
    assert_eq!(emails.kind, AttrType::Complex);
    assert_eq!(
        emails.sub_attribute("type").unwrap().canonical_values,
        ["work", "home", "other"]
    );
    assert_eq!(user.attributes.len(), 21);
    let group = reg.schema(GROUP_URN).unwrap();
    let members = group.attribute("members").unwrap();
    assert_eq!(
        members.sub_attribute("value").unwrap().mutability,
        Mutability::Immutable
    );
    let ent = reg.schema(ENTERPRISE_USER_URN).unwrap();
    assert_eq!(
        ent.attribute("manager")
            .unwrap()
            .sub_attribute("displayName")
            .unwrap()
            .mutability,
        Mutability::ReadOnly
    );
}

#[test]
fn resolution_is_case_insensitive_and_finds_extensions() {
    let reg = Registry::builtin();
    let user = reg.user();
    let r = user.resolve_attr(&path("USERNAME")).unwrap();
    assert_eq!(r.canonical(), "userName");
    assert_eq!(r.container, Container::Top);
    let r = user.resolve_attr(&path("name.GIVENNAME")).unwrap();
    assert_eq!(r.canonical(), "name.givenName");
    let r = user.resolve_attr(&path("department")).unwrap();
    assert_eq!(r.container, Container::Extension(ENTERPRISE_USER_URN));
    let r = user.resolve_attr(&path("manager.value")).unwrap();
    assert_eq!(r.canonical(), format!("{ENTERPRISE_USER_URN}:manager.value"));
    let r = user
        .resolve_attr(&path(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:Manager.Value",
        ))
        .unwrap();
    assert_eq!(r.target().name, "value");
    let r = user
        .resolve_attr(&path("urn:ietf:params:scim:schemas:core:2.0:User:userName"))
        .unwrap();
    assert_eq!(r.canonical(), "userName");
    assert!(user.resolve_attr(&path("meta.lastModified")).is_some());
    assert!(user.resolve_attr(&path("id")).is_some());
    assert!(user.resolve_attr(&path("nosuch")).is_none());
    assert!(user.resolve_attr(&path("name.nosuch")).is_none());
    assert!(user.resolve_attr(&path("urn:x:y:userName")).is_none());
    assert!(matches!(
        user.resolve(&path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")),
        Some(Resolved::Extension(_))
    ));
    assert!(reg.group().resolve_attr(&path("department")).is_none());
}

#[test]
fn custom_extension_loads_from_schemas_json_and_round_trips() {
    let mut reg = Registry::builtin();
    let doc = serde_json::json!({
        "schemas": [SCHEMA_URN],
        "id": "urn:example:scim:schemas:extension:acme:1.0:User",
        "name": "AcmeUser",
        "attributes": [
            {"name": "badgeNumber", "type": "integer", "multiValued": false},
            {"name": "site", "type": "complex", "multiValued": false,
             "subAttributes": [{"name": "code", "type": "string", "multiValued": false, "caseExact": true}]}
        ]
    });
    reg.add_extension("User", &doc, false).unwrap();
    let user = reg.user();
    let r = user.resolve_attr(&path("badgeNumber")).unwrap();
    assert_eq!(r.target().kind, AttrType::Integer);
    assert_eq!(r.target().mutability, Mutability::ReadWrite);
    let served = reg
        .schema("urn:example:scim:schemas:extension:acme:1.0:User")
        .unwrap()
        .to_json("/scim/v2");
    let back = Schema::from_json(&served).unwrap();
    assert_eq!(
        &back,
        reg.schema("urn:example:scim:schemas:extension:acme:1.0:User").unwrap()
    );
    assert!(reg.add_extension("User", &doc, false).is_err(), "duplicate URN");
    assert!(
        reg.add_extension("Robot", &serde_json::json!({"id": "urn:a:b", "attributes": []}), false)
            .is_err()
    );
}

#[test]
fn invalid_extension_documents_are_rejected_with_reasons() {
    let bad = [
        serde_json::json!({"id": "notaurn", "attributes": []}),
        serde_json::json!({"id": "urn:a:b", "attributes": [{"name": "x", "type": "complex"}]}),
        serde_json::json!({"id": "urn:a:b", "attributes": [{"name": "x", "type": "strang"}]}),
        serde_json::json!({"id": "urn:a:b", "attributes": [{"name": "1x"}]}),
        serde_json::json!({"id": "urn:a:b", "attributes": [{"name": "x", "sub_attributes": []}]}),
        serde_json::json!({"id": "urn:a:b", "attributes": [{"name": "x", "type": "string",
            "subAttributes": [{"name": "y"}]}]}),
    ];
    for doc in bad {
        let err = Schema::from_json(&doc).unwrap_err();
        assert_eq!(err.scim_type, Some(crate::ScimType::InvalidValue), "{doc}");
    }
}

#[test]
fn resource_type_document_lists_extensions() {
    let reg = Registry::builtin();
    let v = reg.user().to_json("/scim/v2");
    assert_eq!(v["endpoint"], "/Users");
    assert_eq!(v["schemaExtensions"][0]["schema"], ENTERPRISE_USER_URN);
    assert_eq!(v["schemaExtensions"][0]["required"], false);
    assert!(reg.group().to_json("/scim/v2").get("schemaExtensions").is_none());
}
