//! Sorting in SQL, exactly as `SortSpec::compare`: one key expression per
//! row whose SQL order is `SortKey`'s order, then ties by id.
//!
//! `sort_key` reads the attribute with exact key lookups, takes the primary
//! (else the first) element of an array, then the named sub-attribute (or
//! `value` of a complex attribute), and makes a key by the attribute's type:
//! - boolean: a JSON boolean, as `boolean` (false < true);
//! - integer, decimal: a JSON number, as `float8` (`as_f64`);
//! - dateTime: a string, as `'2' || scim_time_key(..)` when RFC 3339, else
//!   `'3' || text` (time keys rank before text keys, as `SortKey` ranks);
//! - others: a non-empty string, folded unless caseExact;
//!
//! anything else has no key. Text keys compare in byte order (`COLLATE
//! "C"`). `ORDER BY sk IS NULL, sk, id` ascending (missing last) and `sk IS
//! NULL DESC, sk DESC, id` descending (the exact reverse, ties still by id).

use crate::filter::{DOC, FOLD, VERSION_SQL, is_common, member_column};
use crate::sql::{Param, Sql};
use scim_core::schema::{AttrType, Container, ResourceType};
use scim_core::sort::{SortKey, SortOrder, SortSpec, sort_key};
use scim_store::{Kind, Position};
use serde_json::{Map, Value};

/// The SQL type a key expression has, which decides how a position's key
/// is bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyType {
    Text,
    Time,
    Bool,
    Float,
}

/// The key expression of a sort (over `resources r`), and its type.
#[derive(Debug)]
pub(crate) struct SortKeySql {
    pub(crate) expr: String,
    pub(crate) ty: KeyType,
}

/// The key of `spec` for each row. `NULL` for every row when the attribute
/// does not resolve (the order is then by id, as the comparator's).
pub(crate) fn key_sql(rt: &ResourceType, kind: Kind, spec: &SortSpec, sql: &mut Sql) -> SortKeySql {
    let text = |expr: String| SortKeySql {
        expr: format!("({expr}) COLLATE \"C\""),
        ty: KeyType::Text,
    };
    let fold = |expr: String, case_exact: bool| {
        if case_exact {
            expr
        } else {
            format!("lower({expr} COLLATE \"C\")")
        }
    };
    let Some(a) = rt.resolve_attr(&spec.by) else {
        return text("NULL::text".into());
    };
    let def = match a.target().value_sub_attribute() {
        Some(v) if a.target().is_complex() => v,
        _ => a.target(),
    };
    if is_common(rt, &a) {
        match (a.attr.name.as_str(), a.sub.map(|s| s.name.as_str())) {
            ("id", None) => return text("r.id::text".into()),
            ("meta", Some("created")) => return time_of_column("r.created"),
            ("meta", Some("lastModified")) => return time_of_column("r.modified"),
            ("meta", Some("resourceType")) => return text(fold("r.kind".into(), def.case_exact)),
            ("meta", Some("version")) => return text(fold(VERSION_SQL.into(), def.case_exact)),
            ("meta", _) | ("id", _) => return text("NULL::text".into()),
            _ => {}
        }
    }
    if kind == Kind::Group && a.container == Container::Top && a.attr.name == "members" {
        // Members come in id order and are never primary: the first decides.
        let column = member_column(&def.name).map(|c| {
            if c == "member_id" {
                "m.member_id::text"
            } else {
                "m.member_kind"
            }
        });
        return match column {
            Some(c) => text(fold(
                format!(
                    "(SELECT {c} FROM memberships m WHERE m.tenant = r.tenant AND m.group_id = r.id ORDER BY m.member_id LIMIT 1)"
                ),
                def.case_exact,
            )),
            None => text("NULL::text".into()),
        };
    }
    let mut steps = Vec::new();
    if let Container::Extension(urn) = a.container {
        steps.push(sql.bind(urn));
    }
    steps.push(sql.bind(a.attr.name.as_str()));
    let leaf_name = a.attr.is_complex().then(|| sql.bind(def.name.as_str()));
    let root = match def.kind {
        AttrType::String | AttrType::Reference | AttrType::Binary if !def.case_exact => FOLD,
        _ => DOC,
    };
    let attr = format!("({root} -> {})", steps.join(" -> "));
    // The primary element, else the first: the same index in both
    // documents (folding changes no `primary`).
    let element = format!(
        "(CASE WHEN jsonb_typeof({attr}) = 'array' THEN {attr} -> COALESCE((SELECT (e.n - 1)::int \
         FROM jsonb_array_elements({attr}) WITH ORDINALITY AS e(v, n) WHERE e.v -> 'primary' = 'true'::jsonb \
         ORDER BY e.n LIMIT 1), 0) ELSE {attr} END)"
    );
    let leaf = match leaf_name {
        Some(name) => format!("({element} -> {name})"),
        None => element,
    };
    // `l` is computed once per row in the scalar subquery.
    let of = |key: &str| format!("(SELECT {key} FROM (SELECT {leaf} AS l) AS k)");
    match def.kind {
        AttrType::Boolean => SortKeySql {
            expr: of("CASE WHEN jsonb_typeof(l) = 'boolean' THEN l::boolean END"),
            ty: KeyType::Bool,
        },
        AttrType::Integer | AttrType::Decimal => SortKeySql {
            expr: of("CASE WHEN jsonb_typeof(l) = 'number' THEN l::float8 END"),
            ty: KeyType::Float,
        },
        AttrType::DateTime => SortKeySql {
            expr: format!(
                "({}) COLLATE \"C\"",
                of(
                    "CASE WHEN jsonb_typeof(l) = 'string' THEN COALESCE('2' || scim_time_key(l #>> '{}'), '3' || (l #>> '{}')) END"
                )
            ),
            ty: KeyType::Time,
        },
        AttrType::String | AttrType::Reference | AttrType::Binary => text(of(
            "CASE WHEN jsonb_typeof(l) = 'string' THEN NULLIF(l #>> '{}', '') END",
        )),
        AttrType::Complex => text("NULL::text".into()),
    }
}

