//! Filter semantics: `check` rejects filters that cannot mean anything for
//! the resource types searched, and `matches` is the reference evaluator
//! every store is tested against.

use super::print::chain;
use super::{CompValue, CompareOp, Filter};
use crate::error::ScimError;
use crate::path::AttrPath;
use crate::schema::{AttrType, AttributeDef, Container, ResourceType};
use chrono::{DateTime, FixedOffset};
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;

/// Checks a parsed filter against the resource types it will be run on
/// (one type for `/Users`, User and Group for a root search).
///
/// Every attribute path must resolve in at least one of `types`, and the
/// comparison must make sense for the attribute's type in at least one of
/// the types where it resolves:
/// - `gt`/`ge`/`lt`/`le` are not defined for boolean and binary attributes;
///   `co`/`sw`/`ew` are not defined for boolean, integer and decimal ones;
/// - the value must be of the attribute's kind: a string for string,
///   reference and binary; a number for integer and decimal (any JSON
///   number; numeric strings are not accepted); `true`/`false` or the
///   strings `"true"`/`"false"` in any case for boolean (IdPs send both);
///   an RFC 3339 string for dateTime (for every operator, `co`/`sw`/`ew`
///   included);
/// - `null` only with `eq` (absent) and `ne` (present);
/// - a complex attribute named without a sub-attribute (`emails co "@x"`)
///   compares its `value` sub-attribute; without one only `pr` is allowed;
/// - a value path needs a complex attribute, and its inner filter may only
///   name that attribute's sub-attributes.
///
/// # Errors
///
/// `invalidFilter` naming the first offending attribute.
pub fn check(filter: &Filter, types: &[&ResourceType]) -> Result<(), ScimError> {
    check_in(filter, &CheckScope::Types(types))
}

/// Whether `doc`, a resource of type `rt`, matches `filter`.
///
/// This is the reference semantics (RFC 7644 §3.4.2.2); it never panics,
/// whatever the JSON:
/// - attributes are looked up by their canonical name (extension attributes
///   inside the object keyed by the extension URN), falling back to a
///   case-insensitive key match;
/// - a path that does not resolve in `rt` matches nothing, so one filter can
///   run over every type of a root search;
/// - on a multi-valued attribute a comparison holds if it holds for any
///   value (`emails.value eq "x"`: any email); a complex attribute named
///   without a sub-attribute compares its `value` sub-attribute;
/// - `pr` holds for a value that is not null, `""`, `[]` or `{}` (an object
///   whose members are all such counts as empty too); `eq null` holds when
///   the attribute is not present, `ne null` when it is;
/// - `ne` is the negation of `eq` over the whole attribute: a resource
///   without the attribute, or none of whose values equal the operand,
///   matches `ne`. (RFC 7644 does not say; this makes `a ne x` the same
///   filter as `not (a eq x)` for every well-typed comparison, which SQL
///   stores can implement as `NOT EXISTS`.)
/// - strings, references and binary compare case-insensitively (Unicode
///   lower-casing) unless the attribute is caseExact; ordering on them is
///   lexicographic after that folding;
/// - dateTime compares instants (`+02:00` and `Z` forms of one instant are
///   equal); a stored value that is not RFC 3339 compares as text, and so
///   do `co`/`sw`/`ew` (case-insensitively);
/// - integer and decimal compare numerically, exactly when both are
///   integers; boolean supports `eq`/`ne`, with `"true"`/`"false"` strings
///   on either side taken as booleans;
/// - a comparison [`check`] would reject (wrong value kind, operator not
///   defined for the type) is false, for `ne` too.
pub fn matches(filter: &Filter, rt: &ResourceType, doc: &Value) -> bool {
    eval(filter, &Scope::Resource(rt, doc))
}

// ---------------------------------------------------------------- check --

enum CheckScope<'a> {
    Types(&'a [&'a ResourceType]),
    /// Inside `path[...]`, whose complex attribute is `parent`.
    Within(&'a AttrPath, &'a AttributeDef),
}

