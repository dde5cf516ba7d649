//! The built-in schemas of RFC 7643 §8.7.1, kept as the JSON the RFC prints
//! (and `/Schemas` serves), plus the common attributes of §3.1.

use super::{AttrType, AttributeDef, Mutability, Returned, Schema, Uniqueness};

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

const USER_JSON: &str = include_str!("../../schemas/user.json");
const GROUP_JSON: &str = include_str!("../../schemas/group.json");
const ENTERPRISE_USER_JSON: &str = include_str!("../../schemas/enterprise_user.json");

/// Parses a schema shipped inside the binary. The documents are constants,
/// checked by the tests below, so a failure here is a build defect, not bad
/// input.
#[allow(
    clippy::expect_used,
    reason = "constant documents compiled into the binary; covered by tests"
)]
fn parse_builtin(json: &str) -> Schema {
    let value: serde_json::Value = serde_json::from_str(json).expect("built-in schema is valid JSON");
    Schema::from_json(&value).expect("built-in schema is a valid schema")
}

pub(super) fn user() -> Schema {
    parse_builtin(USER_JSON)
}

pub(super) fn group() -> Schema {
    parse_builtin(GROUP_JSON)
}

pub(super) fn enterprise_user() -> Schema {
    parse_builtin(ENTERPRISE_USER_JSON)
}

/// `id`, `externalId` and `meta` (RFC 7643 §3.1). They belong to no schema
/// URN; every resource type has them.
pub(super) fn common() -> Schema {
    let read_only = |name: &str, kind: AttrType| AttributeDef {
        mutability: Mutability::ReadOnly,
        ..AttributeDef::simple(name, kind)
    };
    let id = AttributeDef {
        case_exact: true,
        returned: Returned::Always,
        uniqueness: Uniqueness::Server,
        description: "A unique identifier for a SCIM resource as defined by the service provider.".into(),
        ..read_only("id", AttrType::String)
    };
    let external_id = AttributeDef {
        case_exact: true,
        description: "A String that is an identifier for the resource as defined by the provisioning client.".into(),
        ..AttributeDef::simple("externalId", AttrType::String)
    };
    let meta = AttributeDef {
        description: "A complex attribute containing resource metadata.".into(),
        sub_attributes: vec![
            AttributeDef {
                case_exact: true,
                ..read_only("resourceType", AttrType::String)
            },
            read_only("created", AttrType::DateTime),
            read_only("lastModified", AttrType::DateTime),
            AttributeDef {
                case_exact: true,
                reference_types: vec!["uri".into()],
                ..read_only("location", AttrType::Reference)
            },
            AttributeDef {
                case_exact: true,
                ..read_only("version", AttrType::String)
            },
        ],
        ..read_only("meta", AttrType::Complex)
    };
    Schema {
        id: String::new(),
        name: "Common".into(),
        description: "Attributes of every resource (RFC 7643 §3.1)".into(),
        attributes: vec![id, external_id, meta],
    }
}
