//! The service layer's error, and the one mapping from store error kinds to
//! SCIM errors.

use scim_core::ScimError;
use scim_store::{Kind, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A client error or a SCIM answer (404, 409, 412...), safe to show.
    #[error(transparent)]
    Scim(#[from] ScimError),
    /// A store failure; `to_scim` decides what the client sees.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Something in the server itself; logged, shown as a generic 500.
    #[error("internal: {0}")]
    Internal(String),
}

impl ServiceError {
    /// What the client sees.
    pub fn to_scim(&self) -> ScimError {
        match self {
            ServiceError::Scim(e) => e.clone(),
            ServiceError::Store(e) => store_error_to_scim(e),
            ServiceError::Internal(_) => internal(),
        }
    }

    /// Whether the details must go to the log because the client only gets
    /// a generic message.
    pub fn is_internal(&self) -> bool {
        match self {
            ServiceError::Scim(e) => e.status >= 500,
            ServiceError::Store(e) => matches!(e, StoreError::Backend(_) | StoreError::Unavailable(_)),
            ServiceError::Internal(_) => true,
        }
    }
}

fn internal() -> ScimError {
    ScimError::new(
        500,
        None,
        "internal server error; the server log has the details under this request's id",
    )
}

/// StoreError -> ScimError. Backend and Unavailable details are internal:
/// the client gets a generic detail, the log gets the message.
pub fn store_error_to_scim(e: &StoreError) -> ScimError {
    match e {
        StoreError::NotFound => ScimError::not_found("resource not found"),
        StoreError::Conflict { attribute } => {
            ScimError::uniqueness(format!("'{attribute}' is already in use by another resource"))
        }
        StoreError::VersionMismatch { current } => ScimError::precondition_failed(format!(
            "the resource has changed; its current version is {}",
            scim_core::etag::render(*current)
        )),
        StoreError::TooMany(m) => ScimError::too_many(m.clone()),
        StoreError::InvalidValue(m) => ScimError::invalid_value(m.clone()),
        StoreError::Unsupported(m) => ScimError::new(501, None, m.clone()),
        StoreError::Unavailable(_) => ScimError::new(503, None, "the store is unavailable; retry later"),
        StoreError::Backend(_) => internal(),
    }
}

/// NotFound about one resource, named.
pub(crate) fn not_found(kind: Kind, id: &str) -> ServiceError {
    ScimError::not_found(format!("{} '{id}' not found", kind.as_str())).into()
}

/// Maps a store error of a call about `kind`/`id`, naming it when absent.
pub(crate) fn about(kind: Kind, id: &str) -> impl Fn(StoreError) -> ServiceError + '_ {
    move |e| match e {
        StoreError::NotFound => not_found(kind, id),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scim_core::ScimType;

    #[test]
    fn store_errors_map_to_scim_errors() {
        let cases = [
            (StoreError::NotFound, 404, None),
            (
                StoreError::Conflict {
                    attribute: "userName".into(),
                },
                409,
                Some(ScimType::Uniqueness),
            ),
            (StoreError::VersionMismatch { current: 4 }, 412, None),
            (
                StoreError::TooMany("narrow the filter".into()),
                400,
                Some(ScimType::TooMany),
            ),
            (
                StoreError::InvalidValue("no such member".into()),
                400,
                Some(ScimType::InvalidValue),
            ),
            (StoreError::Unsupported("cursor".into()), 501, None),
            (StoreError::Unavailable("db down at 10.0.0.5".into()), 503, None),
            (StoreError::Backend("disk I/O error at /var/lib".into()), 500, None),
        ];
        for (e, status, scim_type) in cases {
            let s = store_error_to_scim(&e);
            assert_eq!((s.status, s.scim_type), (status, scim_type), "{e:?}");
        }
    }

    #[test]
    fn messages_pass_through_only_where_they_are_safe() {
        let conflict = store_error_to_scim(&StoreError::Conflict {
            attribute: "userName".into(),
        });
        assert!(conflict.detail.contains("userName"));
        assert!(store_error_to_scim(&StoreError::TooMany("narrow the filter".into())).detail == "narrow the filter");
        assert!(store_error_to_scim(&StoreError::InvalidValue("no such member".into())).detail == "no such member");
        assert!(
            store_error_to_scim(&StoreError::VersionMismatch { current: 4 })
                .detail
                .contains("W/\"4\"")
        );
        let backend = ServiceError::Store(StoreError::Backend("disk I/O error at /var/lib".into()));
        assert!(!backend.to_scim().detail.contains("/var/lib"));
        assert!(backend.is_internal());
        let down = ServiceError::Store(StoreError::Unavailable("db down at 10.0.0.5".into()));
        assert!(!down.to_scim().detail.contains("10.0.0.5"));
        assert!(!ServiceError::Store(StoreError::NotFound).is_internal());
    }
}
