//! Validation and normalisation of a resource for create (POST) and replace
//! (PUT), RFC 7643 §2 and RFC 7644 §3.3/§3.5.1.
//!
//! The output is the document the store keeps: attribute names in canonical
//! case, values coerced to their types (`"False"` becomes `false`), readOnly
//! attributes removed (the server owns `id`, `meta`, `groups`), unknown
//! schema URNs in `schemas` dropped, and `schemas` recomputed from the data.
//! Nothing the client sent is silently dropped otherwise: an unknown
//! attribute or an object under an unknown URN is a 400 naming it.

use crate::error::ScimError;
use crate::schema::{AttrType, AttributeDef, Mutability, ResourceType, Schema};
use serde_json::{Map, Value};

/// What the document is for.
#[derive(Debug, Clone, Copy)]
pub enum Mode<'a> {
    /// POST: a new resource.
    Create,
    /// PUT (and the result of PATCH): replaces `current`, whose immutable
    /// attributes may not change.
    Replace { current: &'a Value },
}

/// Validates `input` as a resource of type `rt` and returns the normalised
/// document (see the module docs).
pub fn validate(rt: &ResourceType, input: &Value, mode: Mode<'_>) -> Result<Value, ScimError> {
    let obj = input
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the request body must be a JSON object"))?;
    check_schemas_member(rt, obj)?;

    let mut core = Map::new();
    let mut extensions: Vec<(&Schema, Map<String, Value>)> = Vec::new();
    for (key, value) in obj {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some(ext) = rt.extension(key) {
            let attrs = value.as_object().ok_or_else(|| {
                ScimError::invalid_value(format!("'{}' must be an object of extension attributes", ext.id))
            })?;
            let mut out = Map::new();
            for (name, v) in attrs {
                if is_echoed_schemas(rt, name, v) {
                    continue;
                }
                let def = ext
                    .attribute(name)
                    .ok_or_else(|| ScimError::invalid_value(format!("unknown attribute '{}:{name}'", ext.id)))?;
                put_attribute(&mut out, def, v, &format!("{}:{}", ext.id, def.name))?;
            }
            extensions.push((ext, out));
            continue;
        }
        if crate::path::has_urn_prefix(key) {
            return Err(ScimError::invalid_value(format!(
                "'{key}' is not a schema extension of {} resources",
                rt.name
            )));
        }
        let def = rt
            .common()
            .attribute(key)
            .or_else(|| rt.core.attribute(key))
            .ok_or_else(|| ScimError::invalid_value(format!("unknown attribute '{key}'")))?;
        put_attribute(&mut core, def, value, &def.name)?;
    }

    if let Mode::Replace { current } = mode {
        keep_immutable(&mut core, current, rt.core.as_ref(), None)?;
        for ext in &rt.extensions {
            if !extensions.iter().any(|(s, _)| s.id == ext.schema.id) {
                extensions.push((ext.schema.as_ref(), Map::new()));
            }
        }
        for (ext, out) in &mut extensions {
            keep_immutable(out, current, ext, Some(&ext.id))?;
        }
    }
    check_required(&core, rt.core.as_ref(), None)?;
    for ext in &rt.extensions {
        let data = extensions.iter().find(|(s, _)| s.id == ext.schema.id).map(|(_, m)| m);
        // An extension with no data (in replace mode an empty map stands in
        // for it) is absent: its required attributes only bind when present.
        match data.filter(|m| !m.is_empty()) {
            Some(m) => check_required(m, &ext.schema, Some(&ext.schema.id))?,
            None if ext.required => {
                return Err(ScimError::invalid_value(format!(
                    "schema extension '{}' is required",
                    ext.schema.id
                )));
            }
            None => {}
        }
    }

    let mut out = Map::new();
    let mut schemas = vec![Value::String(rt.core.id.clone())];
    for (ext, data) in &extensions {
        if !data.is_empty() {
            schemas.push(Value::String(ext.id.clone()));
        }
    }
    out.insert("schemas".into(), Value::Array(schemas));
    out.extend(core);
    for (ext, data) in extensions {
        if !data.is_empty() {
            out.insert(ext.id.clone(), Value::Object(data));
        }
    }
    Ok(Value::Object(out))
}

