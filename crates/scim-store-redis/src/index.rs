//! The indexes: which keys a document is listed under, and which of them an
//! equality filter can be answered from.
//!
//! Indexed: `id` (the resource key itself), User `userName` (the unique
//! key), `externalId`, `displayName`, User `emails` values, and Group
//! `members` values (the member->groups sets). An indexed `eq` gives a
//! superset of its matches (values are folded even for caseExact
//! attributes); `and` intersects the indexed conjuncts, `or` unites
//! branches that are all indexed. The query then runs
//! `scim_core::filter::matches` on every candidate, so the result is
//! exactly the reference evaluator's.

use crate::error::{Error, Result};
use crate::keys;
use scim_core::filter::{CompValue, CompareOp, Filter};
use scim_core::path::AttrPath;
use scim_core::schema::{Container, ResourceType};
use scim_store::{Kind, StoreError};
use serde_json::Value;
use std::collections::BTreeSet;

/// The unique key suffix of a user document.
pub(crate) fn user_name_key(doc: &Value) -> Result<String> {
    doc.get("userName")
        .and_then(Value::as_str)
        .map(keys::user_name)
        .ok_or_else(|| Error::Store(StoreError::InvalidValue("a user needs a 'userName' string".into())))
}

/// The index set suffixes a document is listed under, each once.
pub(crate) fn terms(kind: Kind, doc: &Value) -> Vec<String> {
    let mut out = BTreeSet::new();
    for attr in ["externalId", "displayName"] {
        for v in flat_strings(member(doc, attr)) {
            out.insert(keys::index(kind, attr, v));
        }
    }
    if kind == Kind::User {
        for element in elements(member(doc, "emails")) {
            for v in flat_strings(member(element, "value")) {
                out.insert(keys::index(kind, "emails", v));
            }
        }
    }
    out.into_iter().collect()
}

/// A member by its canonical name, else case-insensitively: where the
/// evaluator looks, so the index sees the values filters see.
fn member<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    let o = v.as_object()?;
    o.get(name)
        .or_else(|| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// The elements of a multi-valued attribute, or the single value.
fn elements(v: Option<&Value>) -> Vec<&Value> {
    match v {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
    }
}

/// The strings among a value flattened one level, as the evaluator does.
fn flat_strings(v: Option<&Value>) -> Vec<&str> {
    elements(v).into_iter().filter_map(Value::as_str).collect()
}

/// How to find the candidates of a filter from the indexes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lookup {
    /// These ids, literally (`id eq`).
    Ids(Vec<String>),
    /// The members of an index set.
    Set(String),
    /// The value of a unique key (`userName eq`).
    Key(String),
    And(Vec<Lookup>),
    Or(Vec<Lookup>),
}

impl Lookup {
    /// Every read, as (type, value) pairs for `lookup.lua`.
    pub(crate) fn reads<'a>(&'a self, out: &mut Vec<(&'static str, &'a str)>) {
        match self {
            Lookup::Ids(ids) => out.extend(ids.iter().map(|id| ("id", id.as_str()))),
            Lookup::Set(s) => out.push(("set", s)),
            Lookup::Key(k) => out.push(("key", k)),
            Lookup::And(parts) | Lookup::Or(parts) => parts.iter().for_each(|p| p.reads(out)),
        }
    }

    /// The candidates, given the ids each read returned (in `reads` order).
    pub(crate) fn resolve(&self, results: &mut std::vec::IntoIter<Vec<String>>) -> BTreeSet<String> {
        match self {
            // Each literal id was one read, answered with itself.
            Lookup::Ids(ids) => ids.iter().flat_map(|_| results.next().unwrap_or_default()).collect(),
            Lookup::Set(_) | Lookup::Key(_) => results.next().unwrap_or_default().into_iter().collect(),
            Lookup::And(parts) => {
                // Every part consumes its reads, so resolve them all first.
                let sets: Vec<BTreeSet<String>> = parts.iter().map(|p| p.resolve(results)).collect();
                let mut iter = sets.into_iter();
                let first = iter.next().unwrap_or_default();
                iter.fold(first, |acc, s| acc.intersection(&s).cloned().collect())
            }
            Lookup::Or(parts) => parts.iter().flat_map(|p| p.resolve(results)).collect(),
        }
    }
}

