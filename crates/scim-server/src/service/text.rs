//! List pages as JSON text: `Rendered`, one resource's text, and
//! `list_body`, the page written around them; and `render_user`, a user of
//! a list page rendered from its stored JSON text without building a
//! `Value`: the stored members are copied as they are, and `id`, `meta`
//! and `groups` are written around them.
//!
//! Why: a page of 100 users rendered through `Value` parses, rebuilds,
//! projects and serialises every document, several allocations per member;
//! that was most of the CPU of `GET /Users?count=100` (docs/performance.md).
//!
//! It is only taken where it gives exactly what `render_with_groups` gives
//! under the default projection: where the projection leaves the stored
//! document as it is (`projection::UnchangedByDefault`, in scim-core with
//! the projection's other rules), and no `id`, `meta` or `groups` is in the
//! document itself.
//! Anything else answers `None` and the caller renders through `Value`;
//! `tests.rs` holds both renderings equal over documents of either sort.

use super::ServiceError;
use chrono::{DateTime, Datelike, Timelike, Utc};
use scim_core::messages::ListResponse;
use scim_core::projection::UnchangedByDefault;
use scim_core::schema::ResourceType;
use scim_store::{GroupRef, StoredText};
use serde_json::Value;

/// Members the renderer writes itself: a document holding one of them goes
/// through `Value`, which decides how the two meet.
const DERIVED: [&str; 3] = ["id", "meta", "groups"];

/// The check `render_user` needs of a user's stored text: kept as it is by
/// the default projection, and holding none of `DERIVED`. Made once (the
/// service keeps it), not once a page.
pub(super) fn user_check(rt: &ResourceType) -> UnchangedByDefault {
    UnchangedByDefault::new(rt).without(&DERIVED)
}

/// One rendered resource of a list page, as JSON text. Valid by
/// construction, so it is copied into the page without being parsed
/// again: serde_json's serialisation of a `Value` (`Rendered::of`), or
/// `render_user`'s splice of stored members the check has read as JSON
/// (`UnchangedByDefault`), around names and strings it writes or quotes
/// itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered(String);

impl Rendered {
    pub(super) fn of(doc: &Value) -> Rendered {
        // `Value`'s `Display` is serde_json's compact serialisation, which
        // cannot fail for a `Value` (its keys are strings).
        Rendered(doc.to_string())
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        &self.0
    }
}

/// A list page as the JSON body sent: the envelope serialised by serde
/// from `ListResponse` itself, the rendered resources copied in as they
/// are, into one buffer sized for all of them.
pub fn list_body(page: ListResponse<Rendered>) -> Result<String, ServiceError> {
    let envelope = ListResponse::<()> {
        schemas: page.schemas,
        total_results: page.total_results,
        start_index: page.start_index,
        items_per_page: page.items_per_page,
        next_cursor: page.next_cursor,
        previous_cursor: page.previous_cursor,
        resources: Vec::new(),
    };
    let head = serde_json::to_string(&envelope)
        .map_err(|e| ServiceError::Internal(format!("rendering a list envelope: {e}")))?;
    // `Resources` is the envelope's last member: its `[]}` is reopened.
    let head = head
        .strip_suffix("[]}")
        .ok_or_else(|| ServiceError::Internal(format!("a list envelope that does not end in Resources: {head}")))?;
    let size = head.len() + 2 + page.resources.iter().map(|r| r.0.len() + 1).sum::<usize>();
    let mut out = String::with_capacity(size);
    out.push_str(head);
    out.push('[');
    for (i, r) in page.resources.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&r.0);
    }
    out.push_str("]}");
    Ok(out)
}

/// `item` (a user of type `rt`, `check` its `user_check`) rendered as
/// `render_with_groups` renders it under the default projection, with
/// `groups` its groups; `None` when the document is not one this path
/// renders exactly (see the module doc).
pub(super) fn render_user(
    rt: &ResourceType,
    check: &UnchangedByDefault,
    item: &StoredText,
    groups: &[GroupRef],
    base: &str,
) -> Option<Rendered> {
    let members = check.members(&item.doc)?;
    // Room for all of it, so the text is never moved while it grows: the
    // id twice (`id`, `location`), `meta`'s names and times, and each group.
    let size = item.doc.len()
        + 2 * item.id.len()
        + base.len()
        + 240
        + groups
            .iter()
            .map(|g| 2 * g.id.len() + base.len() + g.display.as_ref().map_or(0, String::len) + 80)
            .sum::<usize>();
    let mut out = String::with_capacity(size);
    out.push('{');
    // `schemas` first, then `id`, then the rest in stored order, as
    // `into_resource` orders them. The members were read whole and their
    // names without escapes: copied as they are.
    if let Some(schemas) = members.schemas {
        out.push_str(schemas);
        out.push(',');
    }
    out.push_str("\"id\":");
    push_str(&mut out, &[&item.id]);
    for run in members.others.iter().filter(|run| !run.is_empty()) {
        out.push(',');
        out.push_str(run);
    }
    out.push_str(",\"meta\":{\"resourceType\":");
    push_str(&mut out, &[item.kind.as_str()]);
    out.push_str(",\"created\":\"");
    push_time(&mut out, item.created);
    out.push_str("\",\"lastModified\":\"");
    push_time(&mut out, item.modified);
    out.push('"');
    // `etag::render` (W/"<version>") as a JSON string.
    out.push_str(",\"version\":\"W/\\\"");
    push_number(&mut out, item.version);
    out.push_str("\\\"\",\"location\":");
    push_str(&mut out, &[base, rt.endpoint.as_str(), "/", &item.id]);
    out.push('}');
    if !groups.is_empty() {
        out.push_str(",\"groups\":[");
        for (i, g) in groups.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"value\":");
            push_str(&mut out, &[&g.id]);
            out.push_str(",\"$ref\":");
            push_str(&mut out, &[base, "/Groups/", &g.id]);
            if let Some(display) = &g.display {
                out.push_str(",\"display\":");
                push_str(&mut out, &[display]);
            }
            out.push_str(",\"type\":");
            out.push_str(if g.direct { "\"direct\"" } else { "\"indirect\"" });
            out.push('}');
        }
        out.push(']');
    }
    out.push('}');
    debug_assert!(
        serde_json::from_str::<serde::de::IgnoredAny>(&out).is_ok(),
        "not JSON: {out}"
    );
    Some(Rendered(out))
}

