//! Group membership operations as a [`MemberDelta`].
//!
//! The common operations (add members, remove by id, replace or empty the
//! list) need no knowledge of the current members, so they compose onto the
//! delta directly and cost the same on a group of 10 or 100,000. Anything
//! else (a filter on `type`, a sub-attribute, replace of selected members)
//! materialises the member list, runs the generic engine on it, and turns
//! the difference into the delta; without the list that is
//! [`PatchError::NeedsMembers`].

use super::engine::{self, Target};
use super::{PatchError, PatchOpKind, Patcher, select};
use crate::error::ScimError;
use crate::members::Member;
use crate::schema::AttributeDef;
use crate::validate::coerce_single;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

impl Patcher<'_> {
    pub(super) fn members_operation(
        &mut self,
        kind: PatchOpKind,
        t: &Target<'_>,
        value: Option<&Value>,
    ) -> Result<(), PatchError> {
        match (kind, t.filter, t.sub) {
            // §3.5.2.1 "add members".
            (PatchOpKind::Add, None, None) => {
                let list = member_values(t.attr, value, t.text)?;
                self.delta.add(list);
            }
            // §3.5.2.3 "replace members"; `[]` or null empties the group.
            (PatchOpKind::Replace, None, None) => {
                let list = member_values(t.attr, value, t.text)?;
                self.delta.replace_all(list);
            }
            // §3.5.2.2 "remove all members"; with a `value` list (Entra's
            // form) only the listed members.
            (PatchOpKind::Remove, None, None) => match value {
                None | Some(Value::Null) => self.delta.replace_all(Vec::new()),
                Some(v) => {
                    let list = member_values(t.attr, Some(v), t.text)?;
                    self.delta.remove(list.into_iter().map(|m| m.value));
                }
            },
            // §3.5.2.2 "remove members[value eq ...]": removing an id that is
            // not a member is no change, so the list is not needed.
            (PatchOpKind::Remove, Some(f), None) if select::value_ids(f).is_some() => {
                let ids = select::value_ids(f).unwrap_or_default();
                self.delta.remove(ids);
            }
            _ => self.members_with_list(kind, t, value)?,
        }
        Ok(())
    }

    /// The general case: the engine applied to the materialised list.
    fn members_with_list(
        &mut self,
        kind: PatchOpKind,
        t: &Target<'_>,
        value: Option<&Value>,
    ) -> Result<(), PatchError> {
        let Some(stored) = self.members else {
            return Err(PatchError::NeedsMembers);
        };
        let mut working = stored.to_vec();
        self.delta.apply_to(&mut working);
        let before: Vec<Value> = working.iter().map(member_json).collect();
        let before = if before.is_empty() {
            None
        } else {
            Some(Value::Array(before))
        };
        // Members are references: a filter that selects no member does not
        // create one (that is what `add members` is for).
        let t = Target { create: false, ..*t };
        let after = engine::apply_to_attr(kind, &t, before.as_ref(), value)?;
        let after = Member::list_from_json(after.as_ref().unwrap_or(&Value::Null))?;
        let old_ids: BTreeSet<&str> = working.iter().map(|m| m.value.as_str()).collect();
        let new_ids: BTreeSet<&str> = after.iter().map(|m| m.value.as_str()).collect();
        let removed: Vec<String> = old_ids.difference(&new_ids).map(|s| s.to_string()).collect();
        let added: Vec<Member> = after
            .iter()
            .filter(|m| !old_ids.contains(m.value.as_str()))
            .cloned()
            .collect();
        self.delta.remove(removed);
        self.delta.add(added);
        Ok(())
    }
}

/// A member as the JSON value filters see: `value` and, when known, `type`.
fn member_json(m: &Member) -> Value {
    let mut obj = Map::new();
    obj.insert("value".into(), Value::String(m.value.clone()));
    if let Some(kind) = m.kind {
        obj.insert("type".into(), Value::String(kind.as_str().into()));
    }
    Value::Object(obj)
}

/// The members listed in an operation's value: an array, one object, or
/// bare ids. Each is coerced against the `members` definition (unknown
/// sub-attributes and wrong types are invalidValue, readOnly `display` is
/// ignored) and needs a non-empty `value`.
fn member_values(attr: &AttributeDef, value: Option<&Value>, path: &str) -> Result<Vec<Member>, ScimError> {
    let items: &[Value] = match value {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(one) => std::slice::from_ref(one),
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let coerced = coerce_single(attr, item, &format!("{path}[{i}]"))?.ok_or_else(|| {
            ScimError::invalid_value(format!(
                "'{path}[{i}]': each member needs a non-empty 'value' (the member's id)"
            ))
        })?;
        out.push(Member::from_json(&coerced)?);
    }
    Ok(out)
}
