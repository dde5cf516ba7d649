//! The schema registry: schemas (RFC 7643 §7), resource types (§6), and the
//! case-insensitive resolution of attribute paths against a resource type.

mod attribute;
mod builtin;

pub use attribute::{AttrType, AttributeDef, Mutability, Returned, Uniqueness};
pub use builtin::{ENTERPRISE_USER_URN, GROUP_URN, USER_URN};

use crate::error::ScimError;
use crate::path::AttrPath;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// URN of the schema that describes schemas (RFC 7643 §7).
pub const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
/// URN of the ResourceType schema (RFC 7643 §6).
pub const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";

/// One schema: a URN and its attributes, as served by `/Schemas`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schema {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub attributes: Vec<AttributeDef>,
}

impl Schema {
    /// A top-level attribute by name, case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&AttributeDef> {
        self.attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// Parses a schema document in the `/Schemas` format (extra members such
    /// as `schemas` and `meta` are allowed and ignored).
    pub fn from_json(doc: &serde_json::Value) -> Result<Schema, ScimError> {
        let schema: Schema = serde_json::from_value(doc.clone())
            .map_err(|e| ScimError::invalid_value(format!("invalid schema document: {e}")))?;
        if !schema.id.to_ascii_lowercase().starts_with("urn:") {
            return Err(ScimError::invalid_value(format!(
                "schema id '{}' is not a URN",
                schema.id
            )));
        }
        for attr in &schema.attributes {
            check_definition(attr, 1)?;
        }
        Ok(schema)
    }

    /// The `/Schemas/{id}` representation.
    pub fn to_json(&self, base_location: &str) -> serde_json::Value {
        let mut v = serde_json::json!({
            "schemas": [SCHEMA_URN],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": self.attributes,
        });
        v["meta"] = serde_json::json!({
            "resourceType": "Schema",
            "location": format!("{base_location}/Schemas/{}", self.id),
        });
        v
    }
}

/// Rejects definitions the rest of the crate cannot honour: bad names,
/// sub-attributes on simple types, complex types nested in complex ones
/// (RFC 7643 §2.3.8 forbids that).
fn check_definition(attr: &AttributeDef, depth: u8) -> Result<(), ScimError> {
    if !crate::path::is_attr_name(&attr.name) {
        return Err(ScimError::invalid_value(format!(
            "invalid attribute name '{}'",
            attr.name
        )));
    }
    match (attr.kind, attr.sub_attributes.is_empty()) {
        (AttrType::Complex, true) => Err(ScimError::invalid_value(format!(
            "complex attribute '{}' has no subAttributes",
            attr.name
        ))),
        (AttrType::Complex, false) if depth > 1 => Err(ScimError::invalid_value(format!(
            "attribute '{}': a complex attribute cannot contain a complex sub-attribute",
            attr.name
        ))),
        (AttrType::Complex, false) => attr
            .sub_attributes
            .iter()
            .try_for_each(|s| check_definition(s, depth + 1)),
        (_, false) => Err(ScimError::invalid_value(format!(
            "attribute '{}' of type {} cannot have subAttributes",
            attr.name,
            attr.kind.as_str()
        ))),
        (_, true) => Ok(()),
    }
}

/// A schema extension of a resource type.
#[derive(Debug, Clone)]
pub struct Extension {
    pub schema: Arc<Schema>,
    pub required: bool,
}

/// A resource type (RFC 7643 §6): its core schema and its extensions.
#[derive(Debug, Clone)]
pub struct ResourceType {
    /// `User`, `Group`: also the value of `meta.resourceType`.
    pub name: String,
    /// `/Users`, `/Groups`.
    pub endpoint: String,
    pub description: String,
    pub core: Arc<Schema>,
    pub extensions: Vec<Extension>,
    common: Arc<Schema>,
}

/// Where an attribute lives in a resource document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container<'a> {
    /// At the top level: core schema attributes and the common attributes.
    Top,
    /// Inside the object keyed by this extension URN (canonical case).
    Extension(&'a str),
}

/// A path resolved against a resource type.
#[derive(Debug, Clone, Copy)]
pub struct AttrRef<'a> {
    pub container: Container<'a>,
    pub attr: &'a AttributeDef,
    pub sub: Option<&'a AttributeDef>,
}

impl<'a> AttrRef<'a> {
    /// The definition the path ends at: the sub-attribute if there is one.
    pub fn target(&self) -> &'a AttributeDef {
        self.sub.unwrap_or(self.attr)
    }

    /// The canonical path text, URN-qualified for extension attributes.
    pub fn canonical(&self) -> String {
        let mut s = match self.container {
            Container::Top => String::new(),
            Container::Extension(urn) => format!("{urn}:"),
        };
        s.push_str(&self.attr.name);
        if let Some(sub) = self.sub {
            s.push('.');
            s.push_str(&sub.name);
        }
        s
    }
}