/// The index lookup that gives a superset of `filter`'s matches, or `None`
/// when no index answers it (the query then scans).
pub(crate) fn plan(filter: &Filter, rt: &ResourceType, kind: Kind) -> Option<Lookup> {
    match filter {
        Filter::Compare(path, CompareOp::Eq, CompValue::String(v)) => equality(path, v, rt, kind),
        Filter::And(..) => {
            let parts: Vec<Lookup> = conjuncts(filter).filter_map(|f| plan(f, rt, kind)).collect();
            (!parts.is_empty()).then(|| single_or(parts, Lookup::And))
        }
        Filter::Or(a, b) => {
            let parts = vec![plan(a, rt, kind)?, plan(b, rt, kind)?];
            Some(Lookup::Or(parts))
        }
        Filter::ValuePath(path, inner) => {
            let attr = top_attr(path, rt)?;
            let indexed = match (kind, attr) {
                (Kind::User, "emails") | (Kind::Group, "members") => attr,
                _ => return None,
            };
            // `emails[type eq "work" and value eq "x"]`: some element has that
            // value, so the value's index holds every match.
            conjuncts(inner).find_map(|f| match f {
                Filter::Compare(p, CompareOp::Eq, CompValue::String(v))
                    if p.urn.is_none() && p.sub.is_none() && p.name.eq_ignore_ascii_case("value") =>
                {
                    Some(value_lookup(kind, indexed, v))
                }
                _ => None,
            })
        }
        _ => None,
    }
}

fn single_or(mut parts: Vec<Lookup>, wrap: fn(Vec<Lookup>) -> Lookup) -> Lookup {
    if parts.len() == 1 { parts.remove(0) } else { wrap(parts) }
}

/// The operands of a chain of `and`s.
fn conjuncts(filter: &Filter) -> Box<dyn Iterator<Item = &Filter> + '_> {
    match filter {
        Filter::And(a, b) => Box::new(conjuncts(a).chain(conjuncts(b))),
        other => Box::new(std::iter::once(other)),
    }
}

/// The canonical name of a top-level (core or common) attribute `path`
/// names, for the indexed ones.
fn top_attr<'a>(path: &AttrPath, rt: &'a ResourceType) -> Option<&'a str> {
    let r = rt.resolve_attr(path)?;
    (r.container == Container::Top).then_some(r.attr.name.as_str())
}

fn equality(path: &AttrPath, v: &str, rt: &ResourceType, kind: Kind) -> Option<Lookup> {
    let r = rt.resolve_attr(path)?;
    if r.container != Container::Top {
        return None;
    }
    let sub = r.sub.map(|s| s.name.as_str());
    match (kind, r.attr.name.as_str(), sub) {
        // Ids are lower-case UUIDs; the lower-cased operand covers an id
        // attribute compared case-insensitively too.
        (_, "id", None) => {
            let mut ids = vec![v.to_string()];
            if v.to_lowercase() != v {
                ids.push(v.to_lowercase());
            }
            Some(Lookup::Ids(ids))
        }
        (Kind::User, "userName", None) => Some(Lookup::Key(keys::user_name(v))),
        (_, attr @ ("externalId" | "displayName"), None) => Some(Lookup::Set(keys::index(kind, attr, v))),
        (Kind::User, "emails", None | Some("value")) => Some(value_lookup(kind, "emails", v)),
        (Kind::Group, "members", None | Some("value")) => Some(value_lookup(kind, "members", v)),
        _ => None,
    }
}

fn value_lookup(kind: Kind, attr: &str, v: &str) -> Lookup {
    match attr {
        // The groups a member id belongs to. Member ids are lower-case
        // UUIDs of existing resources, so the folded operand finds them
        // however the attribute compares.
        "members" => Lookup::Set(keys::member_of(&v.to_lowercase())),
        _ => Lookup::Set(keys::index(kind, attr, v)),
    }
}

