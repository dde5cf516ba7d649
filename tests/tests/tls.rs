//! HTTPS: the server started with `[server.tls]` and a self-signed
//! certificate answers a real TLS client that trusts that certificate.

// Test code: a failed unwrap or assertion is a failed test (clippy.toml
// allows these in #[test] functions; the helpers here need it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_scim_over_https_with_the_configured_certificate() {
    let dir = TempDir::new("scim-e2e-tls");
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let cert_pem = certified.cert.pem();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, &cert_pem).unwrap();
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).unwrap();

    let mut config = test_config(dir.path());
    config.server.tls = Some(scim_server::config::TlsConfig {
        cert: cert_path,
        key: key_path,
    });
    let srv = TestServer::start_config(config, dir).await;
    assert!(srv.base_url.starts_with("https://"), "base URL {}", srv.base_url);

    let http = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let c = Scim {
        base: srv.base_url.clone(),
        token: Some(srv.token.clone()),
        http: http.clone(),
    };
    let spc = c.get("/ServiceProviderConfig").await.expect(200);
    assert_eq!(spc.json["patch"]["supported"], true);
    let created = c.post("/Users", &user("tls.user")).await.expect(201);
    let location = created.header("location").unwrap_or_default().to_string();
    assert!(location.starts_with("https://"), "Location over TLS: {location}");
    let got = c.get(&location).await.expect(200);
    assert_eq!(got.json["userName"], "tls.user");
    let r = c
        .patch(
            &location,
            &patch(json!([{"op": "replace", "path": "displayName", "value": "Over TLS"}])),
        )
        .await
        .expect(200);
    assert_eq!(r.json["displayName"], "Over TLS");

    // A client that does not trust the certificate is refused by TLS.
    let untrusting = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .no_proxy()
        .build()
        .unwrap();
    let refused = untrusting
        .get(format!("{}/ServiceProviderConfig", srv.base_url))
        .send()
        .await;
    assert!(refused.is_err(), "an untrusted certificate was accepted");
    // Plain HTTP on the TLS port is not served.
    let plain = http
        .get(format!("http://{}/scim/v2/ServiceProviderConfig", srv.addr))
        .send()
        .await;
    assert!(
        plain.map(|r| !r.status().is_success()).unwrap_or(true),
        "plain HTTP answered on the TLS port"
    );
    srv.stop().await;
}
