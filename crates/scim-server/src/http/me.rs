//! /Me (RFC 7644 §3.11): the user the bearer token is bound to (`scim-server
//! token create --user ID`), for GET, PUT, PATCH and DELETE, through the
//! same handlers as /Users/{id}. Responses carry `Content-Location`, the
//! user's permanent URL.

use super::error::ApiError;
use super::extract::{authenticate_with_user, base_url, state};
use super::resources::{Method, insert_header, one};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use scim_core::ScimError;
use scim_store::Kind;

pub fn register(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/Me")
            .route(web::get().to(|req: HttpRequest| me(req, Method::Get)))
            .route(web::put().to(|req: HttpRequest, body: web::Payload| me(req, Method::Put(body))))
            .route(web::patch().to(|req: HttpRequest, body: web::Payload| me(req, Method::Patch(body))))
            .route(web::delete().to(|req: HttpRequest| me(req, Method::Delete)))
            .route(web::post().to(create))
            .default_service(super::not_allowed("GET, PUT, PATCH, DELETE")),
    );
}

async fn me(req: HttpRequest, method: Method) -> Result<HttpResponse, ApiError> {
    let (ctx, user) = authenticate_with_user(&req).await?;
    let Some(user) = user else {
        return Err(ScimError::new(
            501,
            None,
            "/Me is not available for this token: it is not bound to a user. An operator binds one with \
             `scim-server token create --tenant TENANT --user USER_ID`",
        )
        .into());
    };
    let location = format!("{}/Users/{user}", base_url(&req, state(&req)?));
    let mut resp = one(Kind::User, req, ctx, &user, method).await?;
    insert_header(&mut resp, header::CONTENT_LOCATION, &location)?;
    Ok(resp)
}

/// RFC 7644 §3.11 lets a server create through /Me (self-registration);
/// this one provisions users only through /Users.
async fn create(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    authenticate_with_user(&req).await?;
    Err(ScimError::new(
        501,
        None,
        "creating a user through /Me is not supported; POST it to /Users",
    )
    .into())
}