/// Whether `filter` reads any of the top-level attributes `names`: `members`
/// (which then have to be loaded for evaluation), or the attributes only
/// the rendered resource has (`id`, `meta`).
pub(crate) fn mentions(filter: &Filter, rt: &ResourceType, names: &[&str]) -> bool {
    match filter {
        Filter::And(a, b) | Filter::Or(a, b) => mentions(a, rt, names) || mentions(b, rt, names),
        Filter::Not(inner) => mentions(inner, rt, names),
        Filter::Present(p) | Filter::Compare(p, _, _) | Filter::ValuePath(p, _) => path_is(p, rt, names),
    }
}

/// Whether `path` names one of the top-level attributes `names`.
pub(crate) fn path_is(path: &AttrPath, rt: &ResourceType, names: &[&str]) -> bool {
    top_attr(path, rt).is_some_and(|a| names.contains(&a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use scim_core::filter::{FilterLimits, parse};
    use scim_core::schema::Registry;
    use serde_json::json;

    fn lookup(kind: Kind, text: &str) -> Option<Lookup> {
        let registry = Registry::builtin();
        let rt = match kind {
            Kind::User => registry.user(),
            Kind::Group => registry.group(),
        };
        plan(&parse(text, &FilterLimits::default()).unwrap(), rt, kind)
    }

    #[test]
    fn idp_equality_filters_are_indexed() {
        let set = |s: &str| Lookup::Set(s.to_string());
        assert_eq!(
            lookup(Kind::User, "userName eq \"Ada\""),
            Some(Lookup::Key("username:ada".into()))
        );
        assert_eq!(
            lookup(
                Kind::User,
                "urn:ietf:params:scim:schemas:core:2.0:User:USERNAME eq \"x\""
            ),
            Some(Lookup::Key("username:x".into()))
        );
        assert_eq!(
            lookup(Kind::User, "externalId eq \"E-1\""),
            Some(set("ix:user:externalId:e-1"))
        );
        assert_eq!(
            lookup(Kind::User, "emails[type eq \"work\"].value eq \"A@x\""),
            Some(set("ix:user:emails:a@x"))
        );
        assert_eq!(lookup(Kind::User, "emails eq \"a@x\""), Some(set("ix:user:emails:a@x")));
        assert_eq!(
            lookup(Kind::Group, "displayName eq \"Sales\""),
            Some(set("ix:group:displayName:sales"))
        );
        assert_eq!(lookup(Kind::Group, "members.value eq \"M\""), Some(set("memberof:m")));
        assert_eq!(
            lookup(Kind::User, "id eq \"a\" and title pr"),
            Some(Lookup::Ids(vec!["a".into()]))
        );
        assert_eq!(
            lookup(Kind::User, "userName eq \"a\" or externalId eq \"b\""),
            Some(Lookup::Or(vec![
                Lookup::Key("username:a".into()),
                set("ix:user:externalId:b")
            ]))
        );
    }

    #[test]
    fn everything_else_scans() {
        for f in [
            "userName ne \"a\"",
            "userName sw \"a\"",
            "title eq \"a\"",
            "not (userName eq \"a\")",
            "userName eq \"a\" or title pr",
            "displayName eq null",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName eq \"x\"",
            "emails[type eq \"work\"]",
            "emails.type eq \"work\"",
        ] {
            assert_eq!(lookup(Kind::User, f), None, "{f}");
        }
        assert_eq!(lookup(Kind::Group, "userName eq \"a\""), None);
    }

    #[test]
    fn documents_are_listed_under_folded_values() {
        let doc = json!({"userName": "u", "externalId": "E", "displayName": "Ada",
            "emails": [{"value": "A@x"}, {"value": "a@X"}, {"type": "work"}]});
        assert_eq!(
            terms(Kind::User, &doc),
            vec!["ix:user:displayName:ada", "ix:user:emails:a@x", "ix:user:externalId:e"]
        );
        assert_eq!(
            terms(Kind::Group, &json!({"displayName": "G"})),
            vec!["ix:group:displayName:g"]
        );
        assert_eq!(user_name_key(&doc).unwrap(), "username:u");
        assert!(user_name_key(&json!({})).is_err());
    }
}
