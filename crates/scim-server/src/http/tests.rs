//! The wire, in process: content types, status codes and SCIM error JSON
//! for the cases identity providers and scanners hit.

use crate::app::{AppState, build_app};
use crate::config::{Config, PasswordMode};
use crate::metrics::Metrics;
use crate::{admin, http::BASE_PATH};
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{test, web};
use scim_core::schema::Registry;
use scim_store::{Ctx, Kind, Load, Store};
use scim_store_memory::MemoryStore;
use serde_json::{Value, json};
use std::sync::Arc;

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

struct Fixture {
    store: Arc<dyn Store>,
    tenant: String,
    token: String,
}

async fn fixture(config: &Config) -> (web::Data<AppState>, Fixture) {
    let registry = Arc::new(Registry::builtin());
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(registry.clone()));
    let tenant = admin::create_tenant(store.as_ref(), "acme").await.unwrap();
    let (_, token) = admin::create_token(store.as_ref(), "acme", None, None).await.unwrap();
    let state = web::Data::new(AppState::new(config, store.clone(), registry, Arc::new(Metrics::new())));
    (
        state,
        Fixture {
            store,
            tenant: tenant.id,
            token,
        },
    )
}

fn scim(path: &str) -> String {
    format!("{BASE_PATH}{path}")
}

/// Reads a response: status, headers of interest, and the JSON body.
async fn read(resp: ServiceResponse<impl MessageBody>) -> (StatusCode, actix_web::http::header::HeaderMap, Value) {
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = test::read_body(resp).await;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    (status, headers, body)
}

fn content_type(h: &actix_web::http::header::HeaderMap) -> &str {
    h.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[track_caller]
fn assert_scim_error(status: StatusCode, h: &actix_web::http::header::HeaderMap, body: &Value, expected: u16) {
    assert_eq!(status.as_u16(), expected, "{body}");
    assert_eq!(content_type(h), "application/scim+json", "{body}");
    assert_eq!(body["schemas"], json!([ERROR_URN]), "{body}");
    assert_eq!(body["status"], Value::String(expected.to_string()), "{body}");
}

fn user(name: &str) -> Value {
    json!({"schemas": [USER_URN], "userName": name, "password": "s3cret!", "name": {"givenName": "G"}})
}

#[actix_web::test]
async fn discovery_is_scim_json_without_a_token() {
    let (state, _) = fixture(&Config::default()).await;
    let svc = test::init_service(build_app(state)).await;
    for path in [
        "/ServiceProviderConfig",
        "/Schemas",
        "/ResourceTypes",
        "/ResourceTypes/User",
    ] {
        let (status, h, body) =
            read(test::call_service(&svc, test::TestRequest::get().uri(&scim(path)).to_request()).await).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(content_type(&h), "application/scim+json", "{path}");
    }
    let req = test::TestRequest::get()
        .uri(&scim(&format!("/Schemas/{USER_URN}")))
        .to_request();
    let (status, _, body) = read(test::call_service(&svc, req).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], USER_URN);
    let req = test::TestRequest::get()
        .uri(&scim("/ServiceProviderConfig"))
        .to_request();
    let (_, _, spc) = read(test::call_service(&svc, req).await).await;
    assert_eq!(spc["bulk"]["supported"], true);
    assert_eq!(spc["bulk"]["maxOperations"], 1000);
    assert_eq!(spc["pagination"]["cursor"], true);
    assert_eq!(spc["changePassword"]["supported"], false);
    assert_eq!(spc["filter"]["maxResults"], 1000);
    assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
}

