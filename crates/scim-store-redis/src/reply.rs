//! Reading script replies: the tagged outcomes of mutations and the
//! resource entries of reads, as `src/lua/*.lua` document them.

use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use redis::Value;
use scim_core::members::{Member, MemberKind};
use scim_store::{Kind, StoreError, Stored};

/// The elements of an array reply, one by one.
pub(crate) struct Items(std::vec::IntoIter<Value>);

impl Items {
    pub(crate) fn new(v: Value) -> Result<Items> {
        match v {
            Value::Array(items) | Value::Set(items) => Ok(Items(items.into_iter())),
            Value::Nil => Ok(Items(Vec::new().into_iter())),
            other => Err(Error::Corrupt(format!("expected an array, got {other:?}"))),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn value(&mut self) -> Result<Value> {
        self.0
            .next()
            .ok_or_else(|| Error::Corrupt("a reply is shorter than expected".into()))
    }

    pub(crate) fn string(&mut self) -> Result<String> {
        string(self.value()?)
    }

    pub(crate) fn int(&mut self) -> Result<i64> {
        int(self.value()?)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.len() == 0
    }
}

impl Iterator for Items {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        self.0.next()
    }
}

pub(crate) fn string(v: Value) -> Result<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b).map_err(|e| Error::Corrupt(format!("not UTF-8: {e}"))),
        Value::SimpleString(s) => Ok(s),
        Value::Okay => Ok("OK".into()),
        Value::Int(i) => Ok(i.to_string()),
        other => Err(Error::Corrupt(format!("expected a string, got {other:?}"))),
    }
}

/// A string, or `None` for a nil reply (a missing hash field).
pub(crate) fn opt_string(v: Value) -> Result<Option<String>> {
    match v {
        Value::Nil => Ok(None),
        other => string(other).map(Some),
    }
}

pub(crate) fn int(v: Value) -> Result<i64> {
    match v {
        Value::Int(i) => Ok(i),
        other => {
            let s = string(other)?;
            s.parse()
                .map_err(|_| Error::Corrupt(format!("expected an integer, got '{s}'")))
        }
    }
}

pub(crate) fn strings(v: Value) -> Result<Vec<String>> {
    Items::new(v)?.map(string).collect()
}

/// A mutation script's outcome: the values after `'ok'`, or the contract
/// error its tag names.
pub(crate) fn outcome(v: Value) -> Result<Items> {
    let mut items = Items::new(v)?;
    let tag = items.string()?;
    match tag.as_str() {
        "ok" => Ok(items),
        "notfound" => Err(StoreError::NotFound.into()),
        "conflict" => Err(StoreError::Conflict {
            attribute: items.string()?,
        }
        .into()),
        "mismatch" => Err(StoreError::VersionMismatch {
            current: u64::try_from(items.int()?).map_err(|_| Error::Corrupt("a negative version".into()))?,
        }
        .into()),
        "invalid" => Err(StoreError::InvalidValue(items.string()?).into()),
        other => Err(Error::Corrupt(format!("unknown script outcome '{other}'"))),
    }
}

/// Milliseconds since the epoch, as the scripts keep time.
pub(crate) fn millis(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| Error::Corrupt(format!("timestamp {ms} is out of range")))
}

pub(crate) fn member_kind(name: &str) -> Result<MemberKind> {
    MemberKind::parse(name).ok_or_else(|| Error::Corrupt(format!("member kind '{name}'")))
}

/// Flat (id, kind) pairs as members.
pub(crate) fn members(v: Value) -> Result<Vec<Member>> {
    let mut items = Items::new(v)?;
    let mut out = Vec::with_capacity(items.len() / 2);
    while !items.is_empty() {
        let value = items.string()?;
        let kind = member_kind(&items.string()?)?;
        out.push(Member {
            value,
            kind: Some(kind),
        });
    }
    Ok(out)
}

/// One resource as `fetch_json` renders it.
#[derive(serde::Deserialize)]
struct Entry {
    id: String,
    v: u64,
    c: i64,
    m: i64,
    doc: serde_json::Value,
    /// Flat (member id, kind) pairs.
    members: Vec<String>,
}

/// The resources of a `fetch_all` JSON array: `None` for ids that do not
/// exist. `with_members` decides whether a group comes with
/// `Some(members)`.
pub(crate) fn entries(kind: Kind, v: Value, with_members: bool) -> Result<Vec<Option<Stored>>> {
    let text = string(v)?;
    let entries: Vec<Option<Entry>> = serde_json::from_str(&text)?;
    entries
        .into_iter()
        .map(|e| e.map(|e| stored(kind, e, with_members)).transpose())
        .collect()
}

fn stored(kind: Kind, e: Entry, with_members: bool) -> Result<Stored> {
    let members = if with_members && kind == Kind::Group {
        let mut list = Vec::with_capacity(e.members.len() / 2);
        let mut pairs = e.members.into_iter();
        while let (Some(value), Some(k)) = (pairs.next(), pairs.next()) {
            list.push(Member {
                value,
                kind: Some(member_kind(&k)?),
            });
        }
        Some(list)
    } else {
        None
    };
    Ok(Stored {
        kind,
        id: e.id,
        version: e.v,
        created: millis(e.c)?,
        modified: millis(e.m)?,
        doc: e.doc,
        members,
    })
}