/// `schemas` must be a list of strings naming the resource type's core
/// schema. Other URNs are tolerated (Entra sends typos and its own URNs).
fn check_schemas_member(rt: &ResourceType, obj: &Map<String, Value>) -> Result<(), ScimError> {
    let schemas = obj
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
        .map(|(_, v)| v)
        .ok_or_else(|| ScimError::invalid_syntax(format!("'schemas' is missing; it must contain '{}'", rt.core.id)))?;
    let list = schemas
        .as_array()
        .filter(|l| l.iter().all(Value::is_string))
        .ok_or_else(|| ScimError::invalid_syntax("'schemas' must be an array of URN strings"))?;
    if !list
        .iter()
        .filter_map(Value::as_str)
        .any(|s| s.eq_ignore_ascii_case(&rt.core.id))
    {
        return Err(ScimError::invalid_syntax(format!(
            "'schemas' must contain '{}'",
            rt.core.id
        )));
    }
    Ok(())
}

/// Coerces `value` for `def` and stores it under the canonical name, unless
/// it is unassigned or the attribute is readOnly (ignored on input).
fn put_attribute(out: &mut Map<String, Value>, def: &AttributeDef, value: &Value, path: &str) -> Result<(), ScimError> {
    if def.mutability == Mutability::ReadOnly {
        return Ok(());
    }
    if let Some(v) = coerce_attribute(def, value, path)? {
        out.insert(def.name.clone(), v);
    }
    Ok(())
}

/// Coerces a whole attribute value (an array for multi-valued ones) to its
/// definition. `Ok(None)` means unassigned (`null`, `[]`, `{}`).
///
/// Tolerated shapes: a single value for a multi-valued attribute (wrapped),
/// a one-element array for a single-valued attribute (unwrapped), a bare
/// scalar for a complex attribute with a `value` sub-attribute (`manager`
/// as an id string), booleans as `"True"`/`"False"`.
pub fn coerce_attribute(def: &AttributeDef, value: &Value, path: &str) -> Result<Option<Value>, ScimError> {
    match (def.multi_valued, value) {
        (_, Value::Null) => Ok(None),
        (true, Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                if let Some(v) = coerce_single(def, item, &format!("{path}[{i}]"))? {
                    out.push(v);
                }
            }
            check_one_primary(def, &out, path)?;
            Ok(if out.is_empty() { None } else { Some(Value::Array(out)) })
        }
        (true, single) => Ok(coerce_single(def, single, path)?.map(|v| Value::Array(vec![v]))),
        (false, Value::Array(items)) => match items.as_slice() {
            [] => Ok(None),
            [one] => coerce_single(def, one, path),
            _ => Err(ScimError::invalid_value(format!(
                "'{path}' is single-valued but got an array"
            ))),
        },
        (false, single) => coerce_single(def, single, path),
    }
}

/// Coerces one value (one element of a multi-valued attribute).
pub fn coerce_single(def: &AttributeDef, value: &Value, path: &str) -> Result<Option<Value>, ScimError> {
    let wrong =
        |expected: &str| ScimError::invalid_value(format!("'{path}' must be {expected}, got {}", json_kind(value)));
    let v = match (def.kind, value) {
        (_, Value::Null) => return Ok(None),
        (AttrType::Complex, Value::Object(obj)) => return coerce_complex(def, obj, path),
        (AttrType::Complex, scalar) if def.value_sub_attribute().is_some() && !scalar.is_array() => {
            let mut obj = Map::new();
            obj.insert("value".into(), scalar.clone());
            return coerce_complex(def, &obj, path);
        }
        (AttrType::Complex, _) => return Err(wrong("an object")),
        (AttrType::String | AttrType::Reference, Value::String(_)) => value.clone(),
        (AttrType::String, _) => return Err(wrong("a string")),
        (AttrType::Reference, _) => return Err(wrong("a reference string")),
        (AttrType::Boolean, Value::Bool(_)) => value.clone(),
        (AttrType::Boolean, Value::String(s)) => Value::Bool(parse_bool(s).ok_or_else(|| wrong("a boolean"))?),
        (AttrType::Boolean, _) => return Err(wrong("a boolean")),
        (AttrType::Decimal, Value::Number(_)) => value.clone(),
        (AttrType::Decimal, _) => return Err(wrong("a decimal number")),
        (AttrType::Integer, Value::Number(n)) => Value::from(as_integer(n).ok_or_else(|| wrong("an integer"))?),
        (AttrType::Integer, _) => return Err(wrong("an integer")),
        (AttrType::DateTime, Value::String(s)) => {
            chrono::DateTime::parse_from_rfc3339(s)
                .map_err(|_| wrong("an RFC 3339 dateTime such as 2024-05-01T12:00:00Z"))?;
            value.clone()
        }
        (AttrType::DateTime, _) => return Err(wrong("an RFC 3339 dateTime string")),
        (AttrType::Binary, Value::String(s)) => {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|_| wrong("base64-encoded binary"))?;
            value.clone()
        }
        (AttrType::Binary, _) => return Err(wrong("a base64 string")),
    };
    Ok(Some(v))
}

