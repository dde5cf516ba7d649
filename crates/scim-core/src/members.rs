//! Group membership as data apart from the group document.
//!
//! A group's `members` can be huge (100,000 users), so stores keep them in a
//! membership table, not inside the document, and PATCH produces a
//! [`MemberDelta`] instead of a rewritten member list: adding one member to a
//! large group costs the same as adding one to an empty group.

use crate::error::ScimError;
use serde_json::Value;
use std::collections::BTreeMap;

/// The kind of a member (the `type` sub-attribute of `members`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MemberKind {
    User,
    Group,
}

impl MemberKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberKind::User => "User",
            MemberKind::Group => "Group",
        }
    }

    /// Case-insensitive, as IdPs send `user` and `USER`.
    pub fn parse(s: &str) -> Option<MemberKind> {
        if s.eq_ignore_ascii_case("user") {
            Some(MemberKind::User)
        } else if s.eq_ignore_ascii_case("group") {
            Some(MemberKind::Group)
        } else {
            None
        }
    }
}

/// One member reference: the member's id and, when the client said, its kind.
/// The store checks that the id exists in the tenant and fills in the kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Member {
    pub value: String,
    pub kind: Option<MemberKind>,
}

impl Member {
    pub fn new(value: impl Into<String>) -> Member {
        Member {
            value: value.into(),
            kind: None,
        }
    }

    /// Reads one element of a `members` array (already validated against the
    /// schema, so `value` is a string when present).
    pub fn from_json(v: &Value) -> Result<Member, ScimError> {
        let value = v
            .get("value")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ScimError::invalid_value("each member needs a non-empty 'value' (the member's id)"))?;
        let kind =
            match v.get("type").and_then(Value::as_str) {
                None => None,
                Some(t) => Some(MemberKind::parse(t).ok_or_else(|| {
                    ScimError::invalid_value(format!("member type '{t}' is neither 'User' nor 'Group'"))
                })?),
            };
        Ok(Member {
            value: value.to_string(),
            kind,
        })
    }

    /// Reads a whole `members` value (array, or one object).
    pub fn list_from_json(v: &Value) -> Result<Vec<Member>, ScimError> {
        match v {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items.iter().map(Member::from_json).collect(),
            other => Ok(vec![Member::from_json(other)?]),
        }
    }
}

/// The membership part of a change. Applied by a store as: if `replace_all`,
/// remove every current member; then remove `remove`; then add `add`
/// (adding a present member and removing an absent one are no-ops).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberDelta {
    pub replace_all: bool,
    /// Members to add, keyed by id.
    pub add: BTreeMap<String, Member>,
    /// Ids to remove.
    pub remove: std::collections::BTreeSet<String>,
}

impl MemberDelta {
    /// True when applying this delta changes nothing.
    pub fn is_empty(&self) -> bool {
        !self.replace_all && self.add.is_empty() && self.remove.is_empty()
    }

    /// Composes "then add these" onto the delta.
    pub fn add(&mut self, members: impl IntoIterator<Item = Member>) {
        for m in members {
            self.remove.remove(&m.value);
            self.add.insert(m.value.clone(), m);
        }
    }

    /// Composes "then remove these ids" onto the delta.
    pub fn remove<S: Into<String>>(&mut self, ids: impl IntoIterator<Item = S>) {
        for id in ids {
            let id = id.into();
            self.add.remove(&id);
            if !self.replace_all {
                self.remove.insert(id);
            }
        }
    }

    /// Composes "then the members are exactly these" onto the delta.
    pub fn replace_all(&mut self, members: impl IntoIterator<Item = Member>) {
        self.replace_all = true;
        self.remove.clear();
        self.add.clear();
        self.add(members);
    }

    /// Applies the delta to a full member list (what the memory store and the
    /// tests use; SQL stores translate the same rules into statements).
    pub fn apply_to(&self, current: &mut Vec<Member>) {
        if self.replace_all {
            current.clear();
        }
        current.retain(|m| !self.remove.contains(&m.value));
        for m in self.add.values() {
            if !current.iter().any(|c| c.value == m.value) {
                current.push(m.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[Member]) -> Vec<&str> {
        list.iter().map(|m| m.value.as_str()).collect()
    }

    #[test]
    fn add_then_remove_cancels_and_remove_then_add_adds() {
        let mut d = MemberDelta::default();
        d.add([Member::new("a")]);
        d.remove(["a"]);
        assert!(d.add.is_empty());
        assert!(d.remove.contains("a"));
        d.add([Member::new("a")]);
        assert!(d.remove.is_empty());
        assert!(d.add.contains_key("a"));
    }

    #[test]
    fn replace_all_then_remove_leaves_only_the_rest() {
        let mut d = MemberDelta::default();
        d.replace_all([Member::new("a"), Member::new("b")]);
        d.remove(["a"]);
        let mut current = vec![Member::new("x")];
        d.apply_to(&mut current);
        assert_eq!(ids(&current), ["b"]);
    }

    #[test]
    fn apply_is_idempotent_for_present_and_absent_members() {
        let mut d = MemberDelta::default();
        d.add([Member::new("a")]);
        d.remove(["zzz"]);
        let mut current = vec![Member::new("a"), Member::new("b")];
        d.apply_to(&mut current);
        assert_eq!(ids(&current), ["a", "b"]);
    }

    #[test]
    fn member_parsing_accepts_any_type_case_and_rejects_empty_values() {
        let m = Member::from_json(&serde_json::json!({"value": "1", "type": "user"})).unwrap();
        assert_eq!(m.kind, Some(MemberKind::User));
        assert_eq!(
            Member::from_json(&serde_json::json!({"value": ""})).unwrap_err().status,
            400
        );
        assert!(Member::from_json(&serde_json::json!({"value": "1", "type": "robot"})).is_err());
    }
}
