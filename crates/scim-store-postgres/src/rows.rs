//! Rows as statements return them, and their conversion into the store's
//! values.

use crate::error::{Error, Result};
use chrono::{DateTime, SubsecRound, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Jsonb, Nullable, Text, Timestamptz};
use scim_core::members::{Member, MemberKind};
use scim_store::{Kind, StoreError, Stored};
use serde_json::Value;
use uuid::Uuid;

/// Now, to the millisecond: resources carry the times `meta` shows (RFC
/// 3339 with milliseconds), so a filter on `meta.created` sees exactly the
/// stored value and a read returns exactly what the write returned.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// A resource as the reading statements select it: `RESOURCE_COLUMNS`.
#[derive(Debug, QueryableByName)]
pub(crate) struct ResourceRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub(crate) id: Uuid,
    #[diesel(sql_type = BigInt)]
    pub(crate) version: i64,
    #[diesel(sql_type = Timestamptz)]
    pub(crate) created: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub(crate) modified: DateTime<Utc>,
    #[diesel(sql_type = Jsonb)]
    pub(crate) doc: Value,
    /// A group's members in id order, when the statement loads them.
    #[diesel(sql_type = Nullable<Array<diesel::sql_types::Uuid>>)]
    pub(crate) member_ids: Option<Vec<Uuid>>,
    #[diesel(sql_type = Nullable<Array<Text>>)]
    pub(crate) member_kinds: Option<Vec<String>>,
    /// Page statements: every match; others: 0.
    #[diesel(sql_type = BigInt)]
    pub(crate) total: i64,
}

/// The columns of a `ResourceRow` from rows aliased `x`, members loaded
/// when `members` (the tenant's placeholder is `tenant`), `total` as given.
pub(crate) fn resource_columns(x: &str, members: bool, tenant: &str, total: &str) -> String {
    let members = if members {
        format!(
            "ARRAY(SELECT m.member_id FROM memberships m WHERE m.tenant = {tenant} AND m.group_id = {x}.id \
             ORDER BY m.member_id) AS member_ids, \
             ARRAY(SELECT m.member_kind FROM memberships m WHERE m.tenant = {tenant} AND m.group_id = {x}.id \
             ORDER BY m.member_id) AS member_kinds"
        )
    } else {
        "NULL::uuid[] AS member_ids, NULL::text[] AS member_kinds".into()
    };
    format!("{x}.id, {x}.version, {x}.created, {x}.modified, {x}.doc, {members}, {total} AS total")
}

impl ResourceRow {
    /// The stored resource; members when the row has them.
    pub(crate) fn into_stored(self, kind: Kind) -> Result<Stored> {
        let members = match (self.member_ids, self.member_kinds) {
            (Some(ids), Some(kinds)) => Some(members_of(ids, kinds)?),
            _ => None,
        };
        Ok(Stored {
            kind,
            id: self.id.to_string(),
            version: version(self.version)?,
            created: self.created,
            modified: self.modified,
            doc: self.doc,
            members: if kind == Kind::Group { members } else { None },
        })
    }
}

pub(crate) fn members_of(ids: Vec<Uuid>, kinds: Vec<String>) -> Result<Vec<Member>> {
    if ids.len() != kinds.len() {
        return Err(Error::Corrupt("member ids and kinds differ in number".into()));
    }
    ids.into_iter()
        .zip(kinds)
        .map(|(id, kind)| {
            Ok(Member {
                value: id.to_string(),
                kind: Some(parse_member_kind(&kind)?),
            })
        })
        .collect()
}

pub(crate) fn version(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| Error::Corrupt(format!("negative version {v}")))
}

pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn parse_kind(s: &str) -> Result<Kind> {
    Kind::parse(s).ok_or_else(|| Error::Corrupt(format!("unknown kind '{s}'")))
}

pub(crate) fn parse_member_kind(s: &str) -> Result<MemberKind> {
    MemberKind::parse(s).ok_or_else(|| Error::Corrupt(format!("unknown member kind '{s}'")))
}

pub(crate) fn member_kind(kind: Kind) -> MemberKind {
    match kind {
        Kind::User => MemberKind::User,
        Kind::Group => MemberKind::Group,
    }
}

/// An id the caller gave, if it is one this store hands out: resources and
/// tenants have UUID ids in the canonical lower-case hyphenated form, and
/// ids compare as text in the contract, so any other spelling (upper case,
/// braces, no hyphens) names nothing, as in the reference store.
pub(crate) fn canonical_uuid(id: &str) -> Option<Uuid> {
    Uuid::parse_str(id).ok().filter(|u| {
        let mut buf = Uuid::encode_buffer();
        u.hyphenated().encode_lower(&mut buf) == id
    })
}

/// [`canonical_uuid`], else `NotFound`.
pub(crate) fn uuid_or_not_found(id: &str) -> Result<Uuid> {
    canonical_uuid(id).ok_or(Error::Store(StoreError::NotFound))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_uuids_name_resources() {
        let id = "2b0d2c7e-6d1c-4c3a-9d55-0d7e0b6b9c11";
        assert!(canonical_uuid(id).is_some());
        for other in [
            "2B0D2C7E-6D1C-4C3A-9D55-0D7E0B6B9C11",
            "2b0d2c7e6d1c4c3a9d550d7e0b6b9c11",
            "{2b0d2c7e-6d1c-4c3a-9d55-0d7e0b6b9c11}",
            "urn:uuid:2b0d2c7e-6d1c-4c3a-9d55-0d7e0b6b9c11",
            "nope",
            "",
        ] {
            assert!(canonical_uuid(other).is_none(), "{other}");
        }
    }
}
