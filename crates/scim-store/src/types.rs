//! The values that cross the store boundary.

use chrono::{DateTime, Utc};
use scim_core::filter::Filter;
use scim_core::members::{Member, MemberDelta};
use scim_core::projection::Verdict;
use scim_core::schema::{Container, ResourceType};
use scim_core::sort::SortSpec;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Who is asking, for whom: on every call. A store never reads or writes
/// data of any tenant but `tenant`; `actor` and `request_id` go into the
/// audit event of a mutation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ctx {
    /// The tenant's id.
    pub tenant: String,
    /// The token id that authenticated the request (`None` for the CLI).
    pub actor: Option<String>,
    pub request_id: String,
}

impl Ctx {
    pub fn new(tenant: impl Into<String>, actor: Option<String>, request_id: impl Into<String>) -> Ctx {
        Ctx {
            tenant: tenant.into(),
            actor,
            request_id: request_id.into(),
        }
    }
}

/// The resource kinds a store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    /// The resource type name, also `meta.resourceType`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "User" => Some(Kind::User),
            "Group" => Some(Kind::Group),
            _ => None,
        }
    }
}

/// A resource to create: a document already validated by
/// `scim_core::validate` (no `id`, no `meta`, no `members`), and for groups
/// the initial members.
#[derive(Debug, Clone, PartialEq)]
pub struct NewResource {
    pub doc: Value,
    pub members: Vec<Member>,
}

/// A resource as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub kind: Kind,
    pub id: String,
    /// Starts at 1; every mutation adds 1.
    pub version: u64,
    /// `created` and `modified` are kept to the millisecond, the precision
    /// [`rfc3339`] renders: a resource read back equals the one `create` or
    /// `update` returned, and `meta.*` filters see what clients see.
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    /// The validated attributes, without `id`, `meta` and `members`.
    pub doc: Value,
    /// A group's members, when the call asked for them (`Load::members`);
    /// `None` otherwise and for users.
    pub members: Option<Vec<Member>>,
}

impl Stored {
    /// The resource as scim-core sees it: the document plus `id`,
    /// `meta.resourceType/created/lastModified/version`, and `members` when
    /// loaded. This is the document filters are evaluated against; the
    /// server adds `meta.location` and `groups`.
    pub fn to_resource(&self) -> Value {
        let mut out = Map::new();
        let doc = self.doc.as_object();
        if let Some(schemas) = doc.and_then(|d| d.get("schemas")) {
            out.insert("schemas".into(), schemas.clone());
        }
        out.insert("id".into(), Value::String(self.id.clone()));
        if let Some(d) = doc {
            for (k, v) in d {
                if k != "schemas" {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        if let Some(members) = &self.members
            && !members.is_empty()
        {
            out.insert(
                "members".into(),
                Value::Array(members.iter().map(member_json).collect()),
            );
        }
        out.insert(
            "meta".into(),
            serde_json::json!({
                "resourceType": self.kind.as_str(),
                "created": rfc3339(self.created),
                "lastModified": rfc3339(self.modified),
                "version": scim_core::etag::render(self.version),
            }),
        );
        Value::Object(out)
    }
}

/// `{"value": id, "type": "User"}`.
pub fn member_json(m: &Member) -> Value {
    let mut o = Map::new();
    o.insert("value".into(), Value::String(m.value.clone()));
    if let Some(k) = m.kind {
        o.insert("type".into(), Value::String(k.as_str().into()));
    }
    Value::Object(o)
}

/// Timestamps on the wire: RFC 3339 with millisecond precision, UTC.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// What to load with a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Load {
    /// A group's members. Off when the response will not show them
    /// (`excludedAttributes=members`), which is what keeps reads of large
    /// groups cheap.
    pub members: bool,
}

impl Load {
    pub const WITH_MEMBERS: Load = Load { members: true };
    pub const WITHOUT_MEMBERS: Load = Load { members: false };
}

/// A keyset position for cursor paging: the last item of the previous page,
/// by its sort key (as JSON, `null` when it had none) and id.
///
/// `key` is the raw value the sort reads from that item, as stored, not
/// folded: see [`Position::of`], which is how callers build it. A store
/// compares it the way `SortSpec::compare` compares that attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub key: Value,
    pub id: String,
}

impl Position {
    /// The position of `item` under `sort` (`None`: id order, key `null`):
    /// the value `SortSpec::compare` reads (the attribute, of its primary or
    /// else first element when multi-valued, then the named sub-attribute or,
    /// for a complex attribute named alone, its `value`). `item` must carry
    /// members when sorting by them.
    pub fn of(rt: &ResourceType, sort: Option<&SortSpec>, item: &Stored) -> Position {
        let key = sort
            .map(|s| raw_sort_value(rt, s, &item.to_resource()))
            .unwrap_or(Value::Null);
        Position {
            key,
            id: item.id.clone(),
        }
    }
}

fn raw_sort_value(rt: &ResourceType, sort: &SortSpec, doc: &Value) -> Value {
    let Some(a) = rt.resolve_attr(&sort.by) else {
        return Value::Null;
    };
    let holder = match a.container {
        Container::Top => Some(doc),
        Container::Extension(urn) => doc.get(urn),
    };
    let Some(v) = holder.and_then(|h| h.get(&a.attr.name)) else {
        return Value::Null;
    };
    let element = match v {
        Value::Array(items) => {
            match items
                .iter()
                .find(|i| i.get("primary") == Some(&Value::Bool(true)))
                .or_else(|| items.first())
            {
                Some(e) => e,
                None => return Value::Null,
            }
        }
        other => other,
    };
    let leaf = match (a.sub, a.attr.is_complex()) {
        (Some(sub), _) => element.get(&sub.name),
        (None, true) => a.attr.value_sub_attribute().and_then(|d| element.get(&d.name)),
        (None, false) => Some(element),
    };
    leaf.cloned().unwrap_or(Value::Null)
}

/// A query over one kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Already checked with `scim_core::filter::check`.
    pub filter: Option<Filter>,
    /// `None`: ascending by id, the stable default order.
    pub sort: Option<SortSpec>,
    /// 1-based (RFC 7644 §3.4.2.4); values below 1 mean 1.
    pub start_index: u64,
    /// Page size; 0 returns only `total`.
    pub count: u64,
    /// Cursor paging: start after this position instead of at `start_index`.
    pub after: Option<Position>,
    pub load: Load,
}

