//! `scim-server`: the SCIM 2.0 service (RFC 7643/7644) over a store.
//!
//! Where each part lives:
//! - [`config`]: the TOML file, `SCIM__` environment overrides, validation.
//! - [`cli`]: the command line (`serve`, `tenant`, `token`, `audit`, ...).
//! - [`app`]: shared state, the actix `App`, [`start`] / [`Running::stop`].
//! - [`http`]: the wire (routes, handlers, SCIM JSON, errors, discovery).
//! - [`service`]: scim-core's rules around store calls (PATCH retries, ...).
//! - [`auth`]: bearer tokens (argon2id hashes, cache, failed-auth limit).
//! - [`admin`]: tenants and tokens for operators and tests.
//! - [`store`]: opening the configured backend; per-call metrics.
//! - [`observability`], [`metrics`]: logs, request ids, Prometheus.
//! - [`tls`]: HTTPS with rustls.

pub mod admin;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod http;
pub mod metrics;
pub mod observability;
pub mod service;
pub mod store;
pub mod tls;

pub use app::{Running, StartError, start};
pub use config::Config;
