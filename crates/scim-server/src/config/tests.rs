use super::*;
use std::io::Write;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

fn load(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let f = file(text);
    Config::load_with_env(Some(f.path()), env(vars))
}

#[test]
fn defaults_are_the_documented_ones() {
    let c = Config::default();
    assert_eq!(c.server.bind, "127.0.0.1:8080");
    assert_eq!(c.server.max_body_bytes, 1_048_576);
    assert_eq!(c.storage.backend, "sqlite");
    assert_eq!(c.storage.sqlite.path, PathBuf::from("./data/scim.db"));
    assert_eq!(c.scim.patch_response_max_members, 1000);
    assert_eq!(c.auth.cache_ttl_secs, 30);
    assert!(c.validate().is_ok());
}

#[test]
fn an_empty_file_gives_the_defaults() {
    assert_eq!(load("", &[]).unwrap(), Config::default());
}

#[test]
fn the_documented_example_file_is_the_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/scim-server.toml");
    let c = Config::load_with_env(Some(&path), HashMap::new()).unwrap();
    assert_eq!(c, Config::default());
}

#[test]
fn unknown_keys_are_rejected_with_their_name() {
    let e = load("[server]\nbnd = \"0.0.0.0:1\"\n", &[]).unwrap_err().to_string();
    assert!(e.contains("bnd"), "{e}");
    let e = load("[sever]\nbind = \"0.0.0.0:1\"\n", &[]).unwrap_err().to_string();
    assert!(e.contains("sever"), "{e}");
    let e = load("[storage.sqlite]\npaht = \"x.db\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("paht"), "{e}");
    let e = load("", &[("SCIM__SERVER__BNID", "127.0.0.1:1")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("bnid"), "{e}");
}

#[test]
fn wrong_types_are_rejected_with_the_key() {
    let e = load("[server]\nmax_body_bytes = \"lots\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("max_body_bytes"), "{e}");
    let e = load("[auth]\ndiscovery_without_token = \"maybe\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("discovery_without_token"), "{e}");
    let e = load("[scim]\npassword = \"keep\"\n", &[]).unwrap_err().to_string();
    assert!(e.contains("password"), "{e}");
}

#[test]
fn environment_overrides_the_file() {
    let c = load(
        "[server]\nbind = \"127.0.0.1:9000\"\n[scim]\nmax_results = 50\n",
        &[
            ("SCIM__SERVER__BIND", "127.0.0.1:18080"),
            ("SCIM__STORAGE__BACKEND", "memory"),
            ("SCIM__STORAGE__SQLITE__PATH", "/tmp/x/scim.db"),
            ("SCIM__AUTH__DISCOVERY_WITHOUT_TOKEN", "false"),
            ("SCIM__SERVER__TRUSTED_PROXIES", "10.0.0.0/8,127.0.0.1"),
            ("SCIM__SERVER__MAX_BODY_BYTES", "4096"),
            ("SCIM_CONFIG", "/nonexistent/ignored-because-a-path-was-given.toml"),
        ],
    )
    .unwrap();
    assert_eq!(c.server.bind, "127.0.0.1:18080");
    assert_eq!(c.storage.backend, "memory");
    assert_eq!(c.storage.sqlite.path, PathBuf::from("/tmp/x/scim.db"));
    assert!(!c.auth.discovery_without_token);
    assert_eq!(c.server.trusted_proxies, ["10.0.0.0/8", "127.0.0.1"]);
    assert_eq!(c.server.max_body_bytes, 4096);
    assert_eq!(c.scim.max_results, 50);
}

#[test]
fn scim_config_names_the_file() {
    let f = file("[log]\nformat = \"json\"\n");
    let vars = env(&[("SCIM_CONFIG", f.path().to_str().unwrap())]);
    let c = Config::load_with_env(None, vars).unwrap();
    assert_eq!(c.log.format, LogFormat::Json);
    let missing = env(&[("SCIM_CONFIG", "/nonexistent/scim.toml")]);
    let e = Config::load_with_env(None, missing).unwrap_err().to_string();
    assert!(e.contains("/nonexistent/scim.toml"), "{e}");
}

#[test]
fn validation_names_the_key() {
    for (text, key) in [
        ("[server]\nbind = \"nowhere\"\n", "server.bind"),
        ("[server]\npublic_url = \"scim.example.com\"\n", "server.public_url"),
        (
            "[server]\ntrusted_proxies = [\"10.0.0.0/99\"]\n",
            "server.trusted_proxies",
        ),
        ("[storage]\nbackend = \"oracle\"\n", "storage.backend"),
        ("[scim]\nmax_results = 0\n", "scim.max_results"),
        ("[log]\nlevel = \"info,=x=y\"\n", "log.level"),
    ] {
        let e = load(text, &[]).unwrap_err().to_string();
        assert!(e.contains(key), "{text}: {e}");
    }
}

/// Runs in builds without every backend (CI: `cargo test -p scim-server
/// --no-default-features --features sqlite`).
#[cfg(not(all(feature = "sqlite", feature = "postgres", feature = "redis")))]
#[test]
fn backends_not_compiled_in_name_the_cargo_feature() {
    let missing: Vec<&str> = [
        ("sqlite", cfg!(feature = "sqlite")),
        ("postgres", cfg!(feature = "postgres")),
        ("redis", cfg!(feature = "redis")),
    ]
    .into_iter()
    .filter_map(|(name, built)| (!built).then_some(name))
    .collect();
    assert!(!missing.is_empty());
    for name in missing {
        let e = load(&format!("[storage]\nbackend = \"{name}\"\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!(
                "backend '{name}' is not compiled in; rebuild with `--features {name}`"
            )),
            "{e}"
        );
    }
}

#[test]
fn tls_needs_both_files() {
    let e = load("[server.tls]\ncert = \"c.pem\"\n", &[]).unwrap_err().to_string();
    assert!(e.contains("key"), "{e}");
    let c = load("[server.tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n", &[]).unwrap();
    assert_eq!(c.server.tls.unwrap().key, PathBuf::from("k.pem"));
}

#[test]
fn config_check_output_redacts_url_passwords_and_parses_back() {
    let mut c = Config::default();
    c.storage.postgres.url = Some("postgres://scim:s3cret@db:5432/scim".into());
    c.storage.redis.url = "redis://:hunter2@cache:6379/0".into();
    let text = c.to_toml().unwrap();
    assert!(!text.contains("s3cret") && !text.contains("hunter2"), "{text}");
    assert!(text.contains("postgres://scim:***@db:5432/scim"), "{text}");
    let back = load(&text, &[]).unwrap();
    assert_eq!(back.server, c.server);
}

#[test]
fn ip_ranges() {
    let net = IpNet::parse("10.0.0.0/8").unwrap();
    assert!(net.contains("10.1.2.3".parse().unwrap()));
    assert!(!net.contains("11.0.0.1".parse().unwrap()));
    assert!(net.contains("::ffff:10.0.0.1".parse().unwrap()));
    let one = IpNet::parse("::1").unwrap();
    assert!(one.contains("::1".parse().unwrap()));
    assert!(IpNet::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
    assert!(IpNet::parse("1.2.3.4/33").is_none());
}

#[test]
fn public_url_may_or_may_not_end_in_the_base_path() {
    let mut c = Config::default();
    c.server.public_url = Some("https://scim.example.com/scim/v2/".into());
    assert_eq!(c.public_origin().unwrap(), "https://scim.example.com");
    c.server.public_url = Some("https://example.com/idp".into());
    assert_eq!(c.public_origin().unwrap(), "https://example.com/idp");
}

#[test]
fn cursor_and_bulk_keys_are_checked_and_the_secret_redacted() {
    let c = load(
        "[scim]\ncursor_secret = \"0123456789abcdef-long\"\ncursor_timeout_secs = 60\n[scim.bulk]\nmax_operations = 5\n",
        &[],
    )
    .unwrap();
    assert_eq!(c.scim.cursor_timeout_secs, 60);
    assert_eq!(c.scim.bulk.max_operations, 5);
    assert_eq!(c.scim.bulk.max_payload_size, 1_048_576);
    let shown = c.to_toml().unwrap();
    assert!(!shown.contains("0123456789abcdef") && shown.contains("***"), "{shown}");
    for (text, key) in [
        ("[scim]\ncursor_secret = \"short\"\n", "scim.cursor_secret"),
        ("[scim]\ncursor_timeout_secs = 0\n", "scim.cursor_timeout_secs"),
        ("[scim.bulk]\nmax_operations = 0\n", "scim.bulk.max_operations"),
        ("[scim.bulk]\nmax_payload_size = 10\n", "scim.bulk.max_payload_size"),
        (
            "[[schemas.extensions]]\nresource_type = \"User\"\nfile = \"/nonexistent/x.json\"\n",
            "schemas.extensions",
        ),
    ] {
        let e = load(text, &[]).unwrap_err().to_string();
        assert!(e.contains(key), "{text}: {e}");
    }
}

#[test]
fn extension_files_are_relative_to_the_configuration_file() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/extensions/scim-server.toml");
    let c = Config::load_with_env(Some(&path), HashMap::new()).unwrap();
    let registry = c.registry().unwrap();
    assert!(
        registry
            .schema("urn:example:params:scim:schemas:extension:acme:2.0:User")
            .is_some()
    );
    assert_eq!(registry.group().extensions.len(), 1);
    assert!(c.schemas.extensions.iter().all(|e| e.file.is_absolute()));
}
