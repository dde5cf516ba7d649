//! PATCH (RFC 7644 §3.5.2): the PatchOp message, the path syntax, and the
//! engine that applies operations to a stored resource.
//!
//! [`apply`] takes the stored document and the operations and returns a
//! [`Change`]: the new document, normalised exactly as a PUT would be
//! (`validate` in replace mode), and, for groups, a [`MemberDelta`]. Group
//! members live apart from the group document (a group can have 100,000
//! of them), so membership operations become a delta computed without the
//! member list whenever the operation allows it; the few that need the list
//! return [`PatchError::NeedsMembers`] when it was not supplied, and the
//! caller retries with it.
//!
//! Operations apply in order to a working copy; any error fails the whole
//! request and the stored resource is untouched (§3.5.2: operations apply
//! sequentially and the request is atomic).
//!
//! Where RFC 7644 leaves a choice, this module decides as follows (each
//! decision has cases in the tables):
//! - A value filter that selects nothing is `noTarget` for remove as well
//!   as replace (§3.12 Table 9: "a filter that yields no match"), except
//!   `members[value eq ...]`, which composes onto the delta without the
//!   member list and is therefore idempotent. Removing an unassigned
//!   attribute without a filter is no change.
//! - add/replace on `attr[filter]` merges the given sub-attributes into each
//!   selected value, as §3.5.2.3 does for a complex attribute.
//! - A filter that selects nothing creates a value from the `eq` terms of
//!   the filter for add (with or without sub-attribute) and for replace with
//!   a sub-attribute (the Entra dialect); replace without sub-attribute
//!   keeps the RFC's `noTarget`. Members are never created this way.
//! - `attr.sub` on a multi-valued attribute addresses every value; with no
//!   values, add/replace create one (§3.5.2.3 "treat as add").
//! - A whole extension as target: add and replace apply per attribute (the
//!   others stay), remove or replace with `null` deletes it.
//! - `value: null` unassigns for replace and is no change for add.
//! - Setting `primary: true` sets the others that were true to false; values
//!   without `primary` are left as they are.
//!
//! Besides the RFC, the engine accepts what identity providers send (see
//! `tests` for each): op names in any case, booleans as `"True"`, member
//! removal as a `members` path with a `value` list, path-less values whose
//! keys are paths, read-only `id`/`meta`/`schemas` echoed back unchanged,
//! `manager` as a bare id or a one-element array, and `replace` of
//! `emails[type eq "work"].value` creating the work email.

mod engine;
mod members;
pub mod path;
mod select;

pub use path::{PatchPath, parse_path};

use crate::error::ScimError;
use crate::members::{Member, MemberDelta};
use crate::path::AttrPath;
use crate::schema::{AttributeDef, Container, GROUP_URN, Mutability, Resolved, ResourceType, Schema};
use crate::validate::{Mode, validate};
use engine::Target;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The URN of the PatchOp message (RFC 7644 §3.5.2).
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The three operations of RFC 7644 §3.5.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PatchOpKind {
    Add,
    Replace,
    Remove,
}

impl PatchOpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PatchOpKind::Add => "add",
            PatchOpKind::Replace => "replace",
            PatchOpKind::Remove => "remove",
        }
    }

    /// Any case: Entra sends `Replace`, others `ADD`.
    pub fn parse(s: &str) -> Option<PatchOpKind> {
        [PatchOpKind::Add, PatchOpKind::Replace, PatchOpKind::Remove]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }
}

/// One operation. `value: Some(Value::Null)` is an explicit `null`
/// (unassign), distinct from a missing `value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatchOperation {
    pub op: PatchOpKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

impl PatchOperation {
    pub fn add(path: Option<&str>, value: Value) -> Self {
        PatchOperation {
            op: PatchOpKind::Add,
            path: path.map(str::to_string),
            value: Some(value),
        }
    }
    pub fn replace(path: Option<&str>, value: Value) -> Self {
        PatchOperation {
            op: PatchOpKind::Replace,
            path: path.map(str::to_string),
            value: Some(value),
        }
    }
    pub fn remove(path: &str) -> Self {
        PatchOperation {
            op: PatchOpKind::Remove,
            path: Some(path.to_string()),
            value: None,
        }
    }
}

