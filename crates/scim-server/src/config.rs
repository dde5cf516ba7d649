//! Configuration: serde structs with their defaults, loading from a TOML file
//! plus `SCIM__SECTION__KEY` environment overrides (the `config` crate), and
//! validation whose errors name the offending key.
//!
//! Every struct denies unknown fields, so a typo (`bnd = ...`, or
//! `SCIM__SERVER__BNID`) stops start-up instead of being silently ignored.
//! `deploy/scim-server.toml` and `docs/configuration.md` list every key.

mod storage;

pub use storage::{HumanDuration, PostgresSection, RedisSection, SqliteSection, StorageConfig, Synchronous, redact};

use scim_core::schema::Registry;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

/// The environment variable that names the configuration file.
pub const CONFIG_ENV: &str = "SCIM_CONFIG";
/// The file read from the working directory when nothing else is named.
pub const DEFAULT_FILE: &str = "scim-server.toml";
/// Backends this build knows the names of, compiled in or not.
const BACKENDS: [&str; 4] = ["sqlite", "postgres", "redis", "memory"];
/// Shortest `[scim] cursor_secret` accepted: a short key makes cursors
/// forgeable by guessing.
const MIN_CURSOR_SECRET: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read or parsed, or a key has an unknown name or
    /// the wrong type (the message names the key).
    #[error("configuration: {0}")]
    Load(String),
    /// A value that parses but cannot be used.
    #[error("configuration key '{key}': {message}")]
    Invalid { key: &'static str, message: String },
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.into(),
    }
}

/// The whole configuration. `Config::default()` is what runs with no file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub scim: ScimConfig,
    pub auth: AuthConfig,
    pub log: LogConfig,
    pub schemas: SchemasConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// `host:port` to listen on; port 0 picks a free port.
    pub bind: String,
    /// The origin identity providers use (`https://scim.example.com`, maybe
    /// with a path prefix); `/scim/v2` is appended. Unset: taken from each
    /// request's scheme and Host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Largest request body; larger ones get 413.
    pub max_body_bytes: usize,
    /// HTTP worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// How long a graceful shutdown waits for in-flight requests.
    pub shutdown_timeout_secs: u64,
    /// Peers (IP addresses or CIDR ranges) whose `X-Forwarded-For`,
    /// `X-Forwarded-Proto` and `X-Forwarded-Host` are believed.
    pub trusted_proxies: Vec<String>,
    /// HTTPS; absent means plain HTTP (behind a TLS-terminating proxy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: "127.0.0.1:8080".into(),
            public_url: None,
            max_body_bytes: 1_048_576,
            workers: 0,
            shutdown_timeout_secs: 30,
            trusted_proxies: Vec::new(),
            tls: None,
        }
    }
}

/// PEM files: the certificate chain (leaf first) and its private key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScimConfig {
    /// What happens to a `password` a client sends.
    pub password: PasswordMode,
    /// A group PATCH answers 204 instead of the group when the group has more
    /// members than this.
    pub patch_response_max_members: u64,
    /// Page size when a query gives no `count`.
    pub default_count: u64,
    /// Largest page; also capped by what the store supports.
    pub max_results: u32,
    pub filter_max_length: usize,
    pub filter_max_depth: usize,
    /// The key that signs cursors (RFC 9865). Unset: a random key per
    /// process, so cursors only work on the instance that issued them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor_secret: Option<String>,
    /// How long a cursor stays valid after it was issued.
    pub cursor_timeout_secs: u64,
    pub bulk: BulkSection,
}

/// `/Bulk` limits (RFC 7644 §3.7.4), advertised in /ServiceProviderConfig.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BulkSection {
    /// Most operations in one request.
    pub max_operations: u32,
    /// Largest `/Bulk` request body in bytes (instead of
    /// `server.max_body_bytes`).
    pub max_payload_size: usize,
}

impl Default for BulkSection {
    fn default() -> Self {
        BulkSection {
            max_operations: 1000,
            max_payload_size: 1_048_576,
        }
    }
}

/// Custom schemas: `[[schemas.extensions]]` entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SchemasConfig {
    pub extensions: Vec<ExtensionSection>,
}

/// One custom schema extension: a JSON schema document in the `/Schemas`
/// format, and the resource type it extends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionSection {
    /// `User` or `Group`.
    pub resource_type: String,
    /// The schema document; a relative path is relative to the
    /// configuration file (to the working directory without one).
    pub file: PathBuf,
    /// Whether every resource of the type must carry the extension.
    #[serde(default)]
    pub required: bool,
}

