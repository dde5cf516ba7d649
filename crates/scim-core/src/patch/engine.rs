//! The document half of PATCH: what one operation does to one attribute's
//! value, RFC 7644 §3.5.2.1 (add), §3.5.2.2 (remove), §3.5.2.3 (replace).
//!
//! Everything here is a pure function from the attribute's current value
//! (already normalised: canonical names, coerced types) to its new value, so
//! the same code serves resource documents and a materialised member list.

use super::{PatchOpKind, select};
use crate::error::ScimError;
use crate::filter::Filter;
use crate::schema::{AttributeDef, Container, Mutability};
use crate::validate::{coerce_attribute, coerce_single};
use serde_json::{Map, Value};

/// An operation's target, resolved against the resource type.
#[derive(Debug, Clone, Copy)]
pub(super) struct Target<'a> {
    pub container: Container<'a>,
    pub attr: &'a AttributeDef,
    /// `name.sub` or `attr[filter].sub`.
    pub sub: Option<&'a AttributeDef>,
    pub filter: Option<&'a Filter>,
    /// The path as the client wrote it, for messages.
    pub text: &'a str,
    /// Whether add/replace on a value filter that selects nothing may
    /// create the value (see `create_element`).
    pub create: bool,
}

/// Applies one operation to the value of `t.attr` (`None` when unassigned)
/// and returns the new value (`None` for unassigned). `value` is the
/// operation's `value` member.
pub(super) fn apply_to_attr(
    kind: PatchOpKind,
    t: &Target<'_>,
    current: Option<&Value>,
    value: Option<&Value>,
) -> Result<Option<Value>, ScimError> {
    let value = value.unwrap_or(&Value::Null);
    match (t.filter, t.sub) {
        (None, None) => whole(kind, t, current, value),
        (None, Some(sub)) if !t.attr.multi_valued => single_sub(kind, t, sub, current, value),
        _ => elements(kind, t, current, value),
    }
}

/// The attribute itself, no filter, no sub-attribute.
fn whole(
    kind: PatchOpKind,
    t: &Target<'_>,
    current: Option<&Value>,
    value: &Value,
) -> Result<Option<Value>, ScimError> {
    let attr = t.attr;
    if kind == PatchOpKind::Remove {
        // Dialect (Entra and others): `remove` of a multi-valued attribute
        // with a `value` list removes only the listed values.
        if attr.multi_valued && !value.is_null() {
            return remove_listed(attr, current, value, t.text);
        }
        return Ok(None);
    }
    let Some(new) = coerce_attribute(attr, value, t.text)? else {
        // An unassigned value: adding nothing changes nothing, replacing
        // with nothing unassigns (RFC 7643 §2.5: null and [] mean unassigned).
        return Ok(if kind == PatchOpKind::Add {
            current.cloned()
        } else {
            None
        });
    };
    if attr.multi_valued {
        if kind == PatchOpKind::Replace {
            return Ok(Some(new));
        }
        // §3.5.2.1: a new value is added; a value already there is no change.
        let mut elems = current.and_then(Value::as_array).cloned().unwrap_or_default();
        let mut touched = Vec::new();
        for item in new.as_array().map(Vec::as_slice).unwrap_or_default() {
            if !elems.contains(item) {
                elems.push(item.clone());
                touched.push(elems.len() - 1);
            }
        }
        clear_other_primaries(attr, &mut elems, &touched);
        return Ok(non_empty(elems));
    }
    if attr.is_complex() {
        // §3.5.2.1 and §3.5.2.3: on a complex attribute the given
        // sub-attributes are set, the others are left unchanged.
        let mut obj = current.and_then(Value::as_object).cloned().unwrap_or_default();
        merge(attr, &mut obj, &new, t.text)?;
        return Ok(Some(Value::Object(obj)));
    }
    Ok(Some(new))
}

/// `name.givenName`: a sub-attribute of a single-valued complex attribute.
fn single_sub(
    kind: PatchOpKind,
    t: &Target<'_>,
    sub: &AttributeDef,
    current: Option<&Value>,
    value: &Value,
) -> Result<Option<Value>, ScimError> {
    let mut obj = current.and_then(Value::as_object).cloned().unwrap_or_default();
    match kind {
        PatchOpKind::Remove => remove_sub(sub, &mut obj, t.text)?,
        PatchOpKind::Add | PatchOpKind::Replace => match coerce_attribute(sub, value, t.text)? {
            Some(v) => set_sub(sub, &mut obj, v, t.text)?,
            None if kind == PatchOpKind::Replace => remove_sub(sub, &mut obj, t.text)?,
            None => {}
        },
    }
    Ok(if obj.is_empty() { None } else { Some(Value::Object(obj)) })
}