#[actix_web::test]
async fn unknown_paths_ids_and_methods_are_scim_errors() {
    let (state, fx) = fixture(&Config::default()).await;
    let svc = test::init_service(build_app(state)).await;
    let auth = ("Authorization", format!("Bearer {}", fx.token));
    let cases = [
        (test::TestRequest::get().uri("/nowhere"), 404),
        (test::TestRequest::get().uri(&scim("/Widgets")), 404),
        (test::TestRequest::get().uri(&scim("/Schemas/urn:nope")), 404),
        (
            test::TestRequest::get()
                .uri(&scim("/Users/0000"))
                .insert_header(auth.clone()),
            404,
        ),
        (test::TestRequest::post().uri(&scim("/ServiceProviderConfig")), 405),
        (test::TestRequest::put().uri(&scim("/Schemas")), 405),
        (test::TestRequest::patch().uri(&scim("/ResourceTypes/User")), 405),
        (test::TestRequest::delete().uri(&scim("/Users")), 405),
        (test::TestRequest::get().uri(&scim("/Users/.search")), 405),
        (
            test::TestRequest::get().uri(&scim("/Bulk")).insert_header(auth.clone()),
            405,
        ),
        (
            test::TestRequest::post().uri(&scim("/")).insert_header(auth.clone()),
            405,
        ),
        (
            test::TestRequest::get().uri(&scim("/Me")).insert_header(auth.clone()),
            501,
        ),
    ];
    for (req, expected) in cases {
        let req = req.to_request();
        let uri = req.uri().to_string();
        let (status, h, body) = read(test::call_service(&svc, req).await).await;
        assert_scim_error(status, &h, &body, expected);
        if expected == 405 {
            assert!(h.get("allow").is_some(), "{uri}: no Allow header");
        }
    }
}

#[actix_web::test]
async fn requests_without_a_valid_token_get_401_with_www_authenticate() {
    let (state, _) = fixture(&Config::default()).await;
    let svc = test::init_service(build_app(state)).await;
    for auth in [None, Some("Bearer scim_0011_2233"), Some("Basic dXNlcjpwYXNz")] {
        let mut req = test::TestRequest::get().uri(&scim("/Users"));
        if let Some(a) = auth {
            req = req.insert_header(("Authorization", a));
        }
        let (status, h, body) = read(test::call_service(&svc, req.to_request()).await).await;
        assert_scim_error(status, &h, &body, 401);
        let challenge = h.get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(challenge.starts_with("Bearer"), "{challenge}");
    }
}

#[actix_web::test]
async fn discovery_can_require_a_token() {
    let mut config = Config::default();
    config.auth.discovery_without_token = false;
    let (state, fx) = fixture(&config).await;
    let svc = test::init_service(build_app(state)).await;
    let req = test::TestRequest::get().uri(&scim("/Schemas")).to_request();
    let (status, h, body) = read(test::call_service(&svc, req).await).await;
    assert_scim_error(status, &h, &body, 401);
    let req = test::TestRequest::get()
        .uri(&scim("/Schemas"))
        .insert_header(("Authorization", format!("Bearer {}", fx.token)))
        .to_request();
    assert_eq!(test::call_service(&svc, req).await.status(), StatusCode::OK);
}

