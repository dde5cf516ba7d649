//! The wire: routes, handlers, request reading, SCIM JSON responses and
//! errors. Only this module knows HTTP.
//!
//! - `resources.rs`: /Users, /Groups (CRUD, list, .search), and the root
//!   search (`GET /`, `POST /.search`).
//! - `me.rs`: /Me; `bulk.rs`: /Bulk.
//! - `discovery.rs`: /ServiceProviderConfig, /Schemas, /ResourceTypes.
//! - `ops.rs`: /healthz, /readyz, /metrics.
//! - `extract.rs`: token, body, parameters, conditional headers, base URL.
//! - `error.rs`: `ApiError`, the one `ResponseError`.

mod bulk;
mod discovery;
pub mod error;
mod extract;
mod me;
mod ops;
mod resources;

pub use error::ApiError;

use actix_web::{HttpRequest, Route, web};
use scim_core::ScimError;
use scim_store::Kind;

/// Where the SCIM endpoints live.
pub const BASE_PATH: &str = "/scim/v2";
/// The media type of every SCIM response (RFC 7644 §3.1).
pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

/// Every route of the service.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_only("/healthz", web::get().to(ops::healthz)))
        .service(get_only("/readyz", web::get().to(ops::readyz)))
        .service(get_only("/metrics", web::get().to(ops::metrics)))
        .service(
            // Routes are tried in order, and each pattern with a `{param}` is
            // a regular expression run on the path: the routes identity
            // providers hit on every request come first, so a
            // `/Users/{id}` request does not first run the discovery
            // patterns. No two patterns here match the same path, so the
            // order changes nothing else.
            web::scope(BASE_PATH)
                .configure(|c| resources::register(c, Kind::User, "/Users"))
                .configure(|c| resources::register(c, Kind::Group, "/Groups"))
                .service(get_only(
                    "/ServiceProviderConfig",
                    web::get().to(discovery::service_provider_config),
                ))
                .service(get_only("/Schemas", web::get().to(discovery::schemas)))
                .service(get_only("/Schemas/{id}", web::get().to(discovery::schema)))
                .service(get_only("/ResourceTypes", web::get().to(discovery::resource_types)))
                .service(get_only("/ResourceTypes/{id}", web::get().to(discovery::resource_type)))
                .configure(resources::register_root)
                .configure(me::register)
                .configure(bulk::register)
                .default_service(web::to(not_found)),
        );
}

fn get_only(path: &str, route: Route) -> actix_web::Resource {
    web::resource(path).route(route).default_service(not_allowed("GET"))
}

/// 405 with `Allow`, as SCIM JSON.
pub(crate) fn not_allowed(allow: &'static str) -> Route {
    web::to(move || async move { Err::<actix_web::HttpResponse, _>(ApiError::MethodNotAllowed { allow }) })
}

/// 404 for paths no route knows, as SCIM JSON.
pub async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ScimError::not_found(format!("no such endpoint: {}", req.path())).into())
}

#[cfg(test)]
mod tests;