fn check_in(filter: &Filter, scope: &CheckScope<'_>) -> Result<(), ScimError> {
    match filter {
        Filter::And(..) | Filter::Or(..) => chain(filter).into_iter().try_for_each(|f| check_in(f, scope)),
        Filter::Not(inner) => check_in(inner, scope),
        Filter::Present(path) => check_leaf(path, None, scope),
        Filter::Compare(path, op, value) => check_leaf(path, Some((*op, value)), scope),
        Filter::ValuePath(path, inner) => match scope {
            CheckScope::Types(types) => check_value_path(path, inner, types),
            CheckScope::Within(parent, _) => Err(ScimError::invalid_filter(format!(
                "value filters cannot be nested ('{path}' inside '{parent}')"
            ))),
        },
    }
}

fn check_leaf(path: &AttrPath, cond: Option<(CompareOp, &CompValue)>, scope: &CheckScope<'_>) -> Result<(), ScimError> {
    match scope {
        CheckScope::Types(types) => {
            let mut first_error = None;
            for rt in *types {
                let Some(r) = rt.resolve_attr(path) else {
                    continue;
                };
                match leaf_error(path, r.target(), cond) {
                    None => return Ok(()),
                    Some(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            Err(ScimError::invalid_filter(
                first_error.unwrap_or_else(|| format!("unknown attribute '{path}'")),
            ))
        }
        CheckScope::Within(parent_path, parent) => {
            if path.urn.is_some() || path.sub.is_some() {
                return Err(ScimError::invalid_filter(format!(
                    "inside '{parent_path}[...]' only sub-attribute names are allowed, not '{path}'"
                )));
            }
            let Some(sub) = parent.sub_attribute(&path.name) else {
                return Err(ScimError::invalid_filter(format!(
                    "unknown attribute '{parent_path}.{path}'"
                )));
            };
            match leaf_error(path, sub, cond) {
                None => Ok(()),
                Some(e) => Err(ScimError::invalid_filter(e)),
            }
        }
    }
}

fn check_value_path(path: &AttrPath, inner: &Filter, types: &[&ResourceType]) -> Result<(), ScimError> {
    let mut first_error = None;
    for rt in types {
        let Some(r) = rt.resolve_attr(path) else {
            continue;
        };
        let result = if r.sub.is_none() && r.attr.is_complex() {
            check_in(inner, &CheckScope::Within(path, r.attr))
        } else {
            Err(ScimError::invalid_filter(format!(
                "'{path}' is not a complex attribute, so it cannot have a value filter"
            )))
        };
        match result {
            Ok(()) => return Ok(()),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| ScimError::invalid_filter(format!("unknown attribute '{path}'"))))
}

/// Why `path` (resolved to `def`) cannot be tested with `cond`, if it can't.
fn leaf_error(path: &AttrPath, def: &AttributeDef, cond: Option<(CompareOp, &CompValue)>) -> Option<String> {
    // `pr` asks about presence, which every attribute has.
    let (op, value) = cond?;
    let Some(def) = comparable(def) else {
        return Some(format!(
            "'{path}' is a complex attribute without a 'value' sub-attribute; only 'pr' applies to it"
        ));
    };
    comparison_error(def, op, value).map(|why| format!("'{path}' {} {value}: {why}", op.as_str()))
}

/// The definition a comparison on `def` compares: `def` itself, or the
/// `value` sub-attribute of a complex attribute.
fn comparable(def: &AttributeDef) -> Option<&AttributeDef> {
    if def.is_complex() {
        def.value_sub_attribute()
    } else {
        Some(def)
    }
}

/// Why `op value` is meaningless for a simple attribute `def`, if it is.
fn comparison_error(def: &AttributeDef, op: CompareOp, value: &CompValue) -> Option<String> {
    let kind = def.kind;
    if *value == CompValue::Null {
        return (!matches!(op, CompareOp::Eq | CompareOp::Ne)).then(|| "null can only be used with eq or ne".into());
    }
    let substring = matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
    let op_undefined = match kind {
        AttrType::Boolean => op.is_ordering() || substring,
        AttrType::Binary => op.is_ordering(),
        AttrType::Integer | AttrType::Decimal => substring,
        AttrType::String | AttrType::Reference | AttrType::DateTime => false,
        AttrType::Complex => true,
    };
    if op_undefined {
        return Some(format!(
            "'{}' is not defined for {} attributes",
            op.as_str(),
            kind.as_str()
        ));
    }
    let value_fits = match (kind, value) {
        (AttrType::String | AttrType::Reference | AttrType::Binary, CompValue::String(_)) => true,
        (AttrType::Boolean, CompValue::Bool(_)) => true,
        (AttrType::Boolean, CompValue::String(s)) => bool_text(s).is_some(),
        (AttrType::Integer | AttrType::Decimal, CompValue::Number(_)) => true,
        (AttrType::DateTime, CompValue::String(s)) => parse_time(s).is_some(),
        _ => false,
    };
    if value_fits {
        return None;
    }
    Some(match kind {
        AttrType::DateTime => "a dateTime attribute needs an RFC 3339 date-time string".into(),
        AttrType::Boolean => "a boolean attribute needs true or false".into(),
        AttrType::Integer | AttrType::Decimal => {
            format!("an {} attribute needs a number", kind.as_str())
        }
        _ => format!("a {} attribute needs a string", kind.as_str()),
    })
}

fn bool_text(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn parse_time(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).ok()
}

// ----------------------------------------------------------------- eval --

enum Scope<'a> {
    Resource(&'a ResourceType, &'a Value),
    /// One element of a complex attribute, inside a value filter.
    Element(&'a AttributeDef, &'a Value),
}

fn eval(filter: &Filter, scope: &Scope<'_>) -> bool {
    match filter {
        Filter::And(..) => chain(filter).into_iter().all(|f| eval(f, scope)),
        Filter::Or(..) => chain(filter).into_iter().any(|f| eval(f, scope)),
        Filter::Not(inner) => !eval(inner, scope),
        Filter::Present(path) => lookup(scope, path).is_some_and(|(_, values)| values.into_iter().any(is_present)),
        Filter::Compare(path, op, value) => {
            lookup(scope, path).is_some_and(|(def, values)| compare(def, values, *op, value))
        }
        Filter::ValuePath(path, inner) => match scope {
            Scope::Resource(rt, doc) => value_path(rt, doc, path, inner),
            Scope::Element(..) => false,
        },
    }
}

/// The definition `path` ends at and its values in the document, arrays
/// flattened one level (a multi-valued attribute gives its elements,
/// `emails.value` gives every email's value).
fn lookup<'a>(scope: &Scope<'a>, path: &AttrPath) -> Option<(&'a AttributeDef, Vec<&'a Value>)> {
    let mut values = Vec::new();
    match scope {
        Scope::Resource(rt, doc) => {
            let r = rt.resolve_attr(path)?;
            let attr = attr_value(doc, r.container, &r.attr.name);
            match r.sub {
                None => flatten_into(attr, &mut values),
                Some(sub) => {
                    for element in elements(attr) {
                        flatten_into(member(element, &sub.name), &mut values);
                    }
                }
            }
            Some((r.target(), values))
        }
        Scope::Element(parent, element) => {
            if path.urn.is_some() || path.sub.is_some() {
                return None;
            }
            let sub = parent.sub_attribute(&path.name)?;
            flatten_into(member(element, &sub.name), &mut values);
            Some((sub, values))
        }
    }
}

/// The value of a top-level or extension attribute in a resource document.
fn attr_value<'a>(doc: &'a Value, container: Container<'_>, name: &str) -> Option<&'a Value> {
    let holder = match container {
        Container::Top => Some(doc),
        Container::Extension(urn) => member(doc, urn),
    };
    holder.and_then(|h| member(h, name))
}

/// An object member by canonical name, else by case-insensitive match
/// (documents written by older code or other tools may differ in case).
fn member<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    let object = value.as_object()?;
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// The elements of a multi-valued attribute, or the single value itself.
fn elements(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
    }
}

