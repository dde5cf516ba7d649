//! Tenants, tokens and the audit log.
//!
//! A tenant lives in two places that Redis Cluster may put on different
//! nodes: the global registry (name and record) and its own key space (the
//! marker and its data). No script spans both, so creating and deleting a
//! tenant are ordered for safe failure: create writes the marker first (an
//! orphan marker of a random id is harmless), delete purges the data first
//! and unregisters last (a failure leaves a registered, empty tenant, and
//! deleting again completes).

use crate::RedisStore;
use crate::error::{Error, Result};
use crate::reply::{self, Items};
use crate::scripts;
use chrono::{DateTime, SubsecRound, Utc};
use redis::Value;
use scim_store::{AuditEvent, AuditOp, AuditQuery, Kind, StoreError, Tenant, TokenRecord};

/// Resources deleted per `purge.lua` call.
const PURGE_BATCH: usize = 500;

/// Audit entries read per XRANGE.
const AUDIT_BATCH: usize = 500;

impl RedisStore {
    pub(crate) async fn create_tenant_record(&self, name: &str) -> Result<Tenant> {
        let tenant = Tenant {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_string(),
            created: Utc::now().trunc_subsecs(3),
        };
        let t = self.tenant_keys(&tenant.id)?;
        let _: () = self
            .redis
            .cmd(redis::cmd("SET").arg(&t.marker).arg(&tenant.name))
            .await?;
        let registry = self.keys.registry();
        let record = serde_json::to_string(&tenant)?;
        let reply: Value = self
            .redis
            .script(
                &scripts::TENANT_CREATE,
                &[&registry.names(), &registry.tenants()],
                &[name, &tenant.id, &record],
            )
            .await?;
        if let Err(e) = reply::outcome(reply) {
            // The name is taken: the marker of the id nobody will know goes.
            let _: Result<i64> = self.redis.cmd(redis::cmd("DEL").arg(&t.marker)).await;
            return Err(e);
        }
        Ok(tenant)
    }

    pub(crate) async fn all_tenants(&self) -> Result<Vec<Tenant>> {
        let records: Vec<String> = self
            .redis
            .cmd(redis::cmd("HVALS").arg(self.keys.registry().tenants()))
            .await?;
        let mut tenants = records
            .iter()
            .map(|r| serde_json::from_str(r))
            .collect::<Result<Vec<Tenant>, _>>()?;
        tenants.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Ok(tenants)
    }

    pub(crate) async fn tenant_named(&self, name: &str) -> Result<Tenant> {
        let registry = self.keys.registry();
        let id: Option<String> = self
            .redis
            .cmd(redis::cmd("HGET").arg(registry.names()).arg(name))
            .await?;
        let id = id.ok_or(Error::Store(StoreError::NotFound))?;
        let record: Option<String> = self
            .redis
            .cmd(redis::cmd("HGET").arg(registry.tenants()).arg(&id))
            .await?;
        let record = record.ok_or(Error::Store(StoreError::NotFound))?;
        Ok(serde_json::from_str(&record)?)
    }

    pub(crate) async fn remove_tenant(&self, id: &str) -> Result<()> {
        let registry = self.keys.registry();
        let known: bool = self
            .redis
            .cmd(redis::cmd("HEXISTS").arg(registry.tenants()).arg(id))
            .await?;
        if !known {
            return Err(StoreError::NotFound.into());
        }
        let t = self.tenant_keys(id)?;
        let batch = PURGE_BATCH.to_string();
        loop {
            let left: i64 = self
                .redis
                .script(&scripts::PURGE, &[&t.marker], &[&t.base, &batch])
                .await?;
            if left == 0 {
                break;
            }
        }
        let reply: Value = self
            .redis
            .script(
                &scripts::TENANT_DELETE,
                &[&registry.names(), &registry.tenants(), &registry.token_order()],
                &[&registry.base, id],
            )
            .await?;
        reply::outcome(reply).map(drop)
    }

    pub(crate) async fn add_token(&self, token: &TokenRecord) -> Result<()> {
        let registry = self.keys.registry();
        let record = serde_json::to_string(token)?;
        let revoked = token.revoked.map(time_text).unwrap_or_default();
        let last_used = token.last_used.map(time_text).unwrap_or_default();
        let reply: Value = self
            .redis
            .script(
                &scripts::TOKEN_CREATE,
                &[&registry.tenants(), &registry.token_order()],
                &[&registry.base, &token.id, &token.tenant, &record, &revoked, &last_used],
            )
            .await?;
        reply::outcome(reply).map(drop)
    }

    pub(crate) async fn token_by_id(&self, id: &str) -> Result<TokenRecord> {
        let key = self.keys.registry().token(id);
        let reply: Value = self
            .redis
            .cmd(
                redis::cmd("HMGET")
                    .arg(&key)
                    .arg("n")
                    .arg("rec")
                    .arg("last_used")
                    .arg("revoked"),
            )
            .await?;
        let mut items = Items::new(reply)?;
        let _n = items.value()?;
        let Some(record) = reply::opt_string(items.value()?)? else {
            return Err(StoreError::NotFound.into());
        };
        token_record(&record, items.value()?, items.value()?)
    }

