//! List pages as JSON text: `ListPage`, a page's body with its resources
//! rendered into one buffer; and `ListPage::push_user`, a user of a list
//! page rendered from its stored JSON text without building a `Value`: the
//! stored members are copied as they are, and `id`, `meta` and `groups`
//! are written around them.
//!
//! Why: a page of 100 users rendered through `Value` parses, rebuilds,
//! projects and serialises every document, several allocations per member;
//! that was most of the CPU of `GET /Users?count=100` (docs/performance.md).
//! The body is one buffer, written envelope first, not a string per
//! resource copied into it: 100 allocations fewer (of a size glibc's
//! per-thread cache does not keep) and no second copy of the page.
//!
//! It is only taken where it gives exactly what `render_with_groups` gives
//! under the default projection: where the projection leaves the stored
//! document as it is (`projection::UnchangedByDefault`, in scim-core with
//! the projection's other rules), and no `id`, `meta` or `groups` is in the
//! document itself.
//! Anything else is declined and the caller renders through `Value`;
//! `tests.rs` holds both renderings equal over documents of either sort.

use super::ServiceError;
use chrono::{DateTime, Datelike, Timelike, Utc};
use scim_core::messages::ListResponse;
use scim_core::projection::{Members, UnchangedByDefault, needs_escape};
use scim_core::schema::ResourceType;
use scim_store::{GroupRef, StoredText};
use serde_json::Value;
use std::fmt::Write;

/// A list page's JSON body, written as it is rendered into one buffer:
/// the envelope (serde's serialisation of `ListResponse` up to its last
/// member, `Resources`), then each resource with commas between. The
/// resources are valid by construction, so they are not parsed again:
/// serde_json's serialisation of a `Value` (`push_value`), or
/// `push_user`'s splice of stored members the check has read as JSON
/// (`UnchangedByDefault`), around names and strings it writes or quotes
/// itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    text: String,
    /// Where the first resource starts in `text`.
    first: usize,
    /// Where each resource ends in `text`.
    ends: Vec<usize>,
    /// How many resources the envelope's `itemsPerPage` announces.
    count: usize,
}

impl ListPage {
    /// An index-paged page of `count` resources.
    pub(super) fn index(total_results: u64, start_index: u64, count: usize) -> Result<ListPage, ServiceError> {
        ListPage::begin(ListResponse::new(total_results, start_index, Vec::new()), count)
    }

    /// A cursor-paged page of `count` resources (RFC 9865).
    pub(super) fn cursor(
        total_results: u64,
        next_cursor: Option<String>,
        previous_cursor: Option<String>,
        count: usize,
    ) -> Result<ListPage, ServiceError> {
        let envelope = ListResponse {
            start_index: None,
            next_cursor,
            previous_cursor,
            ..ListResponse::new(total_results, 1, Vec::new())
        };
        ListPage::begin(envelope, count)
    }

    fn begin(envelope: ListResponse<()>, count: usize) -> Result<ListPage, ServiceError> {
        let envelope = ListResponse {
            items_per_page: Some(count as u64),
            ..envelope
        };
        let mut text = serde_json::to_string(&envelope)
            .map_err(|e| ServiceError::Internal(format!("rendering a list envelope: {e}")))?;
        // `Resources` is the envelope's last member: its `[]}` is reopened.
        if !text.ends_with("[]}") {
            return Err(ServiceError::Internal(format!(
                "a list envelope that does not end in Resources: {text}"
            )));
        }
        text.truncate(text.len() - 2);
        Ok(ListPage {
            first: text.len(),
            text,
            ends: Vec::with_capacity(count),
            count,
        })
    }

    /// Room for `items` as `push_user` writes them with their `groups`
    /// (the id twice, `meta`, each group), so the buffer is not moved while
    /// it grows.
    pub(super) fn reserve_users(&mut self, items: &[StoredText], groups: &[Vec<GroupRef>], at: &Location) {
        let bytes: usize = items
            .iter()
            .zip(groups)
            .map(|(item, groups)| user_capacity(item, groups, at))
            .sum();
        self.text.reserve(bytes);
    }

    /// Each resource's JSON text.
    pub fn resources(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(self.first).chain(self.ends.iter().map(|end| end + 1));
        starts.zip(&self.ends).map(|(start, &end)| &self.text[start..end])
    }

    /// The JSON body, once every resource the envelope announced is in.
    pub fn body(mut self) -> Result<String, ServiceError> {
        if self.ends.len() != self.count {
            return Err(ServiceError::Internal(format!(
                "a list page of {} resources rendered {}",
                self.count,
                self.ends.len()
            )));
        }
        self.text.push_str("]}");
        Ok(self.text)
    }