/// The PatchOp message as a plain serde type, for clients and tests. The
/// server reads requests with the lenient [`parse_request`] instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatchRequest {
    pub schemas: Vec<String>,
    #[serde(rename = "Operations")]
    pub operations: Vec<PatchOperation>,
}

impl PatchRequest {
    pub fn new(operations: Vec<PatchOperation>) -> Self {
        PatchRequest {
            schemas: vec![PATCH_OP_URN.to_string()],
            operations,
        }
    }
}

/// Reads a PatchOp message (RFC 7644 §3.5.2).
///
/// `schemas` must contain the PatchOp URN and `Operations` (key in any case)
/// must be a non-empty array, else `invalidSyntax`. Each operation's `op` is
/// add/replace/remove in any case. Unknown members are ignored, at the top
/// level (Entra sends `id`) and in operations (Entra sends `name`), so a
/// future IdP field never breaks provisioning. A `path` that is `null` or
/// blank counts as absent. `remove` without a path is `noTarget` (§3.5.2.2);
/// `add`/`replace` without a `value` member is `invalidSyntax`.
pub fn parse_request(body: &Value) -> Result<Vec<PatchOperation>, ScimError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("a PATCH body must be a PatchOp message (a JSON object)"))?;
    let has_urn = member(obj, "schemas").and_then(Value::as_array).is_some_and(|l| {
        l.iter()
            .filter_map(Value::as_str)
            .any(|s| s.eq_ignore_ascii_case(PATCH_OP_URN))
    });
    if !has_urn {
        return Err(ScimError::invalid_syntax(format!(
            "'schemas' must be an array containing '{PATCH_OP_URN}'"
        )));
    }
    let list = member(obj, "Operations")
        .ok_or_else(|| ScimError::invalid_syntax("'Operations' is missing"))?
        .as_array()
        .ok_or_else(|| ScimError::invalid_syntax("'Operations' must be an array of operations"))?;
    if list.is_empty() {
        return Err(ScimError::invalid_syntax(
            "'Operations' must contain at least one operation",
        ));
    }
    list.iter().enumerate().map(|(i, op)| parse_operation(i, op)).collect()
}

fn parse_operation(i: usize, v: &Value) -> Result<PatchOperation, ScimError> {
    let obj = v
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax(format!("Operations[{i}] must be an object")))?;
    let op_text = member(obj, "op")
        .ok_or_else(|| ScimError::invalid_syntax(format!("Operations[{i}] has no 'op'")))?
        .as_str()
        .ok_or_else(|| ScimError::invalid_syntax(format!("Operations[{i}].op must be a string")))?;
    let op = PatchOpKind::parse(op_text).ok_or_else(|| {
        ScimError::invalid_syntax(format!(
            "Operations[{i}]: '{op_text}' is not a PATCH operation; expected 'add', 'replace' or 'remove'"
        ))
    })?;
    let path = match member(obj, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(ScimError::invalid_syntax(format!(
                "Operations[{i}].path must be a string"
            )));
        }
    };
    let value = member(obj, "value").cloned();
    match op {
        PatchOpKind::Remove if path.is_none() => Err(ScimError::no_target(format!(
            "Operations[{i}]: 'remove' needs a 'path' (RFC 7644 §3.5.2.2)"
        ))),
        PatchOpKind::Add | PatchOpKind::Replace if value.is_none() => Err(ScimError::invalid_syntax(format!(
            "Operations[{i}]: '{}' needs a 'value'",
            op.as_str()
        ))),
        _ => Ok(PatchOperation { op, path, value }),
    }
}

/// A member of a JSON object by name, in any case.
fn member<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name)
        .or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// The result of a PATCH: the new document (normalised, without readOnly
