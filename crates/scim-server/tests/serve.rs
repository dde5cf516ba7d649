//! The real server on a random port: HTTPS with a certificate made here,
//! graceful stop, data surviving a restart, and the first-run bootstrap.

// The helpers below are test code too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use scim_server::{Config, admin, app};
use scim_store::{Ctx, Kind, Load};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// One HTTP/1.1 exchange with `Connection: close`; returns status and body.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, String) {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!(
            "Content-Type: application/scim+json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    let mut raw = Vec::new();
    // A TLS peer may close without close_notify; what was read is enough.
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn user(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name})
}

fn write_self_signed(
    dir: &Path,
) -> (
    std::path::PathBuf,
    std::path::PathBuf,
    rustls_pki_types::CertificateDer<'static>,
) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    (cert, key, ck.cert.der().clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_end_to_end_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, der) = write_self_signed(dir.path());
    let mut config = Config::default();
    config.server.bind = "127.0.0.1:0".into();
    config.storage.backend = "memory".into();
    config.server.tls = Some(scim_server::config::TlsConfig { cert, key });
    let running = scim_server::start(config).await.unwrap();
    assert!(
        running.base_url.starts_with("https://127.0.0.1:"),
        "{}",
        running.base_url
    );
    admin::create_tenant(running.store.as_ref(), "acme").await.unwrap();
    let (_, token) = admin::create_token(running.store.as_ref(), "acme", None, None)
        .await
        .unwrap();

    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let connect = || async {
        let tcp = tokio::net::TcpStream::connect(running.addr).await.unwrap();
        let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
        connector.connect(name, tcp).await.unwrap()
    };

    let (status, _) = exchange(connect().await, "GET", "/healthz", None, None).await;
    assert_eq!(status, 200);
    let (status, body) = exchange(connect().await, "GET", "/scim/v2/ServiceProviderConfig", None, None).await;
    assert_eq!(status, 200, "{body}");
    let spc: Value = serde_json::from_str(&body).unwrap();
    assert!(
        spc["meta"]["location"]
            .as_str()
            .unwrap()
            .starts_with("https://localhost/scim/v2"),
        "{spc}"
    );
    let (status, body) = exchange(
        connect().await,
        "POST",
        "/scim/v2/Users",
        Some(&token),
        Some(&user("tls.user")),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    assert!(
        created["meta"]["location"].as_str().unwrap().starts_with("https://"),
        "{created}"
    );

    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    let (status, _) = exchange(plain, "GET", "/healthz", None, None).await;
    assert_ne!(status, 200);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_has_committed_everything_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.server.bind = "127.0.0.1:0".into();
    config.storage.sqlite.path = dir.path().join("nested/dir/scim.db");
    let running = scim_server::start(config.clone()).await.unwrap();
    let tenant = admin::create_tenant(running.store.as_ref(), "acme").await.unwrap();
    let (_, token) = admin::create_token(running.store.as_ref(), "acme", None, None)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        let tcp = tokio::net::TcpStream::connect(running.addr).await.unwrap();
        let (status, body) = exchange(
            tcp,
            "POST",
            "/scim/v2/Users",
            Some(&token),
            Some(&user(&format!("u{i}"))),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        ids.push(
            serde_json::from_str::<Value>(&body).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let addr = running.addr;
    let handle = Arc::downgrade(&running.store);
    running.stop().await;
    // Every handle on the store is gone, so SQLite's writer has finished
    // and closed the file.
    assert!(handle.upgrade().is_none(), "the store outlived the server");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting after stop"
    );

    // Reopen the same file: every acknowledged write is there.
    let again = scim_server::start(config).await.unwrap();
    let ctx = Ctx::new(tenant.id, None, "check");
    for id in &ids {
        again.store.get(&ctx, Kind::User, id, Load::default()).await.unwrap();
    }
    again.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_makes_one_default_tenant_and_token_only_on_an_empty_store() {
    let mut config = Config::default();
    config.server.bind = "127.0.0.1:0".into();
    config.storage.backend = "memory".into();
    let running = scim_server::start(config).await.unwrap();
    let token = app::bootstrap(running.store.as_ref())
        .await
        .unwrap()
        .expect("a first token");
    assert!(token.starts_with("scim_"));
    assert!(app::bootstrap(running.store.as_ref()).await.unwrap().is_none());
    let tenants = running.store.tenants().await.unwrap();
    assert_eq!(tenants.len(), 1);
    assert_eq!(tenants[0].name, "default");
    let tcp = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    let (status, body) = exchange(tcp, "GET", "/scim/v2/Users", Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    running.stop().await;
}

/// Only in builds without the postgres feature (CI builds one:
/// `--no-default-features --features sqlite`).
#[cfg(not(feature = "postgres"))]
#[tokio::test]
async fn a_backend_that_is_not_compiled_in_fails_at_start_naming_the_feature() {
    let mut config = Config::default();
    config.server.bind = "127.0.0.1:0".into();
    config.storage.backend = "postgres".into();
    config.storage.postgres.url = Some("postgres://scim@127.0.0.1:1/scim".into());
    let e = scim_server::start(config)
        .await
        .err()
        .expect("start must fail")
        .to_string();
    assert!(e.contains("--features postgres"), "{e}");
}

/// The default build has every backend; the one named must be configured.
#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_without_a_url_fails_at_start_naming_the_key() {
    let mut config = Config::default();
    config.server.bind = "127.0.0.1:0".into();
    config.storage.backend = "postgres".into();
    let e = scim_server::start(config)
        .await
        .err()
        .expect("start must fail")
        .to_string();
    assert!(e.contains("storage.postgres.url"), "{e}");
}
