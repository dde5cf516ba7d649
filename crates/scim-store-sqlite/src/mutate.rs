//! The mutations, as run by the writer thread inside its transaction (each
//! in its own savepoint). Every check happens inside the savepoint, so a
//! failure anywhere rolls back everything the request wrote, its audit
//! event included.

use crate::error::{Error, Result};
use crate::rows::{self, Keys, fmt_ms, fmt_ns, to_i64};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use scim_core::members::{Member, MemberDelta};
use scim_store::{
    AuditChange, AuditOp, Ctx, Kind, NewResource, Precondition, StoreError, Stored, Tenant, TokenRecord, Update,
    audit_change,
};
use serde_json::Value;

/// A resource row as the writer needs it before changing it.
struct Current {
    version: u64,
    created: String,
    doc: String,
    created_seq: i64,
    /// The key columns as stored: (user_name_key, external_id,
    /// display_name_key).
    keys: (Option<String>, Option<String>, Option<String>),
}

pub(crate) fn create(conn: &Connection, ctx: &Ctx, kind: Kind, new: NewResource) -> Result<Stored> {
    require_tenant(conn, &ctx.tenant)?;
    if kind == Kind::User && !new.members.is_empty() {
        return Err(StoreError::InvalidValue("users have no members".into()).into());
    }
    let keys = Keys::of(kind, &new.doc);
    if kind == Kind::User && keys.user_name.is_none() {
        return Err(StoreError::InvalidValue("a user needs a 'userName' string".into()).into());
    }
    let id = uuid::Uuid::new_v4().to_string();
    let now = rows::now();
    let stamp = fmt_ms(now);
    let seq = next_seq(conn, &ctx.tenant)?;
    conn.prepare_cached(
        "INSERT INTO resources (tenant, kind, id, version, created, modified, user_name_key, external_id,
                                display_name_key, doc, created_seq, verdict)
         VALUES (?1, ?2, ?3, 1, ?4, ?4, ?5, ?6, ?7, ?8, ?9, scim_verdict(?2, ?8))",
    )?
    .execute(params![
        ctx.tenant,
        kind.as_str(),
        id,
        stamp,
        keys.user_name,
        keys.external_id,
        keys.display_name,
        serde_json::to_string(&new.doc)?,
        seq
    ])?;
    insert_emails(conn, &ctx.tenant, &id, &keys)?;
    let mut delta = MemberDelta::default();
    delta.add(new.members);
    let members = add_members(conn, &ctx.tenant, &id, &delta)?;
    let change = audit_change(AuditOp::Create, Some(&new.doc), &delta);
    let event = Event {
        op: AuditOp::Create,
        kind,
        id: &id,
        version: 1,
        change,
        stamp: &stamp,
        origin: None,
    };
    audit(conn, ctx, seq, &event)?;
    Ok(Stored {
        kind,
        id,
        version: 1,
        created: now,
        modified: now,
        doc: new.doc,
        members: (kind == Kind::Group).then_some(members),
    })
}