/// attributes and without `members`) and the membership delta.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub doc: Value,
    pub members: MemberDelta,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchError {
    #[error(transparent)]
    Scim(#[from] ScimError),
    /// A membership operation needs the current member list (for example
    /// `remove members[type eq "Group"]`); call again with it.
    #[error("this PATCH needs the group's current member list")]
    NeedsMembers,
}

/// Applies `ops` in order to `current` (the stored document: canonical
/// names, extensions under their URNs, no `members` for groups). See the
/// module docs.
pub fn apply(
    rt: &ResourceType,
    current: &Value,
    current_members: Option<&[Member]>,
    ops: &[PatchOperation],
) -> Result<Change, PatchError> {
    let stored = current
        .as_object()
        .ok_or_else(|| ScimError::new(500, None, "the stored resource is not a JSON object"))?;
    let mut patcher = Patcher {
        rt,
        current: stored,
        doc: canonical_keys(rt, stored),
        members: current_members,
        delta: MemberDelta::default(),
    };
    if patcher.is_group() {
        patcher.doc.remove("members");
    }
    for op in ops {
        patcher.operation(op)?;
    }
    patcher.finish(current)
}

struct Patcher<'a> {
    rt: &'a ResourceType,
    current: &'a Map<String, Value>,
    doc: Map<String, Value>,
    members: Option<&'a [Member]>,
    delta: MemberDelta,
}

