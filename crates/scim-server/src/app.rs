//! The application: shared state, the actix `App`, starting and stopping
//! the HTTP server, and the first-run bootstrap.

use crate::auth::Authenticator;
use crate::config::{Config, ConfigError, IpNet};
use crate::metrics::Metrics;
use crate::observability;
use crate::service::{Service, Settings};
use crate::store::{self, Instrumented, OpenError};
use crate::tls::{self, TlsError};
use crate::{admin, http};
use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpServer, web};
use scim_core::schema::Registry;
use scim_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] OpenError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
}

/// What the wire layer needs from the configuration.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub max_body_bytes: usize,
    pub discovery_without_token: bool,
    /// `[server] public_url` without `/scim/v2`.
    pub public_origin: Option<String>,
    pub trusted_proxies: Vec<IpNet>,
    /// Whether this server itself speaks HTTPS.
    pub tls: bool,
}

/// Shared by every worker (one `Arc`), so the token cache and the metrics
/// are process-wide.
pub struct AppState {
    pub service: Service,
    pub auth: Authenticator,
    pub metrics: Arc<Metrics>,
    pub http: HttpSettings,
}

impl AppState {
    pub fn new(config: &Config, store: Arc<dyn Store>, registry: Arc<Registry>, metrics: Arc<Metrics>) -> AppState {
        let settings = Settings::new(config, store.as_ref());
        AppState {
            auth: Authenticator::new(
                store.clone(),
                metrics.clone(),
                Duration::from_secs(config.auth.cache_ttl_secs),
                config.auth.failed_auth_limit_per_minute,
            ),
            service: Service::new(store, registry, settings),
            metrics,
            http: HttpSettings {
                max_body_bytes: config.server.max_body_bytes,
                discovery_without_token: config.auth.discovery_without_token,
                public_origin: config.public_origin(),
                trusted_proxies: config.trusted_proxies(),
                tls: config.server.tls.is_some(),
            },
        }
    }
}

/// The actix application over `state`: routes, 404 fallback, and the
/// request middleware outermost.
pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::from(state.metrics.clone()))
        .app_data(state)
        .configure(http::configure)
        .default_service(web::to(http::not_found))
        .wrap(actix_web::middleware::from_fn(observability::middleware))
}

/// A running server.
pub struct Running {
    /// The address it listens on (the real port when 0 was configured).
    pub addr: SocketAddr,
    /// `http(s)://ADDR/scim/v2`.
    pub base_url: String,
    pub store: Arc<dyn Store>,
    handle: ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Graceful stop: stop accepting, let in-flight requests finish (up to
    /// `[server] shutdown_timeout_secs`), then close the store (the last
    /// handle's drop makes SQLite's writer commit what is queued).
    pub async fn stop(self) {
        self.handle.stop(true).await;
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "the HTTP server stopped with an error"),
            Err(e) => tracing::warn!(error = %e, "the HTTP server task failed"),
        }
        // actix's worker threads drop their copies of the app state (and
        // with it the store) shortly after the server future resolves; wait
        // for them, bounded, so the drop below is the last one and closes
        // the store (committing what is queued) before `stop` returns.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while Arc::strong_count(&self.store) > 1 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let store = self.store;
        // Closing may join the writer thread: not on an async worker.
        let _ = tokio::task::spawn_blocking(move || drop(store)).await;
    }
}

/// Opens the store (running migrations), binds `server.bind` and serves.
/// Prints nothing: the first-run token is `serve`'s business.
pub async fn start(config: Config) -> Result<Running, StartError> {
    config.validate()?;
    let addr = config.bind_addr()?;
    let tls_config = match &config.server.tls {
        Some(t) => Some(tls::load(&t.cert, &t.key)?),
        None => None,
    };
    let registry = Arc::new(config.registry()?);
    if config.scim.cursor_secret.is_none() {
        tracing::info!(
            "[scim] cursor_secret is not set: cursors are signed with a key of this process only, \
             so they do not work across instances or restarts"
        );
    }
    let metrics = Arc::new(Metrics::new());
    let (store, shown) = store::open_described(&config, registry.clone()).await?;
    tracing::info!(store = %shown, "store open, migrations applied");
    let store = Instrumented::wrap(store, metrics.clone());
    let state = web::Data::new(AppState::new(&config, store.clone(), registry, metrics));

    let mut server = HttpServer::new(move || build_app(state.clone()))
        // Signals are `serve`'s to handle (it calls `Running::stop`), so a
        // library user or a test is never stopped by a stray SIGINT.
        .disable_signals()
        .shutdown_timeout(config.server.shutdown_timeout_secs);
    if config.server.workers > 0 {
        server = server.workers(config.server.workers);
    }
    let bind_err = |source| StartError::Bind {
        addr: addr.to_string(),
        source,
    };
    server = match tls_config {
        Some(tls) => server.bind_rustls_0_23(addr, tls).map_err(bind_err)?,
        None => server.bind(addr).map_err(bind_err)?,
    };
    let bound = server.addrs().first().copied().unwrap_or(addr);
    let scheme = if config.server.tls.is_some() { "https" } else { "http" };
    let server = server.run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    tracing::info!(addr = %bound, scheme, backend = %config.storage.backend, "listening");
    Ok(Running {
        addr: bound,
        base_url: format!("{scheme}://{bound}{}", http::BASE_PATH),
        store,
        handle,
        task,
    })
}

/// When the store has no tenant yet: creates tenant `default` with one
/// token, and returns that token (to be shown once).
pub async fn bootstrap(store: &dyn Store) -> Result<Option<String>, admin::AdminError> {
    if !store.tenants().await?.is_empty() {
        return Ok(None);
    }
    match admin::create_tenant(store, "default").await {
        Ok(_) => {}
        // Another instance on the same database got there first.
        Err(admin::AdminError::TenantExists(_)) => return Ok(None),
        Err(e) => return Err(e),
    }
    let (_, token) = admin::create_token(store, "default", Some("created at first start"), None).await?;
    Ok(Some(token))
}
