//! Whether the default projection leaves a stored document as it is,
//! decided on its JSON text without building a `Value`: the same rules as
//! `Projection::apply_owned` under no `attributes`/`excludedAttributes`
//! (`project_member`, `keep_attr`, `project_attr`), for renderers that copy
//! stored text instead of projecting it (the server's list pages). A test
//! holds the two to the same answer.

use crate::schema::{AttributeDef, ResourceType, Returned, Schema};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// The top-level members of `doc` (a resource of type `rt`, as JSON text),
/// borrowed from it, when `Projection::default().apply_owned` would return
/// the document unchanged: every name spelled as the schema spells it and
/// given once, no unknown member or sub-attribute, nothing `returned:
/// never` or `request`, no empty or scalar complex value. `None` otherwise,
/// or when `doc` is not a JSON object or writes a name with escapes.
pub fn unchanged_by_default<'a>(rt: &ResourceType, doc: &'a str) -> Option<Vec<(&'a str, &'a RawValue)>> {
    let members = top_level(doc)?;
    // A repeated name is one member in a `Value` (the last value wins).
    let repeated = members
        .iter()
        .enumerate()
        .any(|(i, (key, _))| members[..i].iter().any(|(k, _)| k == key));
    if repeated || !members.iter().all(|(key, raw)| unchanged_member(rt, key, raw)) {
        return None;
    }
    Some(members)
}

/// The top-level members of a stored document, borrowed from its text;
/// `None` if it is not a JSON object, or a name is written with escapes.
fn top_level(doc: &str) -> Option<Vec<(&str, &RawValue)>> {
    struct Members;
    impl<'de> Visitor<'de> for Members {
        type Value = Vec<(&'de str, &'de RawValue)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(map.size_hint().unwrap_or(12));
            while let Some(entry) = map.next_entry::<&str, &RawValue>()? {
                out.push(entry);
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(doc);
    let members = de.deserialize_map(Members).ok()?;
    de.end().ok()?;
    Some(members)
}

/// Whether the default projection leaves this top-level member as it is
/// (`Projection::apply_owned`, `project_member`).
fn unchanged_member(rt: &ResourceType, key: &str, raw: &RawValue) -> bool {
    if key == "schemas" {
        return true;
    }
    if let Some(ext) = rt.extension(key) {
        return ext.id == key && unchanged_extension(ext, raw);
    }
    match rt.common().attribute(key).or_else(|| rt.core.attribute(key)) {
        Some(def) => def.name == key && unchanged_attr(def, raw),
        None => false,
    }
}

/// An extension object: every member a canonically spelled attribute of
/// the extension that is itself unchanged, and at least one.
fn unchanged_extension(ext: &Schema, raw: &RawValue) -> bool {
    match top_level(raw.get()) {
        Some(members) => {
            !members.is_empty()
                && members.iter().all(|(name, v)| {
                    ext.attribute(name)
                        .is_some_and(|def| def.name == *name && unchanged_attr(def, v))
                })
        }
        None => false,
    }
}

/// One attribute under the default projection (`project_attr`): dropped
/// if `never` or `request`; kept as it is if simple or `always`; a complex
/// value only if it (or each element, at least one) is a non-empty object
/// of sub-attributes that are all kept.
fn unchanged_attr(def: &AttributeDef, raw: &RawValue) -> bool {
    match def.returned {
        Returned::Never | Returned::Request => false,
        Returned::Always => true,
        Returned::Default if !def.is_complex() => true,
        Returned::Default => {
            let mut de = serde_json::Deserializer::from_str(raw.get());
            de.deserialize_any(ComplexValue { def, element: false })
                .unwrap_or(false)
        }
    }
}

/// A complex value, or an array of them (`element: false`), or one
/// element of such an array (`element: true`), checked without building it:
/// `true` when it is kept whole.
struct ComplexValue<'a> {
    def: &'a AttributeDef,
    element: bool,
}

impl<'de> DeserializeSeed<'de> for ComplexValue<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<bool, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ComplexValue<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a complex value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        kept_whole(self.def, map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        // An array inside an array is dropped by the projection.
        let mut any = false;
        let mut all = !self.element;
        while let Some(kept) = seq.next_element_seed(ComplexValue {
            def: self.def,
            element: true,
        })? {
            any = true;
            all &= kept;
        }
        Ok(any && all)
    }
    // Scalars where an object belongs: the projection drops them.
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// `kept_whole` of `project_attr`: a non-empty object whose every name is
/// a sub-attribute the default projection keeps (matched as it matches
/// them, case-insensitively). The values are skipped, not built; a name
/// written with escapes is an error, so the caller falls back.
fn kept_whole<'de, A: MapAccess<'de>>(def: &AttributeDef, mut map: A) -> Result<bool, A::Error> {
    let mut any = false;
    let mut all = true;
    while let Some(name) = map.next_key::<&'de str>()? {
        map.next_value::<IgnoredAny>()?;
        any = true;
        all &= def
            .sub_attribute(name)
            .is_some_and(|sub| matches!(sub.returned, Returned::Always | Returned::Default));
    }
    Ok(any && all)
}
