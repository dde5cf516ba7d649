//! /Bulk (RFC 7644 §3.7). The body limit is `[scim.bulk] max_payload_size`,
//! checked before anything is parsed (413, RFC 7644 §3.7.4); the
//! operations run in the service layer (`service/bulk.rs`).

use super::error::ApiError;
use super::extract::{authenticate, read_json_within, state, view};
use super::resources::scim_json;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scim_core::projection::Projection;

pub fn register(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/Bulk")
            .route(web::post().to(bulk))
            .default_service(super::not_allowed("POST")),
    );
}

async fn bulk(req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ApiError> {
    let ctx = authenticate(&req).await?;
    let limit = state(&req)?.service.settings().bulk_max_payload_size;
    let body = read_json_within(&req, body, limit, |limit| {
        format!("The size of the bulk operation exceeds the maxPayloadSize ({limit}).")
    })
    .await?;
    let view = view(&req, Projection::default())?;
    let response = state(&req)?.service.bulk(&ctx, body, &view).await?;
    scim_json(StatusCode::OK, &response)
}