pub(crate) fn update(
    conn: &Connection,
    ctx: &Ctx,
    kind: Kind,
    id: &str,
    expect: Precondition,
    update: Update,
) -> Result<Stored> {
    let current = current(conn, ctx, kind, id, expect)?;
    if kind == Kind::User && !update.members.is_empty() {
        return Err(StoreError::InvalidValue("users have no members".into()).into());
    }
    let now = rows::now();
    let stamp = fmt_ms(now);
    let version = current.version + 1;
    // Compare-and-swap on the version read above: the writer is the only
    // one writing, so this holds by construction, and says so in SQL.
    let changed = match &update.doc {
        Some(doc) => {
            let keys = Keys::of(kind, doc);
            if kind == Kind::User && keys.user_name.is_none() {
                return Err(StoreError::InvalidValue("a user needs a 'userName' string".into()).into());
            }
            let old = Keys::of(kind, &serde_json::from_str(&current.doc)?);
            // Only key columns whose values change are SET: SQLite rewrites
            // the index entry of every column an UPDATE sets, changed or not,
            // and each index entry is on a page of its own, which the commit
            // writes to the WAL and the checkpoint copies again. A PATCH of
            // `active` and `displayName` thus writes the row and one index,
            // not four.
            let mut args: Vec<SqlValue> = vec![
                to_i64(version).into(),
                stamp.clone().into(),
                serde_json::to_string(doc)?.into(),
                ctx.tenant.clone().into(),
                kind.as_str().to_string().into(),
                id.to_string().into(),
                to_i64(current.version).into(),
            ];
            // The verdict is found again of the new text (`scim_verdict`).
            let mut sets = String::from("version = ?1, modified = ?2, doc = ?3, verdict = scim_verdict(?5, ?3)");
            // Compared with the columns as stored, not as derived again
            // from the stored document, so a column is never left stale.
            let (user_name, external_id, display_name) = &current.keys;
            for (column, new, was) in [
                ("user_name_key", &keys.user_name, user_name),
                ("external_id", &keys.external_id, external_id),
                ("display_name_key", &keys.display_name, display_name),
            ] {
                if new != was {
                    args.push(new.clone().map_or(SqlValue::Null, SqlValue::Text));
                    sets.push_str(&format!(", {column} = ?{}", args.len()));
                }
            }
            let changed = conn
                .prepare_cached(&format!(
                    "UPDATE resources SET {sets} WHERE tenant = ?4 AND kind = ?5 AND id = ?6 AND version = ?7"
                ))?
                .execute(params_from_iter(args))?;
            // The same email rows would be deleted and inserted again.
            if old.emails != keys.emails {
                delete_email_keys(conn, &ctx.tenant, id, &old)?;
                insert_emails(conn, &ctx.tenant, id, &keys)?;
            }
            changed
        }
        None => conn
            .prepare_cached(
                "UPDATE resources SET version = ?1, modified = ?2
                 WHERE tenant = ?3 AND kind = ?4 AND id = ?5 AND version = ?6",
            )?
            .execute(params![
                to_i64(version),
                stamp,
                ctx.tenant,
                kind.as_str(),
                id,
                to_i64(current.version)
            ])?,
    };
    if changed != 1 {
        return Err(StoreError::VersionMismatch {
            current: current.version,
        }
        .into());
    }
    apply_members(conn, &ctx.tenant, id, &update.members)?;
    let change = audit_change(AuditOp::Update, update.doc.as_ref(), &update.members);
    let event = Event {
        op: AuditOp::Update,
        kind,
        id,
        version,
        change,
        stamp: &stamp,
        origin: None,
    };
    audit(conn, ctx, next_seq(conn, &ctx.tenant)?, &event)?;
    let doc = match update.doc {
        Some(doc) => doc,
        None => serde_json::from_str(&current.doc)?,
    };
    Ok(Stored {
        kind,
        id: id.to_string(),
        version,
        created: rows::parse_utc(&current.created)?,
        modified: now,
        doc,
        members: None,
    })
}

pub(crate) fn delete(conn: &Connection, ctx: &Ctx, kind: Kind, id: &str, expect: Precondition) -> Result<()> {
    let current = current(conn, ctx, kind, id, expect)?;
    // Both directions: the group's own member list, and its (or the
    // user's) places in other groups.
    conn.prepare_cached("DELETE FROM memberships WHERE tenant = ?1 AND group_id = ?2")?
        .execute(params![ctx.tenant, id])?;
    conn.prepare_cached("DELETE FROM memberships WHERE tenant = ?1 AND member_id = ?2")?
        .execute(params![ctx.tenant, id])?;
    delete_emails(conn, &ctx.tenant, id, kind, &serde_json::from_str(&current.doc)?)?;
    conn.prepare_cached("DELETE FROM resources WHERE tenant = ?1 AND kind = ?2 AND id = ?3")?
        .execute(params![ctx.tenant, kind.as_str(), id])?;
    let none = MemberDelta::default();
    let change = audit_change(AuditOp::Delete, None, &none);
    let stamp = fmt_ms(rows::now());
    // The resource row (and its created_seq) goes: the delete event keeps
    // the way to the create event.
    let origin = Some(current.created_seq);
    let event = Event {
        op: AuditOp::Delete,
        kind,
        id,
        version: 0,
        change,
        stamp: &stamp,
        origin,
    };
    audit(conn, ctx, next_seq(conn, &ctx.tenant)?, &event)
}

/// Reads the row a mutation applies to and checks the precondition.
fn current(conn: &Connection, ctx: &Ctx, kind: Kind, id: &str, expect: Precondition) -> Result<Current> {
    let row = conn
        .prepare_cached(
            "SELECT version, created, doc, created_seq, user_name_key, external_id, display_name_key
             FROM resources WHERE tenant = ?1 AND kind = ?2 AND id = ?3",
        )?
        .query_row(params![ctx.tenant, kind.as_str(), id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                (r.get(4)?, r.get(5)?, r.get(6)?),
            ))
        })
        .optional()?;
    let Some((version, created, doc, created_seq, keys)) = row else {
        return Err(StoreError::NotFound.into());
    };
    let version = rows::version(version)?;
    if let Precondition::IfMatch(expected) = expect
        && expected != version
    {
        return Err(StoreError::VersionMismatch { current: version }.into());
    }
    Ok(Current {
        version,
        created,
        doc,
        created_seq,
        keys,
    })
}

