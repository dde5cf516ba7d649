//! Logs and the per-request middleware.
//!
//! `init_tracing` sets up `tracing` (pretty or JSON lines, on stderr: stdout
//! belongs to CLI output such as `token create`). `middleware` wraps every
//! request: it picks the request id (`X-Request-Id` when sent and sane,
//! else a new one) and echoes it, opens the request span (method, route,
//! status, latency, tenant, request id), counts the request in the metrics,
//! and turns a panic in a handler into a logged 500 SCIM error: the worker
//! and the process carry on.

use crate::config::{LogConfig, LogFormat};
use crate::http::error::scim_error_response;
use crate::metrics::{Metrics, UNMATCHED};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError, web};
use futures_util::FutureExt;
use scim_core::ScimError;
use std::io::IsTerminal;
use std::panic::AssertUnwindSafe;
use std::time::Instant;
use tracing::Instrument;
use tracing::field::Empty;

/// The request id header, honoured on requests and set on every response.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Longest client-sent request id accepted.
const MAX_REQUEST_ID: usize = 128;

/// The id of the current request, in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

#[derive(Debug, thiserror::Error)]
pub enum ObservabilityError {
    #[error("log.level: {0}")]
    Filter(String),
    #[error("cannot install the log subscriber: {0}")]
    Install(String),
}

/// Installs the global subscriber (once per process) and routes panics
/// through it so they carry the request span.
pub fn init_tracing(log: &LogConfig) -> Result<(), ObservabilityError> {
    let filter =
        tracing_subscriber::EnvFilter::try_new(&log.level).map_err(|e| ObservabilityError::Filter(e.to_string()))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let installed = match log.format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
    };
    installed.map_err(|e| ObservabilityError::Install(e.to_string()))?;
    std::panic::set_hook(Box::new(|info| {
        tracing::error!(panic = %info, "panic");
    }));
    Ok(())
}

/// A client's request id when it is short and plain, else a new UUID.
fn pick_request_id(sent: Option<&HeaderValue>) -> String {
    sent.and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| {
            !s.is_empty()
                && s.len() <= MAX_REQUEST_ID
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'+' | b'='))
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

/// The per-request middleware (see the module docs).
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = pick_request_id(req.headers().get(REQUEST_ID_HEADER));
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().as_str().to_string();
    let metrics = req.app_data::<web::Data<Metrics>>().map(|m| m.clone().into_inner());
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = Empty,
        status = Empty,
        latency_ms = Empty,
        tenant = Empty,
        request_id = %request_id,
    );
    // No clone of the request may live across `next.call`: routing needs
    // sole ownership of it. Failures therefore leave as `Err`, which the
    // HTTP dispatcher renders with the error's own `error_response`.
    let outcome = AssertUnwindSafe(next.call(req))
        .catch_unwind()
        .instrument(span.clone())
        .await;
    let failed = |status: u16, error: actix_web::Error| {
        finish(&span, &method, UNMATCHED, status, started, metrics.as_deref());
        Err(error)
    };
    let mut res = match outcome {
        Ok(Ok(res)) => res.map_into_boxed_body(),
        Ok(Err(e)) => {
            let status = e.as_response_error().status_code().as_u16();
            return failed(status, e);
        }
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-text panic payload".into());
            span.in_scope(|| tracing::error!(panic = %message, "handler panicked; answered 500"));
            return failed(500, Panicked { request_id }.into());
        }
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
    }
    let route = res.request().match_pattern().unwrap_or_else(|| UNMATCHED.to_string());
    finish(
        &span,
        &method,
        &route,
        res.status().as_u16(),
        started,
        metrics.as_deref(),
    );
    Ok(res)
}

/// Records the finished request in the metrics and the log.
fn finish(span: &tracing::Span, method: &str, route: &str, status: u16, started: Instant, metrics: Option<&Metrics>) {
    let elapsed = started.elapsed();
    if let Some(m) = metrics {
        m.observe_request(method, route, status, elapsed);
    }
    span.record("route", route);
    span.record("status", status);
    span.record("latency_ms", elapsed.as_secs_f64() * 1000.0);
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!("request finished");
        } else {
            tracing::info!("request finished");
        }
    });
}

/// A handler panicked: 500 as SCIM JSON, with the request id to find the
/// log line.
#[derive(Debug, thiserror::Error)]
#[error("a handler panicked")]
struct Panicked {
    request_id: String,
}

impl ResponseError for Panicked {
    fn error_response(&self) -> HttpResponse {
        let e = ScimError::new(
            500,
            None,
            "internal server error; the server log has the details under this request's id",
        );
        let mut resp = scim_error_response(&e);
        if let Ok(v) = HeaderValue::from_str(&self.request_id) {
            resp.headers_mut().insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
        }
        resp
    }
}