/// What a path names: an attribute, or a whole extension object.
#[derive(Debug, Clone, Copy)]
pub enum Resolved<'a> {
    Attr(AttrRef<'a>),
    Extension(&'a Schema),
}

impl ResourceType {
    /// All schemas of this type, core first.
    pub fn schemas(&self) -> impl Iterator<Item = &Schema> {
        std::iter::once(self.core.as_ref()).chain(self.extensions.iter().map(|e| e.schema.as_ref()))
    }

    /// The common attributes (`id`, `externalId`, `meta`) of RFC 7643 §3.1.
    pub fn common(&self) -> &Schema {
        &self.common
    }

    /// An extension schema of this type by URN, case-insensitively.
    pub fn extension(&self, urn: &str) -> Option<&Schema> {
        self.extensions
            .iter()
            .map(|e| e.schema.as_ref())
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Resolves a path: with a URN, in that schema; without, in the common
    /// attributes, then the core schema, then each extension in order, so an
    /// unqualified name only an extension defines (`department`) resolves to
    /// that extension. `None` when nothing matches.
    pub fn resolve(&self, path: &AttrPath) -> Option<Resolved<'_>> {
        if let Some(full) = path.as_possible_schema_urn()
            && let Some(ext) = self.extension(&full)
        {
            return Some(Resolved::Extension(ext));
        }
        let candidates: Vec<(Container<'_>, &Schema)> = match &path.urn {
            Some(urn) if self.core.id.eq_ignore_ascii_case(urn) => {
                vec![
                    (Container::Top, self.common.as_ref()),
                    (Container::Top, self.core.as_ref()),
                ]
            }
            Some(urn) => {
                let ext = self.extension(urn)?;
                vec![(Container::Extension(&ext.id), ext)]
            }
            None => std::iter::once((Container::Top, self.common.as_ref()))
                .chain(std::iter::once((Container::Top, self.core.as_ref())))
                .chain(
                    self.extensions
                        .iter()
                        .map(|e| (Container::Extension(e.schema.id.as_str()), e.schema.as_ref())),
                )
                .collect(),
        };
        let (container, attr) = candidates
            .into_iter()
            .find_map(|(container, schema)| schema.attribute(&path.name).map(|a| (container, a)))?;
        let sub = match &path.sub {
            Some(name) => Some(attr.sub_attribute(name)?),
            None => None,
        };
        Some(Resolved::Attr(AttrRef { container, attr, sub }))
    }

    /// Like `resolve`, but only attributes (not whole extensions).
    pub fn resolve_attr(&self, path: &AttrPath) -> Option<AttrRef<'_>> {
        match self.resolve(path)? {
            Resolved::Attr(a) => Some(a),
            Resolved::Extension(_) => None,
        }
    }

    /// The `/ResourceTypes/{name}` representation.
    pub fn to_json(&self, base_location: &str) -> serde_json::Value {
        let extensions: Vec<_> = self
            .extensions
            .iter()
            .map(|e| serde_json::json!({"schema": e.schema.id, "required": e.required}))
            .collect();
        let mut v = serde_json::json!({
            "schemas": [RESOURCE_TYPE_URN],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.core.id,
        });
        if !extensions.is_empty() {
            v["schemaExtensions"] = serde_json::Value::Array(extensions);
        }
        v["meta"] = serde_json::json!({
            "resourceType": "ResourceType",
            "location": format!("{base_location}/ResourceTypes/{}", self.name),
        });
        v
    }
}

/// All schemas and resource types the server knows. Built once at start-up
/// and shared read-only (`Arc<Registry>`).
#[derive(Debug, Clone)]
pub struct Registry {
    schemas: Vec<Arc<Schema>>,
    resource_types: Vec<ResourceType>,
}

impl Registry {
    /// The built-in User (with the enterprise extension) and Group types.
    pub fn builtin() -> Registry {
        let user = Arc::new(builtin::user());
        let group = Arc::new(builtin::group());
        let enterprise = Arc::new(builtin::enterprise_user());
        let common = Arc::new(builtin::common());
        Registry {
            schemas: vec![user.clone(), group.clone(), enterprise.clone()],
            resource_types: vec![
                ResourceType {
                    name: "User".into(),
                    endpoint: "/Users".into(),
                    description: "User Account".into(),
                    core: user,
                    extensions: vec![Extension {
                        schema: enterprise,
                        required: false,
                    }],
                    common: common.clone(),
                },
                ResourceType {
                    name: "Group".into(),
                    endpoint: "/Groups".into(),
                    description: "Group".into(),
                    core: group,
                    extensions: Vec::new(),
                    common,
                },
            ],
        }
    }

    /// Adds a custom extension schema (a `/Schemas` JSON document) to a
    /// resource type. Its URN must be new.
    pub fn add_extension(
        &mut self,
        resource_type: &str,
        doc: &serde_json::Value,
        required: bool,
    ) -> Result<(), ScimError> {
        let schema = Arc::new(Schema::from_json(doc)?);
        if self.schema(&schema.id).is_some() {
            return Err(ScimError::invalid_value(format!(
                "schema '{}' is already defined",
                schema.id
            )));
        }
        let rt = self
            .resource_types
            .iter_mut()
            .find(|rt| rt.name.eq_ignore_ascii_case(resource_type))
            .ok_or_else(|| ScimError::invalid_value(format!("unknown resource type '{resource_type}'")))?;
        rt.extensions.push(Extension {
            schema: schema.clone(),
            required,
        });
        self.schemas.push(schema);
        Ok(())
    }

    pub fn schemas(&self) -> &[Arc<Schema>] {
        &self.schemas
    }

    pub fn schema(&self, urn: &str) -> Option<&Schema> {
        self.schemas
            .iter()
            .map(Arc::as_ref)
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    pub fn resource_types(&self) -> &[ResourceType] {
        &self.resource_types
    }

    pub fn resource_type(&self, name: &str) -> Option<&ResourceType> {
        self.resource_types.iter().find(|rt| rt.name.eq_ignore_ascii_case(name))
    }

    /// The User resource type (always present).
    pub fn user(&self) -> &ResourceType {
        &self.resource_types[0]
    }

    /// The Group resource type (always present).
    pub fn group(&self) -> &ResourceType {
        &self.resource_types[1]
    }
}

#[cfg(test)]
mod tests;