    /// `doc`, as serde_json writes it.
    pub(super) fn push_value(&mut self, doc: &Value) -> Result<(), ServiceError> {
        self.separate();
        // `Value`'s `Display` is serde_json's compact serialisation, which
        // cannot fail for a `Value` (its keys are strings).
        write!(self.text, "{doc}").map_err(|e| ServiceError::Internal(format!("rendering a resource: {e}")))?;
        self.ends.push(self.text.len());
        Ok(())
    }

    fn separate(&mut self) {
        if !self.ends.is_empty() {
            self.text.push(',');
        }
    }

    /// `item` (a user, `check` the `UnchangedByDefault::for_rendering` of
    /// its type, `at` where users live) rendered as
    /// `render_with_groups` renders it under the default projection, with
    /// `groups` its groups; `false`, and nothing added, when the document
    /// is not one this path renders exactly (see the module doc).
    pub(super) fn push_user(
        &mut self,
        check: &UnchangedByDefault,
        item: &StoredText,
        groups: &[GroupRef],
        at: &Location,
    ) -> bool {
        // The store's verdict, when it kept one, spares reading the text.
        let Some(members) = check.members_given(&item.doc, item.verdict.as_ref()) else {
            return false;
        };
        self.separate();
        write_user(&mut self.text, &members, item, groups, at);
        self.ends.push(self.text.len());
        true
    }
}

/// One user as GET answers it under the default projection: `push_user`'s
/// rendering on its own, or `None` where `push_user` declines.
pub(super) fn user_json(
    check: &UnchangedByDefault,
    item: &StoredText,
    groups: &[GroupRef],
    at: &Location,
) -> Option<String> {
    let members = check.members_given(&item.doc, item.verdict.as_ref())?;
    let mut out = String::with_capacity(user_capacity(item, groups, at));
    write_user(&mut out, &members, item, groups, at);
    Some(out)
}

/// About the room `write_user` takes for `item` and its `groups`.
fn user_capacity(item: &StoredText, groups: &[GroupRef], at: &Location) -> usize {
    let base = at.base.len();
    let group = |g: &GroupRef| 2 * g.id.len() + base + g.display.as_ref().map_or(0, String::len) + 80;
    item.doc.len() + 2 * item.id.len() + base + 241 + groups.iter().map(group).sum::<usize>()
}

/// `item` written into `out` from its stored `members` (what the check
/// found of its text), with `id`, `meta` and `groups` around them.
fn write_user(out: &mut String, members: &Members<'_>, item: &StoredText, groups: &[GroupRef], at: &Location) {
    // Each string looked at once, though written twice.
    let (base, base_plain) = (at.base, at.plain);
    let id_plain = !needs_escape(&item.id);
    let start = out.len();
    out.push('{');
    // `schemas` first, then `id`, then the rest in stored order, as
    // `into_resource` orders them. The members were read whole and their
    // names without escapes: copied as they are.
    if let Some(schemas) = members.schemas {
        out.push_str(schemas);
        out.push(',');
    }
    out.push_str("\"id\":");
    push_str(out, id_plain, &[&item.id]);
    for run in members.others.iter().filter(|run| !run.is_empty()) {
        out.push(',');
        out.push_str(run);
    }
    out.push_str(",\"meta\":{\"resourceType\":");
    // A kind's name is one of ours, plain ASCII letters.
    push_str(out, true, &[item.kind.as_str()]);
    push_times(out, item.created, item.modified);
    // `etag::render` (W/"<version>") as a JSON string.
    out.push_str(",\"version\":\"W/\\\"");
    push_number(out, item.version);
    out.push_str("\\\"\",\"location\":");
    push_str(out, base_plain && id_plain, &[base, at.endpoint, "/", &item.id]);
    out.push('}');
    if !groups.is_empty() {
        out.push_str(",\"groups\":[");
        for (i, g) in groups.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let group_plain = !needs_escape(&g.id);
            out.push_str("{\"value\":");
            push_str(out, group_plain, &[&g.id]);
            out.push_str(",\"$ref\":");
            push_str(out, base_plain && group_plain, &[base, "/Groups/", &g.id]);
            if let Some(display) = &g.display {
                out.push_str(",\"display\":");
                push_str(out, !needs_escape(display), &[display]);
            }
            out.push_str(",\"type\":");
            out.push_str(if g.direct { "\"direct\"" } else { "\"indirect\"" });
            out.push('}');
        }
        out.push(']');
    }
    out.push('}');
    debug_assert!(
        serde_json::from_str::<serde::de::IgnoredAny>(&out[start..]).is_ok(),
        "not JSON: {}",
        &out[start..]
    );
}

