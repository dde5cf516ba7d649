//! Discovery (RFC 7644 §4): /ServiceProviderConfig, /Schemas, /ResourceTypes,
//! generated from the schema registry, the configuration and the store's
//! capabilities, so they never claim what is not there. Served without a
//! token when `[auth] discovery_without_token` (the default): they hold no
//! tenant data.

use super::error::ApiError;
use super::extract::{authenticate, base_url, state};
use super::resources::scim_json;
use crate::app::AppState;
use crate::config::PasswordMode;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use scim_core::ScimError;
use scim_core::messages::{
    AuthenticationScheme, BulkConfig, FilterConfig, ListResponse, SERVICE_PROVIDER_CONFIG_URN, ServiceProviderConfig,
    Supported,
};
use serde_json::json;

/// The state and base URL, after the token check when one is required.
async fn open(req: &HttpRequest) -> Result<(&AppState, String), ApiError> {
    let st = state(req)?;
    if !st.http.discovery_without_token {
        authenticate(req).await?;
    }
    Ok((st, base_url(req, st)))
}

pub async fn service_provider_config(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (st, base) = open(&req).await?;
    let settings = st.service.settings();
    let caps = st.service.store().capabilities();
    let spc = ServiceProviderConfig {
        schemas: vec![SERVICE_PROVIDER_CONFIG_URN.to_string()],
        documentation_uri: None,
        patch: Supported { supported: true },
        bulk: BulkConfig {
            supported: true,
            max_operations: settings.bulk_max_operations,
            max_payload_size: settings.bulk_max_payload_size as u64,
        },
        filter: FilterConfig {
            supported: true,
            max_results: u32::try_from(settings.max_results).unwrap_or(u32::MAX),
        },
        change_password: Supported {
            supported: settings.password == PasswordMode::Hash,
        },
        sort: Supported { supported: caps.sort },
        etag: Supported { supported: true },
        authentication_schemes: vec![AuthenticationScheme {
            kind: "oauthbearertoken".into(),
            name: "OAuth Bearer Token".into(),
            description: "A bearer token made with `scim-server token create`, sent as 'Authorization: Bearer <token>'"
                .into(),
            spec_uri: Some("https://www.rfc-editor.org/info/rfc6750".into()),
            primary: Some(true),
        }],
        // RFC 9865 §4. Index paging is the default: a client that sends no
        // cursor gets what RFC 7644 clients expect.
        pagination: Some(json!({
            "cursor": caps.cursor,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": settings.default_count.min(settings.max_results),
            "maxPageSize": settings.max_results,
            "cursorTimeout": settings.cursors.timeout().as_secs(),
        })),
        meta: Some(json!({
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        })),
    };
    scim_json(StatusCode::OK, &spc)
}

pub async fn schemas(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (st, base) = open(&req).await?;
    let all: Vec<_> = st
        .service
        .registry()
        .schemas()
        .iter()
        .map(|s| s.to_json(&base))
        .collect();
    scim_json(StatusCode::OK, &ListResponse::new(all.len() as u64, 1, all))
}

pub async fn schema(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (st, base) = open(&req).await?;
    let id = req.match_info().get("id").unwrap_or_default();
    match st.service.registry().schema(id) {
        Some(s) => scim_json(StatusCode::OK, &s.to_json(&base)),
        None => Err(ScimError::not_found(format!("schema '{id}' not found")).into()),
    }
}

pub async fn resource_types(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (st, base) = open(&req).await?;
    let all: Vec<_> = st
        .service
        .registry()
        .resource_types()
        .iter()
        .map(|rt| rt.to_json(&base))
        .collect();
    scim_json(StatusCode::OK, &ListResponse::new(all.len() as u64, 1, all))
}

pub async fn resource_type(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (st, base) = open(&req).await?;
    let id = req.match_info().get("id").unwrap_or_default();
    match st.service.registry().resource_type(id) {
        Some(rt) => scim_json(StatusCode::OK, &rt.to_json(&base)),
        None => Err(ScimError::not_found(format!("resource type '{id}' not found")).into()),
    }
}
