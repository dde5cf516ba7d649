//! SQL functions registered on every connection, so that SQL compares
//! exactly the way `scim_core`'s evaluator and comparator do:
//!
//! - `scim_fold(x)`: Rust `to_lowercase()` of a text, NULL otherwise.
//!   SQLite's `lower()` folds ASCII only; the evaluator folds Unicode.
//! - `scim_time(x)`: an RFC 3339 text as a fixed-width text that sorts in
//!   time order (so `+02:00` and `Z` forms of one instant are equal), NULL
//!   when the text is not RFC 3339.
//! - `scim_sort_key(attr, kind, path)`: the `scim_core::sort::sort_key` of a
//!   resource, given the JSON of the attribute `path` names (`doc -> '$.x'`),
//!   encoded as a blob whose byte order is `SortKey`'s order.
//! - `scim_verdict(kind, doc)` (the writer's connection only): for a
//!   user's document text, the 16 bytes of
//!   `UnchangedByDefault::for_rendering`'s `Verdict` on it (migration 4);
//!   NULL for anything else.
//!
//! They are deterministic and innocuous, and no index depends on them, so
//! the database stays readable and writable by the plain `sqlite3` shell.

use crate::error::Result;
use chrono::{DateTime, FixedOffset};
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use scim_core::path::AttrPath;
use scim_core::projection::UnchangedByDefault;
use scim_core::schema::{Container, Registry};
use scim_core::sort::{SortKey, sort_key};
use serde_json::{Map, Value};
use std::sync::Arc;

const FLAGS: FunctionFlags = FunctionFlags::SQLITE_UTF8
    .union(FunctionFlags::SQLITE_DETERMINISTIC)
    .union(FunctionFlags::SQLITE_INNOCUOUS);

/// Added to Unix seconds so every instant RFC 3339 can write (years 0000
/// to 9999, any offset) is a positive 12-digit number.
const SECONDS_BIAS: i64 = 100_000_000_000;

/// `scim_verdict`, by `users` (the users' `for_rendering` check): on the
/// writer's connection only, the one that writes documents.
pub(crate) fn register_verdict(conn: &Connection, users: UnchangedByDefault) -> Result<()> {
    conn.create_scalar_function("scim_verdict", 2, FLAGS, move |ctx| {
        Ok(match (ctx.get_raw(0), ctx.get_raw(1)) {
            (ValueRef::Text(b"User"), ValueRef::Text(doc)) => std::str::from_utf8(doc)
                .ok()
                .map(|doc| users.verdict(doc).to_bytes().to_vec()),
            _ => None,
        })
    })?;
    Ok(())
}

pub(crate) fn register(conn: &Connection, registry: Arc<Registry>) -> Result<()> {
    conn.create_scalar_function("scim_fold", 1, FLAGS, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Text(t) => std::str::from_utf8(t).ok().map(str::to_lowercase),
            _ => None,
        })
    })?;
    conn.create_scalar_function("scim_time", 1, FLAGS, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Text(t) => std::str::from_utf8(t).ok().and_then(parse_time).map(|t| time_key(&t)),
            _ => None,
        })
    })?;
    conn.create_scalar_function("scim_sort_key", 3, FLAGS, move |ctx| {
        let ValueRef::Text(attr) = ctx.get_raw(0) else {
            return Ok(None);
        };
        // The kind and path are bound once per statement: parse them once.
        let kind = ctx.get_or_create_aux(1, |v| v.as_str().map(str::to_owned))?;
        let path = ctx.get_or_create_aux(2, |v| -> Result<AttrPath, String> {
            let text = v.as_str().map_err(|e| e.to_string())?;
            AttrPath::parse(text).ok_or_else(|| format!("not an attribute path: {text}"))
        })?;
        let Some(rt) = registry.resource_type(&kind) else {
            return Ok(None);
        };
        let Ok(value) = serde_json::from_slice::<Value>(attr) else {
            return Ok(None);
        };
        let Some(resolved) = rt.resolve_attr(&path) else {
            return Ok(None);
        };
        // A document holding just this attribute, where sort_key looks for it.
        let mut holder = Map::new();
        holder.insert(resolved.attr.name.clone(), value);
        let doc = match resolved.container {
            Container::Top => Value::Object(holder),
            Container::Extension(urn) => Value::Object(Map::from_iter([(urn.to_string(), Value::Object(holder))])),
        };
        Ok(sort_key(rt, &path, &doc).map(|k| encode_sort_key(&k)))
    })?;
    Ok(())
}

pub(crate) fn parse_time(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).ok()
}

/// A text that orders like the instant: biased seconds, then nanoseconds
/// (10 digits, as a leap second carries up to 1,999,999,999).
pub(crate) fn time_key(t: &DateTime<FixedOffset>) -> String {
    format!(
        "{:012}{:010}",
        t.timestamp().saturating_add(SECONDS_BIAS),
        t.timestamp_subsec_nanos()
    )
}

/// `SortKey` as bytes whose lexicographic order is `SortKey::cmp`: a rank
/// byte (keys of different kinds order by kind), then an order-preserving
/// payload. SQLite compares blobs with memcmp, so `ORDER BY` on these is the
/// comparator's order.
pub(crate) fn encode_sort_key(key: &SortKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    match key {
        SortKey::Bool(b) => {
            out.push(0);
            out.push(u8::from(*b));
        }
        SortKey::Number(n) => {
            out.push(1);
            // The IEEE-754 total order as an unsigned integer: negative
            // numbers have every bit flipped, positive ones the sign bit.
            let bits = n.to_bits();
            let ordered = if bits >> 63 == 1 { !bits } else { bits | (1 << 63) };
            out.extend_from_slice(&ordered.to_be_bytes());
        }
        SortKey::Time(secs, nanos) => {
            out.push(2);
            out.extend_from_slice(&((*secs as u64) ^ (1 << 63)).to_be_bytes());
            out.extend_from_slice(&nanos.to_be_bytes());
        }
        SortKey::Text(s) => {
            out.push(3);
            out.extend_from_slice(s.as_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_sort_keys_order_like_sort_keys() {
        let keys = [
            SortKey::Bool(false),
            SortKey::Bool(true),
            SortKey::Number(f64::NEG_INFINITY),
            SortKey::Number(-2.5),
            SortKey::Number(-0.0),
            SortKey::Number(0.0),
            SortKey::Number(1.0),
            SortKey::Number(1e300),
            SortKey::Time(-100, 5),
            SortKey::Time(-100, 7),
            SortKey::Time(0, 0),
            SortKey::Time(1_700_000_000, 0),
            SortKey::Text(String::new()),
            SortKey::Text("a".into()),
            SortKey::Text("ab".into()),
            SortKey::Text("b".into()),
            SortKey::Text("é".into()),
        ];
        for a in &keys {
            for b in &keys {
                assert_eq!(encode_sort_key(a).cmp(&encode_sort_key(b)), a.cmp(b), "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn time_keys_compare_instants() {
        let k = |s: &str| parse_time(s).map(|t| time_key(&t));
        assert_eq!(k("2024-01-01T12:00:00+02:00"), k("2024-01-01T10:00:00Z"));
        assert!(k("0001-01-01T00:00:00Z") < k("1969-12-31T23:59:59.999Z"));
        assert!(k("1969-12-31T23:59:59.999Z") < k("1970-01-01T00:00:00Z"));
        assert!(k("2024-01-01T10:00:00.5Z") < k("9999-12-31T23:59:59Z"));
        assert_eq!(k("yesterday"), None);
    }
}