fn require_tenant(conn: &Connection, tenant: &str) -> Result<()> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM tenants WHERE id = ?1")?
        .query_row([tenant], |_| Ok(()))
        .optional()?
        .is_some();
    if exists {
        Ok(())
    } else {
        Err(StoreError::NotFound.into())
    }
}

fn insert_emails(conn: &Connection, tenant: &str, id: &str, keys: &Keys) -> Result<()> {
    if keys.emails.is_empty() {
        return Ok(());
    }
    // A document may list one address twice: one row is enough.
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO resource_emails (tenant, value_key, resource_id, type) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (value, kind) in &keys.emails {
        insert.execute(params![tenant, value, id, kind])?;
    }
    Ok(())
}

/// Removes the email rows of a document being replaced or deleted: the
/// rows its values made (the table is keyed by value, not by resource).
fn delete_emails(conn: &Connection, tenant: &str, id: &str, kind: Kind, old_doc: &Value) -> Result<()> {
    delete_email_keys(conn, tenant, id, &Keys::of(kind, old_doc))
}

/// Removes the email rows of `keys` (the keys of a document being replaced).
fn delete_email_keys(conn: &Connection, tenant: &str, id: &str, keys: &Keys) -> Result<()> {
    if keys.emails.is_empty() {
        return Ok(());
    }
    let mut delete =
        conn.prepare_cached("DELETE FROM resource_emails WHERE tenant = ?1 AND value_key = ?2 AND resource_id = ?3")?;
    for (value, _) in &keys.emails {
        delete.execute(params![tenant, value, id])?;
    }
    Ok(())
}

/// Applies a member delta in the order `MemberDelta` defines: replace-all
/// empties the group, then removals, then additions. Each step touches only
/// the rows it names (replace-all aside), never the whole member list.
fn apply_members(conn: &Connection, tenant: &str, group: &str, delta: &MemberDelta) -> Result<()> {
    if delta.replace_all {
        conn.prepare_cached("DELETE FROM memberships WHERE tenant = ?1 AND group_id = ?2")?
            .execute(params![tenant, group])?;
    }
    if !delta.remove.is_empty() {
        let mut remove =
            conn.prepare_cached("DELETE FROM memberships WHERE tenant = ?1 AND group_id = ?2 AND member_id = ?3")?;
        for member in &delta.remove {
            remove.execute(params![tenant, group, member])?;
        }
    }
    add_members(conn, tenant, group, delta)?;
    Ok(())
}

/// Inserts `delta.add` into `group`: each id must name a resource of the
/// tenant (one index lookup, which also gives the kind to fill in), and a
/// group must not end up inside itself. Returns the added members, in id
/// order, kinds filled in.
fn add_members(conn: &Connection, tenant: &str, group: &str, delta: &MemberDelta) -> Result<Vec<Member>> {
    let mut added = Vec::with_capacity(delta.add.len());
    if delta.add.is_empty() {
        return Ok(added);
    }
    // Ids are unique across kinds: probe the primary key with both.
    let mut kind_of =
        conn.prepare_cached("SELECT kind FROM resources WHERE tenant = ?1 AND kind IN ('User', 'Group') AND id = ?2")?;
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO memberships (tenant, group_id, member_id, member_kind) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for id in delta.add.keys() {
        let kind: Option<String> = kind_of.query_row(params![tenant, id], |r| r.get(0)).optional()?;
        let Some(kind) = kind else {
            return Err(StoreError::InvalidValue(format!("member '{id}' does not exist")).into());
        };
        let kind = rows::parse_kind(&kind)?;
        if kind == Kind::Group && closes_cycle(conn, tenant, group, id)? {
            return Err(StoreError::InvalidValue(format!(
                "adding group '{id}' to group '{group}' would make a membership cycle"
            ))
            .into());
        }
        insert.execute(params![tenant, group, id, kind.as_str()])?;
        added.push(Member {
            value: id.clone(),
            kind: Some(rows::member_kind(kind)),
        });
    }
    Ok(added)
}

