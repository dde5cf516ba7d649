//! Documents on their way into JSONB, and the values derived from them in
//! Rust on every write (see the `resources` table).

use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{IsNull, Output, ToSql};
use diesel::sql_types::Jsonb;
use scim_store::{Kind, StoreError};
use serde_json::ser::{CompactFormatter, Formatter};
use serde_json::{Map, Value};
use std::io::{self, Write};

/// JSON text bound as `jsonb` (binary format version 1 plus the text).
/// Written by [`encode`], not by diesel's `serde_json` support, for the
/// number formatting explained there.
#[derive(Debug, Clone, PartialEq, AsExpression)]
#[diesel(sql_type = Jsonb)]
pub(crate) struct DbJson(String);

impl ToSql<Jsonb, Pg> for DbJson {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> diesel::serialize::Result {
        out.write_all(&[1])?;
        out.write_all(self.0.as_bytes())?;
        Ok(IsNull::No)
    }
}

/// serde_json's output, except for floats of magnitude 1e16 and above:
/// serde_json writes those with an exponent and no fraction (`1e16`), which
/// PostgreSQL's `numeric` stores with scale 0 and prints back as an integer,
/// so a decimal would come back as an integer and the document would not
/// read back equal. Written with `.0`, the scale survives.
struct Formatting;

impl Formatter for Formatting {
    fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        if value.is_finite() && value.abs() >= 1e16 {
            // Every f64 this large is an integer; `{:.1}` writes it exactly.
            write!(writer, "{value:.1}")
        } else {
            CompactFormatter.write_f64(writer, value)
        }
    }
}

/// A document as JSONB text. `InvalidValue` for a NUL character in any
/// string: JSONB cannot hold one, and the store says so instead of failing.
pub(crate) fn encode(doc: &Value) -> Result<DbJson, StoreError> {
    if has_nul(doc) {
        return Err(StoreError::InvalidValue(
            "PostgreSQL cannot store the NUL character (\\u0000) in a JSON string".into(),
        ));
    }
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Formatting);
    serde::Serialize::serialize(doc, &mut ser).map_err(|e| StoreError::Backend(e.to_string()))?;
    String::from_utf8(out)
        .map(DbJson)
        .map_err(|e| StoreError::Backend(e.to_string()))
}

fn has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(members) => members.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// The document with every string value lower-cased the way the reference
/// evaluator folds (`str::to_lowercase`); keys and other values unchanged,
/// so every path means the same in both.
pub(crate) fn fold(doc: &Value) -> Value {
    match doc {
        Value::String(s) => Value::String(s.to_lowercase()),
        Value::Array(items) => Value::Array(items.iter().map(fold).collect()),
        Value::Object(members) => {
            Value::Object(members.iter().map(|(k, v)| (k.clone(), fold(v))).collect::<Map<_, _>>())
        }
        other => other.clone(),
    }
}

/// The indexed values of a document (see the `resources` table).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Keys {
    pub(crate) user_name: Option<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) display_name: Option<String>,
    /// Lower-cased, deduplicated.
    pub(crate) emails: Vec<String>,
}

impl Keys {
    pub(crate) fn of(kind: Kind, doc: &Value) -> Keys {
        let text = |name: &str| member(doc, name).and_then(Value::as_str);
        // Every value the evaluator would compare for `emails.value`, so the
        // index holds a superset of the matches: elements of the array (or
        // the single value), their `value`, arrays flattened.
        let mut emails = Vec::new();
        for element in elements(member(doc, "emails")) {
            for value in elements(member(element, "value")) {
                if let Some(v) = value.as_str() {
                    emails.push(v.to_lowercase());
                }
            }
        }
        emails.sort();
        emails.dedup();
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

/// Everything a resource write stores besides its ids and times.
#[derive(Debug)]
pub(crate) struct Encoded {
    pub(crate) doc: DbJson,
    pub(crate) fold: DbJson,
    pub(crate) keys: Keys,
}

/// Encodes a validated document of `kind`; users need a `userName` string.
pub(crate) fn encode_resource(kind: Kind, doc: &Value) -> Result<Encoded, StoreError> {
    let keys = Keys::of(kind, doc);
    if kind == Kind::User && keys.user_name.is_none() {
        return Err(StoreError::InvalidValue("a user needs a 'userName' string".into()));
    }
    Ok(Encoded {
        doc: encode(doc)?,
        fold: encode(&fold(doc))?,
        keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(doc: &Value) -> String {
        encode(doc).map(|d| d.0).unwrap_or_default()
    }

    #[test]
    fn big_floats_keep_a_fraction_and_the_rest_is_serde_json() {
        assert_eq!(text(&json!(1e16)), "10000000000000000.0");
        assert_eq!(text(&json!(-2.5e20)), "-250000000000000000000.0");
        assert_eq!(text(&json!(2.5e10)), "25000000000.0");
        assert_eq!(text(&json!(1e-7)), "1e-7");
        assert_eq!(text(&json!(9_007_199_254_740_993_i64)), "9007199254740993");
        assert_eq!(text(&json!(u64::MAX)), "18446744073709551615");
        let doc = json!({"b": [1, 2.5, "x\"y"], "a": {"ü": null}});
        assert_eq!(text(&doc), serde_json::to_string(&doc).unwrap());
        // What PostgreSQL prints back parses to the same value.
        let back: Value = serde_json::from_str("10000000000000000.0").unwrap();
        assert_eq!(back, json!(1e16));
    }

    #[test]
    fn nul_characters_are_refused() {
        assert!(matches!(
            encode(&json!({"a": "x\u{0}y"})),
            Err(StoreError::InvalidValue(_))
        ));
        assert!(matches!(
            encode(&json!({"a\u{0}": 1})),
            Err(StoreError::InvalidValue(_))
        ));
        assert!(encode(&json!({"a": "x"})).is_ok());
    }

    #[test]
    fn fold_lowercases_string_values_only() {
        let doc = json!({"userName": "ÅSA", "Name": {"given": "ΟΔΟΣ"}, "n": 1, "t": true, "l": ["İ", 2]});
        assert_eq!(
            fold(&doc),
            json!({"userName": "åsa", "Name": {"given": "οδος"}, "n": 1, "t": true, "l": ["i\u{307}", 2]})
        );
    }

    #[test]
    fn keys_fold_unicode_and_collect_every_email() {
        let doc = json!({
            "userName": "ÅSA@Example.com",
            "externalId": "Ext-1",
            "displayName": "Åsa",
            "emails": [{"value": "A@X.org", "type": "work"}, {"value": "b@y.org"}, {"value": "a@x.ORG"}, "junk"],
        });
        let k = Keys::of(Kind::User, &doc);
        assert_eq!(k.user_name.as_deref(), Some("åsa@example.com"));
        assert_eq!(k.external_id.as_deref(), Some("Ext-1"));
        assert_eq!(k.display_name.as_deref(), Some("åsa"));
        assert_eq!(k.emails, vec!["a@x.org".to_string(), "b@y.org".to_string()]);
        assert_eq!(Keys::of(Kind::Group, &doc).user_name, None);
        assert!(matches!(
            encode_resource(Kind::User, &json!({})),
            Err(StoreError::InvalidValue(_))
        ));
    }
}