impl Query {
    /// Everything, in id order, first `count` items.
    pub fn all(count: u64) -> Query {
        Query {
            filter: None,
            sort: None,
            start_index: 1,
            count,
            after: None,
            load: Load::default(),
        }
    }
}

/// One page of a query: of [`Stored`] resources (`Store::query`), or of
/// [`StoredText`] ones (`Store::query_text`).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T = Stored> {
    /// Matches in all, not just on this page.
    pub total: u64,
    pub items: Vec<T>,
}

/// A resource as stored, with its document as JSON text: what a list page
/// needs to render it without building a `Value` (`Store::query_text`).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredText {
    pub kind: Kind,
    pub id: String,
    pub version: u64,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    /// [`Stored::doc`] as serde_json's compact serialisation of it (what
    /// `serde_json::to_string` gives): no spaces, no escapes serde_json
    /// would not write, no repeated names. The server copies it into
    /// responses as it is and counts on it being byte for byte what
    /// serialising the parsed document gives.
    pub doc: String,
    /// What `UnchangedByDefault::for_rendering` of the resource's type
    /// found of `doc` when the store wrote it, if the store keeps that
    /// (SQLite does, for users). The reader takes it only when it was found
    /// of this very text by the same check (`members_given`), so a store
    /// may hand out any verdict it has; `None` costs a reading of `doc`.
    pub verdict: Option<Verdict>,
}

impl StoredText {
    /// The same resource with its document serialised (what `query_text`
    /// answers for a backend that keeps no text, or for a page it had to
    /// parse anyway). Members are not carried.
    pub fn of(stored: Stored) -> StoredText {
        StoredText {
            kind: stored.kind,
            id: stored.id,
            version: stored.version,
            created: stored.created,
            modified: stored.modified,
            doc: stored.doc.to_string(),
            verdict: None,
        }
    }

    /// The resource with its document parsed, without members: the way
    /// back from [`StoredText::of`].
    pub fn into_stored(self) -> Result<Stored, serde_json::Error> {
        Ok(Stored {
            kind: self.kind,
            id: self.id,
            version: self.version,
            created: self.created,
            modified: self.modified,
            doc: serde_json::from_str(&self.doc)?,
            members: None,
        })
    }
}

/// The compare-and-swap condition of `update` and `delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    Any,
    IfMatch(u64),
}

/// One update, for PUT and PATCH alike.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Update {
    /// The new document (validated, without id/meta/members), or `None` when
    /// only members change: then concurrent member changes never conflict.
    pub doc: Option<Value>,
    pub members: MemberDelta,
}

/// A page request over a group's members, in member id order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberCursor {
    pub after: Option<String>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberPage {
    pub members: Vec<Member>,
    /// Pass as `after` for the next page; `None` at the end.
    pub next: Option<String>,
}

/// A group a resource belongs to, for `User.groups`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupRef {
    pub id: String,
    pub display: Option<String>,
    /// `true`: a direct member; `false`: through a nested group.
    pub direct: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub created: DateTime<Utc>,
}

/// A bearer token. The secret part is never stored, only its argon2 hash
/// (PHC string).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub id: String,
    pub tenant: String,
    pub hash: String,
    pub description: Option<String>,
    /// The user `/Me` means for this token.
    pub user: Option<String>,
    pub created: DateTime<Utc>,
    pub last_used: Option<DateTime<Utc>>,
    pub revoked: Option<DateTime<Utc>>,
}

/// What a mutation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditOp {
    Create,
    Update,
    Delete,
}

impl AuditOp {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOp::Create => "create",
            AuditOp::Update => "update",
            AuditOp::Delete => "delete",
        }
    }
}

