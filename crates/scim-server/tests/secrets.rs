//! Storage passwords never leave the process: not in `config check`'s
//! output, not in the logs (at debug level) or errors of a start-up whose
//! backend cannot be reached, nor in those of one that works (against
//! `SCIM_TEST_POSTGRES_URL`, whose trust authentication ignores the
//! password put into its URL here). Runs the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const PG_SECRET: &str = "TopSecretPg42";
const REDIS_SECRET: &str = "TopSecretRedis42";
const NODE_SECRET: &str = "TopSecretNode42";

/// The binary with only `vars` as configuration (no file, none of the
/// caller's `SCIM__` variables), in `dir`, logging at debug level.
fn command(dir: &std::path::Path, args: &[&str], vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scim-server"));
    for (k, _) in std::env::vars() {
        if k.starts_with("SCIM__") || k == "SCIM_CONFIG" {
            cmd.env_remove(k);
        }
    }
    cmd.current_dir(dir)
        .env("SCIM__LOG__LEVEL", "debug")
        .envs(vars.iter().copied())
        .args(args);
    cmd
}

/// `command`, run to its end in an empty directory.
fn run(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    command(dir.path(), args, vars).output().unwrap()
}

fn all_output(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_no_secret(text: &str) {
    for secret in [PG_SECRET, REDIS_SECRET, NODE_SECRET] {
        assert!(!text.contains(secret), "a password leaked:\n{text}");
    }
}

#[test]
fn config_check_masks_every_storage_password() {
    let pg = format!("postgres://scim:{PG_SECRET}@db.example.com:5432/scim");
    let redis = format!("rediss://default:{REDIS_SECRET}@cache.example.com:6380/0");
    let nodes = format!("redis://:{NODE_SECRET}@n1:7000,redis://n2:7000");
    let out = run(
        &["config", "check"],
        &[
            ("SCIM__STORAGE__BACKEND", "postgres"),
            ("SCIM__STORAGE__POSTGRES__URL", &pg),
            ("SCIM__STORAGE__REDIS__URL", &redis),
            ("SCIM__STORAGE__REDIS__CLUSTER", "true"),
            ("SCIM__STORAGE__REDIS__NODES", &nodes),
        ],
    );
    let text = all_output(&out);
    assert!(out.status.success(), "{text}");
    assert_no_secret(&text);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for shown in [
        "postgres://scim:***@db.example.com:5432/scim",
        "rediss://default:***@cache.example.com:6380/0",
        "redis://:***@n1:7000",
    ] {
        assert!(stdout.contains(shown), "{shown} missing from:\n{stdout}");
    }
    // Key/value connection strings too.
    let kv = format!("host=db user=scim password={PG_SECRET} dbname=scim");
    let out = run(
        &["config", "check"],
        &[
            ("SCIM__STORAGE__BACKEND", "postgres"),
            ("SCIM__STORAGE__POSTGRES__URL", &kv),
        ],
    );
    assert!(out.status.success(), "{}", all_output(&out));
    assert_no_secret(&all_output(&out));
}

/// Unreachable backends (a closed port): the start-up fails, saying why,
/// and neither its logs nor its error show the password.
#[test]
fn failed_start_ups_do_not_show_the_password() {
    let pg = format!("postgres://scim:{PG_SECRET}@127.0.0.1:1/scim");
    let redis = format!("redis://:{REDIS_SECRET}@127.0.0.1:1/0");
    for vars in [
        vec![
            ("SCIM__STORAGE__BACKEND", "postgres"),
            ("SCIM__STORAGE__POSTGRES__URL", pg.as_str()),
            ("SCIM__STORAGE__POSTGRES__CONNECT_TIMEOUT", "1"),
        ],
        vec![
            ("SCIM__STORAGE__BACKEND", "redis"),
            ("SCIM__STORAGE__REDIS__URL", redis.as_str()),
            ("SCIM__STORAGE__REDIS__CONNECT_TIMEOUT", "500ms"),
        ],
    ] {
        for args in [&["migrate"][..], &["serve"][..]] {
            let out = run(args, &vars);
            let text = all_output(&out);
            assert!(!out.status.success(), "{args:?} {vars:?} succeeded:\n{text}");
            assert!(text.contains("cannot open the"), "{text}");
            assert_no_secret(&text);
        }
    }
}

/// A start-up that works: `migrate` and `serve` log where they store, with
/// the password masked.
#[test]
fn working_start_ups_log_the_password_masked() {
    let Some(url) = std::env::var("SCIM_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) else {
        println!("skipped: working_start_ups_log_the_password_masked: SCIM_TEST_POSTGRES_URL is not set");
        return;
    };
    // postgres://user@host/db -> postgres://user:SECRET@host/db
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let (user, host) = rest.split_once('@').expect("SCIM_TEST_POSTGRES_URL names a user");
    assert!(!user.contains(':'), "SCIM_TEST_POSTGRES_URL must not hold a password");
    let with_secret = format!("{scheme}://{user}:{PG_SECRET}@{host}");
    let schema = format!("secrets_{}", std::process::id());
    let vars = [
        ("SCIM__STORAGE__BACKEND", "postgres"),
        ("SCIM__STORAGE__POSTGRES__URL", with_secret.as_str()),
        ("SCIM__STORAGE__POSTGRES__SCHEMA", schema.as_str()),
        ("SCIM__SERVER__BIND", "127.0.0.1:0"),
    ];
    let migrated = run(&["migrate"], &vars);
    let text = all_output(&migrated);
    assert!(migrated.status.success(), "{text}");
    assert!(text.contains(&format!("{user}:***@")), "{text}");
    assert_no_secret(&text);

    // serve: read its log until it listens, then stop it.
    let dir = tempfile::tempdir().unwrap();
    let mut child = command(dir.path(), &["serve"], &vars)
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut seen = String::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("listening") || Instant::now() > deadline {
                break;
            }
        }
        seen
    });
    let seen = reader.join().unwrap();
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let seen = format!("{seen}{}", String::from_utf8_lossy(&out.stdout));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await
            .unwrap();
    });
    assert!(seen.contains("listening"), "serve did not start:\n{seen}");
    assert!(seen.contains(&format!("{user}:***@")), "{seen}");
    assert_no_secret(&seen);
}
