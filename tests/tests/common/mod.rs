//! Shared harness of the end-to-end tests: the real server on a random port
//! with SQLite in a fresh directory, a tenant with a bearer token made the
//! way an operator makes them (`scim_server::admin`), and a small HTTP
//! client that checks what every SCIM response must look like.
//!
//! Each test binary includes this module and uses part of it.
#![allow(dead_code)]

use reqwest::Method;
use reqwest::header::HeaderMap;
use scim_server::{Config, Running};
use scim_store::{Ctx, Store, Tenant};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const SEARCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A unique scratch directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The test defaults: port 0 on loopback, SQLite in `dir`, everything else
/// as the shipped defaults say.
pub fn test_config(dir: &Path) -> Config {
    let mut config = Config::default();
    config.server.bind = "127.0.0.1:0".into();
    config.storage.backend = "sqlite".into();
    config.storage.sqlite.path = dir.join("scim.db");
    config
}

mod backends;

pub use backends::*;

/// One `#[tokio::test]` per backend for each listed `async fn(Backend)`:
/// `backend_tests!(a, b)` makes `sqlite::a`, `memory::a`, `postgres::a`,
/// `redis::a`, `sqlite::b`, ... A networked backend's tests print
/// `skipped: <reason>` and pass when its variable (`SCIM_TEST_POSTGRES_URL`,
/// `SCIM_TEST_REDIS_URL`) is unset; CI sets both. A new backend is one more
/// `@on` line here; `backend_tests!(@on redis, Redis; a, b)` picks backends.
#[allow(unused_macros)]
macro_rules! backend_tests {
    ($($test:ident),+ $(,)?) => {
        backend_tests!(@on sqlite, Sqlite; $($test),+);
        backend_tests!(@on memory, Memory; $($test),+);
        backend_tests!(@on postgres, Postgres; $($test),+);
        backend_tests!(@on redis, Redis; $($test),+);
    };
    (@on $module:ident, $backend:ident; $($test:ident),+ $(,)?) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let backend = $crate::common::Backend::$backend;
                    if let Some(why) = backend.skip_reason() {
                        println!("skipped: {}::{}: {why}", stringify!($module), stringify!($test));
                        return;
                    }
                    super::$test(backend).await;
                }
            )+
        }
    };
}
#[allow(unused_imports)]
pub(crate) use backend_tests;

/// A running server with one tenant and one token.
pub struct TestServer {
    running: Option<Running>,
    config: Config,
    pub addr: SocketAddr,
    pub base_url: String,
    pub tenant: Tenant,
    pub token_id: String,
    pub token: String,
    /// Authenticated as `token`.
    pub client: Scim,
    // Last: removed after the server stopped.
    pub dir: TempDir,
    /// The Redis key prefix or PostgreSQL schema of this test.
    scratch: Option<Scratch>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// Starts on `backend` with the test defaults.
    pub async fn start_on(backend: Backend) -> TestServer {
        TestServer::start_on_with(backend, |_| {}).await
    }

    /// Starts on `backend` with the test defaults changed by `configure`:
    /// in a key prefix or schema of its own on the networked backends.
    pub async fn start_on_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestServer {
        let dir = TempDir::new("scim-e2e");
        let mut config = test_config(dir.path());
        let scratch = prepare(backend, &mut config);
        configure(&mut config);
        let mut srv = TestServer::start_config(config, dir).await;
        srv.scratch = scratch;
        srv
    }

    /// Starts with the test defaults changed by `configure`.
    pub async fn start_with(configure: impl FnOnce(&mut Config)) -> TestServer {
        let dir = TempDir::new("scim-e2e");
        let mut config = test_config(dir.path());
        configure(&mut config);
        TestServer::start_config(config, dir).await
    }

    /// Starts with exactly `config` (its files live in `dir`).
    pub async fn start_config(config: Config, dir: TempDir) -> TestServer {
        let running = scim_server::start(config.clone()).await.unwrap();
        let tenant = scim_server::admin::create_tenant(running.store.as_ref(), "acme")
            .await
            .unwrap();
        let (record, token) = scim_server::admin::create_token(running.store.as_ref(), "acme", Some("e2e"), None)
            .await
            .unwrap();
        let client = Scim::new(&running.base_url, Some(&token));
        TestServer {
            addr: running.addr,
            base_url: running.base_url.clone(),
            running: Some(running),
            config,
            tenant,
            token_id: record.id,
            token,
            client,
            dir,
            scratch: None,
        }
    }