fn time_of_column(column: &str) -> SortKeySql {
    SortKeySql {
        expr: format!("('2' || scim_ts_key({column})) COLLATE \"C\""),
        ty: KeyType::Time,
    }
}

/// How a keyset position compares in SQL.
pub(crate) enum PositionKey {
    /// The position has no key (it sorts with the rows that have none).
    Missing,
    Value(Param),
}

/// The key of `pos` as the sort's SQL computes it for rows, or `None` when
/// its kind does not fit the key's type (only with inconsistent data): the
/// caller then sorts in Rust.
pub(crate) fn position_key(rt: &ResourceType, spec: &SortSpec, ty: KeyType, pos: &Position) -> Option<PositionKey> {
    let Some(key) = sort_key(rt, &spec.by, &position_doc(rt, spec, pos)) else {
        return Some(PositionKey::Missing);
    };
    let param = match (ty, key) {
        (KeyType::Bool, SortKey::Bool(b)) => Param::Bool(b),
        (KeyType::Float, SortKey::Number(n)) => Param::Double(n),
        // The layout of `time_key` (leap seconds keep their nanoseconds).
        (KeyType::Time, SortKey::Time(secs, nanos)) => {
            Param::Text(format!("2{:012}{nanos:010}", secs.saturating_add(100_000_000_000)))
        }
        (KeyType::Time, SortKey::Text(t)) => Param::Text(format!("3{t}")),
        (KeyType::Text, SortKey::Text(t)) => Param::Text(t),
        _ => return None,
    };
    Some(PositionKey::Value(param))
}

/// `ORDER BY` over a subquery `p` with columns `sk` and `id`.
pub(crate) fn order_by(order: SortOrder) -> &'static str {
    match order {
        SortOrder::Ascending => "p.sk IS NULL, p.sk, p.id",
        SortOrder::Descending => "p.sk IS NULL DESC, p.sk DESC, p.id",
    }
}

/// The rows after a position, over subquery `p`: `key` and `id` are the
/// placeholders of the position's key (when it has one) and id text.
pub(crate) fn after(order: SortOrder, key: Option<&str>, id: &str) -> String {
    match (order, key) {
        (SortOrder::Ascending, Some(k)) => {
            format!("(p.sk > {k} OR (p.sk = {k} AND p.id::text COLLATE \"C\" > {id}) OR p.sk IS NULL)")
        }
        (SortOrder::Ascending, None) => format!("(p.sk IS NULL AND p.id::text COLLATE \"C\" > {id})"),
        (SortOrder::Descending, Some(k)) => format!("(p.sk < {k} OR (p.sk = {k} AND p.id::text COLLATE \"C\" > {id}))"),
        (SortOrder::Descending, None) => format!("(p.sk IS NOT NULL OR p.id::text COLLATE \"C\" > {id})"),
    }
}

/// A document that sorts exactly where `pos` is: its key placed where
/// `spec.by` reads it, and its id (as the reference store builds it).
pub(crate) fn position_doc(rt: &ResourceType, spec: &SortSpec, pos: &Position) -> Value {
    let mut doc = Map::new();
    if let Some(a) = rt.resolve_attr(&spec.by) {
        // A complex attribute named without a sub-attribute sorts by `value`.
        let leaf = match (a.sub, a.attr.is_complex()) {
            (Some(sub), _) => Some(sub.name.clone()),
            (None, true) => a.attr.value_sub_attribute().map(|v| v.name.clone()),
            (None, false) => None,
        };
        let value = match leaf {
            Some(leaf) => Value::Object(Map::from_iter([(leaf, pos.key.clone())])),
            None => pos.key.clone(),
        };
        match a.container {
            Container::Top => {
                doc.insert(a.attr.name.clone(), value);
            }
            Container::Extension(urn) => {
                doc.insert(
                    urn.to_string(),
                    Value::Object(Map::from_iter([(a.attr.name.clone(), value)])),
                );
            }
        }
    }
    // Last, so a sort by `id` itself keeps the position's id.
    doc.insert("id".into(), Value::String(pos.id.clone()));
    Value::Object(doc)
}
