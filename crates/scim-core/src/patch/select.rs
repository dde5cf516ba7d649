//! Value selection inside one multi-valued attribute: checking a value
//! filter's sub-attribute names and evaluating it against one element.
//!
//! The crate's evaluator (`filter::matches`) works on whole resources; a
//! PATCH needs to know *which* elements match, so this module evaluates the
//! `valFilter` of RFC 7644 §3.4.2.2 against a single element, with the
//! sub-attribute definitions giving case sensitivity and types.

use crate::error::ScimError;
use crate::filter::{CompValue, CompareOp, Filter};
use crate::path::AttrPath;
use crate::schema::{AttrType, AttributeDef, ResourceType};
use crate::validate::parse_bool;
use serde_json::Value;
use std::cmp::Ordering;

/// The definition a name inside a value filter of `attr` refers to: a
/// sub-attribute of a complex attribute, or, for a multi-valued simple
/// attribute, `value` meaning the element itself.
fn inner_def<'a>(attr: &'a AttributeDef, path: &AttrPath) -> Option<&'a AttributeDef> {
    if attr.is_complex() {
        attr.sub_attribute(&path.name)
    } else if path.name.eq_ignore_ascii_case("value") {
        Some(attr)
    } else {
        None
    }
}

/// Checks a value filter of the path `path` (naming `attr` in `rt`).
///
/// For a complex attribute this is the crate's own filter check, so PATCH
/// accepts exactly the value filters a search accepts (known sub-attribute
/// names, operators defined for their types, operands of the right kind);
/// its `invalidFilter` becomes `invalidPath`, the error RFC 7644 §3.5.2
/// gives a PATCH path. A multi-valued simple attribute (`tags[value eq
/// "x"]`, §3.5.2.2 "a complex filter is specified comparing a value") only
/// knows the name `value`.
pub(super) fn check(
    rt: &ResourceType,
    path: &AttrPath,
    attr: &AttributeDef,
    filter: &Filter,
    path_text: &str,
) -> Result<(), ScimError> {
    if attr.is_complex() {
        let whole = Filter::ValuePath(
            AttrPath {
                sub: None,
                ..path.clone()
            },
            Box::new(filter.clone()),
        );
        return crate::filter::check(&whole, &[rt])
            .map_err(|e| ScimError::invalid_path(format!("invalid value filter in path '{path_text}': {}", e.detail)));
    }
    check_simple(attr, filter, path_text)
}

fn check_simple(attr: &AttributeDef, filter: &Filter, path_text: &str) -> Result<(), ScimError> {
    match filter {
        Filter::And(a, b) | Filter::Or(a, b) => {
            check_simple(attr, a, path_text)?;
            check_simple(attr, b, path_text)
        }
        Filter::Not(f) => check_simple(attr, f, path_text),
        Filter::Present(p) => inner_def(attr, p)
            .map(|_| ())
            .ok_or_else(|| unknown(attr, p, path_text)),
        Filter::Compare(p, op, _) => {
            let def = inner_def(attr, p).ok_or_else(|| unknown(attr, p, path_text))?;
            if op.is_ordering() && matches!(def.kind, AttrType::Boolean | AttrType::Binary) {
                return Err(ScimError::invalid_path(format!(
                    "in path '{path_text}', '{}' cannot be compared with '{}' ({} values have no order)",
                    def.name,
                    op.as_str(),
                    def.kind.as_str()
                )));
            }
            Ok(())
        }
        Filter::ValuePath(..) => Err(ScimError::invalid_path(format!(
            "path '{path_text}' nests a value filter inside a value filter"
        ))),
    }
}

fn unknown(attr: &AttributeDef, p: &AttrPath, path_text: &str) -> ScimError {
    ScimError::invalid_path(format!(
        "in path '{path_text}', '{p}' is not a sub-attribute of '{}'",
        attr.name
    ))
}

/// Whether `element` (one value of `attr`, already coerced) satisfies the
/// checked `filter`.
pub(super) fn matches(attr: &AttributeDef, element: &Value, filter: &Filter) -> bool {
    match filter {
        Filter::And(a, b) => matches(attr, element, a) && matches(attr, element, b),
        Filter::Or(a, b) => matches(attr, element, a) || matches(attr, element, b),
        Filter::Not(f) => !matches(attr, element, f),
        Filter::Present(p) => field(attr, element, p).is_some_and(|(_, v)| is_present(v)),
        Filter::Compare(p, op, cv) => match field(attr, element, p) {
            Some((def, v)) => compare(def, v, *op, cv),
            None => false,
        },
        Filter::ValuePath(..) => false,
    }
}

/// The definition and the value of a filter name in one element.
fn field<'a>(attr: &'a AttributeDef, element: &'a Value, p: &AttrPath) -> Option<(&'a AttributeDef, &'a Value)> {
    let def = inner_def(attr, p)?;
    if attr.is_complex() {
        let obj = element.as_object()?;
        let v = obj
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&def.name))
            .map(|(_, v)| v)?;
        Some((def, v))
    } else {
        Some((def, element))
    }
}