#[actix_web::test]
async fn create_answers_201_with_location_etag_and_no_password() {
    let (state, fx) = fixture(&Config::default()).await;
    let svc = test::init_service(build_app(state)).await;
    let req = test::TestRequest::post()
        .uri(&scim("/Users"))
        .insert_header(("Authorization", format!("Bearer {}", fx.token)))
        .insert_header(("Content-Type", "application/json"))
        .insert_header(("X-Request-Id", "req-42"))
        .set_payload(user("bjensen").to_string())
        .to_request();
    let (status, h, body) = read(test::call_service(&svc, req).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(content_type(&h), "application/scim+json");
    assert_eq!(h.get("x-request-id").unwrap(), "req-42");
    let location = h.get("location").unwrap().to_str().unwrap();
    assert_eq!(body["meta"]["location"], location);
    assert!(location.ends_with(&format!("{BASE_PATH}/Users/{}", body["id"].as_str().unwrap())));
    assert_eq!(h.get("etag").unwrap().to_str().unwrap(), body["meta"]["version"]);
    assert!(body.get("password").is_none(), "{body}");
    // Discarded, not stored.
    let ctx = Ctx::new(fx.tenant.clone(), None, "t");
    let stored = fx
        .store
        .get(&ctx, Kind::User, body["id"].as_str().unwrap(), Load::default())
        .await
        .unwrap();
    assert!(stored.doc.get("password").is_none());
    let events = fx
        .store
        .audit(
            &fx.tenant,
            &scim_store::AuditQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(events.last().unwrap().request_id, "req-42");
}

#[actix_web::test]
async fn password_hash_mode_keeps_only_an_argon2id_hash() {
    let mut config = Config::default();
    config.scim.password = PasswordMode::Hash;
    let (state, fx) = fixture(&config).await;
    let svc = test::init_service(build_app(state)).await;
    let req = test::TestRequest::post()
        .uri(&scim("/Users"))
        .insert_header(("Authorization", format!("Bearer {}", fx.token)))
        .set_payload(user("hashed").to_string())
        .to_request();
    let (status, _, body) = read(test::call_service(&svc, req).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body.get("password").is_none());
    let ctx = Ctx::new(fx.tenant.clone(), None, "t");
    let stored = fx
        .store
        .get(&ctx, Kind::User, body["id"].as_str().unwrap(), Load::default())
        .await
        .unwrap();
    let hash = stored.doc["password"].as_str().unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains("s3cret"), "{hash}");
    let events = fx
        .store
        .audit(
            &fx.tenant,
            &scim_store::AuditQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!events.last().unwrap().change.to_string().contains("argon2"));
    let req = test::TestRequest::get()
        .uri(&scim("/ServiceProviderConfig"))
        .to_request();
    let (_, _, spc) = read(test::call_service(&svc, req).await).await;
    assert_eq!(spc["changePassword"]["supported"], true);
    let filter = "/Users?filter=password%20pr";
    let req = test::TestRequest::get()
        .uri(&scim(filter))
        .insert_header(("Authorization", format!("Bearer {}", fx.token)))
        .to_request();
    let (status, h, body) = read(test::call_service(&svc, req).await).await;
    assert_scim_error(status, &h, &body, 400);
    assert_eq!(body["scimType"], "invalidFilter");
}

#[actix_web::test]
async fn bad_bodies_are_400_413_and_415() {
    let mut config = Config::default();
    config.server.max_body_bytes = 2048;
    let (state, fx) = fixture(&config).await;
    let svc = test::init_service(build_app(state)).await;
    let auth = ("Authorization", format!("Bearer {}", fx.token));
    let post = |ct: &str, body: String| {
        test::TestRequest::post()
            .uri(&scim("/Users"))
            .insert_header(auth.clone())
            .insert_header(("Content-Type", ct.to_string()))
            .set_payload(body)
            .to_request()
    };
    let (status, h, body) =
        read(test::call_service(&svc, post("application/scim+json", "{\"schemas\": [".into())).await).await;
    assert_scim_error(status, &h, &body, 400);
    assert_eq!(body["scimType"], "invalidSyntax");
    let big = json!({"schemas": [USER_URN], "userName": "x".repeat(4096)}).to_string();
    let (status, h, body) = read(test::call_service(&svc, post("application/scim+json", big)).await).await;
    assert_scim_error(status, &h, &body, 413);
    let (status, h, body) = read(test::call_service(&svc, post("text/plain", user("t").to_string())).await).await;
    assert_scim_error(status, &h, &body, 415);
    let (status, h, body) =
        read(test::call_service(&svc, post("application/scim+json; charset=utf-8", "".into())).await).await;
    assert_scim_error(status, &h, &body, 400);
}

#[actix_web::test]
async fn a_panicking_handler_answers_500_and_the_app_keeps_serving() {
    let (state, _) = fixture(&Config::default()).await;
    #[allow(clippy::panic)]
    async fn boom() -> actix_web::HttpResponse {
        panic!("boom")
    }
    let svc = test::init_service(build_app(state).route("/boom", web::get().to(boom))).await;
    let req = test::TestRequest::get()
        .uri("/boom")
        .insert_header(("X-Request-Id", "panic-1"))
        .to_request();
    // The error leaves the middleware as `Err`; the HTTP dispatcher renders
    // it with its `error_response`, which this mirrors.
    let err = match svc.call(req).await {
        Ok(resp) => panic!("expected an error, got {}", resp.status()),
        Err(e) => e,
    };
    let resp = err.error_response();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(resp.headers().get("x-request-id").unwrap(), "panic-1");
    let body = actix_web::body::to_bytes(resp.into_body()).await.unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["status"], "500");
    assert_eq!(body["schemas"], json!([ERROR_URN]));
    let ok = test::call_service(&svc, test::TestRequest::get().uri("/healthz").to_request()).await;
    assert_eq!(ok.status(), StatusCode::OK);
}

#[actix_web::test]
async fn health_readiness_and_metrics() {
    let (state, _) = fixture(&Config::default()).await;
    let svc = test::init_service(build_app(state)).await;
    for path in ["/healthz", "/readyz"] {
        let resp = test::call_service(&svc, test::TestRequest::get().uri(path).to_request()).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
    }
    let resp = test::call_service(&svc, test::TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let text = String::from_utf8(test::read_body(resp).await.to_vec()).unwrap();
    assert!(
        text.contains("scim_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(text.contains("scim_http_request_duration_seconds_bucket"), "{text}");
}
