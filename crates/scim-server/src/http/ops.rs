//! Operations endpoints, outside the SCIM base path and without a token:
//! /healthz (the process answers), /readyz (the store answers), /metrics
//! (Prometheus text; no tenant data in it).

use super::error::ApiError;
use super::extract::state;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

pub async fn readyz(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let st = state(&req)?;
    // The backend's own cheap round trip (SQLite: a read on a reader
    // connection; PostgreSQL: SELECT 1 on a pooled connection; Redis: PING).
    match st.service.store().ping().await {
        Ok(()) => Ok(HttpResponse::Ok().json(json!({"status": "ready"}))),
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
