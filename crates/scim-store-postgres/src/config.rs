//! How to reach PostgreSQL and the limits the store works under. The
//! password in the connection string never shows: `Debug` and `Display`
//! print [`PgConfig::redacted_url`].

use std::fmt;
use std::time::Duration;

/// Configuration of [`crate::PgStore::connect`].
#[derive(Clone, PartialEq, Eq)]
pub struct PgConfig {
    /// A libpq-style connection string: a URL
    /// (`postgres://user:password@host:5432/db?application_name=scim`) or
    /// key/value pairs (`host=db user=scim password=...`). Connections are
    /// plain TCP or Unix sockets (tokio-postgres without TLS), so
    /// `sslmode=require` fails to connect; put TLS in front (a local proxy
    /// or a sidecar) where the network needs it.
    pub url: String,
    /// Most connections the pool holds; default 16.
    pub pool_size: usize,
    /// How long opening a connection, and waiting for a free one in the pool,
    /// may take before the call fails with `Unavailable`; default 5 s. Kept
    /// short so that a database that is down fails requests fast.
    pub connect_timeout: Duration,
    /// PostgreSQL's `statement_timeout` on every connection; default 30 s.
    /// Zero disables it.
    pub statement_timeout: Duration,
    /// The PostgreSQL schema the store's tables live in, created if missing;
    /// every connection puts it alone on its `search_path`. Lower-case
    /// letters, digits and `_`, starting with a letter or `_`, at most 63
    /// bytes; default `scim`.
    pub schema: String,
    /// Most resources a filter that cannot be written in SQL may scan before
    /// the query fails with `TooMany`; default 100,000.
    pub max_scan: u64,
}

impl PgConfig {
    /// Defaults for a connection string.
    pub fn new(url: impl Into<String>) -> PgConfig {
        PgConfig {
            url: url.into(),
            pool_size: 16,
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            schema: "scim".into(),
            max_scan: 100_000,
        }
    }

    /// The same configuration in another schema.
    pub fn with_schema(mut self, schema: impl Into<String>) -> PgConfig {
        self.schema = schema.into();
        self
    }

    /// The connection string with any password replaced by `***`: in the
    /// URL's user info, in a `password=` query parameter, or in a
    /// `password=` pair of the key/value form.
    pub fn redacted_url(&self) -> String {
        redact(&self.url)
    }

    /// Why this configuration cannot work, if it cannot.
    pub(crate) fn problem(&self) -> Option<String> {
        if !valid_schema_name(&self.schema) {
            return Some(format!(
                "schema '{}' must be 1 to 63 lower-case letters, digits or '_', not starting with a digit",
                self.schema
            ));
        }
        if self.pool_size == 0 {
            return Some("pool_size must be at least 1".into());
        }
        if self.connect_timeout.is_zero() {
            return Some("connect_timeout must be above zero".into());
        }
        None
    }
}

impl fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConfig")
            .field("url", &self.redacted_url())
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("schema", &self.schema)
            .field("max_scan", &self.max_scan)
            .finish()
    }
}

impl fmt::Display for PgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (schema {})", self.redacted_url(), self.schema)
    }
}

/// A name that is safe to write into SQL and into the `options` startup
/// parameter unquoted, and that PostgreSQL keeps as written (no case
/// folding surprises).
pub(crate) fn valid_schema_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    first_ok && name.len() <= 63 && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn redact(url: &str) -> String {
    scim_store::redact_url(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_password() {
        let c = PgConfig::new("postgres://scim:TopSecret42@db/scim");
        for shown in [format!("{c:?}"), format!("{c}"), format!("{c:#?}")] {
            assert!(!shown.contains("TopSecret42"), "{shown}");
            assert!(shown.contains("scim:***@db"), "{shown}");
        }
        let kv = PgConfig::new("host=db password=TopSecret42");
        assert!(!format!("{kv:?} {kv}").contains("TopSecret42"));
    }

    #[test]
    fn schema_names_are_checked() {
        for ok in ["scim", "_x", "scim_test_0af3", "a1"] {
            assert!(valid_schema_name(ok), "{ok}");
        }
        for bad in ["", "1a", "Scim", "a-b", "a b", "a\"b", "public;drop", &"a".repeat(64)] {
            assert!(!valid_schema_name(bad), "{bad}");
        }
        assert!(PgConfig::new("postgres://h/d").with_schema("Bad").problem().is_some());
        assert!(PgConfig::new("postgres://h/d").problem().is_none());
    }
}