/// `pr`: a non-empty value (RFC 7644 §3.4.2.2).
fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

/// One comparison, with the semantics of the crate's evaluator
/// (`filter::matches`): caseExact folding, dateTime instants, exact
/// integers, booleans also as `"true"`/`"false"`; a comparison of
/// mismatched kinds is false, for `ne` too.
fn compare(def: &AttributeDef, v: &Value, op: CompareOp, cv: &CompValue) -> bool {
    if let CompValue::Null = cv {
        // `eq null` / `ne null` test presence; other operators never match.
        return match op {
            CompareOp::Eq => !is_present(v),
            CompareOp::Ne => is_present(v),
            _ => false,
        };
    }
    let substring = matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
    match (def.kind, v, cv) {
        (AttrType::Boolean, _, _) => {
            let stored = match v {
                Value::Bool(b) => Some(*b),
                Value::String(s) => parse_bool(s),
                _ => None,
            };
            let operand = match cv {
                CompValue::Bool(b) => Some(*b),
                CompValue::String(s) => parse_bool(s),
                _ => None,
            };
            match (stored, operand, op) {
                (Some(a), Some(b), CompareOp::Eq) => a == b,
                (Some(a), Some(b), CompareOp::Ne) => a != b,
                _ => false,
            }
        }
        (AttrType::Integer | AttrType::Decimal, Value::Number(a), CompValue::Number(b)) => {
            compare_numbers(a, b).is_some_and(|o| holds(op, o))
        }
        (AttrType::DateTime, Value::String(a), CompValue::String(b)) => {
            let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
            match (parse(a), parse(b)) {
                (Some(x), Some(y)) if !substring => holds(op, x.cmp(&y)),
                _ => string_op(false, a, op, b),
            }
        }
        (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(a), CompValue::String(b)) => {
            string_op(def.case_exact, a, op, b)
        }
        _ => false,
    }
}

/// Integers compare exactly, anything else as `f64`.
fn compare_numbers(a: &serde_json::Number, b: &serde_json::Number) -> Option<Ordering> {
    let exact = |n: &serde_json::Number| n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from));
    match (exact(a), exact(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn holds(op: CompareOp, o: Ordering) -> bool {
    match op {
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::Ne => o != Ordering::Equal,
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::Ge => o != Ordering::Less,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::Le => o != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// String comparison honouring `caseExact` (RFC 7643 §2.2).
fn string_op(case_exact: bool, a: &str, op: CompareOp, b: &str) -> bool {
    let (a, b) = if case_exact {
        (a.to_string(), b.to_string())
    } else {
        (a.to_lowercase(), b.to_lowercase())
    };
    match op {
        CompareOp::Co => a.contains(&b),
        CompareOp::Sw => a.starts_with(&b),
        CompareOp::Ew => a.ends_with(&b),
        _ => holds(op, a.cmp(&b)),
    }
}

/// The sub-attribute values a filter pins down when it is `x eq v` or a
/// conjunction of such: what an element must hold to match. `None` for any
/// other shape, or when one name is pinned to two different values.
pub(super) fn pinned_values(filter: &Filter) -> Option<Vec<(String, Value)>> {
    let mut out: Vec<(String, Value)> = Vec::new();
    collect_pinned(filter, &mut out)?;
    Some(out)
}

fn collect_pinned(filter: &Filter, out: &mut Vec<(String, Value)>) -> Option<()> {
    match filter {
        Filter::And(a, b) => {
            collect_pinned(a, out)?;
            collect_pinned(b, out)
        }
        Filter::Compare(p, CompareOp::Eq, cv) => {
            let v = comp_to_json(cv);
            if v.is_null() {
                return None;
            }
            match out.iter().find(|(n, _)| n.eq_ignore_ascii_case(&p.name)) {
                Some((_, existing)) if *existing != v => None,
                Some(_) => Some(()),
                None => {
                    out.push((p.name.clone(), v));
                    Some(())
                }
            }
        }
        _ => None,
    }
}

/// The ids named by `value eq "id"` or an `or` of such: a member filter
/// that can be applied without knowing the current members.
pub(super) fn value_ids(filter: &Filter) -> Option<Vec<String>> {
    match filter {
        Filter::Or(a, b) => {
            let mut ids = value_ids(a)?;
            ids.extend(value_ids(b)?);
            Some(ids)
        }
        Filter::Compare(p, CompareOp::Eq, CompValue::String(id)) if p.name.eq_ignore_ascii_case("value") => {
            Some(vec![id.clone()])
        }
        _ => None,
    }
}

pub(super) fn comp_to_json(cv: &CompValue) -> Value {
    match cv {
        CompValue::Null => Value::Null,
        CompValue::Bool(b) => Value::Bool(*b),
        CompValue::Number(n) => Value::Number(n.clone()),
        CompValue::String(s) => Value::String(s.clone()),
    }
}
