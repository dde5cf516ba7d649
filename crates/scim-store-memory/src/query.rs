//! `query`: filter with the reference evaluator, sort with the reference
//! comparator, then page by index or by keyset position.

use crate::state::{Resource, TenantData};
use scim_core::filter;
use scim_core::schema::{Container, ResourceType};
use scim_core::sort::SortSpec;
use scim_store::{Kind, Page, Position, Query, StoreError};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::cmp::Ordering;

/// One match: id, resource, and the document filters and sorts look at.
type Hit<'a> = (&'a String, &'a Resource, Cow<'a, Value>);

pub(crate) fn run(t: &TenantData, rt: &ResourceType, kind: Kind, query: &Query, max: u32) -> Result<Page, StoreError> {
    let mut hits: Vec<Hit<'_>> = Vec::new();
    for (id, r) in t.resources(kind) {
        // The contract's document is `to_resource` with a group's members;
        // only a group that has members differs from the cached rendering.
        let doc = if kind == Kind::Group && t.members.contains_key(id) {
            Cow::Owned(t.stored(kind, id, r, true).to_resource())
        } else {
            Cow::Borrowed(&r.rendered)
        };
        if query.filter.as_ref().is_none_or(|f| filter::matches(f, rt, &doc)) {
            hits.push((id, r, doc));
        }
    }
    if let Some(spec) = &query.sort {
        hits.sort_by(|a, b| spec.compare(rt, &a.2, &b.2));
    }
    // Without a sort the map order is already id order.
    let total = hits.len() as u64;
    let count = query.count.min(u64::from(max)) as usize;
    let page: Vec<Hit<'_>> = match &query.after {
        Some(pos) => {
            let position = query.sort.as_ref().map(|spec| position_doc(rt, spec, pos));
            let after = |hit: &Hit<'_>| match (&query.sort, &position) {
                (Some(spec), Some(p)) => spec.compare(rt, &hit.2, p) == Ordering::Greater,
                _ => hit.0.as_str() > pos.id.as_str(),
            };
            hits.into_iter().filter(after).take(count).collect()
        }
        None => {
            let skip = query.start_index.max(1) - 1;
            hits.into_iter()
                .skip(usize::try_from(skip).unwrap_or(usize::MAX))
                .take(count)
                .collect()
        }
    };
    let items = page
        .into_iter()
        .map(|(id, r, _)| t.stored(kind, id, r, query.load.members))
        .collect();
    Ok(Page { total, items })
}

/// A document that sorts exactly where `pos` is: its id, and its key placed
/// where `spec.by` reads it. Comparing against it with the reference
/// comparator gives keyset paging the very order of the sorted list.
fn position_doc(rt: &ResourceType, spec: &SortSpec, pos: &Position) -> Value {
    let mut doc = Map::new();
    if let Some(a) = rt.resolve_attr(&spec.by) {
        // A complex attribute named without a sub-attribute sorts by `value`.
        let leaf = match (a.sub, a.attr.is_complex()) {
            (Some(sub), _) => Some(sub.name.clone()),
            (None, true) => a.attr.value_sub_attribute().map(|v| v.name.clone()),
            (None, false) => None,
        };
        let value = match leaf {
            Some(leaf) => {
                let mut o = Map::new();
                o.insert(leaf, pos.key.clone());
                Value::Object(o)
            }
            None => pos.key.clone(),
        };
        match a.container {
            Container::Top => {
                doc.insert(a.attr.name.clone(), value);
            }
            Container::Extension(urn) => {
                let mut o = Map::new();
                o.insert(a.attr.name.clone(), value);
                doc.insert(urn.to_string(), Value::Object(o));
            }
        }
    }
    // Last, so a sort by `id` itself keeps the position's id.
    doc.insert("id".into(), Value::String(pos.id.clone()));
    Value::Object(doc)
}
