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

const MASK: &str = "***";

fn redact(url: &str) -> String {
    for scheme in ["postgres://", "postgresql://"] {
        if let Some(rest) = url.strip_prefix(scheme) {
            return format!("{scheme}{}", redact_url_rest(rest));
        }
    }
    redact_key_values(url)
}

/// `user:password@host/db?k=v`: the authority ends at the first `/`, `?` or
/// `#`; the user info is what precedes its last `@`.
fn redact_url_rest(rest: &str) -> String {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (user_info, host) = authority.split_at(at);
            match user_info.split_once(':') {
                Some((user, _password)) => format!("{user}:{MASK}{host}"),
                None => authority.to_string(),
            }
        }
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let (query, fragment) = match query.split_once('#') {
                Some((q, f)) => (q, format!("#{f}")),
                None => (query, String::new()),
            };
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}={MASK}"),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}{fragment}", pairs.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{authority}{tail}")
}

/// `host=h password='a b\'c' user=u`: values may be single-quoted with
/// backslash escapes; whitespace may surround `=`.
fn redact_key_values(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        let Some(eq) = rest.find('=') else {
            out.push_str(rest);
            return out;
        };
        let key = rest[..eq].trim_end();
        let key_name = key.rsplit(char::is_whitespace).next().unwrap_or(key);
        out.push_str(&rest[..=eq]);
        let after = &rest[eq + 1..];
        let value_start = after.len() - after.trim_start().len();
        out.push_str(&after[..value_start]);
        let value = &after[value_start..];
        let value_len = value_length(value);
        if key_name.eq_ignore_ascii_case("password") {
            out.push_str(MASK);
        } else {
            out.push_str(&value[..value_len]);
        }
        rest = &value[value_len..];
    }
}

/// The byte length of one key/value-form value at the start of `s`.
fn value_length(s: &str) -> usize {
    if let Some(inner) = s.strip_prefix('\'') {
        let mut escaped = false;
        for (i, c) in inner.char_indices() {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '\'') => return i + 2,
                _ => {}
            }
        }
        s.len()
    } else {
        s.find(char::is_whitespace).unwrap_or(s.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn red(url: &str) -> String {
        PgConfig::new(url).redacted_url()
    }

    #[test]
    fn url_passwords_are_masked() {
        assert_eq!(
            red("postgres://scim:s3cret@db:5432/scim"),
            "postgres://scim:***@db:5432/scim"
        );
        assert_eq!(
            red("postgresql://u:p%40ss@h/d?sslmode=disable"),
            "postgresql://u:***@h/d?sslmode=disable"
        );
        // A raw '@' in the password: the user info ends at the last '@'.
        assert_eq!(red("postgres://u:pa@ss@h:1/d"), "postgres://u:***@h:1/d");
        assert_eq!(
            red("postgres://u@h/d?password=hunter2&application_name=x"),
            "postgres://u@h/d?password=***&application_name=x"
        );
        assert_eq!(
            red("postgres://u:p@h?PASSWORD=x#frag"),
            "postgres://u:***@h?PASSWORD=***#frag"
        );
    }

    #[test]
    fn urls_without_passwords_are_unchanged() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/test",
            "postgres://h/d",
            "postgres:///d?host=/run/postgresql",
            "postgresql://u@h1:1,h2:2/d?target_session_attrs=read-write",
        ] {
            assert_eq!(red(url), url);
        }
    }

    #[test]
    fn key_value_passwords_are_masked() {
        assert_eq!(
            red("host=db user=scim password=s3cret dbname=scim"),
            "host=db user=scim password=*** dbname=scim"
        );
        assert_eq!(red("password = 'a b\\'c' host=h"), "password = *** host=h");
        assert_eq!(red("host=h PASSWORD=x"), "host=h PASSWORD=***");
        assert_eq!(red("host=h user=u"), "host=h user=u");
        assert_eq!(red("password='unterminated"), "password=***");
    }

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