    pub fn store(&self) -> &dyn Store {
        match &self.running {
            Some(r) => r.store.as_ref(),
            None => unreachable!("the server is stopped only by stop(self)"),
        }
    }

    /// The store, to hand to spawned tasks.
    pub fn store_arc(&self) -> std::sync::Arc<dyn Store> {
        match &self.running {
            Some(r) => r.store.clone(),
            None => unreachable!("the server is stopped only by stop(self)"),
        }
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `http://127.0.0.1:PORT`: where /healthz, /readyz and /metrics live.
    pub fn origin(&self) -> String {
        let base = self.base_url.as_str();
        match base.find("/scim/") {
            Some(i) => base[..i].to_string(),
            None => base.trim_end_matches('/').to_string(),
        }
    }

    /// A client of this server with another (or no) token.
    pub fn client_with(&self, token: Option<&str>) -> Scim {
        Scim::new(&self.base_url, token)
    }

    /// Another tenant with its own token.
    pub async fn tenant(&self, name: &str) -> (Tenant, String, Scim) {
        let tenant = scim_server::admin::create_tenant(self.store(), name).await.unwrap();
        let (record, token) = scim_server::admin::create_token(self.store(), name, None, None)
            .await
            .unwrap();
        let client = self.client_with(Some(&token));
        (tenant, record.id, client)
    }

    /// A store context of this server's tenant, for reading what was stored.
    pub fn ctx(&self) -> Ctx {
        Ctx::new(self.tenant.id.clone(), None, "e2e-inspect")
    }

    /// Stops the server and starts a new one on the same database, with the
    /// same configuration (a new port), tenant and token.
    pub async fn restart(mut self) -> TestServer {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
        let running = scim_server::start(self.config.clone()).await.unwrap();
        self.addr = running.addr;
        self.base_url = running.base_url.clone();
        self.client = Scim::new(&running.base_url, Some(&self.token));
        self.running = Some(running);
        self
    }

    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }
}

/// An HTTP response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as JSON; `Null` when empty.
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Resp {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text);
        self
    }

    /// The `ETag` header, which must be present.
    #[track_caller]
    pub fn etag(&self) -> String {
        self.header("etag")
            .unwrap_or_else(|| panic!("no ETag header (status {}, body {})", self.status, self.text))
            .to_string()
    }

    /// Asserts an RFC 7644 §3.12 error: the status, `status` as a string in
    /// the body, the Error schema, and the `scimType` when given.
    #[track_caller]
    pub fn expect_error(self, status: u16, scim_type: Option<&str>) -> Resp {
        let r = self.expect(status);
        assert_scim_error(&r, status, scim_type);
        r
    }

    pub fn id(&self) -> String {
        self.json["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.text))
            .to_string()
    }

    /// `Resources` of a ListResponse.
    #[track_caller]
    pub fn resources(&self) -> &Vec<Value> {
        self.json["Resources"]
            .as_array()
            .unwrap_or_else(|| panic!("no Resources array in {}", self.text))
    }

    /// `totalResults` of a ListResponse, which must be a JSON integer.
    #[track_caller]
    pub fn total(&self) -> u64 {
        self.json["totalResults"]
            .as_u64()
            .unwrap_or_else(|| panic!("totalResults is not a JSON integer in {}", self.text))
    }
}

#[track_caller]
pub fn assert_scim_error(r: &Resp, status: u16, scim_type: Option<&str>) {
    assert_eq!(
        r.json["schemas"],
        json!([ERROR_URN]),
        "not a SCIM error (status {}): {}",
        r.status,
        r.text
    );
    assert_eq!(
        r.json["status"],
        Value::String(status.to_string()),
        "status must be a string: {}",
        r.text
    );
    if let Some(t) = scim_type {
        assert_eq!(r.json["scimType"], t, "scimType: {}", r.text);
    }
}