fn coerce_complex(def: &AttributeDef, obj: &Map<String, Value>, path: &str) -> Result<Option<Value>, ScimError> {
    let mut out = Map::new();
    for (key, v) in obj {
        let sub = def
            .sub_attribute(key)
            .or_else(|| display_alias(def, key))
            .ok_or_else(|| ScimError::invalid_value(format!("unknown sub-attribute '{path}.{key}'")))?;
        if sub.mutability == Mutability::ReadOnly {
            continue;
        }
        if let Some(cv) = coerce_single(sub, v, &format!("{path}.{}", sub.name))? {
            out.insert(sub.name.clone(), cv);
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    for sub in &def.sub_attributes {
        if sub.required && sub.mutability != Mutability::ReadOnly && !out.contains_key(&sub.name) {
            return Err(ScimError::invalid_value(format!("'{path}.{}' is required", sub.name)));
        }
    }
    Ok(Some(Value::Object(out)))
}

/// IdPs send `displayName` where a complex value defines `display`.
fn display_alias<'a>(def: &'a AttributeDef, key: &str) -> Option<&'a AttributeDef> {
    if key.eq_ignore_ascii_case("displayName") {
        def.sub_attribute("display")
    } else {
        None
    }
}

/// At most one `primary: true` per multi-valued attribute (RFC 7643 §2.4).
fn check_one_primary(def: &AttributeDef, values: &[Value], path: &str) -> Result<(), ScimError> {
    if def.sub_attribute("primary").is_none() {
        return Ok(());
    }
    let primaries = values
        .iter()
        .filter(|v| v.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(ScimError::invalid_value(format!(
            "'{path}' has {primaries} values with primary: true; at most one is allowed"
        )));
    }
    Ok(())
}

/// Every required, client-writable attribute of `schema` must be present.
fn check_required(data: &Map<String, Value>, schema: &Schema, urn: Option<&str>) -> Result<(), ScimError> {
    for def in &schema.attributes {
        if def.required && def.mutability != Mutability::ReadOnly && !data.contains_key(&def.name) {
            let name = match urn {
                Some(u) => format!("{u}:{}", def.name),
                None => def.name.clone(),
            };
            return Err(ScimError::invalid_value(format!("attribute '{name}' is required")));
        }
    }
    Ok(())
}

/// RFC 7644 §3.5.1: an immutable attribute with a value may not change on
/// replace; when the replacement omits it, the current value is kept.
fn keep_immutable(
    data: &mut Map<String, Value>,
    current: &Value,
    schema: &Schema,
    urn: Option<&str>,
) -> Result<(), ScimError> {
    let current = match urn {
        Some(u) => current.get(u),
        None => Some(current),
    };
    let Some(current) = current.and_then(Value::as_object) else {
        return Ok(());
    };
    for def in schema
        .attributes
        .iter()
        .filter(|d| d.mutability == Mutability::Immutable)
    {
        let Some(old) = current.get(&def.name).filter(|v| !v.is_null()) else {
            continue;
        };
        match data.get(&def.name) {
            None => {
                data.insert(def.name.clone(), old.clone());
            }
            Some(new) if new != old => {
                return Err(ScimError::mutability(format!(
                    "attribute '{}' is immutable and already set",
                    def.name
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// A `schemas` member inside an extension object, listing only URNs of this
/// resource type: clients built on typed models (scim2-tester's pydantic
/// models) send it; it carries no data, so it is ignored rather than
/// rejected as an unknown attribute.
pub(crate) fn is_echoed_schemas(rt: &ResourceType, key: &str, value: &Value) -> bool {
    key.eq_ignore_ascii_case("schemas")
        && value.as_array().is_some_and(|list| {
            list.iter().all(|u| {
                u.as_str()
                    .is_some_and(|u| rt.core.id.eq_ignore_ascii_case(u) || rt.extension(u).is_some())
            })
        })
}

/// `true`/`false` in any case: IdPs send booleans as strings.
pub fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// An integer-valued JSON number (`5` or `5.0`) as i64.
fn as_integer(n: &serde_json::Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

/// A short name of a JSON value's kind for error messages.
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