/// Where a page's resources live: the base URL and their type's endpoint,
/// looked at for escapes once a page, not once a resource.
pub(super) struct Location<'a> {
    base: &'a str,
    endpoint: &'a str,
    /// Neither needs escaping (nor does `/Groups/`).
    plain: bool,
}

impl<'a> Location<'a> {
    pub(super) fn new(base: &'a str, rt: &'a ResourceType) -> Location<'a> {
        let endpoint = rt.endpoint.as_str();
        Location {
            base,
            endpoint,
            plain: !needs_escape(base) && !needs_escape(endpoint),
        }
    }
}

/// `parts`, one after another, as one JSON string: copied when `plain`
/// (the caller has found that none of them `needs_escape`, as ids, names
/// and URLs seldom do), quoted by serde_json otherwise.
fn push_str(out: &mut String, plain: bool, parts: &[&str]) {
    debug_assert!(!plain || !parts.iter().any(|s| needs_escape(s)), "{parts:?}");
    if plain {
        out.push('"');
        parts.iter().for_each(|s| out.push_str(s));
        out.push('"');
    } else {
        // `Value`'s `Display`: serde_json's escaping, as in any response.
        out.push_str(&Value::String(parts.concat()).to_string());
    }
}

/// `,"created":"<created>","lastModified":"<modified>"`, each time as
/// `scim_store::rfc3339` writes it (`2024-05-01T12:00:00.123Z`): digit by
/// digit into one buffer, checked as UTF-8 once, for the common case
/// (years 0 to 9999, no leap second); through `rfc3339` otherwise.
fn push_times(out: &mut String, created: DateTime<Utc>, modified: DateTime<Utc>) {
    const HEAD: &[u8; 12] = b",\"created\":\"";
    const MIDDLE: &[u8; 18] = b"\",\"lastModified\":\"";
    if let (Some(c), Some(m)) = (time_digits(created), time_digits(modified)) {
        let mut text = [b'"'; HEAD.len() + 24 + MIDDLE.len() + 24 + 1];
        let (head, rest) = text.split_at_mut(HEAD.len());
        let (c_at, rest) = rest.split_at_mut(24);
        let (middle, rest) = rest.split_at_mut(MIDDLE.len());
        head.copy_from_slice(HEAD);
        c_at.copy_from_slice(&c);
        middle.copy_from_slice(MIDDLE);
        rest[..24].copy_from_slice(&m);
        if let Ok(text) = std::str::from_utf8(&text) {
            out.push_str(text);
            return;
        }
    }
    out.push_str(",\"created\":\"");
    out.push_str(&scim_store::rfc3339(created));
    out.push_str("\",\"lastModified\":\"");
    out.push_str(&scim_store::rfc3339(modified));
    out.push('"');
}

/// `t` as `scim_store::rfc3339` writes it, when its year is 0 to 9999 and
/// it is no leap second (chrono's 1,000 milliseconds or more).
fn time_digits(t: DateTime<Utc>) -> Option<[u8; 24]> {
    let (date, time) = (t.date_naive(), t.time());
    let millis = time.nanosecond() / 1_000_000;
    let year = u32::try_from(date.year()).ok().filter(|y| *y <= 9999)?;
    if millis > 999 {
        return None;
    }
    let mut text = *b"0000-00-00T00:00:00.000Z";
    for (at, n) in [
        (0, year / 100),
        (2, year % 100),
        (5, date.month()),
        (8, date.day()),
        (11, time.hour()),
        (14, time.minute()),
        (17, time.second()),
        (21, millis % 100),
    ] {
        let pair = (n % 100) as usize * 2;
        text[at] = PAIRS[pair];
        text[at + 1] = PAIRS[pair + 1];
    }
    text[20] = b'0' + (millis / 100) as u8;
    Some(text)
}

/// "00" to "99", two digits a number.
const PAIRS: &[u8; 200] = b"00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

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
        for created in times {
            for modified in times {
                let mut out = String::new();
                push_times(&mut out, created, modified);
                let (c, m) = (scim_store::rfc3339(created), scim_store::rfc3339(modified));
                assert_eq!(out, format!(",\"created\":\"{c}\",\"lastModified\":\"{m}\""));
            }
        }
        // Every millisecond digit, hour, minute and second in one day.
        let mut t = at(1999, 12, 31, 0, 0, 0, 0);
        for _ in 0..100_000 {
            assert_eq!(
                time_digits(t).map(|d| String::from_utf8(d.to_vec()).unwrap()),
                Some(scim_store::rfc3339(t))
            );
            t += chrono::Duration::milliseconds(863);
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
