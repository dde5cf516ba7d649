//! Operations endpoints, outside the SCIM base path and without a token:
//! /healthz (the process answers), /readyz (the store answers), /metrics
//! (Prometheus text; no tenant data in it).

use super::error::ApiError;
use super::extract::state;
use actix_web::{HttpRequest, HttpResponse};
use scim_store::StoreError;
use serde_json::json;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

pub async fn readyz(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let st = state(&req)?;
    // One indexed lookup: any answer, found or not, means the store is up.
    match st.service.store().tenant_by_name("readyz-probe").await {
        Ok(_) | Err(StoreError::NotFound) => Ok(HttpResponse::Ok().json(json!({"status": "ready"}))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness probe: store unreachable");
            Ok(HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable"})))
        }
    }
}

pub async fn metrics(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let st = state(&req)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(st.metrics.render()))
}