fn flatten_into<'a>(value: Option<&'a Value>, out: &mut Vec<&'a Value>) {
    match value {
        None => {}
        Some(Value::Array(items)) => out.extend(items),
        Some(other) => out.push(other),
    }
}

fn is_empty_value(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(members) => members.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// RFC 7644 `pr`: a non-empty value, or for a complex value a non-empty
/// member. Looks only one level deep, so arbitrary JSON cannot make it
/// recurse.
fn is_present(value: &Value) -> bool {
    match value {
        Value::Object(members) => members.values().any(|m| !is_empty_value(m)),
        Value::Array(items) => items.iter().any(|m| !is_empty_value(m)),
        other => !is_empty_value(other),
    }
}

fn compare(def: &AttributeDef, values: Vec<&Value>, op: CompareOp, operand: &CompValue) -> bool {
    let (def, values) = if def.is_complex() {
        let Some(value_def) = def.value_sub_attribute() else {
            return false;
        };
        let mut inner = Vec::new();
        for v in values {
            flatten_into(member(v, &value_def.name), &mut inner);
        }
        (value_def, inner)
    } else {
        (def, values)
    };
    if comparison_error(def, op, operand).is_some() {
        return false;
    }
    match (op, operand) {
        (CompareOp::Eq, CompValue::Null) => !values.into_iter().any(is_present),
        (CompareOp::Ne, CompValue::Null) => values.into_iter().any(is_present),
        (CompareOp::Ne, _) => !values.into_iter().any(|v| compare_one(def, CompareOp::Eq, v, operand)),
        _ => values.into_iter().any(|v| compare_one(def, op, v, operand)),
    }
}

/// One stored value against the operand; `op` is never `ne` here.
fn compare_one(def: &AttributeDef, op: CompareOp, stored: &Value, operand: &CompValue) -> bool {
    match (def.kind, stored, operand) {
        (AttrType::Boolean, _, _) => {
            let stored = match stored {
                Value::Bool(b) => Some(*b),
                Value::String(s) => bool_text(s),
                _ => None,
            };
            let operand = match operand {
                CompValue::Bool(b) => Some(*b),
                CompValue::String(s) => bool_text(s),
                _ => None,
            };
            op == CompareOp::Eq && stored.is_some() && stored == operand
        }
        (AttrType::Integer | AttrType::Decimal, Value::Number(a), CompValue::Number(b)) => {
            compare_numbers(a, b).is_some_and(|o| holds(op, o))
        }
        (AttrType::DateTime, Value::String(a), CompValue::String(b)) => {
            let instants = if is_substring_op(op) {
                None
            } else {
                parse_time(a).zip(parse_time(b))
            };
            match instants {
                Some((a, b)) => holds(op, a.cmp(&b)),
                None => compare_text(op, a, b, false),
            }
        }
        (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(a), CompValue::String(b)) => {
            compare_text(op, a, b, def.case_exact)
        }
        _ => false,
    }
}

fn is_substring_op(op: CompareOp) -> bool {
    matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
}

fn compare_text(op: CompareOp, stored: &str, operand: &str, case_exact: bool) -> bool {
    let (a, b) = (fold(stored, case_exact), fold(operand, case_exact));
    match op {
        CompareOp::Co => a.contains(b.as_ref()),
        CompareOp::Sw => a.starts_with(b.as_ref()),
        CompareOp::Ew => a.ends_with(b.as_ref()),
        _ => holds(op, a.cmp(&b)),
    }
}

fn fold(s: &str, case_exact: bool) -> Cow<'_, str> {
    if case_exact {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// Integers compare exactly (an `i64` id beyond 2^53 must not equal its
/// neighbour), anything else as `f64`.
fn compare_numbers(a: &serde_json::Number, b: &serde_json::Number) -> Option<Ordering> {
    let exact = |n: &serde_json::Number| n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from));
    match (exact(a), exact(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// Whether an ordering satisfies `op`; substring operators never do.
fn holds(op: CompareOp, ordering: Ordering) -> bool {
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// `path[inner]`: some element of the complex attribute satisfies `inner`.
fn value_path(rt: &ResourceType, doc: &Value, path: &AttrPath, inner: &Filter) -> bool {
    let Some(r) = rt.resolve_attr(path) else {
        return false;
    };
    if r.sub.is_some() || !r.attr.is_complex() {
        return false;
    }
    let attr = attr_value(doc, r.container, &r.attr.name);
    elements(attr)
        .into_iter()
        .any(|element| element.is_object() && eval(inner, &Scope::Element(r.attr, element)))
}