/// `attr[filter]`, `attr[filter].sub`, or `attr.sub` on a multi-valued
/// attribute (which addresses every value).
fn elements(
    kind: PatchOpKind,
    t: &Target<'_>,
    current: Option<&Value>,
    value: &Value,
) -> Result<Option<Value>, ScimError> {
    let attr = t.attr;
    let mut elems: Vec<Value> = match current {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(single) => vec![single.clone()],
    };
    let matched: Vec<usize> = match t.filter {
        Some(f) => (0..elems.len())
            .filter(|&i| select::matches(attr, &elems[i], f))
            .collect(),
        None => (0..elems.len()).collect(),
    };
    let no_target = || {
        ScimError::no_target(format!(
            "the value filter of '{}' matches no value of '{}'",
            t.text, attr.name
        ))
    };

    if kind == PatchOpKind::Remove {
        if matched.is_empty() {
            // Table 9 of RFC 7644 §3.12: a filter that yields no match is
            // noTarget. Without a filter there was simply nothing to remove.
            return if t.filter.is_some() {
                Err(no_target())
            } else {
                Ok(current.cloned())
            };
        }
        match t.sub {
            None => {
                let mut i = 0;
                elems.retain(|_| {
                    i += 1;
                    !matched.contains(&(i - 1))
                });
            }
            Some(sub) => {
                for &i in &matched {
                    if let Some(obj) = elems.get_mut(i).and_then(Value::as_object_mut) {
                        remove_sub(sub, obj, t.text)?;
                    }
                }
                elems.retain(|e| e.as_object().is_none_or(|o| !o.is_empty()));
            }
        }
        return Ok(finish(attr, elems));
    }

    // add / replace: the coerced content first, so type errors win over
    // "no target".
    let content = match t.sub {
        None => coerce_one(attr, value, t.text)?,
        Some(sub) => coerce_attribute(sub, value, t.text)?,
    };
    if matched.is_empty() {
        let Some(content) = content else {
            return if kind == PatchOpKind::Replace && t.filter.is_some() {
                Err(no_target())
            } else {
                Ok(current.cloned())
            };
        };
        let created = create_element(kind, t, &elems, content)?.ok_or_else(no_target)?;
        let Some(created) = coerce_single(attr, &created, t.text)? else {
            return Ok(current.cloned());
        };
        if !elems.contains(&created) {
            elems.push(created);
            let touched = [elems.len() - 1];
            clear_other_primaries(attr, &mut elems, &touched);
        }
        return Ok(finish(attr, elems));
    }
    for &i in &matched {
        let Some(elem) = elems.get_mut(i) else {
            continue;
        };
        match (t.sub, &content) {
            (None, Some(new)) if attr.is_complex() => {
                if let Some(obj) = elem.as_object_mut() {
                    merge(attr, obj, new, t.text)?;
                }
            }
            (None, Some(new)) => *elem = new.clone(),
            (None, None) if kind == PatchOpKind::Replace => *elem = Value::Null,
            // Values of a complex attribute are objects once normalised;
            // anything else cannot hold a sub-attribute and is left alone.
            (Some(sub), Some(v)) => {
                if let Some(obj) = elem.as_object_mut() {
                    set_sub(sub, obj, v.clone(), t.text)?;
                }
            }
            (Some(sub), None) if kind == PatchOpKind::Replace => {
                if let Some(obj) = elem.as_object_mut() {
                    remove_sub(sub, obj, t.text)?;
                }
            }
            (_, None) => {}
        }
    }
    elems.retain(|e| !e.is_null());
    clear_other_primaries(attr, &mut elems, &matched);
    Ok(finish(attr, elems))
}

