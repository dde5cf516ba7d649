//! `[storage]`: which backend, and one section per backend. The sections of
//! backends this binary was built without still parse (and `config check`
//! still shows them), so one configuration file serves every build.
//!
//! Secrets live in URLs (PostgreSQL and Redis passwords): [`redact`] masks
//! them wherever the configuration is shown, and nothing logs a raw URL.

use super::{ConfigError, invalid};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// `sqlite`, `postgres`, `redis` or `memory`.
    pub backend: String,
    pub sqlite: SqliteSection,
    pub postgres: PostgresSection,
    pub redis: RedisSection,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            backend: "sqlite".into(),
            sqlite: SqliteSection::default(),
            postgres: PostgresSection::default(),
            redis: RedisSection::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SqliteSection {
    /// The database file; its directory is created if missing.
    pub path: PathBuf,
    pub synchronous: Synchronous,
    /// Read-only connections.
    pub readers: usize,
}

impl Default for SqliteSection {
    fn default() -> Self {
        SqliteSection {
            path: PathBuf::from("./data/scim.db"),
            synchronous: Synchronous::Full,
            readers: 4,
        }
    }
}

/// SQLite `PRAGMA synchronous`: `full` makes every acknowledged write
/// survive a power cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    Off,
    Normal,
    #[default]
    Full,
    Extra,
}

/// `[storage.postgres]`: the defaults are `scim_store_postgres::PgConfig`'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostgresSection {
    /// A connection URL (`postgres://user:password@host:5432/db`) or
    /// key/value pairs (`host=db user=scim password=...`). Required with
    /// `backend = "postgres"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Most connections this instance holds.
    pub pool_size: usize,
    /// Opening a connection, and waiting for a free one, fail after this.
    pub connect_timeout: HumanDuration,
    /// PostgreSQL's `statement_timeout`; 0 disables it.
    pub statement_timeout: HumanDuration,
    /// The PostgreSQL schema of the tables, created if missing.
    pub schema: String,
    /// Filters SQL cannot express are checked over at most this many rows.
    pub max_scan: u64,
}

impl Default for PostgresSection {
    fn default() -> Self {
        PostgresSection {
            url: None,
            pool_size: 16,
            connect_timeout: HumanDuration::secs(5),
            statement_timeout: HumanDuration::secs(30),
            schema: "scim".into(),
            max_scan: 100_000,
        }
    }
}

/// `[storage.redis]`: the defaults are `scim_store_redis::RedisConfig`'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisSection {
    /// `redis://[user:password@]host:port[/db]` or `rediss://` (TLS). With
    /// `cluster = true` and no `nodes`, the cluster's seed node.
    pub url: String,
    /// Speak Redis Cluster.
    pub cluster: bool,
    /// Cluster seed nodes (URLs); any reachable subset of the cluster.
    pub nodes: Vec<String>,
    /// First segment of every key, so deployments can share one Redis.
    pub key_prefix: String,
    /// How long one connection attempt may take.
    pub connect_timeout: HumanDuration,
    /// How long one command may wait for its reply.
    pub response_timeout: HumanDuration,
    /// Filters and sorts no index answers scan at most this many resources.
    pub max_scan: u64,
}

impl Default for RedisSection {
    fn default() -> Self {
        RedisSection {
            url: "redis://127.0.0.1:6379".into(),
            cluster: false,
            nodes: Vec::new(),
            key_prefix: "scim".into(),
            connect_timeout: HumanDuration::secs(2),
            response_timeout: HumanDuration::secs(5),
            max_scan: 10_000,
        }
    }
}

