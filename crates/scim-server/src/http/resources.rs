//! /Users and /Groups: the handlers and their routes. Each handler
//! authenticates first, then reads parameters and body, calls the service,
//! and puts the result on the wire with its ETag (and Location on 201).

use super::error::ApiError;
use super::extract::{Params, authenticate, condition, read_json, search_request, state, view};
use super::{SCIM_CONTENT_TYPE, not_allowed};
use crate::service::{Output, PatchOutcome};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use scim_core::ScimError;
use scim_core::etag;
use scim_store::Kind;
use serde::Serialize;

/// Registers `endpoint` (`/Users`), `endpoint/.search` and `endpoint/{id}`.
pub fn register(cfg: &mut web::ServiceConfig, kind: Kind, endpoint: &str) {
    cfg.service(
        web::resource(endpoint)
            .route(web::get().to(move |req: HttpRequest| list(kind, req)))
            .route(web::post().to(move |req: HttpRequest, body: web::Payload| create(kind, req, body)))
            .default_service(not_allowed("GET, POST")),
    )
    .service(
        web::resource(format!("{endpoint}/.search"))
            .route(web::post().to(move |req: HttpRequest, body: web::Payload| search(kind, req, body)))
            .default_service(not_allowed("POST")),
    )
    .service(
        web::resource(format!("{endpoint}/{{id}}"))
            .route(web::get().to(move |req: HttpRequest| get(kind, req)))
            .route(web::put().to(move |req: HttpRequest, body: web::Payload| replace(kind, req, body)))
            .route(web::patch().to(move |req: HttpRequest, body: web::Payload| patch(kind, req, body)))
            .route(web::delete().to(move |req: HttpRequest| delete(kind, req)))
            .default_service(not_allowed("GET, PUT, PATCH, DELETE")),
    );
}

/// A SCIM JSON response.
pub fn scim_json(status: StatusCode, body: &impl Serialize) -> Result<HttpResponse, ApiError> {
    let text = serde_json::to_string(body).map_err(|e| ApiError::Internal(format!("cannot render JSON: {e}")))?;
    Ok(HttpResponse::build(status).content_type(SCIM_CONTENT_TYPE).body(text))
}

/// A resource response: the JSON, its ETag, and Location when created.
fn resource(status: StatusCode, out: &Output) -> Result<HttpResponse, ApiError> {
    let mut resp = scim_json(status, &out.doc)?;
    insert_header(&mut resp, header::ETAG, &etag::render(out.version))?;
    if status == StatusCode::CREATED {
        insert_header(&mut resp, header::LOCATION, &out.location)?;
    }
    Ok(resp)
}

fn insert_header(resp: &mut HttpResponse, name: header::HeaderName, value: &str) -> Result<(), ApiError> {
    let v = header::HeaderValue::from_str(value)
        .map_err(|_| ApiError::Internal(format!("cannot put '{value}' in the {name} header")))?;
    resp.headers_mut().insert(name, v);
    Ok(())
}

fn id(req: &HttpRequest) -> Result<String, ApiError> {
    req.match_info()
        .get("id")
        .map(str::to_string)
        .ok_or_else(|| ApiError::Internal("route without an id".into()))
}

async fn list(kind: Kind, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let ctx = authenticate(&req).await?;
    let params = Params::of(&req)?;
    let view = view(&req, params.projection()?)?;
    let page = state(&req)?.service.list(&ctx, kind, &params.list()?, &view).await?;
    scim_json(StatusCode::OK, &page)
}

async fn search(kind: Kind, req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ApiError> {
    let ctx = authenticate(&req).await?;
    let (list_params, projection) = search_request(read_json(&req, body).await?)?;
    let view = view(&req, projection)?;
    let page = state(&req)?.service.list(&ctx, kind, &list_params, &view).await?;
    scim_json(StatusCode::OK, &page)
}

async fn create(kind: Kind, req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ApiError> {
    let ctx = authenticate(&req).await?;
    let params = Params::of(&req)?;
    let body = read_json(&req, body).await?;
    let view = view(&req, params.projection()?)?;
    let out = state(&req)?.service.create(&ctx, kind, &body, &view).await?;
    resource(StatusCode::CREATED, &out)
}

async fn get(kind: Kind, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let ctx = authenticate(&req).await?;
    let id = id(&req)?;
    let params = Params::of(&req)?;
    let unless = condition(&req, "If-None-Match")?;
    let view = view(&req, params.projection()?)?;
    let out = state(&req)?.service.get(&ctx, kind, &id, &view).await?;
    if unless.is_some_and(|c| c.matches(out.version)) {
        let mut resp = HttpResponse::NotModified().finish();
        insert_header(&mut resp, header::ETAG, &etag::render(out.version))?;
        return Ok(resp);
    }
    resource(StatusCode::OK, &out)
}

async fn replace(kind: Kind, req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ApiError> {
    let ctx = authenticate(&req).await?;
    let id = id(&req)?;
    let params = Params::of(&req)?;
    let cond = condition(&req, "If-Match")?;
    let body = read_json(&req, body).await?;
    let view = view(&req, params.projection()?)?;
    let out = state(&req)?
        .service
        .replace(&ctx, kind, &id, &body, cond.as_ref(), &view)
        .await?;
    resource(StatusCode::OK, &out)
}

async fn patch(kind: Kind, req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ApiError> {
    let ctx = authenticate(&req).await?;
    let id = id(&req)?;
    let params = Params::of(&req)?;
    let cond = condition(&req, "If-Match")?;
    let body = read_json(&req, body).await?;
    let view = view(&req, params.projection()?)?;
    match state(&req)?
        .service
        .patch(&ctx, kind, &id, &body, cond.as_ref(), &view)
        .await?
    {
        PatchOutcome::Resource(out) => resource(StatusCode::OK, &out),
        PatchOutcome::NoContent { version, .. } => {
            let mut resp = HttpResponse::NoContent().finish();
            insert_header(&mut resp, header::ETAG, &etag::render(version))?;
            Ok(resp)
        }
    }
}

async fn delete(kind: Kind, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let ctx = authenticate(&req).await?;
    let id = id(&req)?;
    let cond = condition(&req, "If-Match")?;
    state(&req)?.service.delete(&ctx, kind, &id, cond.as_ref()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Endpoints of later issues: 501 saying so.
pub async fn not_implemented(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    authenticate(&req).await?;
    let path = req.path();
    let what = if path.ends_with("/Bulk") {
        "Bulk operations are not supported yet (see /ServiceProviderConfig: bulk.supported is false)"
    } else if path.contains("/Me") {
        "/Me is not supported yet"
    } else {
        "searching all resource types at once is not supported; use /Users/.search or /Groups/.search"
    };
    Err(ScimError::new(501, None, what).into())
}