impl Default for ScimConfig {
    fn default() -> Self {
        ScimConfig {
            password: PasswordMode::Discard,
            patch_response_max_members: 1000,
            default_count: 100,
            max_results: 1000,
            filter_max_length: 4096,
            filter_max_depth: 64,
            cursor_secret: None,
            cursor_timeout_secs: 600,
            bulk: BulkSection::default(),
        }
    }
}

/// The identity provider stays the authority on authentication: by default
/// a password is accepted and thrown away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PasswordMode {
    #[default]
    Discard,
    /// Keep only an argon2id hash.
    Hash,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// How long a verified token is trusted without looking at the store
    /// again: also how long a revocation takes to reach every instance.
    pub cache_ttl_secs: u64,
    /// Failed authentications per client address per minute before 429.
    pub failed_auth_limit_per_minute: u32,
    /// Serve /ServiceProviderConfig, /Schemas and /ResourceTypes without a
    /// token.
    pub discovery_without_token: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            cache_ttl_secs: 30,
            failed_auth_limit_per_minute: 30,
            discovery_without_token: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter: `info`, or `warn,scim_server=debug`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Pretty,
            level: "info".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

impl Config {
    /// Loads `path` (else the file named by `SCIM_CONFIG`, else
    /// `./scim-server.toml` when it exists, else nothing), applies the
    /// `SCIM__` environment overrides, and validates the result.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load_with_env(path, std::env::vars().collect())
    }

    /// `load` with the environment given, so tests need not touch the
    /// process environment.
    pub(crate) fn load_with_env(path: Option<&Path>, env: HashMap<String, String>) -> Result<Config, ConfigError> {
        let file = match path {
            Some(p) => Some(p.to_path_buf()),
            None => match env.get(CONFIG_ENV).filter(|s| !s.is_empty()) {
                Some(p) => Some(PathBuf::from(p)),
                None => Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.is_file()),
            },
        };
        let mut builder = config::Config::builder();
        if let Some(file) = &file {
            if !file.is_file() {
                return Err(ConfigError::Load(format!(
                    "the configuration file '{}' does not exist",
                    file.display()
                )));
            }
            builder = builder.add_source(config::File::from(file.as_path()).format(config::FileFormat::Toml));
        }
        let overrides: HashMap<String, String> = env.into_iter().filter(|(k, _)| k.starts_with("SCIM__")).collect();
        builder = builder.add_source(
            config::Environment::with_prefix("SCIM")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("server.trusted_proxies")
                .with_list_parse_key("storage.redis.nodes")
                .source(Some(overrides)),
        );
        let loaded = builder.build().map_err(|e| load_error(file.as_deref(), e))?;
        let mut config: Config = loaded.try_deserialize().map_err(|e| load_error(file.as_deref(), e))?;
        // Schema files sit next to the configuration that names them.
        if let Some(dir) = file.as_deref().and_then(Path::parent) {
            for ext in &mut config.schemas.extensions {
                if ext.file.is_relative() {
                    ext.file = dir.join(&ext.file);
                }
            }
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot: addresses, URLs, ranges, the backend.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.bind_addr()?;
        if let Some(url) = &self.server.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(invalid(
                "server.public_url",
                format!("'{url}' must start with http:// or https://"),
            ));
        }
        if self.server.max_body_bytes < 1024 {
            return Err(invalid("server.max_body_bytes", "must be at least 1024"));
        }
        for p in &self.server.trusted_proxies {
            IpNet::parse(p).ok_or_else(|| {
                invalid(
                    "server.trusted_proxies",
                    format!("'{p}' is neither an IP address nor a CIDR range such as 10.0.0.0/8"),
                )
            })?;
        }
        self.backend()?;
        self.storage.validate()?;
        if self.scim.max_results == 0 {
            return Err(invalid("scim.max_results", "must be at least 1"));
        }
        if self.scim.filter_max_length == 0 {
            return Err(invalid("scim.filter_max_length", "must be at least 1"));
        }
        if self
            .scim
            .cursor_secret
            .as_ref()
            .is_some_and(|s| s.len() < MIN_CURSOR_SECRET)
        {
            return Err(invalid(
                "scim.cursor_secret",
                format!("must be at least {MIN_CURSOR_SECRET} characters (use a long random string)"),
            ));
        }
        if self.scim.cursor_timeout_secs == 0 {
            return Err(invalid("scim.cursor_timeout_secs", "must be at least 1"));
        }
        if self.scim.bulk.max_operations == 0 {
            return Err(invalid("scim.bulk.max_operations", "must be at least 1"));
        }
        if self.scim.bulk.max_payload_size < 1024 {
            return Err(invalid("scim.bulk.max_payload_size", "must be at least 1024"));
        }
        self.registry()?;
        if self.auth.failed_auth_limit_per_minute == 0 {
            return Err(invalid("auth.failed_auth_limit_per_minute", "must be at least 1"));
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| invalid("log.level", format!("'{}': {e}", self.log.level)))?;
        Ok(())
    }

    /// The schema registry: the built-in schemas plus the configured
    /// extensions, each file read and checked.
    pub fn registry(&self) -> Result<Registry, ConfigError> {
        let mut registry = Registry::builtin();
        for ext in &self.schemas.extensions {
            let key = "schemas.extensions.file";
            let text = std::fs::read_to_string(&ext.file)
                .map_err(|e| invalid(key, format!("cannot read '{}': {e}", ext.file.display())))?;
            let doc: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| invalid(key, format!("'{}' is not JSON: {e}", ext.file.display())))?;
            registry
                .add_extension(&ext.resource_type, &doc, ext.required)
                .map_err(|e| invalid(key, format!("'{}': {}", ext.file.display(), e.detail)))?;
        }
        Ok(registry)
    }

    /// The address to listen on (the first one `bind` resolves to).
    pub fn bind_addr(&self) -> Result<SocketAddr, ConfigError> {
        let bind = &self.server.bind;
        if let Ok(a) = bind.parse() {
            return Ok(a);
        }
        bind.to_socket_addrs()
            .ok()
            .and_then(|mut it| it.next())
            .ok_or_else(|| invalid("server.bind", format!("'{bind}' is not a host:port address")))
    }

    /// The storage backend, checked against what this binary was built with.
    pub fn backend(&self) -> Result<Backend, ConfigError> {
        let name = self.storage.backend.as_str();
        match name {
            "memory" => Ok(Backend::Memory),
            #[cfg(feature = "sqlite")]
            "sqlite" => Ok(Backend::Sqlite),
            #[cfg(feature = "postgres")]
            "postgres" => Ok(Backend::Postgres),
            #[cfg(feature = "redis")]
            "redis" => Ok(Backend::Redis),
            known if BACKENDS.contains(&known) => Err(invalid(
                "storage.backend",
                format!("backend '{known}' is not compiled in; rebuild with `--features {known}`"),
            )),
            other => Err(invalid(
                "storage.backend",
                format!("unknown backend '{other}'; expected one of {}", BACKENDS.join(", ")),
            )),
        }
    }

    /// The trusted proxy ranges (already validated).
    pub(crate) fn trusted_proxies(&self) -> Vec<IpNet> {
        self.server
            .trusted_proxies
            .iter()
            .filter_map(|p| IpNet::parse(p))
            .collect()
    }

    /// The public base URL without `/scim/v2`, without a trailing slash.
    pub(crate) fn public_origin(&self) -> Option<String> {
        self.server.public_url.as_ref().map(|u| {
            let u = u.trim_end_matches('/');
            u.strip_suffix(crate::http::BASE_PATH).unwrap_or(u).to_string()
        })
    }

    /// The configuration as `config check` shows it: passwords in storage
    /// URLs (and Redis Cluster node URLs) replaced by `***`.
    pub fn redacted(&self) -> Config {
        let mut c = self.clone();
        c.storage = c.storage.redacted();
        if c.scim.cursor_secret.is_some() {
            c.scim.cursor_secret = Some("***".into());
        }
        c
    }

    /// The redacted configuration as TOML.
    pub fn to_toml(&self) -> Result<String, ConfigError> {
        toml::to_string(&self.redacted()).map_err(|e| ConfigError::Load(format!("cannot render as TOML: {e}")))
    }
}

/// Backends that can be opened in this build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    #[cfg(feature = "sqlite")]
    Sqlite,
    #[cfg(feature = "postgres")]
    Postgres,
    #[cfg(feature = "redis")]
    Redis,
}

fn load_error(file: Option<&Path>, e: config::ConfigError) -> ConfigError {
    match file {
        Some(f) => ConfigError::Load(format!("{}: {e}", f.display())),
        None => ConfigError::Load(e.to_string()),
    }
}

/// An IP address or a CIDR range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(s: &str) -> Option<IpNet> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
