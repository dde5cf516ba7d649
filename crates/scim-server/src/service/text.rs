//! Rendering a user of a list page from its stored JSON text, without
//! building a `Value`: the stored members are copied as they are, and `id`,
//! `meta` and `groups` are written around them.
//!
//! Why: a page of 100 users rendered through `Value` parses, rebuilds,
//! projects and serialises every document, several allocations per member;
//! that was most of the CPU of `GET /Users?count=100` (docs/performance.md).
//!
//! It is only taken where it gives exactly what `render_with_groups` gives
//! under the default projection: where the projection leaves the stored
//! document as it is (`projection::unchanged_by_default`, in scim-core with
//! the projection's other rules), and no `id`, `meta` or `groups` is in the
//! document itself.
//! Anything else answers `None` and the caller renders through `Value`;
//! `tests.rs` holds both renderings equal over documents of either sort.

use scim_core::projection;
use scim_core::schema::ResourceType;
use scim_store::{GroupRef, StoredText};
use serde_json::value::RawValue;

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
    let members = projection::unchanged_by_default(rt, &item.doc)?;
    if members.iter().any(|(key, _)| DERIVED.contains(key)) {
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
