use crate::config::{Config, ConfigError, HumanDuration};
use std::collections::HashMap;
use std::time::Duration;

fn load(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scim.toml");
    std::fs::write(&path, text).unwrap();
    let env: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::load_with_env(Some(&path), env)
}

#[test]
fn redis_and_postgres_sections_load_from_file_and_environment() {
    let c = load(
        "[storage.redis]\nurl = \"rediss://cache:6380/2\"\nkey_prefix = \"acme\"\nconnect_timeout = \"750ms\"\nmax_scan = 500\n\
         [storage.postgres]\nurl = \"postgres://scim@db/scim\"\npool_size = 4\nstatement_timeout = 0\nschema = \"scim_a\"\n",
        &[
            ("SCIM__STORAGE__REDIS__RESPONSE_TIMEOUT", "3"),
            ("SCIM__STORAGE__POSTGRES__CONNECT_TIMEOUT", "2m"),
        ],
    )
    .unwrap();
    let r = &c.storage.redis;
    assert_eq!(r.url, "rediss://cache:6380/2");
    assert!(!r.cluster);
    assert_eq!(r.key_prefix, "acme");
    assert_eq!(r.connect_timeout.0, Duration::from_millis(750));
    assert_eq!(r.response_timeout.0, Duration::from_secs(3));
    assert_eq!(r.max_scan, 500);
    let p = &c.storage.postgres;
    assert_eq!(p.url.as_deref(), Some("postgres://scim@db/scim"));
    assert_eq!(p.pool_size, 4);
    assert_eq!(p.connect_timeout.0, Duration::from_secs(120));
    assert_eq!(p.statement_timeout.0, Duration::ZERO);
    assert_eq!(p.schema, "scim_a");

    let c = load(
        "",
        &[
            ("SCIM__STORAGE__REDIS__CLUSTER", "true"),
            (
                "SCIM__STORAGE__REDIS__NODES",
                "redis://127.0.0.1:17001,redis://127.0.0.1:17002",
            ),
        ],
    )
    .unwrap();
    assert!(c.storage.redis.cluster);
    assert_eq!(
        c.storage.redis.nodes,
        ["redis://127.0.0.1:17001", "redis://127.0.0.1:17002"]
    );
}

#[test]
fn storage_values_are_checked_with_the_key_named() {
    // Without the feature, the backend itself is the error.
    #[cfg(feature = "postgres")]
    {
        let e = load("[storage]\nbackend = \"postgres\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("storage.postgres.url"), "{e}");
    }
    for (text, key) in [
        ("[storage.postgres]\npool_size = 0\n", "storage.postgres.pool_size"),
        ("[storage.postgres]\nschema = \"Bad-Name\"\n", "storage.postgres.schema"),
        (
            "[storage.postgres]\nconnect_timeout = 0\n",
            "storage.postgres.connect_timeout",
        ),
        ("[storage.postgres]\nconnect_timeout = \"soon\"\n", "connect_timeout"),
        ("[storage.redis]\nurl = \"http://cache:6379\"\n", "storage.redis.url"),
        ("[storage.redis]\nkey_prefix = \"a{b}\"\n", "storage.redis.key_prefix"),
        ("[storage.redis]\nkey_prefix = \"\"\n", "storage.redis.key_prefix"),
        ("[storage.redis]\nmax_scan = 0\n", "storage.redis.max_scan"),
        (
            "[storage.redis]\nresponse_timeout = \"0ms\"\n",
            "storage.redis.response_timeout",
        ),
        ("[storage.redis]\nnodes = [\"redis://a:1\"]\n", "storage.redis.nodes"),
        (
            "[storage.redis]\ncluster = true\nnodes = [\"tcp://a:1\"]\n",
            "storage.redis.nodes",
        ),
        ("[storage.redis]\npool = 3\n", "pool"),
    ] {
        let e = load(text, &[]).unwrap_err().to_string();
        assert!(e.contains(key), "{text}: {e}");
    }
}

#[test]
fn durations_parse_and_print() {
    for (text, ms) in [("5", 5000), ("5s", 5000), ("250ms", 250), ("2m", 120_000), ("0", 0)] {
        assert_eq!(HumanDuration::parse(text).map(|d| d.0.as_millis()), Some(ms), "{text}");
    }
    for bad in ["", "s", "5h", "-1", "1.5s", "ms5"] {
        assert!(HumanDuration::parse(bad).is_none(), "{bad}");
    }
    assert_eq!(HumanDuration(Duration::from_millis(1500)).to_string(), "1500ms");
    assert_eq!(HumanDuration::secs(30).to_string(), "30s");
}

#[test]
fn config_check_masks_every_storage_secret_and_parses_back() {
    let mut c = Config::default();
    c.storage.postgres.url = Some("host=db user=scim password=pgsecret".into());
    c.storage.redis.url = "redis://:redissecret@cache:6379/0".into();
    c.storage.redis.cluster = true;
    c.storage.redis.nodes = vec!["redis://:nodesecret@n1:7000".into(), "redis://n2:7000".into()];
    let text = c.to_toml().unwrap();
    for secret in ["pgsecret", "redissecret", "nodesecret"] {
        assert!(!text.contains(secret), "{text}");
    }
    assert!(text.contains("redis://:***@n1:7000"), "{text}");
    let back = load(&text, &[]).unwrap();
    assert_eq!(back.storage.redis.nodes.len(), 2);
    assert_eq!(back.storage.redis.connect_timeout, c.storage.redis.connect_timeout);
    assert_eq!(
        back.storage.postgres.statement_timeout,
        c.storage.postgres.statement_timeout
    );
}

/// The server's defaults are the store crates' own.
#[cfg(feature = "postgres")]
#[test]
fn postgres_defaults_are_the_crates() {
    let ours = crate::config::PostgresSection::default();
    let theirs = scim_store_postgres::PgConfig::new("postgres://h/d");
    assert_eq!(ours.pool_size, theirs.pool_size);
    assert_eq!(ours.connect_timeout.0, theirs.connect_timeout);
    assert_eq!(ours.statement_timeout.0, theirs.statement_timeout);
    assert_eq!(ours.schema, theirs.schema);
    assert_eq!(ours.max_scan, theirs.max_scan);
}

#[cfg(feature = "redis")]
#[test]
fn redis_defaults_are_the_crates() {
    let ours = crate::config::RedisSection::default();
    let theirs = scim_store_redis::RedisConfig::default();
    assert_eq!(ours.url, theirs.url);
    assert_eq!(ours.cluster, theirs.cluster);
    assert_eq!(ours.key_prefix, theirs.key_prefix);
    assert_eq!(ours.connect_timeout.0, theirs.connect_timeout);
    assert_eq!(ours.response_timeout.0, theirs.response_timeout);
    assert_eq!(ours.max_scan, theirs.max_scan);
}
