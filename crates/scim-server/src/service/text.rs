//! Rendering a user of a list page from its stored JSON text, without
//! building a `Value`: the stored members are copied as they are, and `id`,
//! `meta` and `groups` are written around them.
//!
//! Why: a page of 100 users rendered through `Value` parses, rebuilds,
//! projects and serialises every document, several allocations per member;
//! that was most of the CPU of `GET /Users?count=100` (docs/performance.md).
//!
//! It is only taken where it gives exactly what `render_with_groups` gives
//! under the default projection: every top-level member spelled as the
//! schema spells it, nothing the projection would drop or rebuild (unknown
//! members, `returned: never` or `request`, unknown sub-attributes, empty
//! complex values), and no `id`, `meta` or `groups` in the document itself.
//! Anything else answers `None` and the caller renders through `Value`;
//! `tests.rs` holds both renderings equal over documents of either sort.

use scim_core::schema::{AttributeDef, ResourceType, Returned, Schema};
use scim_store::{GroupRef, StoredText};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// Members the renderer writes itself: a document holding one of them goes
/// through `Value`, which decides how the two meet.
const DERIVED: [&str; 3] = ["id", "meta", "groups"];

/// `item` (a user) rendered as `render_with_groups` renders it under the
/// default projection, with `groups` its groups; `None` when the document
/// is not one this path renders exactly (see the module doc).
pub(super) fn render_user(
    rt: &ResourceType,
    item: &StoredText,
    groups: &[GroupRef],
    base: &str,
) -> Option<Box<RawValue>> {
    let members = top_level(&item.doc)?;
    // A repeated name is one member in a `Value` (the last value wins).
    let repeated = members
        .iter()
        .enumerate()
        .any(|(i, (key, _))| members[..i].iter().any(|(k, _)| k == key));
    if repeated || !members.iter().all(|(key, raw)| unchanged_member(rt, key, raw)) {
        return None;
    }
    let mut out = String::with_capacity(item.doc.len() + 200 + 160 * groups.len());
    out.push('{');
    // `schemas` first, then `id`, then the rest in stored order, as
    // `into_resource` orders them.
    if let Some((_, schemas)) = members.iter().find(|(k, _)| *k == "schemas") {
        out.push_str("\"schemas\":");
        out.push_str(schemas.get());
        out.push(',');
    }
    out.push_str("\"id\":");
    push_str(&mut out, &item.id);
    for (key, raw) in members.iter().filter(|(k, _)| *k != "schemas") {
        out.push(',');
        push_str(&mut out, key);
        out.push(':');
        out.push_str(raw.get());
    }
    out.push_str(",\"meta\":{\"resourceType\":");
    push_str(&mut out, item.kind.as_str());
    out.push_str(",\"created\":");
    push_str(&mut out, &scim_store::rfc3339(item.created));
    out.push_str(",\"lastModified\":");
    push_str(&mut out, &scim_store::rfc3339(item.modified));
    out.push_str(",\"version\":");
    push_str(&mut out, &scim_core::etag::render(item.version));
    out.push_str(",\"location\":");
    push_str(&mut out, &format!("{base}{}/{}", rt.endpoint, item.id));
    out.push('}');
    if !groups.is_empty() {
        out.push_str(",\"groups\":[");
        for (i, g) in groups.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"value\":");
            push_str(&mut out, &g.id);
            out.push_str(",\"$ref\":");
            push_str(&mut out, &format!("{base}/Groups/{}", g.id));
            if let Some(display) = &g.display {
                out.push_str(",\"display\":");
                push_str(&mut out, display);
            }
            out.push_str(",\"type\":");
            push_str(&mut out, if g.direct { "direct" } else { "indirect" });
            out.push('}');
        }
        out.push(']');
    }
    out.push('}');
    // Checked once more as a whole: a stored text that is not JSON, or a
    // mistake here, falls back to `Value` rather than reaching the wire.
    RawValue::from_string(out).ok()
}

/// `s` as a JSON string. Names, ids and times need no escaping, so they
/// are copied; anything else is quoted by serde_json.
fn push_str(out: &mut String, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        // Quoting a `str` cannot fail; were it to, the whole is not JSON
        // and `RawValue::from_string` refuses it.
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    }
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
    if DERIVED.contains(&key) {
        return false;
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