/// Whether putting `member` into `group` closes a cycle: exactly when
/// `member` is `group` or one of the groups that (transitively) contain it.
/// Walks up from `group` along the (tenant, member_id) index, so the cost is
/// the number of ancestors, whatever the group sizes (`CROSS JOIN` keeps the
/// planner from making `memberships` the outer loop, as in `groups_of`).
fn closes_cycle(conn: &Connection, tenant: &str, group: &str, member: &str) -> Result<bool> {
    crate::read::exists(
        conn,
        "WITH RECURSIVE up(id) AS (
             SELECT ?2
             UNION
             SELECT m.group_id FROM up CROSS JOIN memberships m ON m.tenant = ?1 AND m.member_id = up.id
         )
         SELECT 1 FROM up WHERE id = ?3 LIMIT 1",
        params![tenant, group, member],
    )
}

/// The next audit seq of a tenant (the writer is alone, so it stays free
/// until used).
fn next_seq(conn: &Connection, tenant: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM audit WHERE tenant = ?1")?
        .query_row([tenant], |r| r.get(0))?)
}

/// One audit event to append.
struct Event<'a> {
    op: AuditOp,
    kind: Kind,
    id: &'a str,
    version: u64,
    change: AuditChange<'a>,
    stamp: &'a str,
    /// Delete events: the seq of the resource's create event.
    origin: Option<i64>,
}

fn audit(conn: &Connection, ctx: &Ctx, seq: i64, e: &Event<'_>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit (tenant, seq, time, actor, request_id, op, kind, resource_id, version, change, origin)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        ctx.tenant,
        seq,
        e.stamp,
        ctx.actor,
        ctx.request_id,
        e.op.as_str(),
        e.kind.as_str(),
        e.id,
        to_i64(e.version),
        serde_json::to_string(&e.change)?,
        e.origin
    ])?;
    Ok(())
}

// ------------------------------------------------------- tenants, tokens --

pub(crate) fn create_tenant(conn: &Connection, name: &str) -> Result<Tenant> {
    let tenant = Tenant {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.to_string(),
        created: rows::now(),
    };
    conn.prepare_cached("INSERT INTO tenants (id, name, created) VALUES (?1, ?2, ?3)")?
        .execute(params![tenant.id, tenant.name, fmt_ms(tenant.created)])?;
    Ok(tenant)
}

pub(crate) fn delete_tenant(conn: &Connection, id: &str) -> Result<()> {
    require_tenant(conn, id)?;
    for table in [
        "resources",
        "resource_counts",
        "resource_emails",
        "memberships",
        "tokens",
        "audit",
    ] {
        // Table names come from the list above, never from input.
        conn.prepare_cached(&format!("DELETE FROM {table} WHERE tenant = ?1"))?
            .execute([id])?;
    }
    conn.prepare_cached("DELETE FROM tenants WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

pub(crate) fn create_token(conn: &Connection, t: &TokenRecord) -> Result<()> {
    require_tenant(conn, &t.tenant)?;
    conn.prepare_cached(
        "INSERT INTO tokens (id, tenant, hash, description, user_id, created, last_used, revoked)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        t.id,
        t.tenant,
        t.hash,
        t.description,
        t.user,
        fmt_ns(t.created),
        t.last_used.map(fmt_ns),
        t.revoked.map(fmt_ns)
    ])?;
    Ok(())
}

pub(crate) fn revoke_token(conn: &Connection, id: &str) -> Result<()> {
    // Idempotent: the first revocation time stays.
    let n = conn
        .prepare_cached("UPDATE tokens SET revoked = COALESCE(revoked, ?2) WHERE id = ?1")?
        .execute(params![id, fmt_ns(rows::now())])?;
    if n == 0 {
        Err(StoreError::NotFound.into())
    } else {
        Ok(())
    }
}

pub(crate) fn touch_token(conn: &Connection, id: &str, at: chrono::DateTime<chrono::Utc>) -> Result<()> {
    let n = conn
        .prepare_cached("UPDATE tokens SET last_used = ?2 WHERE id = ?1")?
        .execute(params![id, fmt_ns(at)])?;
    if n == 0 {
        Err(StoreError::NotFound.into())
    } else {
        Ok(())
    }
}

/// Errors a caller could never fix by retrying mean the batch's
/// transaction itself is broken; this says whether `e` is one of those.
pub(crate) fn is_fatal(conn: &Connection, e: &Error) -> bool {
    // SQLite rolls the whole transaction back by itself on some errors
    // (disk full, I/O error, ...): then no savepoint is left to roll back to.
    matches!(e, Error::Sqlite(_)) && conn.is_autocommit()
}
