//! How to reach Redis and the limits the store works under. Passwords in
//! URLs never show: `Debug` and `Display` print [`redact_url`] forms.

use std::fmt;
use std::time::Duration;

/// The default for [`RedisConfig::max_scan`].
pub const DEFAULT_MAX_SCAN: u64 = 10_000;

/// Configuration of [`crate::RedisStore::connect`].
#[derive(Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` or `rediss://...` (TLS,
    /// checked against the system's root certificates). With `cluster`, it
    /// is the seed node when `nodes` is empty.
    pub url: String,
    /// Talk Redis Cluster: slots are discovered from the seed nodes and
    /// every call goes to the node owning the tenant's slot.
    pub cluster: bool,
    /// Cluster seed node URLs (any reachable subset of the cluster).
    pub nodes: Vec<String>,
    /// The first segment of every key (`<prefix>:{<tenant>}:...`), so
    /// several deployments (or test runs) can share one Redis. Must not
    /// contain `{` or `}`: the tenant's braces must be the key's hash tag.
    pub key_prefix: String,
    /// How long one attempt to connect (or reconnect) may take.
    pub connect_timeout: Duration,
    /// How long one command may wait for its reply.
    pub response_timeout: Duration,
    /// Filters and sorts no index answers are evaluated over at most this
    /// many resources of a kind; past it, queries fail with `TooMany`.
    pub max_scan: u64,
}

impl RedisConfig {
    /// A single Redis server (or a proxy) at `url`, with the defaults.
    pub fn new(url: impl Into<String>) -> RedisConfig {
        RedisConfig {
            url: url.into(),
            cluster: false,
            nodes: Vec::new(),
            key_prefix: "scim".into(),
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(5),
            max_scan: DEFAULT_MAX_SCAN,
        }
    }

    /// A Redis Cluster reached through these seed nodes.
    pub fn cluster<S: Into<String>>(nodes: impl IntoIterator<Item = S>) -> RedisConfig {
        let nodes: Vec<String> = nodes.into_iter().map(Into::into).collect();
        RedisConfig {
            url: nodes.first().cloned().unwrap_or_default(),
            cluster: true,
            nodes,
            ..RedisConfig::default()
        }
    }

    pub fn with_prefix(mut self, prefix: impl Into<String>) -> RedisConfig {
        self.key_prefix = prefix.into();
        self
    }

    pub fn with_max_scan(mut self, max_scan: u64) -> RedisConfig {
        self.max_scan = max_scan;
        self
    }

    /// The URLs to connect to: the cluster's seed nodes, or the one server.
    pub(crate) fn urls(&self) -> Vec<&str> {
        if self.cluster && !self.nodes.is_empty() {
            self.nodes.iter().map(String::as_str).collect()
        } else {
            vec![self.url.as_str()]
        }
    }

    /// What is wrong with this configuration, if anything.
    pub(crate) fn problem(&self) -> Option<String> {
        if self.key_prefix.is_empty() {
            return Some("key_prefix must not be empty".into());
        }
        if self.key_prefix.contains(['{', '}']) {
            return Some(format!(
                "key_prefix '{}' must not contain '{{' or '}}': the tenant id in braces is every key's hash tag",
                self.key_prefix
            ));
        }
        if self.max_scan == 0 {
            return Some("max_scan must be at least 1".into());
        }
        for url in self.urls() {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Some(format!("'{}' is not a redis:// or rediss:// URL", redact_url(url)));
            }
        }
        None
    }
}

impl Default for RedisConfig {
    fn default() -> RedisConfig {
        RedisConfig::new("redis://127.0.0.1:6379")
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &redact_url(&self.url))
            .field("cluster", &self.cluster)
            .field("nodes", &self.nodes.iter().map(|n| redact_url(n)).collect::<Vec<_>>())
            .field("key_prefix", &self.key_prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("max_scan", &self.max_scan)
            .finish()
    }
}

impl fmt::Display for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.cluster {
            let nodes: Vec<String> = self.urls().into_iter().map(redact_url).collect();
            write!(f, "Redis Cluster [{}]", nodes.join(", "))?;
        } else {
            write!(f, "Redis {}", redact_url(&self.url))?;
        }
        write!(f, " (key prefix '{}')", self.key_prefix)
    }
}

pub use scim_store::redact_url;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        let mut c = RedisConfig::new("redis://u:secret@h:6379");
        c.nodes = vec!["redis://:secret2@n1:7000".into()];
        for text in [format!("{c:?}"), c.to_string(), {
            c.cluster = true;
            c.to_string()
        }] {
            assert!(!text.contains("secret"), "{text}");
        }
    }

    #[test]
    fn problems_are_named() {
        assert!(RedisConfig::default().problem().is_none());
        let braces = RedisConfig::default().with_prefix("a{b}");
        assert!(braces.problem().is_some_and(|p| p.contains("hash tag")));
        assert!(RedisConfig::default().with_prefix("").problem().is_some());
        assert!(RedisConfig::default().with_max_scan(0).problem().is_some());
        let http = RedisConfig::new("http://u:secret@h");
        assert!(http.problem().is_some_and(|p| !p.contains("secret")));
        let cluster = RedisConfig::cluster(["redis://a:1", "redis://b:2"]);
        assert_eq!(cluster.urls(), vec!["redis://a:1", "redis://b:2"]);
        assert!(cluster.problem().is_none());
    }
}