    pub(crate) async fn token_list(&self, tenant: Option<&str>) -> Result<Vec<TokenRecord>> {
        let registry = self.keys.registry();
        let reply: Value = self
            .redis
            .script(
                &scripts::TOKENS,
                &[&registry.token_order()],
                &[&registry.base, tenant.unwrap_or("")],
            )
            .await?;
        let mut list = Vec::new();
        for entry in Items::new(reply)? {
            let mut items = Items::new(entry)?;
            let n = items.int()?;
            let record = items.string()?;
            list.push((n, token_record(&record, items.value()?, items.value()?)?));
        }
        // Oldest first; the insertion number orders tokens of one instant.
        list.sort_by(|(n1, t1), (n2, t2)| t1.created.cmp(&t2.created).then(n1.cmp(n2)));
        Ok(list.into_iter().map(|(_, t)| t).collect())
    }

    /// Revokes (keeping the first revocation time) or records a use.
    pub(crate) async fn mark_token(&self, id: &str, revoke: bool, at: DateTime<Utc>) -> Result<()> {
        let key = self.keys.registry().token(id);
        let what = if revoke { "revoke" } else { "touch" };
        let reply: Value = self
            .redis
            .script(&scripts::TOKEN_MARK, &[&key], &[what, &time_text(at)])
            .await?;
        reply::outcome(reply).map(drop)
    }

    pub(crate) async fn audit_events(&self, tenant: &str, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let Some(t) = self.keys.tenant(tenant) else {
            return Ok(Vec::new());
        };
        let limit = q.limit as usize;
        let mut out = Vec::new();
        // Entry ids are `<seq>-0`: reading from after_seq + 1 skips the rest.
        let Some(mut next) = q.after_seq.map_or(Some(1), |s| s.checked_add(1)) else {
            return Ok(out);
        };
        while out.len() < limit {
            let reply: Value = self
                .redis
                .cmd(
                    redis::cmd("XRANGE")
                        .arg(t.audit())
                        .arg(format!("{next}-0"))
                        .arg("+")
                        .arg("COUNT")
                        .arg(AUDIT_BATCH),
                )
                .await?;
            let entries = Items::new(reply)?;
            let got = entries.len();
            for entry in entries {
                let e = audit_event(tenant, entry)?;
                next = e.seq + 1;
                let wanted =
                    q.since.is_none_or(|s| e.time >= s) && q.resource_id.as_ref().is_none_or(|r| &e.resource_id == r);
                if wanted && out.len() < limit {
                    out.push(e);
                }
            }
            if got < AUDIT_BATCH {
                break;
            }
        }
        Ok(out)
    }
}

/// Token times as stored: RFC 3339 with every fractional digit there is, so
/// a record reads back exactly as written.
fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Corrupt(format!("time '{text}': {e}")))
}

/// A token from its record and the fields that override it.
fn token_record(record: &str, last_used: Value, revoked: Value) -> Result<TokenRecord> {
    let mut token: TokenRecord = serde_json::from_str(record)?;
    token.last_used = reply::opt_string(last_used)?.map(|t| parse_time(&t)).transpose()?;
    token.revoked = reply::opt_string(revoked)?.map(|t| parse_time(&t)).transpose()?;
    Ok(token)
}

/// One stream entry (`[id, [field, value, ...]]`) as an event.
fn audit_event(tenant: &str, entry: Value) -> Result<AuditEvent> {
    let mut items = Items::new(entry)?;
    let id = items.string()?;
    let seq = id
        .split_once('-')
        .and_then(|(s, _)| s.parse().ok())
        .ok_or_else(|| Error::Corrupt(format!("audit entry id '{id}'")))?;
    let mut fields = Items::new(items.value()?)?;
    let (mut time, mut op, mut kind, mut resource_id, mut version, mut details) = (None, None, None, None, None, None);
    while !fields.is_empty() {
        let name = fields.string()?;
        let value = fields.string()?;
        match name.as_str() {
            "t" => {
                time = Some(reply::millis(
                    value.parse().map_err(|_| Error::Corrupt(format!("time '{value}'")))?,
                )?)
            }
            "op" => op = Some(value),
            "kind" => kind = Kind::parse(&value),
            "id" => resource_id = Some(value),
            "v" => version = value.parse().ok(),
            "e" => details = Some(serde_json::from_str::<serde_json::Value>(&value)?),
            _ => {}
        }
    }
    let op = match op.as_deref() {
        Some("create") => AuditOp::Create,
        Some("update") => AuditOp::Update,
        Some("delete") => AuditOp::Delete,
        other => return Err(Error::Corrupt(format!("audit op {other:?}"))),
    };
    let missing = |what: &str| Error::Corrupt(format!("audit entry {id} has no {what}"));
    let mut details = details.ok_or_else(|| missing("details"))?;
    Ok(AuditEvent {
        seq,
        time: time.ok_or_else(|| missing("time"))?,
        tenant: tenant.to_string(),
        actor: details
            .get("actor")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string),
        request_id: details
            .get("request_id")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string(),
        op,
        kind: kind.ok_or_else(|| missing("kind"))?,
        resource_id: resource_id.ok_or_else(|| missing("resource id"))?,
        version: version.ok_or_else(|| missing("version"))?,
        change: details
            .get_mut("change")
            .map(serde_json::Value::take)
            .unwrap_or_default(),
    })
}
