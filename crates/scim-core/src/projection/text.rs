//! Whether the default projection leaves a stored document as it is,
//! decided on its JSON text without building a `Value`: the same rules as
//! `Projection::apply_owned` under no `attributes`/`excludedAttributes`
//! (`project_member`, `keep_attr`, `project_attr`), for renderers that copy
//! stored text instead of projecting it (the server's list pages). A test
//! holds the two to the same answer.

use crate::schema::{AttributeDef, ResourceType, Returned, Schema};
use serde::de::{DeserializeSeed, Deserializer, Error, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// The top-level members of `doc` (a resource of type `rt`, as JSON text),
/// when `Projection::default().apply_owned` would return the document
/// unchanged: every name spelled as the schema spells it and given once,
/// no unknown member or sub-attribute, nothing `returned: never` or
/// `request`, no empty or scalar complex value. Each member is its name
/// and its text as written (`"name":value`), borrowed from `doc`. `None`
/// otherwise, or when `doc` is not a JSON object, writes a name with
/// escapes, or does not write its members as serde_json does (space
/// around a colon or comma, say).
///
/// One pass: each value is checked as it is parsed, and the first thing
/// the projection would change ends it.
pub fn unchanged_by_default<'a>(rt: &ResourceType, doc: &'a str) -> Option<Vec<(&'a str, &'a str)>> {
    let mut de = serde_json::Deserializer::from_str(doc);
    let names = de.deserialize_map(TopLevel { rt }).ok()?;
    de.end().ok()?;
    // A repeated name is one member in a `Value` (the last value wins).
    let repeated = names.iter().enumerate().any(|(i, name)| names[..i].contains(name));
    if repeated {
        return None;
    }
    member_texts(doc, &names)
}

/// Each member's text, from its name's opening quote to the comma before
/// the next name (or the closing brace), found from where the borrowed
/// names lie in `doc`. Only members written as serde_json writes them,
/// `"name":value` with nothing around the colon and commas, so that each
/// text is exactly its name and value; `None` otherwise.
fn member_texts<'a>(doc: &'a str, names: &[&'a str]) -> Option<Vec<(&'a str, &'a str)>> {
    let bytes = doc.as_bytes();
    let space = |at: usize| bytes.get(at).is_none_or(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    // The opening quote of each name.
    let starts: Vec<usize> = names
        .iter()
        .map(|name| (name.as_ptr() as usize).checked_sub(doc.as_ptr() as usize + 1))
        .collect::<Option<_>>()?;
    let close = doc.trim_end().len().checked_sub(1)?;
    if bytes.get(close) != Some(&b'}') {
        return None;
    }
    let mut out = Vec::with_capacity(names.len());
    for (i, (name, start)) in names.iter().zip(&starts).enumerate() {
        let before = if i == 0 { b'{' } else { b',' };
        let colon = start + name.len() + 2;
        let end = match starts.get(i + 1) {
            Some(next) => next.checked_sub(1)?,
            None => close,
        };
        let compact = start.checked_sub(1).and_then(|at| bytes.get(at)) == Some(&before)
            && bytes.get(*start) == Some(&b'"')
            && bytes.get(colon - 1) == Some(&b'"')
            && bytes.get(colon) == Some(&b':')
            && !space(colon + 1)
            && !space(end.checked_sub(1)?);
        if !compact {
            return None;
        }
        out.push((*name, doc.get(*start..end)?));
    }
    Some(out)
}

/// Why a pass stops: the default projection would change the document.
fn changed<E: Error>() -> E {
    E::custom("the default projection changes this document")
}

/// The top-level object: its names, each value checked (`Member`).
struct TopLevel<'r> {
    rt: &'r ResourceType,
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = Vec<&'de str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut names = Vec::with_capacity(16);
        while let Some(name) = map.next_key::<&'de str>()? {
            map.next_value_seed(Member { rt: self.rt, name })?;
            names.push(name);
        }
        Ok(names)
    }
}

/// One top-level member's value (`Projection::apply_owned`,
/// `project_member`): `schemas` as it is, an extension's object, or an
/// attribute of the core schema or the common ones.
struct Member<'r> {
    rt: &'r ResourceType,
    name: &'r str,
}

impl<'de> DeserializeSeed<'de> for Member<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        let (rt, name) = (self.rt, self.name);
        if name == "schemas" {
            return de.deserialize_ignored_any(IgnoredAny).map(|_| ());
        }
        if let Some(ext) = rt.extension(name) {
            return if ext.id == name {
                de.deserialize_map(Extension { ext })
            } else {
                Err(changed())
            };
        }
        match rt.common().attribute(name).or_else(|| rt.core.attribute(name)) {
            Some(def) if def.name == name => Attr { def }.deserialize(de),
            _ => Err(changed()),
        }
    }
}

/// An extension object: every member a canonically spelled attribute of
/// the extension that is itself unchanged, and at least one.
struct Extension<'r> {
    ext: &'r Schema,
}

impl<'de> Visitor<'de> for Extension<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an extension object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut any = false;
        while let Some(name) = map.next_key::<&'de str>()? {
            match self.ext.attribute(name) {
                Some(def) if def.name == name => map.next_value_seed(Attr { def })?,
                _ => return Err(changed()),
            }
            any = true;
        }
        if any { Ok(()) } else { Err(changed()) }
    }
}

/// One attribute under the default projection (`project_attr`): dropped
/// if `never` or `request`; kept as it is if simple or `always`; a complex
/// value only if it (or each element, at least one) is a non-empty object
/// of sub-attributes that are all kept.
struct Attr<'r> {
    def: &'r AttributeDef,
}

impl<'de> DeserializeSeed<'de> for Attr<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        let def = self.def;
        match def.returned {
            Returned::Never | Returned::Request => Err(changed()),
            Returned::Always => de.deserialize_ignored_any(IgnoredAny).map(|_| ()),
            Returned::Default if !def.is_complex() => de.deserialize_ignored_any(IgnoredAny).map(|_| ()),
            Returned::Default => match de.deserialize_any(ComplexValue { def, element: false })? {
                true => Ok(()),
                false => Err(changed()),
            },
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