/// Where a path points.
enum Location<'a> {
    Extension(&'a Schema),
    Attr(Target<'a>),
}

impl<'a> Patcher<'a> {
    fn is_group(&self) -> bool {
        self.rt.core.id.eq_ignore_ascii_case(GROUP_URN)
    }

    fn operation(&mut self, op: &PatchOperation) -> Result<(), PatchError> {
        match (&op.path, op.op) {
            (None, PatchOpKind::Remove) => {
                Err(ScimError::no_target("'remove' needs a 'path' (RFC 7644 §3.5.2.2)").into())
            }
            (_, PatchOpKind::Add | PatchOpKind::Replace) if op.value.is_none() => {
                Err(ScimError::invalid_syntax(format!("'{}' needs a 'value'", op.op.as_str())).into())
            }
            (None, kind) => {
                // §3.5.2.1/§3.5.2.3 without a path: the value is a set of
                // attributes of the resource itself.
                let Some(Value::Object(attrs)) = &op.value else {
                    return Err(ScimError::invalid_syntax(format!(
                        "'{}' without a 'path' needs an object of attributes as its 'value'",
                        kind.as_str()
                    ))
                    .into());
                };
                for (key, v) in attrs {
                    self.pathless_entry(kind, key, v)?;
                }
                Ok(())
            }
            (Some(text), kind) => {
                let p = parse_path(text)?;
                self.at_path(kind, &p, text, op.value.as_ref())
            }
        }
    }

    /// One key of a path-less value: an attribute name, a path (dialect:
    /// `name.givenName`, URN-qualified names), an extension URN with an
    /// object, or read-only `schemas`/`id`/`meta` echoed back.
    fn pathless_entry(&mut self, kind: PatchOpKind, key: &str, v: &Value) -> Result<(), PatchError> {
        if key.eq_ignore_ascii_case("schemas") {
            return self.echoed_schemas(v).map_err(Into::into);
        }
        if key.eq_ignore_ascii_case("id") || key.eq_ignore_ascii_case("meta") {
            return self.echoed_read_only(key, v).map_err(Into::into);
        }
        if let Some(ext) = self.rt.extension(key) {
            return self.whole_extension(kind, ext, v);
        }
        let p = parse_path(key)?;
        self.at_path(kind, &p, key, Some(v))
    }

    /// `schemas` is derived from the data, so a value listing only schemas
    /// of this resource type changes nothing and is ignored; any other URN
    /// is an attempt to change it.
    fn echoed_schemas(&self, v: &Value) -> Result<(), ScimError> {
        let known = |s: &str| self.rt.schemas().any(|schema| schema.id.eq_ignore_ascii_case(s));
        match v.as_array() {
            Some(list) if list.iter().all(|s| s.as_str().is_some_and(known)) => Ok(()),
            _ => Err(ScimError::mutability(
                "'schemas' is derived from the attributes present; it can only name schemas of this resource type",
            )),
        }
    }

    /// Dialect: `id` and `meta` are readOnly; a path-less value may carry
    /// them back unchanged (`meta` may be a subset), anything else is a
    /// modification and fails with `mutability` (§3.5.2).
    fn echoed_read_only(&self, key: &str, v: &Value) -> Result<(), ScimError> {
        let stored = member(self.current, key);
        let same = match (stored, v) {
            (Some(Value::Object(old)), Value::Object(new)) => {
                new.iter().all(|(k, nv)| member(old, k).is_some_and(|ov| ov == nv))
            }
            (Some(old), new) => old == new,
            (None, new) => new.is_null(),
        };
        if same {
            Ok(())
        } else {
            Err(ScimError::mutability(format!(
                "'{key}' is readOnly and cannot be modified"
            )))
        }
    }

    fn at_path(
        &mut self,
        kind: PatchOpKind,
        p: &PatchPath,
        text: &str,
        value: Option<&Value>,
    ) -> Result<(), PatchError> {
        match locate(self.rt, p, text)? {
            Location::Extension(ext) => match kind {
                PatchOpKind::Remove => self.remove_extension(ext).map_err(Into::into),
                _ => self.whole_extension(kind, ext, value.unwrap_or(&Value::Null)),
            },
            Location::Attr(t) => {
                let read_only = |m: Mutability| m == Mutability::ReadOnly;
                if read_only(t.attr.mutability) || t.sub.is_some_and(|s| read_only(s.mutability)) {
                    return Err(ScimError::mutability(format!("'{text}' is readOnly and cannot be modified")).into());
                }
                if self.is_group() && t.container == Container::Top && t.attr.name == "members" {
                    return self.members_operation(kind, &t, value);
                }
                self.attribute(kind, &t, value).map_err(Into::into)
            }
        }
    }

    /// A whole extension as target. Add merges each attribute (§3.5.2.1),
    /// replace replaces each given attribute and leaves the others
    /// (§3.5.2.3, as for a complex attribute); `null` with replace removes it.
    fn whole_extension(&mut self, kind: PatchOpKind, ext: &Schema, v: &Value) -> Result<(), PatchError> {
        match v {
            Value::Null if kind == PatchOpKind::Replace => self.remove_extension(ext).map_err(Into::into),
            Value::Null => Ok(()),
            Value::Object(attrs) => {
                for (name, av) in attrs {
                    if crate::validate::is_echoed_schemas(self.rt, name, av) {
                        continue;
                    }
                    let text = format!("{}:{name}", ext.id);
                    let attr = AttrPath::parse(&text).ok_or_else(|| {
                        ScimError::invalid_path(format!("'{name}' is not an attribute name of '{}'", ext.id))
                    })?;
                    let p = PatchPath {
                        attr,
                        filter: None,
                        sub: None,
                    };
                    self.at_path(kind, &p, &text, Some(av))?;
                }
                Ok(())
            }
            other => Err(ScimError::invalid_value(format!(
                "'{}' must be an object of extension attributes, got {}",
                ext.id,
                crate::validate::json_kind(other)
            ))
            .into()),
        }
    }

    /// Removes a whole extension; an immutable attribute with a value in it
    /// cannot go (§3.5.2), so neither can the extension.
    fn remove_extension(&mut self, ext: &Schema) -> Result<(), ScimError> {
        if let Some(data) = self.doc.get(&ext.id).and_then(Value::as_object) {
            let held = |d: &&AttributeDef| {
                d.mutability == Mutability::Immutable && data.get(&d.name).is_some_and(|v| !v.is_null())
            };
            if let Some(def) = ext.attributes.iter().find(held) {
                return Err(engine::immutable(&ext.id, &def.name));
            }
        }
        self.doc.remove(&ext.id);
        Ok(())
    }

    /// Applies an operation to an attribute of the document.
    fn attribute(&mut self, kind: PatchOpKind, t: &Target<'_>, value: Option<&Value>) -> Result<(), ScimError> {
        let before = self
            .container(t.container)
            .and_then(|m| m.get(&t.attr.name))
            .filter(|v| !v.is_null())
            .cloned();
        let after = engine::apply_to_attr(kind, t, before.as_ref(), value)?;
        if before == after {
            return Ok(());
        }
        // §3.5.2: an immutable attribute may be set when it has no value,
        // never changed or removed once it has one.
        if t.attr.mutability == Mutability::Immutable && before.is_some() {
            return Err(engine::immutable(t.text, &t.attr.name));
        }
        let container = self.container_mut(t.container)?;
        match after {
            Some(v) => {
                container.insert(t.attr.name.clone(), v);
            }
            None => {
                container.remove(&t.attr.name);
            }
        }
        Ok(())
    }

    fn container(&self, c: Container<'_>) -> Option<&Map<String, Value>> {
        match c {
            Container::Top => Some(&self.doc),
            Container::Extension(urn) => self.doc.get(urn).and_then(Value::as_object),
        }
    }

    fn container_mut(&mut self, c: Container<'_>) -> Result<&mut Map<String, Value>, ScimError> {
        let slot = match c {
            Container::Top => return Ok(&mut self.doc),
            Container::Extension(urn) => self
                .doc
                .entry(urn.to_string())
                .or_insert_with(|| Value::Object(Map::new())),
        };
        // A stored extension that is not an object (validation never
        // produces one) is replaced by the attributes being written.
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        slot.as_object_mut()
            .ok_or_else(|| ScimError::new(500, None, "extension container is not an object"))
    }

    /// The end of the request: required attributes kept, then the same
    /// normalisation as a PUT.
    fn finish(mut self, current: &Value) -> Result<Change, PatchError> {
        self.check_required()?;
        let mut candidate = Map::new();
        let mut schemas = vec![Value::String(self.rt.core.id.clone())];
        for ext in &self.rt.extensions {
            if self
                .doc
                .get(&ext.schema.id)
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty())
            {
                schemas.push(Value::String(ext.schema.id.clone()));
            }
        }
        candidate.insert("schemas".into(), Value::Array(schemas));
        for (k, v) in std::mem::take(&mut self.doc) {
            let derived = k.eq_ignore_ascii_case("schemas") || (self.is_group() && k == "members");
            if !derived {
                candidate.insert(k, v);
            }
        }
        let doc = validate(self.rt, &Value::Object(candidate), Mode::Replace { current })?;
        Ok(Change {
            doc,
            members: self.delta,
        })
    }

    /// §3.5.2.2: "If an attribute is removed or becomes unassigned and is
    /// defined as a required attribute ..., the server SHALL return ...
    /// mutability". Also applies to a required extension as a whole.
    fn check_required(&self) -> Result<(), ScimError> {
        let present =
            |m: Option<&Map<String, Value>>, name: &str| m.and_then(|m| m.get(name)).is_some_and(|v| !v.is_null());
        let old_ext = |urn: &str| self.current.get(urn).and_then(Value::as_object);
        let new_ext = |urn: &str| self.doc.get(urn).and_then(Value::as_object);
        let mut scopes: Vec<(Option<&str>, &Schema)> = vec![(None, self.rt.core.as_ref())];
        for ext in &self.rt.extensions {
            let urn = ext.schema.id.as_str();
            let had = old_ext(urn).is_some_and(|m| !m.is_empty());
            let has = new_ext(urn).is_some_and(|m| !m.is_empty());
            if ext.required && had && !has {
                return Err(ScimError::mutability(format!(
                    "the schema extension '{urn}' is required and cannot be removed"
                )));
            }
            scopes.push((Some(urn), ext.schema.as_ref()));
        }
        for (urn, schema) in scopes {
            let (old, new) = match urn {
                None => (Some(self.current), Some(&self.doc)),
                // An optional extension may go as a whole; what it requires
                // is checked only while it stays.
                Some(u) if new_ext(u).is_none_or(Map::is_empty) => continue,
                Some(u) => (old_ext(u), new_ext(u)),
            };
            for def in schema
                .attributes
                .iter()
                .filter(|d| d.required && d.mutability != Mutability::ReadOnly)
            {
                if present(old, &def.name) && !present(new, &def.name) {
                    return Err(ScimError::mutability(format!(
                        "'{}' is required and cannot be removed",
                        def.name
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Resolves a parsed path against the resource type.
fn locate<'a>(rt: &'a ResourceType, p: &'a PatchPath, text: &'a str) -> Result<Location<'a>, ScimError> {
    let unknown = || ScimError::invalid_path(format!("'{text}' is not an attribute of {} resources", rt.name));
    let resolved = rt
        .resolve(&p.attr)
        .or_else(|| display_alias(rt, &p.attr))
        .ok_or_else(unknown)?;
    let aref = match resolved {
        Resolved::Extension(ext) if p.filter.is_none() && p.sub.is_none() => {
            return Ok(Location::Extension(ext));
        }
        Resolved::Extension(ext) => {
            return Err(ScimError::invalid_path(format!(
                "'{text}': the extension '{}' is not multi-valued and has no sub-attributes",
                ext.id
            )));
        }
        Resolved::Attr(a) => a,
    };
    let Some(filter) = &p.filter else {
        return Ok(Location::Attr(Target {
            container: aref.container,
            attr: aref.attr,
            sub: aref.sub,
            filter: None,
            text,
            create: true,
        }));
    };
    let attr = aref.attr;
    if !attr.multi_valued && !attr.is_complex() {
        return Err(ScimError::invalid_path(format!(
            "'{text}': '{}' is a single-valued simple attribute; a value filter needs a multi-valued or complex one",
            attr.name
        )));
    }
    select::check(rt, &p.attr, attr, filter, text)?;
    let sub = match &p.sub {
        None => None,
        Some(name) => Some(
            attr.sub_attribute(name)
                .or_else(|| {
                    if name.eq_ignore_ascii_case("displayName") {
                        attr.sub_attribute("display")
                    } else {
                        None
                    }
                })
                .ok_or_else(|| {
                    ScimError::invalid_path(format!("'{text}': '{}' has no sub-attribute '{name}'", attr.name))
                })?,
        ),
    };
    Ok(Location::Attr(Target {
        container: aref.container,
        attr,
        sub,
        filter: Some(filter),
        text,
        create: true,
    }))
}

/// IdPs write `displayName` where a complex value defines `display`
/// (RFC 7644 §3.5.2 itself prints `members[...].displayName`).
fn display_alias<'a>(rt: &'a ResourceType, path: &AttrPath) -> Option<Resolved<'a>> {
    if !path
        .sub
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("displayName"))
    {
        return None;
    }
    rt.resolve(&AttrPath {
        sub: Some("display".into()),
        ..path.clone()
    })
}

/// The stored document with top-level and extension attribute names in
/// canonical case, so lookups by canonical name find them.
fn canonical_keys(rt: &ResourceType, stored: &Map<String, Value>) -> Map<String, Value> {
    let rename = |schema: &Schema, key: &str| schema.attribute(key).map(|d| d.name.clone());
    let mut out = Map::new();
    for (key, v) in stored {
        if let Some(ext) = rt.extension(key) {
            let inner = match v {
                Value::Object(m) => Value::Object(
                    m.iter()
                        .map(|(k, x)| (rename(ext, k).unwrap_or_else(|| k.clone()), x.clone()))
                        .collect(),
                ),
                other => other.clone(),
            };
            out.insert(ext.id.clone(), inner);
            continue;
        }
        let name = rename(rt.common(), key)
            .or_else(|| rename(&rt.core, key))
            .unwrap_or_else(|| key.clone());
        out.insert(name, v.clone());
    }
    out
}

#[cfg(test)]
mod tests;
