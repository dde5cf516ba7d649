//! The one `ResponseError` of the wire: every failure, whatever layer it
//! comes from, leaves as RFC 7644 §3.12 JSON with `application/scim+json`.

use super::SCIM_CONTENT_TYPE;
use crate::auth::AuthError;
use crate::service::ServiceError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use scim_core::ScimError;
use scim_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// Errors of the wire itself: bad headers, bodies, parameters, paths.
    #[error(transparent)]
    Scim(#[from] ScimError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("method not allowed")]
    MethodNotAllowed { allow: &'static str },
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    /// What the client is told.
    pub fn to_scim(&self) -> ScimError {
        match self {
            ApiError::Service(e) => e.to_scim(),
            ApiError::Scim(e) => e.clone(),
            ApiError::Auth(AuthError::Missing) => ScimError::new(
                401,
                None,
                "authentication required: send 'Authorization: Bearer <token>'",
            ),
            ApiError::Auth(AuthError::Invalid) => {
                ScimError::new(401, None, "the bearer token is invalid or has been revoked")
            }
            ApiError::Auth(AuthError::RateLimited { .. }) => ScimError::new(
                429,
                None,
                "too many failed authentication attempts from this address; retry later",
            ),
            ApiError::Auth(AuthError::Store(StoreError::Unavailable(_))) => {
                ScimError::new(503, None, "the token store is unavailable; retry later")
            }
            ApiError::Auth(_) | ApiError::Internal(_) => ScimError::new(
                500,
                None,
                "internal server error; the server log has the details under this request's id",
            ),
            ApiError::MethodNotAllowed { allow } => {
                ScimError::new(405, None, format!("method not allowed here; allowed: {allow}"))
            }
        }
    }

    fn is_internal(&self) -> bool {
        match self {
            ApiError::Service(e) => e.is_internal(),
            ApiError::Auth(AuthError::Store(_) | AuthError::Crypto(_)) | ApiError::Internal(_) => true,
            _ => false,
        }
    }
}

/// A SCIM error response.
pub fn scim_error_response(e: &ScimError) -> HttpResponse {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .content_type(SCIM_CONTENT_TYPE)
        .body(e.to_json().to_string())
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.to_scim().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let scim = self.to_scim();
        if self.is_internal() {
            // Runs inside the request's span, so the request id is on it.
            tracing::error!(error = %self, status = scim.status, "request failed");
        }
        let mut resp = scim_error_response(&scim);
        let headers = resp.headers_mut();
        match self {
            ApiError::Auth(AuthError::Missing) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"scim\""),
                );
            }
            ApiError::Auth(AuthError::Invalid) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"scim\", error=\"invalid_token\""),
                );
            }
            ApiError::Auth(AuthError::RateLimited { retry_after_secs }) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            ApiError::MethodNotAllowed { allow } => {
                headers.insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            _ if scim.status == 503 => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        resp
    }
}
