//! `sortBy` / `sortOrder` (RFC 7644 §3.4.2.3): a type-aware comparator.
//!
//! - Strings compare case-insensitively unless the attribute is caseExact;
//!   numbers numerically; dateTimes as instants; booleans false < true.
//! - A multi-valued attribute sorts by its primary value, else its first.
//! - Resources without a value sort last in ascending order (and so first in
//!   descending order, which is the exact reverse, as in SQL's default).
//! - Ties are broken by `id` ascending in both orders, so paging is stable.

use crate::error::ScimError;
use crate::path::AttrPath;
use crate::schema::{AttrRef, AttrType, Container, ResourceType};
use serde_json::Value;
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    #[default]
    Ascending,
    Descending,
}

impl SortOrder {
    /// Parses `sortOrder`; absent means ascending. Case-insensitive.
    pub fn parse(text: Option<&str>) -> Result<SortOrder, ScimError> {
        match text {
            None => Ok(SortOrder::Ascending),
            Some(t) if t.eq_ignore_ascii_case("ascending") => Ok(SortOrder::Ascending),
            Some(t) if t.eq_ignore_ascii_case("descending") => Ok(SortOrder::Descending),
            Some(t) => Err(ScimError::invalid_value(format!(
                "sortOrder must be 'ascending' or 'descending', not '{t}'"
            ))),
        }
    }
}

/// A sort request checked against a resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortSpec {
    pub by: AttrPath,
    pub order: SortOrder,
}

impl SortSpec {
    /// Checks that `by` names a sortable attribute of at least one of `types`.
    pub fn new(by: &str, order: SortOrder, types: &[&ResourceType]) -> Result<SortSpec, ScimError> {
        let path = AttrPath::parse(by)
            .ok_or_else(|| ScimError::invalid_value(format!("sortBy '{by}' is not a valid attribute name")))?;
        let sortable = types
            .iter()
            .any(|rt| rt.resolve_attr(&path).is_some_and(|a| key_def(&a).is_some()));
        if !sortable {
            return Err(ScimError::invalid_value(format!(
                "cannot sort by '{by}': no such sortable attribute"
            )));
        }
        Ok(SortSpec { by: path, order })
    }

    /// Orders two resources of type `rt` (see the module docs).
    pub fn compare(&self, rt: &ResourceType, a: &Value, b: &Value) -> Ordering {
        self.compare_across((rt, a), (rt, b))
    }

    /// Orders two resources that may be of different types, as a search
    /// across resource types merges them: each is keyed by its own type (an
    /// attribute its type lacks is a missing value), then as `compare`.
    pub fn compare_across(&self, (rt_a, a): (&ResourceType, &Value), (rt_b, b): (&ResourceType, &Value)) -> Ordering {
        let ka = sort_key(rt_a, &self.by, a);
        let kb = sort_key(rt_b, &self.by, b);
        let by_value = match (&ka, &kb) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        let by_value = match self.order {
            SortOrder::Ascending => by_value,
            SortOrder::Descending => by_value.reverse(),
        };
        by_value.then_with(|| id_of(a).cmp(id_of(b)))
    }
}

fn id_of(doc: &Value) -> &str {
    doc.get("id").and_then(Value::as_str).unwrap_or("")
}

/// The definition whose values are compared: the attribute itself, or the
/// `value` sub-attribute of a complex attribute named without one.
fn key_def<'a>(a: &AttrRef<'a>) -> Option<&'a crate::schema::AttributeDef> {
    let def = a.target();
    if def.is_complex() {
        def.value_sub_attribute()
    } else {
        Some(def)
    }
}

/// A comparable sort key. Variants of different kinds (only possible with
/// inconsistent data) order by kind.
#[derive(Debug, Clone)]
pub enum SortKey {
    Bool(bool),
    Number(f64),
    Time(i64, u32),
    Text(String),
}

impl SortKey {
    fn rank(&self) -> u8 {
        match self {
            SortKey::Bool(_) => 0,
            SortKey::Number(_) => 1,
            SortKey::Time(..) => 2,
            SortKey::Text(_) => 3,
        }
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (SortKey::Bool(a), SortKey::Bool(b)) => a.cmp(b),
            (SortKey::Number(a), SortKey::Number(b)) => a.total_cmp(b),
            (SortKey::Time(s1, n1), SortKey::Time(s2, n2)) => (s1, n1).cmp(&(s2, n2)),
            (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SortKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SortKey {}

/// The sort key of `doc` for `path`, or `None` when it has no value.
pub fn sort_key(rt: &ResourceType, path: &AttrPath, doc: &Value) -> Option<SortKey> {
    let a = rt.resolve_attr(path)?;
    let def = key_def(&a)?;
    let container = match a.container {
        Container::Top => doc,
        Container::Extension(urn) => doc.get(urn)?,
    };
    let attr_value = container.get(&a.attr.name)?;
    // The element of a multi-valued attribute: the primary one, else the first.
    let element = match attr_value {
        Value::Array(items) => items
            .iter()
            .find(|v| v.get("primary") == Some(&Value::Bool(true)))
            .or_else(|| items.first())?,
        v => v,
    };
    let leaf = if a.attr.is_complex() {
        element.get(&def.name)?
    } else {
        element
    };
    key_of(def.kind, def.case_exact, leaf)
}

fn key_of(kind: AttrType, case_exact: bool, v: &Value) -> Option<SortKey> {
    match (kind, v) {
        (AttrType::Boolean, Value::Bool(b)) => Some(SortKey::Bool(*b)),
        (AttrType::Integer | AttrType::Decimal, Value::Number(n)) => n.as_f64().map(SortKey::Number),
        (AttrType::DateTime, Value::String(s)) => match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => Some(SortKey::Time(t.timestamp(), t.timestamp_subsec_nanos())),
            Err(_) => Some(SortKey::Text(s.clone())),
        },
        (_, Value::String(s)) if s.is_empty() => None,
        (_, Value::String(s)) if case_exact => Some(SortKey::Text(s.clone())),
        (_, Value::String(s)) => Some(SortKey::Text(s.to_lowercase())),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