/// `parts`, one after another, as one JSON string. Ids, names, times and
/// URLs seldom need escaping, so they are copied; otherwise serde_json
/// quotes the whole.
fn push_str(out: &mut String, parts: &[&str]) {
    if !parts.iter().any(|s| needs_escape(s)) {
        out.push('"');
        parts.iter().for_each(|s| out.push_str(s));
        out.push('"');
    } else {
        // `Value`'s `Display`: serde_json's escaping, as in any response.
        out.push_str(&Value::String(parts.concat()).to_string());
    }
}

/// Whether JSON needs any byte of `s` escaped: a control character, `"`
/// or `\\`. Every byte is looked at, without stopping at the first hit, so
/// the compiler checks many at once.
fn needs_escape(s: &str) -> bool {
    s.bytes()
        .fold(false, |any, b| any | (b < 0x20) | (b == b'"') | (b == b'\\'))
}

/// `t` as `scim_store::rfc3339` writes it (`2024-05-01T12:00:00.123Z`),
/// digit by digit for the common case (years 0 to 9999, no leap second);
/// anything else through `rfc3339` itself.
fn push_time(out: &mut String, t: DateTime<Utc>) {
    let (date, time) = (t.date_naive(), t.time());
    let millis = time.nanosecond() / 1_000_000;
    let Ok(year) = u32::try_from(date.year()) else {
        out.push_str(&scim_store::rfc3339(t));
        return;
    };
    if year > 9999 || millis > 999 {
        out.push_str(&scim_store::rfc3339(t));
        return;
    }
    let mut text = *b"0000-00-00T00:00:00.000Z";
    for (at, width, n) in [
        (0, 4, year),
        (5, 2, date.month()),
        (8, 2, date.day()),
        (11, 2, time.hour()),
        (14, 2, time.minute()),
        (17, 2, time.second()),
        (20, 3, millis),
    ] {
        let mut n = n;
        for i in (at..at + width).rev() {
            text[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }
    match std::str::from_utf8(&text) {
        Ok(text) => out.push_str(text),
        // Digits and separators are ASCII: not reached.
        Err(_) => out.push_str(&scim_store::rfc3339(t)),
    }
}

/// `n` in decimal.
fn push_number(out: &mut String, mut n: u64) {
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits[start..].iter().for_each(|d| out.push(char::from(*d)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    #[test]
    fn times_and_numbers_are_written_as_rfc3339_and_etag_render_write_them() {
        let at = |y, mo, d, h, mi, s, nanos| {
            let naive = NaiveDate::from_ymd_opt(y, mo, d)
                .and_then(|day| day.and_hms_nano_opt(h, mi, s, nanos))
                .unwrap();
            Utc.from_utc_datetime(&naive)
        };
        let times = [
            at(2024, 5, 1, 12, 0, 0, 123_000_000),
            at(1970, 1, 1, 0, 0, 0, 0),
            at(2026, 12, 31, 23, 59, 59, 999_999_999),
            at(0, 1, 1, 0, 0, 0, 1_000_000),
            at(9999, 12, 31, 23, 59, 59, 0),
            at(10000, 1, 1, 0, 0, 0, 0),
            at(-1, 6, 15, 8, 30, 5, 7_000_000),
            // A leap second: chrono counts it in the nanoseconds.
            at(2016, 12, 31, 23, 59, 59, 1_500_000_000),
        ];
        for t in times {
            let mut out = String::new();
            push_time(&mut out, t);
            assert_eq!(out, scim_store::rfc3339(t));
        }
        for version in [0, 1, 9, 10, 12345, u64::MAX] {
            let mut out = String::from("W/\"");
            push_number(&mut out, version);
            out.push('"');
            assert_eq!(out, scim_core::etag::render(version));
        }
        // Every special byte at every place, in strings shorter and longer
        // than a vector register.
        for special in ['\u{0}', '\u{1f}', '"', '\\'] {
            for at in 0..21 {
                let mut s: Vec<char> = vec!['a'; 21];
                s[at] = special;
                let s: String = s.into_iter().collect();
                assert!(needs_escape(&s), "{s:?}");
                assert!(needs_escape(&s[..=at]), "{s:?}");
            }
        }
        let printable: String = (0x20u8..0x7f)
            .map(char::from)
            .filter(|c| !matches!(c, '"' | '\\'))
            .collect();
        for plain in [
            printable.as_str(),
            "",
            "a",
            "\u{7f}",
            "é€𝄞 ÿ\u{80}\u{ff} and then some more",
            "!#[]]]]]]]]]]]]]]]]",
        ] {
            assert!(!needs_escape(plain), "{plain:?}");
        }
    }
}