impl StorageConfig {
    /// The checks serde cannot make; the URL is required only for the
    /// backend in use, the rest is checked whatever the backend.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.sqlite.readers == 0 {
            return Err(invalid("storage.sqlite.readers", "must be at least 1"));
        }
        let pg = &self.postgres;
        match &pg.url {
            None if self.backend == "postgres" => {
                return Err(invalid(
                    "storage.postgres.url",
                    "is required with backend 'postgres' (postgres://user:password@host:5432/db)",
                ));
            }
            Some(url) if url.trim().is_empty() => {
                return Err(invalid("storage.postgres.url", "must not be empty"));
            }
            _ => {}
        }
        if pg.pool_size == 0 {
            return Err(invalid("storage.postgres.pool_size", "must be at least 1"));
        }
        if pg.connect_timeout.0.is_zero() {
            return Err(invalid("storage.postgres.connect_timeout", "must be above zero"));
        }
        if !valid_pg_schema(&pg.schema) {
            return Err(invalid(
                "storage.postgres.schema",
                format!(
                    "'{}' must be 1 to 63 lower-case letters, digits or '_', not starting with a digit",
                    pg.schema
                ),
            ));
        }
        if pg.max_scan == 0 {
            return Err(invalid("storage.postgres.max_scan", "must be at least 1"));
        }
        let r = &self.redis;
        let scheme_ok = |u: &str| u.starts_with("redis://") || u.starts_with("rediss://");
        // With cluster nodes listed, `url` is not used.
        let url_used = !r.cluster || r.nodes.is_empty();
        if url_used && !scheme_ok(&r.url) {
            return Err(invalid(
                "storage.redis.url",
                format!("'{}' must start with redis:// or rediss://", redact(&r.url)),
            ));
        }
        if let Some(bad) = r.nodes.iter().find(|n| !scheme_ok(n)) {
            return Err(invalid(
                "storage.redis.nodes",
                format!("'{}' must start with redis:// or rediss://", redact(bad)),
            ));
        }
        if !r.nodes.is_empty() && !r.cluster {
            return Err(invalid(
                "storage.redis.nodes",
                "is for Redis Cluster: set cluster = true",
            ));
        }
        if r.key_prefix.is_empty() || r.key_prefix.contains(['{', '}']) {
            return Err(invalid(
                "storage.redis.key_prefix",
                "must be non-empty without '{' or '}' (the tenant in braces is every key's hash tag)",
            ));
        }
        if r.connect_timeout.0.is_zero() {
            return Err(invalid("storage.redis.connect_timeout", "must be above zero"));
        }
        if r.response_timeout.0.is_zero() {
            return Err(invalid("storage.redis.response_timeout", "must be above zero"));
        }
        if r.max_scan == 0 {
            return Err(invalid("storage.redis.max_scan", "must be at least 1"));
        }
        Ok(())
    }

    /// The same sections with every password masked.
    pub(super) fn redacted(&self) -> StorageConfig {
        let mut s = self.clone();
        s.postgres.url = s.postgres.url.as_deref().map(redact);
        s.redis.url = redact(&s.redis.url);
        s.redis.nodes = s.redis.nodes.iter().map(|n| redact(n)).collect();
        s
    }
}

/// What PostgreSQL keeps as written, and is safe unquoted in SQL.
fn valid_pg_schema(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    first_ok && name.len() <= 63 && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A duration in the configuration: a whole number of seconds (`5`) or a
/// number with a unit: `500ms`, `5s`, `2m`. Shown as `500ms` or `5s`.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    pub const fn secs(s: u64) -> HumanDuration {
        HumanDuration(Duration::from_secs(s))
    }

    pub fn parse(text: &str) -> Option<HumanDuration> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let n: u64 = number.parse().ok()?;
        let d = match unit.trim() {
            "" | "s" => Duration::from_secs(n),
            "ms" => Duration::from_millis(n),
            "m" => Duration::from_secs(n.checked_mul(60)?),
            _ => return None,
        };
        Some(HumanDuration(d))
    }
}

impl fmt::Debug for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms.is_multiple_of(1000) {
            write!(f, "{}s", ms / 1000)
        } else {
            write!(f, "{ms}ms")
        }
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = HumanDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration: seconds, or a string such as \"500ms\", \"5s\", \"2m\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<HumanDuration, E> {
                Ok(HumanDuration::secs(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<HumanDuration, E> {
                u64::try_from(v)
                    .map(HumanDuration::secs)
                    .map_err(|_| E::custom("a duration cannot be negative"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HumanDuration, E> {
                HumanDuration::parse(v)
                    .ok_or_else(|| E::custom(format!("'{v}' is not a duration such as \"500ms\", \"5s\", \"2m\"")))
            }
        }
        d.deserialize_any(V)
    }
}

pub use scim_store::redact_url as redact;

#[cfg(test)]
mod tests;
