//! /Users, /Groups and the root search: the handlers and their routes. Each
//! handler authenticates first, then reads parameters and body, calls the
//! service, and puts the result on the wire with its ETag (and Location on
//! 201). The one-resource handlers take the id as an argument, so /Me
//! (`me.rs`) runs the very same code for the token's user.

use super::error::ApiError;
use super::extract::{Params, authenticate, condition, read_json, search_request, state, view};
use super::{SCIM_CONTENT_TYPE, not_allowed};
use crate::service::{Output, PatchOutcome, Scope};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use scim_core::etag;
use scim_store::{Ctx, Kind};
use serde::Serialize;

/// Registers `endpoint` (`/Users`), `endpoint/.search` and `endpoint/{id}`.
pub fn register(cfg: &mut web::ServiceConfig, kind: Kind, endpoint: &str) {
    let scope = Scope::One(kind);
    cfg.service(
        web::resource(endpoint)
            .route(web::get().to(move |req: HttpRequest| list(scope, req)))
            .route(web::post().to(move |req: HttpRequest, body: web::Payload| create(kind, req, body)))
            .default_service(not_allowed("GET, POST")),
    )
    .service(
        web::resource(format!("{endpoint}/.search"))
            .route(web::post().to(move |req: HttpRequest, body: web::Payload| search(scope, req, body)))
            .default_service(not_allowed("POST")),
    )
    .service(
        web::resource(format!("{endpoint}/{{id}}"))
            .route(web::get().to(move |req: HttpRequest| by_id(kind, req, Method::Get)))
            .route(web::put().to(move |req: HttpRequest, body: web::Payload| by_id(kind, req, Method::Put(body))))
            .route(web::patch().to(move |req: HttpRequest, body: web::Payload| by_id(kind, req, Method::Patch(body))))
            .route(web::delete().to(move |req: HttpRequest| by_id(kind, req, Method::Delete)))
            .default_service(not_allowed("GET, PUT, PATCH, DELETE")),
    );
}

/// The root endpoint (RFC 7644 §3.4.3): `GET /` and `POST /.search` over
/// every resource type.
pub fn register_root(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(["", "/"])
            .route(web::get().to(|req: HttpRequest| list(Scope::All, req)))
            .default_service(not_allowed("GET")),
    )
    .service(
        web::resource("/.search")
            .route(web::post().to(|req: HttpRequest, body: web::Payload| search(Scope::All, req, body)))
            .default_service(not_allowed("POST")),
    );
}

/// What is done to one resource.
pub enum Method {
    Get,
    Put(web::Payload),
    Patch(web::Payload),
    Delete,
}

/// A SCIM JSON response.
pub fn scim_json(status: StatusCode, body: &impl Serialize) -> Result<HttpResponse, ApiError> {
    let text = serde_json::to_string(body).map_err(|e| ApiError::Internal(format!("cannot render JSON: {e}")))?;
    Ok(scim_text(status, text))
}

/// A SCIM response whose JSON is already rendered.
fn scim_text(status: StatusCode, json: String) -> HttpResponse {
    HttpResponse::build(status).content_type(SCIM_CONTENT_TYPE).body(json)
}

/// A resource response: the JSON, its ETag, and Location when created.
fn resource(status: StatusCode, out: &Output) -> Result<HttpResponse, ApiError> {
    let mut resp = with_etag(scim_json(status, &out.doc)?, out.version)?;
    if status == StatusCode::CREATED {
        insert_header(&mut resp, header::LOCATION, &out.location)?;
    }
    Ok(resp)
}

/// `resp` with the ETag of `version`.
fn with_etag(mut resp: HttpResponse, version: u64) -> Result<HttpResponse, ApiError> {
    insert_header(&mut resp, header::ETAG, &etag::render(version))?;
    Ok(resp)
}

pub(super) fn insert_header(resp: &mut HttpResponse, name: header::HeaderName, value: &str) -> Result<(), ApiError> {
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

async fn list(scope: Scope, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let ctx = authenticate(&req).await?;
    let params = Params::of(&req)?;
    let view = view(&req, params.projection()?)?;
    let page = state(&req)?.service.list(&ctx, scope, &params.list()?, &view).await?;
    Ok(scim_text(StatusCode::OK, page.body()?))
}

async fn search(scope: Scope, req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ApiError> {
    let ctx = authenticate(&req).await?;
    let (list_params, projection) = search_request(read_json(&req, body).await?)?;
    let view = view(&req, projection)?;
    let page = state(&req)?.service.list(&ctx, scope, &list_params, &view).await?;
    Ok(scim_text(StatusCode::OK, page.body()?))
}

async fn by_id(kind: Kind, req: HttpRequest, method: Method) -> Result<HttpResponse, ApiError> {
    let ctx = authenticate(&req).await?;
    let id = id(&req)?;
    one(kind, req, ctx, &id, method).await
}

/// GET, PUT, PATCH or DELETE of resource `id`, already authenticated.
pub async fn one(kind: Kind, req: HttpRequest, ctx: Ctx, id: &str, method: Method) -> Result<HttpResponse, ApiError> {
    match method {
        Method::Get => get(kind, req, ctx, id).await,
        Method::Put(body) => replace(kind, req, ctx, id, body).await,
        Method::Patch(body) => patch(kind, req, ctx, id, body).await,
        Method::Delete => delete(kind, req, ctx, id).await,
    }
}

async fn create(kind: Kind, req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ApiError> {
    let ctx = authenticate(&req).await?;
    let params = Params::of(&req)?;
    let body = read_json(&req, body).await?;
    let view = view(&req, params.projection()?)?;
    let out = state(&req)?.service.create(&ctx, kind, &body, &view).await?;
    resource(StatusCode::CREATED, &out)
}

async fn get(kind: Kind, req: HttpRequest, ctx: Ctx, id: &str) -> Result<HttpResponse, ApiError> {
    let params = Params::of(&req)?;
    let unless = condition(&req, "If-None-Match")?;
    let view = view(&req, params.projection()?)?;
    let out = state(&req)?.service.get(&ctx, kind, id, &view).await?;
    if unless.is_some_and(|c| c.matches(out.version)) {
        return with_etag(HttpResponse::NotModified().finish(), out.version);
    }
    with_etag(scim_text(StatusCode::OK, out.json), out.version)
}

async fn replace(
    kind: Kind,
    req: HttpRequest,
    ctx: Ctx,
    id: &str,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of(&req)?;
    let cond = condition(&req, "If-Match")?;
    let body = read_json(&req, body).await?;
    let view = view(&req, params.projection()?)?;
    let out = state(&req)?
        .service
        .replace(&ctx, kind, id, &body, cond.as_ref(), &view)
        .await?;
    resource(StatusCode::OK, &out)
}

async fn patch(kind: Kind, req: HttpRequest, ctx: Ctx, id: &str, body: web::Payload) -> Result<HttpResponse, ApiError> {
    let params = Params::of(&req)?;
    let cond = condition(&req, "If-Match")?;
    let body = read_json(&req, body).await?;
    let view = view(&req, params.projection()?)?;
    match state(&req)?
        .service
        .patch(&ctx, kind, id, &body, cond.as_ref(), &view)
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

async fn delete(kind: Kind, req: HttpRequest, ctx: Ctx, id: &str) -> Result<HttpResponse, ApiError> {
    let cond = condition(&req, "If-Match")?;
    state(&req)?.service.delete(&ctx, kind, id, cond.as_ref()).await?;
    Ok(HttpResponse::NoContent().finish())
}
