//! Operations endpoints and request ids: /healthz and /readyz without a
//! token, Prometheus /metrics counting requests, X-Request-Id echoed or
//! generated.

// Test code: a failed unwrap or assertion is a failed test (clippy.toml
// allows these in #[test] functions; the helpers here need it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::Method;
use std::collections::BTreeSet;

fn origin_client(srv: &TestServer) -> Scim {
    Scim::new(&srv.origin(), None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_need_no_token() {
    let srv = TestServer::start().await;
    let c = origin_client(&srv);
    for path in ["/healthz", "/readyz"] {
        let r = c.req(Method::GET, path).send_raw().await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    }
    srv.stop().await;
}

/// The sum of the `scim_http_requests_total` samples whose labels include
/// every one of `labels` (such as `status="200"`).
fn requests_total(metrics: &str, labels: &[&str]) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("scim_http_requests_total{"))
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn metrics(srv: &TestServer) -> String {
    let r = origin_client(srv).req(Method::GET, "/metrics").send_raw().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ct = r.header("content-type").unwrap_or("").to_string();
    assert!(
        ct.starts_with("text/plain"),
        "Prometheus text format expected, got {ct}"
    );
    r.text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests() {
    let srv = TestServer::start().await;
    let before = metrics(&srv).await;
    assert!(before.contains("# TYPE scim_http_requests_total counter"), "{before}");

    for _ in 0..5 {
        srv.client.get("/Users").await.expect(200);
    }
    for _ in 0..2 {
        srv.client_with(None).get("/Users").await.expect(401);
    }
    let after = metrics(&srv).await;
    let ok = ["method=\"GET\"", "route=\"/scim/v2/Users\"", "status=\"200\""];
    let denied = ["method=\"GET\"", "route=\"/scim/v2/Users\"", "status=\"401\""];
    assert_eq!(
        requests_total(&after, &ok) - requests_total(&before, &ok),
        5.0,
        "{after}"
    );
    assert_eq!(
        requests_total(&after, &denied) - requests_total(&before, &denied),
        2.0,
        "{after}"
    );
    assert!(after.contains("scim_http_request_duration_seconds_bucket"), "{after}");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_echoed_or_generated() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    let r = c
        .req(Method::GET, "/Users")
        .header("X-Request-Id", "client-chosen-42")
        .send()
        .await
        .expect(200);
    assert_eq!(r.header("x-request-id"), Some("client-chosen-42"));
    // On errors too.
    let r = srv
        .client_with(None)
        .req(Method::GET, "/Users")
        .header("X-Request-Id", "unauthorised-7")
        .send()
        .await
        .expect(401);
    assert_eq!(r.header("x-request-id"), Some("unauthorised-7"));

    let mut generated = BTreeSet::new();
    for _ in 0..3 {
        let r = c.get("/ServiceProviderConfig").await.expect(200);
        let id = r
            .header("x-request-id")
            .unwrap_or_else(|| panic!("no X-Request-Id generated"));
        assert!(!id.trim().is_empty());
        generated.insert(id.to_string());
    }
    assert_eq!(generated.len(), 3, "generated request ids must differ: {generated:?}");
    let r = origin_client(&srv).req(Method::GET, "/healthz").send_raw().await;
    assert!(r.header("x-request-id").is_some(), "no X-Request-Id on /healthz");
    srv.stop().await;
}