/// One audit event: exactly one per successful mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Increases with every event of a tenant.
    pub seq: u64,
    pub time: DateTime<Utc>,
    pub tenant: String,
    pub actor: Option<String>,
    pub request_id: String,
    pub op: AuditOp,
    pub kind: Kind,
    pub resource_id: String,
    /// The version the mutation produced (0 for a delete).
    pub version: u64,
    /// What changed: see [`audit_change`].
    pub change: Value,
}

/// Which events to read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditQuery {
    pub after_seq: Option<u64>,
    pub since: Option<DateTime<Utc>>,
    pub resource_id: Option<String>,
    /// At most this many, oldest first.
    pub limit: u32,
}

/// The `change` of an audit event, the same in every store:
/// create: `{"doc": <doc>, "members": [ids]}`;
/// update: `{"doc": <new doc or null>, "members": {"replaceAll": bool, "add": [ids], "remove": [ids]}}`;
/// delete: `{}`. `password` is left out of documents: secrets never reach
/// the audit log.
///
/// It borrows the document and serialises straight from it
/// (`serde_json::to_string` for a column, `to_value` for a store that
/// keeps values): a copy of the document made only to leave the password
/// out cost a write as much as serialising it.
pub fn audit_change<'a>(op: AuditOp, doc: Option<&'a Value>, members: &'a MemberDelta) -> AuditChange<'a> {
    AuditChange { op, doc, members }
}

/// See [`audit_change`].
#[derive(Debug, Clone, Copy)]
pub struct AuditChange<'a> {
    op: AuditOp,
    doc: Option<&'a Value>,
    members: &'a MemberDelta,
}

impl AuditChange<'_> {
    /// The change as a JSON value, for stores that keep values.
    pub fn to_value(&self) -> Result<Value, crate::StoreError> {
        serde_json::to_value(self)
            .map_err(|e| crate::StoreError::Backend(format!("an audit change did not serialise: {e}")))
    }
}

impl Serialize for AuditChange<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let doc = self.doc.map(WithoutPassword);
        let add = Ids(self.members.add.keys());
        match self.op {
            AuditOp::Create => {
                let mut map = s.serialize_map(Some(2))?;
                map.serialize_entry("doc", &doc)?;
                map.serialize_entry("members", &add)?;
                map.end()
            }
            AuditOp::Update => {
                let mut map = s.serialize_map(Some(2))?;
                map.serialize_entry("doc", &doc)?;
                map.serialize_entry(
                    "members",
                    &Delta {
                        replace_all: self.members.replace_all,
                        add,
                        remove: Ids(self.members.remove.iter()),
                    },
                )?;
                map.end()
            }
            AuditOp::Delete => s.serialize_map(Some(0))?.end(),
        }
    }
}

/// A document as it is, but for a top-level `password`.
struct WithoutPassword<'a>(&'a Value);

impl Serialize for WithoutPassword<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(members) => s.collect_map(members.iter().filter(|(name, _)| name.as_str() != "password")),
            other => other.serialize(s),
        }
    }
}

/// Ids as a JSON array, serialised from the iterator without collecting.
struct Ids<I>(I);

impl<'a, I: Iterator<Item = &'a String> + Clone> Serialize for Ids<I> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.clone())
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Delta<A: Serialize, R: Serialize> {
    replace_all: bool,
    add: A,
    remove: R,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The text every store writes, byte for byte: members in the order
    /// the old `json!` form had, the document's own order kept, and no
    /// `password` anywhere in it.
    #[test]
    fn an_audit_change_is_written_in_one_order_without_the_password() {
        let doc = json!({"schemas": ["s"], "userName": "u", "password": "secret", "active": true});
        let mut delta = MemberDelta::default();
        delta.add([Member::new("m1".to_string()), Member::new("m0".to_string())]);
        delta.remove.insert("r".to_string());
        fn text(op: AuditOp, doc: Option<&Value>, members: &MemberDelta) -> String {
            serde_json::to_string(&audit_change(op, doc, members)).unwrap()
        }
        assert_eq!(
            text(AuditOp::Create, Some(&doc), &delta),
            r#"{"doc":{"schemas":["s"],"userName":"u","active":true},"members":["m0","m1"]}"#
        );
        assert_eq!(
            text(AuditOp::Update, Some(&doc), &delta),
            r#"{"doc":{"schemas":["s"],"userName":"u","active":true},"members":{"replaceAll":false,"add":["m0","m1"],"remove":["r"]}}"#
        );
        assert_eq!(
            text(AuditOp::Update, None, &MemberDelta::default()),
            r#"{"doc":null,"members":{"replaceAll":false,"add":[],"remove":[]}}"#
        );
        assert_eq!(text(AuditOp::Delete, Some(&doc), &delta), "{}");
        let value = audit_change(AuditOp::Create, Some(&doc), &delta).to_value().unwrap();
        assert_eq!(value["doc"], json!({"schemas": ["s"], "userName": "u", "active": true}));
    }
}