/// Percent-encodes a query parameter value.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A minimal SCIM client: requests relative to the base URL, bearer token,
/// and on every response the checks any SCIM client relies on.
#[derive(Clone)]
pub struct Scim {
    pub base: String,
    pub token: Option<String>,
    pub http: reqwest::Client,
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

impl Scim {
    pub fn new(base: &str, token: Option<&str>) -> Scim {
        Scim {
            base: base.trim_end_matches('/').to_string(),
            token: token.map(str::to_string),
            http: http_client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// A request to `path` (relative to the base URL, or absolute), with
    /// the token when there is one.
    pub fn req(&self, method: Method, path: &str) -> Req {
        let mut b = self.http.request(method, self.url(path));
        if let Some(t) = &self.token {
            b = b.bearer_auth(t);
        }
        Req { inner: b }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.req(Method::GET, path).send().await
    }
    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.req(Method::POST, path).json(body).send().await
    }
    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.req(Method::PUT, path).json(body).send().await
    }
    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.req(Method::PATCH, path).json(body).send().await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.req(Method::DELETE, path).send().await
    }

    /// POSTs a user and checks the 201; returns the created resource.
    pub async fn create_user(&self, user_name: &str) -> Value {
        self.post("/Users", &user(user_name)).await.expect(201).json
    }

    /// POSTs a group with these member ids and checks the 201.
    pub async fn create_group(&self, display_name: &str, members: &[&str]) -> Value {
        self.post("/Groups", &group(display_name, members))
            .await
            .expect(201)
            .json
    }

    /// GET with a filter (encoded here).
    pub async fn filter(&self, resource: &str, filter: &str) -> Resp {
        self.get(&format!("/{resource}?filter={}", enc(filter))).await
    }
}

/// A request being built; `send` reads and checks the response.
pub struct Req {
    inner: reqwest::RequestBuilder,
}

impl Req {
    pub fn header(self, name: &str, value: &str) -> Req {
        Req {
            inner: self.inner.header(name, value),
        }
    }

    /// A SCIM JSON body (`application/scim+json`, as IdPs send it).
    pub fn json(self, body: &Value) -> Req {
        self.raw("application/scim+json", body.to_string())
    }

    pub fn raw(self, content_type: &str, body: impl Into<reqwest::Body>) -> Req {
        Req {
            inner: self.inner.header("content-type", content_type).body(body),
        }
    }

    /// Sends and checks the SCIM wire rules: a body comes as
    /// `application/scim+json` and is JSON; 204 and 304 have no body.
    pub async fn send(self) -> Resp {
        let r = self.send_raw().await;
        if r.status == 204 || r.status == 304 {
            assert!(
                r.text.is_empty(),
                "{} must have an empty body, got {:?}",
                r.status,
                r.text
            );
        } else {
            let ct = r.header("content-type").unwrap_or("");
            assert!(
                ct.starts_with("application/scim+json"),
                "status {}: content type {ct:?} is not application/scim+json; body {}",
                r.status,
                r.text
            );
            assert!(
                !r.json.is_null(),
                "status {}: the body is not JSON: {:?}",
                r.status,
                r.text
            );
        }
        r
    }

    /// Sends without the SCIM checks (for /metrics, /healthz and the like).
    pub async fn send_raw(self) -> Resp {
        let r = self.inner.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        Resp {
            status,
            headers,
            text,
            json,
        }
    }
}

pub fn user(user_name: &str) -> Value {
    json!({
        "schemas": [USER_URN],
        "userName": user_name,
        "name": {"givenName": "Given", "familyName": "Family"},
        "emails": [{"value": format!("{user_name}@example.com"), "type": "work", "primary": true}],
        "active": true
    })
}

pub fn group(display_name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    json!({"schemas": [GROUP_URN], "displayName": display_name, "members": members})
}

pub fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH_URN], "Operations": ops})
}

/// The member ids of a group resource, sorted.
pub fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["value"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// The version number in an ETag such as `W/"3"`.
#[track_caller]
pub fn version_of(etag: &str) -> u64 {
    etag.trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .unwrap_or_else(|_| panic!("not a version ETag: {etag}"))
}

/// Polls `check` every 50 ms until it returns true or `limit` passes.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
