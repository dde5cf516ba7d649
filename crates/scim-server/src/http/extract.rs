//! Reading requests: the bearer token, the JSON body (content type, size,
//! syntax), query parameters, conditional headers, and the base URL that
//! `meta.location` is built on. Every failure is an `ApiError`, so it leaves
//! as SCIM JSON.

use super::BASE_PATH;
use super::error::ApiError;
use crate::app::AppState;
use crate::auth::client_ip;
use crate::observability::RequestId;
use crate::service::{ListParams, View};
use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, web};
use futures_util::StreamExt;
use scim_core::ScimError;
use scim_core::etag::Condition;
use scim_core::messages::SearchRequest;
use scim_core::projection::Projection;
use scim_store::Ctx;
use serde_json::Value;
use std::net::IpAddr;

/// The shared state. Registered by `app::build_app`, so absent only in a
/// miswired test.
pub fn state(req: &HttpRequest) -> Result<&AppState, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .map(|d| d.get_ref())
        .ok_or_else(|| ApiError::Internal("application state is not registered".into()))
}

/// The id the request-id middleware gave this request.
pub fn request_id(req: &HttpRequest) -> String {
    req.extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default()
}

/// Authenticates the request; the store context carries its tenant.
pub async fn authenticate(req: &HttpRequest) -> Result<Ctx, ApiError> {
    Ok(authenticate_with_user(req).await?.0)
}

/// `authenticate`, and the user the token is bound to (what `/Me` means).
pub async fn authenticate_with_user(req: &HttpRequest) -> Result<(Ctx, Option<String>), ApiError> {
    let st = state(req)?;
    let header = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let client = client_addr(req, st);
    let p = st.auth.authenticate(header, client).await?;
    tracing::Span::current().record("tenant", p.tenant.as_str());
    Ok((Ctx::new(p.tenant, Some(p.token_id), request_id(req)), p.user))
}

fn peer_is_trusted(req: &HttpRequest, st: &AppState) -> bool {
    req.peer_addr()
        .is_some_and(|p| st.http.trusted_proxies.iter().any(|n| n.contains(p.ip())))
}

/// The client address, believing `X-Forwarded-For` only from a trusted
/// proxy.
fn client_addr(req: &HttpRequest, st: &AppState) -> Option<IpAddr> {
    let xff = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
    client_ip(req.peer_addr().map(|a| a.ip()), xff, &st.http.trusted_proxies)
}

/// `scheme://host[/prefix]/scim/v2`: `[server] public_url` when set, else
/// the request's own scheme and Host (the forwarded ones from a trusted
/// proxy).
pub fn base_url(req: &HttpRequest, st: &AppState) -> String {
    if let Some(origin) = &st.http.public_origin {
        return format!("{origin}{BASE_PATH}");
    }
    let trusted = peer_is_trusted(req, st);
    let forwarded = |name: &str| {
        trusted
            .then(|| req.headers().get(name).and_then(|v| v.to_str().ok()))
            .flatten()
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let scheme = match forwarded("x-forwarded-proto") {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        Some(p) if p.eq_ignore_ascii_case("http") => "http",
        _ if st.http.tls => "https",
        _ => "http",
    };
    let host = forwarded("x-forwarded-host")
        .or_else(|| req.headers().get(header::HOST).and_then(|v| v.to_str().ok()))
        .filter(|h| is_host(h))
        .map(str::to_string)
        .unwrap_or_else(|| req.app_config().host().to_string());
    format!("{scheme}://{host}{BASE_PATH}")
}

/// A Host value safe to put into URLs: name or address and optional port.
fn is_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_'))
}

/// Reads a JSON body: `application/scim+json` or `application/json` (or no
/// content type), at most `[server] max_body_bytes`.
pub async fn read_json(req: &HttpRequest, payload: web::Payload) -> Result<Value, ApiError> {
    let limit = state(req)?.http.max_body_bytes;
    read_json_within(req, payload, limit, |limit| {
        format!("the request body is larger than {limit} bytes")
    })
    .await
}

/// `read_json` with its own size limit and 413 detail. The limit is checked
/// against `Content-Length` and while reading, before anything is parsed.
pub async fn read_json_within(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
    too_large_detail: impl Fn(usize) -> String,
) -> Result<Value, ApiError> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let mime = ct.to_str().unwrap_or("").split(';').next().unwrap_or("").trim();
        let ok = mime.eq_ignore_ascii_case(super::SCIM_CONTENT_TYPE) || mime.eq_ignore_ascii_case("application/json");
        if !ok {
            return Err(ScimError::new(
                415,
                None,
                format!("unsupported content type '{mime}'; send application/scim+json or application/json"),
            )
            .into());
        }
    }
    let too_large = || ApiError::from(ScimError::new(413, None, too_large_detail(limit)));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ScimError::invalid_syntax(format!("cannot read the request body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ScimError::invalid_syntax("the request body is empty; a JSON object is expected").into());
    }
    serde_json::from_slice(&body).map_err(|e| ScimError::invalid_syntax(format!("malformed JSON: {e}")).into())
}

/// Query parameters, names matched case-insensitively (RFC 7644 names are
/// camelCase, but clients differ).
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn of(req: &HttpRequest) -> Result<Params, ApiError> {
        web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(|q| Params(q.into_inner()))
            .map_err(|e| ScimError::invalid_value(format!("malformed query string: {e}")).into())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.trim()
                    .parse::<i64>()
                    .map_err(|_| ScimError::invalid_value(format!("'{name}' must be an integer, not '{v}'")).into())
            })
            .transpose()
    }

    pub fn projection(&self) -> Result<Projection, ApiError> {
        Ok(Projection::parse(
            self.get("attributes"),
            self.get("excludedAttributes"),
        )?)
    }

    /// The list parameters of a GET on a resource endpoint or the root.
    pub fn list(&self) -> Result<ListParams, ApiError> {
        Ok(ListParams {
            filter: self.get("filter").map(str::to_string),
            sort_by: self.get("sortBy").map(str::to_string),
            sort_order: self.get("sortOrder").map(str::to_string),
            start_index: self.int("startIndex")?,
            count: self.int("count")?,
            cursor: self.get("cursor").map(str::to_string),
        })
    }
}

/// A POST .search body: its list parameters and projection.
pub fn search_request(body: Value) -> Result<(ListParams, Projection), ApiError> {
    let r: SearchRequest = serde_json::from_value(body)
        .map_err(|e| ScimError::invalid_syntax(format!("not a valid SearchRequest: {e}")))?;
    let projection = Projection::from_lists(&r.attributes, &r.excluded_attributes)?;
    Ok((
        ListParams {
            filter: r.filter,
            sort_by: r.sort_by,
            sort_order: r.sort_order,
            start_index: r.start_index,
            count: r.count,
            cursor: r.cursor,
        },
        projection,
    ))
}

/// The rendering view of a request.
pub fn view(req: &HttpRequest, projection: Projection) -> Result<View, ApiError> {
    Ok(View {
        base: base_url(req, state(req)?),
        projection,
    })
}

/// A parsed `If-Match` / `If-None-Match` header (`name` as it is spelled
/// in messages).
pub fn condition(req: &HttpRequest, name: &'static str) -> Result<Option<Condition>, ApiError> {
    let Some(v) = req.headers().get(name) else {
        return Ok(None);
    };
    let text = v
        .to_str()
        .map_err(|_| ScimError::invalid_syntax(format!("{name} is not readable text")))?;
    Ok(Some(Condition::parse(name, text)?))
}
