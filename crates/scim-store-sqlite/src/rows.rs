//! Conversions between Rust values and column values: timestamps, kinds,
//! resources, and the index keys derived from a document.

use crate::error::{Error, Result};
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use rusqlite::Row;
use rusqlite::types::ValueRef;
use scim_core::members::MemberKind;
use scim_core::projection::Verdict;
use scim_store::{Kind, Stored, StoredText};
use serde_json::Value;

/// Now, to the millisecond: resources carry the times `meta` shows (RFC
/// 3339 with milliseconds), so a filter on `meta.created` sees exactly the
/// stored value and a read returns exactly what the write returned.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// Store-made times: the `meta` form.
pub(crate) fn fmt_ms(t: DateTime<Utc>) -> String {
    scim_store::rfc3339(t)
}

/// Caller-made times (tokens) keep every digit, so they read back equal.
pub(crate) fn fmt_ns(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// A stored time: read digit by digit when written as `fmt_ms` writes it,
/// through chrono's RFC 3339 parser otherwise (other forms, offsets, leap
/// seconds, `fmt_ns`). Why: chrono's parser was 4% of the CPU of a list
/// page of 100 users (two times each); the two agree (a test holds them).
pub(crate) fn parse_utc(s: &str) -> Result<DateTime<Utc>> {
    if let Some(t) = parse_ms_utc(s.as_bytes()) {
        return Ok(t);
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Corrupt(format!("bad timestamp '{s}': {e}")))
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, a valid date and time; `None` for anything
/// else.
fn parse_ms_utc(s: &[u8]) -> Option<DateTime<Utc>> {
    let b: &[u8; 24] = s.try_into().ok()?;
    let separators = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (23, b'Z'),
    ];
    if separators.iter().any(|&(at, byte)| b[at] != byte) {
        return None;
    }
    // Every other byte a digit: its value, above 9 for anything else.
    let digit = |at: usize| u32::from(b[at].wrapping_sub(b'0'));
    let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];
    if digits.iter().any(|&at| digit(at) > 9) {
        return None;
    }
    let two = |at: usize| digit(at) * 10 + digit(at + 1);
    let year = i32::try_from(two(0) * 100 + two(2)).ok()?;
    let date = NaiveDate::from_ymd_opt(year, two(5), two(8))?;
    // Second 60 is refused here (chrono writes a leap second as 59 with
    // 1,000 milliseconds or more), so it goes to the parser.
    let millis = digit(20) * 100 + two(21);
    let time = date.and_hms_milli_opt(two(11), two(14), two(17), millis)?;
    Some(time.and_utc())
}

/// A time column of a resource row: RFC 3339 text, as this crate writes it.
/// Its bytes are read as they are when in this crate's form (ASCII, so
/// there is no UTF-8 to check first).
fn stored_time(value: ValueRef<'_>, column: &str) -> Result<DateTime<Utc>> {
    if let ValueRef::Text(bytes) = value
        && let Some(t) = parse_ms_utc(bytes)
    {
        return Ok(t);
    }
    match value.as_str() {
        Ok(text) => parse_utc(text),
        Err(_) => Err(Error::Corrupt(format!("{column} is {}, not a time", value.data_type()))),
    }
}

pub(crate) fn parse_kind(s: &str) -> Result<Kind> {
    Kind::parse(s).ok_or_else(|| Error::Corrupt(format!("unknown kind '{s}'")))
}

pub(crate) fn member_kind(kind: Kind) -> MemberKind {
    match kind {
        Kind::User => MemberKind::User,
        Kind::Group => MemberKind::Group,
    }
}

pub(crate) fn parse_member_kind(s: &str) -> Result<MemberKind> {
    MemberKind::parse(s).ok_or_else(|| Error::Corrupt(format!("unknown member kind '{s}'")))
}

pub(crate) fn version(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| Error::Corrupt(format!("negative version {v}")))
}

pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The columns every resource read selects, in this order (a sorted page
/// names them itself, in `query::in_sql`).
pub(crate) const RESOURCE_COLUMNS: &str = "r.id, r.version, r.created, r.modified, r.doc, r.verdict";

/// Raw resource columns, converted outside the row callback so that the
/// callback's error type stays rusqlite's. The times are parsed from the
/// row's own text (no `String` each); a bad one is kept as the error it
/// will be.
pub(crate) struct RawResource {
    id: String,
    version: i64,
    created: Result<DateTime<Utc>>,
    modified: Result<DateTime<Utc>>,
    doc: String,
    /// Anything but 16 bytes (NULL before migration 4, or for a group) is
    /// no verdict; one that does not fit `doc` is ignored by its reader.
    verdict: Option<Verdict>,
}

impl RawResource {
    pub(crate) fn from_row(row: &Row<'_>) -> rusqlite::Result<RawResource> {
        Ok(RawResource {
            id: row.get(0)?,
            version: row.get(1)?,
            created: stored_time(row.get_ref(2)?, "created"),
            modified: stored_time(row.get_ref(3)?, "modified"),
            doc: row.get(4)?,
            verdict: match row.get_ref(5)? {
                ValueRef::Blob(bytes) => Verdict::from_bytes(bytes),
                _ => None,
            },
        })
    }

    pub(crate) fn into_stored(self, kind: Kind) -> Result<Stored> {
        Ok(Stored {
            kind,
            id: self.id,
            version: version(self.version)?,
            created: self.created?,
            modified: self.modified?,
            doc: serde_json::from_str(&self.doc)?,
            members: None,
        })
    }

    /// The resource with its document left as the stored text.
    pub(crate) fn into_text(self, kind: Kind) -> Result<StoredText> {
        Ok(StoredText {
            kind,
            id: self.id,
            version: version(self.version)?,
            created: self.created?,
            modified: self.modified?,
            doc: self.doc,
            verdict: self.verdict,
        })
    }
}

/// The indexed values of a document (see the `resources` and
/// `resource_emails` tables).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Keys {
    pub(crate) user_name: Option<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) display_name: Option<String>,
    /// (lower-cased value, type) of each email.
    pub(crate) emails: Vec<(String, Option<String>)>,
}