/// The element to create when add/replace selects nothing. RFC 7644 leaves
/// this open; IdPs (Entra) send `replace emails[type eq "work"].value` for a
/// user without a work email and expect it created, so an element is made
/// from the sub-attributes an `eq` filter pins, plus the content. Without a
/// filter (`emails.value` on no emails) §3.5.2.3 says treat it as an add.
fn create_element(
    kind: PatchOpKind,
    t: &Target<'_>,
    elems: &[Value],
    content: Value,
) -> Result<Option<Value>, ScimError> {
    if !t.create || (!t.attr.multi_valued && !elems.is_empty()) {
        // A single complex value that the filter does not select.
        return Ok(None);
    }
    let pinned = match t.filter {
        None => Vec::new(),
        // Replace without a sub-attribute keeps the RFC's noTarget.
        Some(_) if kind == PatchOpKind::Replace && t.sub.is_none() => return Ok(None),
        Some(f) => match select::pinned_values(f) {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    if !t.attr.is_complex() {
        return Ok(Some(content));
    }
    let mut obj = Map::new();
    for (name, v) in pinned {
        obj.insert(name, v);
    }
    match t.sub {
        Some(sub) => {
            obj.insert(sub.name.clone(), content);
        }
        None => {
            if let Value::Object(c) = content {
                obj.extend(c);
            }
        }
    }
    Ok(Some(Value::Object(obj)))
}

/// A single value for `attr[filter]`: a one-element array is accepted (the
/// same tolerance `coerce_attribute` has for single-valued attributes).
fn coerce_one(attr: &AttributeDef, value: &Value, path: &str) -> Result<Option<Value>, ScimError> {
    match value {
        Value::Array(items) => match items.as_slice() {
            [] => Ok(None),
            [one] => coerce_single(attr, one, path),
            _ => Err(ScimError::invalid_value(format!(
                "'{path}' selects values of '{}'; the value must be one value, not an array",
                attr.name
            ))),
        },
        other => coerce_single(attr, other, path),
    }
}

/// Dialect: `remove` with a path naming a multi-valued attribute and a
/// `value` removes the listed values: for complex values, those whose
/// `value` sub-attribute equals a listed one's, otherwise equal values.
/// Listed values that are not there are ignored.
fn remove_listed(
    attr: &AttributeDef,
    current: Option<&Value>,
    listed: &Value,
    path: &str,
) -> Result<Option<Value>, ScimError> {
    let Some(mut elems) = current.and_then(Value::as_array).cloned() else {
        return Ok(None);
    };
    let Some(listed) = coerce_attribute(attr, listed, path)? else {
        return Ok(current.cloned());
    };
    let value_def = attr.value_sub_attribute();
    for item in listed.as_array().map(Vec::as_slice).unwrap_or_default() {
        let key = item.get("value").and_then(Value::as_str);
        elems.retain(|e| match (value_def, key, e.get("value").and_then(Value::as_str)) {
            (Some(def), Some(k), Some(v)) => {
                if def.case_exact {
                    v != k
                } else {
                    v.to_lowercase() != k.to_lowercase()
                }
            }
            _ => e != item,
        });
    }
    Ok(non_empty(elems))
}

/// Sets the sub-attributes of `new` (a coerced complex value) on `base`.
fn merge(attr: &AttributeDef, base: &mut Map<String, Value>, new: &Value, path: &str) -> Result<(), ScimError> {
    let Some(new) = new.as_object() else {
        return Ok(());
    };
    for (k, v) in new {
        if let Some(sub) = attr.sub_attribute(k) {
            set_sub(sub, base, v.clone(), path)?;
        }
    }
    Ok(())
}

/// RFC 7644 §3.5.2: an immutable sub-attribute that has a value may not
/// change; setting it to the value it already has is no change.
fn set_sub(sub: &AttributeDef, obj: &mut Map<String, Value>, v: Value, path: &str) -> Result<(), ScimError> {
    if sub.mutability == Mutability::Immutable && obj.get(&sub.name).is_some_and(|old| !old.is_null() && *old != v) {
        return Err(immutable(path, &sub.name));
    }
    obj.insert(sub.name.clone(), v);
    Ok(())
}

fn remove_sub(sub: &AttributeDef, obj: &mut Map<String, Value>, path: &str) -> Result<(), ScimError> {
    if sub.mutability == Mutability::Immutable && obj.get(&sub.name).is_some_and(|o| !o.is_null()) {
        return Err(immutable(path, &sub.name));
    }
    obj.remove(&sub.name);
    Ok(())
}

pub(super) fn immutable(path: &str, name: &str) -> ScimError {
    ScimError::mutability(format!(
        "'{name}' is immutable and already has a value; '{path}' cannot change it"
    ))
}

/// RFC 7644 §3.5.2: setting `primary` to true on a value sets it to false
/// on the others. Only values that were true change, so values without a
/// `primary` stay as they are.
fn clear_other_primaries(attr: &AttributeDef, elems: &mut [Value], touched: &[usize]) {
    if !attr.multi_valued || attr.sub_attribute("primary").is_none() {
        return;
    }
    let is_primary = |v: &Value| v.get("primary") == Some(&Value::Bool(true));
    if !touched.iter().any(|&i| elems.get(i).is_some_and(is_primary)) {
        return;
    }
    for (i, e) in elems.iter_mut().enumerate() {
        if touched.contains(&i) || !is_primary(e) {
            continue;
        }
        if let Some(obj) = e.as_object_mut() {
            obj.insert("primary".into(), Value::Bool(false));
        }
    }
}

fn finish(attr: &AttributeDef, elems: Vec<Value>) -> Option<Value> {
    if attr.multi_valued {
        non_empty(elems)
    } else {
        elems.into_iter().find(|e| e.as_object().is_none_or(|o| !o.is_empty()))
    }
}

fn non_empty(elems: Vec<Value>) -> Option<Value> {
    if elems.is_empty() {
        None
    } else {
        Some(Value::Array(elems))
    }
}