impl Keys {
    pub(crate) fn of(kind: Kind, doc: &Value) -> Keys {
        let text = |name: &str| member(doc, name).and_then(Value::as_str);
        let mut emails = Vec::new();
        // Every value the evaluator would compare for `emails.value`, so the
        // index is a superset of the matches: elements of the array (or the
        // single value), their `value`, arrays flattened.
        for element in elements(member(doc, "emails")) {
            let kind = member(element, "type").and_then(Value::as_str).map(str::to_owned);
            for value in elements(member(element, "value")) {
                if let Some(v) = value.as_str() {
                    emails.push((v.to_lowercase(), kind.clone()));
                }
            }
        }
        Keys {
            user_name: if kind == Kind::User {
                text("userName").map(str::to_lowercase)
            } else {
                None
            },
            external_id: text("externalId").map(str::to_owned),
            display_name: text("displayName").map(str::to_lowercase),
            emails,
        }
    }
}

/// An object member by canonical name, else case-insensitively, as the
/// evaluator looks it up.
fn member<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    let object = value.as_object()?;
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn elements(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_fold_unicode_and_collect_every_email() {
        let doc = json!({
            "userName": "ÅSA@Example.com",
            "externalId": "Ext-1",
            "displayName": "Åsa",
            "emails": [{"value": "A@X.org", "type": "work"}, {"value": "b@y.org"}, "junk"],
        });
        let k = Keys::of(Kind::User, &doc);
        assert_eq!(k.user_name.as_deref(), Some("åsa@example.com"));
        assert_eq!(k.external_id.as_deref(), Some("Ext-1"));
        assert_eq!(k.display_name.as_deref(), Some("åsa"));
        assert_eq!(
            k.emails,
            vec![("a@x.org".into(), Some("work".into())), ("b@y.org".into(), None)]
        );
        assert_eq!(Keys::of(Kind::Group, &doc).user_name, None);
    }

    fn chrono_parse(s: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
    }

    /// The digit-by-digit reading gives what chrono's parser gives: for
    /// times spread over years 0 to 9999 as `fmt_ms` writes them, and for
    /// every one-byte change of one (which it must read the same or leave
    /// to chrono). Leap seconds and other forms still read.
    #[test]
    fn stored_times_read_as_chrono_reads_them() {
        let start = chrono_parse("0000-01-01T00:00:00.000Z").unwrap();
        // About two years less a day each time, up to year 9982.
        let step = chrono::Duration::milliseconds(63_000_000_000 + 7_919);
        let mut t = start;
        for _ in 0..5_000 {
            let text = fmt_ms(t);
            assert_eq!(parse_ms_utc(text.as_bytes()), Some(t), "{text}");
            assert_eq!(parse_utc(&text).unwrap(), t, "{text}");
            t += step;
        }
        assert!(chrono::Datelike::year(&t) > 9900, "the times reach year 9900: {t}");
        let sample = "2024-02-29T23:59:59.999Z";
        let mut read = 0;
        for at in 0..sample.len() {
            for byte in b"0123456789-T:.Zz+ " {
                let mut bytes = sample.as_bytes().to_vec();
                bytes[at] = *byte;
                let Ok(text) = String::from_utf8(bytes) else { continue };
                if let Some(fast) = parse_ms_utc(text.as_bytes()) {
                    assert_eq!(Some(fast), chrono_parse(&text), "{text}");
                    read += 1;
                }
            }
        }
        assert!(read > 50, "only {read} variants read digit by digit");
        for text in [
            "2016-12-31T23:59:60.500Z",
            "2024-05-01T12:00:00.123456789Z",
            "2024-05-01T14:00:00.123+02:00",
        ] {
            assert_eq!(parse_ms_utc(text.as_bytes()), None, "{text}");
            assert_eq!(parse_utc(text).ok(), chrono_parse(text), "{text}");
        }
        assert!(parse_utc("2024-02-30T00:00:00.000Z").is_err());
    }
}
